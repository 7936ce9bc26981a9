"""Surrogates: predictors of how well an einspace architecture will train, as a rank score.

One protocol (:class:`Surrogate`: ``fit``, ``predict``, ``rank``), per-task target normalisation
(:mod:`.targets`), the GRAF-XGBoost surrogate (:class:`GrafSurrogate`) with Hub I/O through
``huggingface_hub.ModelHubMixin``, and a registry with one front door, :func:`load_surrogate`::

    from surrogate_hub.surrogates import load_surrogate

    surrogate = load_surrogate("einspace-graf-xgb")
    for position, arch, score in surrogate.rank(strings, input_shape=(3, 32, 32), num_classes=10).top(5):
        ...

Importing this package imports neither xgboost, torch nor transformers (xgboost is imported when a
GRAF surrogate is fitted or loaded; scikit-learn when a forest is); :class:`GrafSurrogate`,
:class:`ForestSurrogate` (random forest / extra-trees, persisted with skops) and their config classes
are imported on first access.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .base import RankedArch, Ranking, Surrogate, SurrogateBase, fit_corpus
from .errors import (
    GrammarMismatchError,
    NotFittedError,
    SurrogateError,
    SurrogateLoadError,
    UnknownSurrogateError,
)
from .registry import (
    get_kind,
    get_pretrained,
    list_surrogates,
    load_surrogate,
    register_kind,
    register_pretrained,
    resolve_source,
)
from .targets import TrainingRows, normalise_targets, training_rows

if TYPE_CHECKING:  # pragma: no cover
    from .bert import BertSurrogate, BertSurrogateConfig
    from .forest import ForestSurrogate, ForestSurrogateConfig
    from .graf_xgb import GrafSurrogate, GrafSurrogateConfig

__all__ = [
    "BertSurrogate",
    "BertSurrogateConfig",
    "ForestSurrogate",
    "ForestSurrogateConfig",
    "GrafSurrogate",
    "GrafSurrogateConfig",
    "GrammarMismatchError",
    "NotFittedError",
    "RankedArch",
    "Ranking",
    "Surrogate",
    "SurrogateBase",
    "SurrogateError",
    "SurrogateLoadError",
    "TrainingRows",
    "UnknownSurrogateError",
    "fit_corpus",
    "get_kind",
    "get_pretrained",
    "list_surrogates",
    "load_surrogate",
    "normalise_targets",
    "register_kind",
    "register_pretrained",
    "resolve_source",
    "training_rows",
]

_LAZY = {
    "BertSurrogate": "bert",
    "BertSurrogateConfig": "bert",
    "ForestSurrogate": "forest",
    "ForestSurrogateConfig": "forest",
    "GrafSurrogate": "graf_xgb",
    "GrafSurrogateConfig": "graf_xgb",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
