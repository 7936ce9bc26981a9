"""Architecture features: GRAF graph features and zero-cost proxies.

``graf``/``graf_matrix`` need numpy only; ``to_graph`` (networkx) is imported on first use, and the
zero-cost proxies (:mod:`.proxies`, :mod:`.zero_cost`) need torch.
"""

from .graf import (
    EXTRA_FEATURE_NAMES,
    GRAF_FAMILIES,
    GRAF_FEATURE_NAMES,
    GRAF_LABELS,
    GRAF_VERSION,
    feature_names,
    graf,
    graf_extras,
    graf_from_graph,
    graf_matrix,
    graf_vector,
    names_hash,
    op_label,
)

__all__ = [
    "EXTRA_FEATURE_NAMES",
    "GRAF_FAMILIES",
    "GRAF_FEATURE_NAMES",
    "GRAF_LABELS",
    "GRAF_VERSION",
    "INPUT",
    "OUTPUT",
    "feature_names",
    "graf",
    "graf_extras",
    "graf_from_graph",
    "graf_matrix",
    "graf_vector",
    "names_hash",
    "op_label",
    "to_graph",
]


def __getattr__(name: str):
    if name in ("to_graph", "INPUT", "OUTPUT"):
        from . import graph

        return getattr(graph, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
