"""The einspace search space: architecture values, text forms, shapes, sampling and mutation.

Pure Python (lark only); :mod:`surrogate_hub.space.compile` builds torch modules and imports torch.
"""

from .errors import ArchitectureError, ParseError, ShapeError
from .ops import Op, Role, grammar_hash, options
from .parse import parse, parse_long
from .printing import to_long_string, to_string
from .sample import PROFILES, Limits, limits_profile, sample, sample_many
from .shapes import TensorState, activations, flops, infer, n_params, output_shape
from .tree import (
    Architecture,
    Branching,
    Computation,
    Routing,
    Sequential,
    TreeStats,
    iter_nodes,
    tree_stats,
)

__all__ = [
    "Architecture",
    "activations",
    "ArchitectureError",
    "Branching",
    "Computation",
    "Limits",
    "PROFILES",
    "limits_profile",
    "Op",
    "ParseError",
    "Role",
    "Routing",
    "Sequential",
    "ShapeError",
    "TensorState",
    "TreeStats",
    "as_architecture",
    "flops",
    "grammar_hash",
    "infer",
    "iter_nodes",
    "n_params",
    "options",
    "output_shape",
    "parse",
    "parse_long",
    "sample",
    "sample_many",
    "to_long_string",
    "to_string",
    "tree_stats",
]


def as_architecture(arch: "Architecture | str") -> Architecture:
    """Accept a compact string or an :class:`Architecture` value."""
    return parse(arch) if isinstance(arch, str) else arch
