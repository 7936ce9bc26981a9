"""``ForestSurrogate``: a scikit-learn random forest (or extra-trees) on GRAF (+ extras, + proxies).

The paper's tabular surrogate of record is a random forest on GRAF + zero-cost proxies. This family
has the features, target normalisation, input-shape and proxy handling of
:class:`~.graf_xgb.GrafSurrogate` (it subclasses it and swaps the regressor), and a spread: the
standard deviation of the trees' scores, ``predict(..., return_std=True)``, which an active search
can use (:mod:`surrogate_hub.search.acquisition`). Missing values (a proxy that could not be
computed) are handled by scikit-learn's native NaN support in trees (scikit-learn >= 1.6).

Artifacts (a folder or Hub model repo)
    ``config.json`` (:class:`ForestSurrogateConfig`), ``model.skops`` (the fitted estimator in the
    ``skops.io`` format) and ``README.md`` (card from ``surrogates/cards/forest.md``). Loading never
    unpickles: before ``skops.io.load`` runs, every object type named in the file's schema is
    checked against :data:`TRUSTED_TYPES`; a file holding any other type is refused with a
    :class:`~.errors.SurrogateLoadError` naming it. The loaded object must then be the config's
    estimator class with the config's number of features.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import zipfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import numpy as np

from ..features.graf import GRAF_VERSION, feature_names
from ..space.ops import grammar_hash
from .artifact import CONFIG_FILE
from .config import (
    JSON_SCALARS,
    ConfigReaders,
    CorpusRef,
    TargetConfig,
    check_keys,
    check_shared_fields,
    check_spread_scale,
    optional_spread_scale,
    typed,
)
from .errors import SurrogateLoadError
from .graf_xgb import FeatureSetConfig, GrafSurrogate, read_common_sections

__all__ = [
    "ALGORITHMS",
    "DEFAULT_FOREST_PARAMS",
    "FORMAT_VERSION",
    "KIND",
    "MODEL_FILE",
    "TRUSTED_TYPES",
    "ForestSurrogate",
    "ForestSurrogateConfig",
    "config_readers",
    "schema_types",
]

log = logging.getLogger(__name__)

KIND: Final = "forest"
FORMAT_VERSION: Final = 1
MODEL_FILE: Final = "model.skops"
#: card tags of this family, besides those of every surrogate (:data:`~.artifact.CARD_TAGS`)
TAGS: Final = ["graf", "random-forest", "skops"]

#: ``algorithm`` → the scikit-learn estimator class (``module:Class``).
ALGORITHMS: Final[Mapping[str, str]] = {
    "random-forest": "sklearn.ensemble:RandomForestRegressor",
    "extra-trees": "sklearn.ensemble:ExtraTreesRegressor",
}

#: Estimator keywords used when the config gives none (``random_state`` is the seed).
DEFAULT_FOREST_PARAMS: Final[Mapping[str, Any]] = {
    "n_estimators": 100,
    "max_features": 0.2,
    "min_samples_leaf": 2,
    "bootstrap": True,
    "random_state": 0,
}

#: Every object type a forest surrogate's ``model.skops`` may contain (``module.Class``). Anything
#: else in a file is refused before it is loaded.
TRUSTED_TYPES: Final[frozenset[str]] = frozenset({
    "builtins.dict", "builtins.list", "builtins.tuple", "builtins.str", "builtins.int", "builtins.float",
    "builtins.bool", "builtins.NoneType",
    "numpy.ndarray", "numpy.dtype", "numpy.float64", "numpy.float32", "numpy.int64", "numpy.int32",
    "sklearn.ensemble._forest.RandomForestRegressor", "sklearn.ensemble._forest.ExtraTreesRegressor",
    "sklearn.tree._classes.DecisionTreeRegressor", "sklearn.tree._classes.ExtraTreeRegressor",
    "sklearn.tree._tree.Tree",
})


# --------------------------------------------------------------------------------------- config
@dataclass(frozen=True)
class ForestSurrogateConfig:
    """Everything that defines a :class:`ForestSurrogate` except the fitted trees; ``config.json``.

    ``algorithm``: ``"random-forest"`` or ``"extra-trees"``; ``forest_params``: keywords of its
    scikit-learn estimator (JSON scalars); ``sklearn_version``: the version that wrote the model
    (filled in when saving; a different version at load time is logged, as skops advises).
    """

    surrogate: str = KIND
    format_version: int = FORMAT_VERSION
    grammar_hash: str = field(default_factory=grammar_hash)
    feature_set: FeatureSetConfig = field(default_factory=FeatureSetConfig)
    target: TargetConfig = field(default_factory=TargetConfig)
    algorithm: str = "random-forest"
    forest_params: dict[str, Any] = field(default_factory=lambda: dict(DEFAULT_FOREST_PARAMS))
    sklearn_version: str | None = None
    default_input_shape: tuple[int, int, int] = (3, 32, 32)
    default_num_classes: int = 10
    corpus: CorpusRef = field(default_factory=CorpusRef)
    metrics: dict[str, Any] = field(default_factory=dict)
    #: factor applied to the trees' spread, calibrated on held-out tasks when fitting (:mod:`.spread`)
    spread_scale: float = 1.0

    def __post_init__(self) -> None:
        check_spread_scale(self.spread_scale)
        if self.algorithm not in ALGORITHMS:
            raise ValueError(f"algorithm must be one of {sorted(ALGORITHMS)}, got {self.algorithm!r}")
        for key, value in self.forest_params.items():
            if not isinstance(value, JSON_SCALARS):
                raise ValueError(f"forest_params.{key} must be a JSON scalar, got {type(value).__name__}")
        if "n_jobs" in self.forest_params:
            raise ValueError("forest_params.n_jobs is a runtime setting: pass ForestSurrogate(n_jobs=...) instead")
        check_shared_fields(self)
        self.feature_set.check()

    @classmethod
    def make(
        cls,
        *,
        algorithm: str = "random-forest",
        extras: bool = True,
        zcp: Iterable[str] = (),
        normalisation: str = "percentile",
        drop_zero: bool = True,
        forest_params: Mapping[str, Any] | None = None,
        default_input_shape: Sequence[int] = (3, 32, 32),
        default_num_classes: int = 10,
    ) -> ForestSurrogateConfig:
        """A config from flat settings; ``forest_params`` update :data:`DEFAULT_FOREST_PARAMS`."""
        return cls(
            feature_set=FeatureSetConfig.make(extras, zcp),
            target=TargetConfig(normalisation=normalisation, drop_zero=drop_zero),
            algorithm=algorithm,
            forest_params={**DEFAULT_FOREST_PARAMS, **(forest_params or {})},
            default_input_shape=tuple(default_input_shape),  # type: ignore[arg-type]
            default_num_classes=default_num_classes,
        )

    def to_dict(self) -> dict[str, Any]:
        """The ``config.json`` layout: the fields in order (tuples as lists)."""
        return json.loads(json.dumps(dataclasses.asdict(self)))

    @classmethod
    def from_dict(cls, raw: Any, source: str = CONFIG_FILE) -> ForestSurrogateConfig:
        """Read a ``config.json`` dict with the reader for its ``format_version``."""
        return _READERS.read(raw, source)


_READERS: ConfigReaders[ForestSurrogateConfig] = ConfigReaders(KIND, "ForestSurrogate")


def config_readers() -> dict[int, Callable[[dict, str], ForestSurrogateConfig]]:
    """The config readers by format version (a copy)."""
    return _READERS.versions()


@_READERS.register(1)
def _read_v1(raw: dict, source: str) -> ForestSurrogateConfig:
    raw, spread = optional_spread_scale(raw, source)  # absent in forests saved before calibration
    check_keys(raw, [f.name for f in dataclasses.fields(ForestSurrogateConfig) if f.name != "spread_scale"],
               "config", source)
    params = typed(raw["forest_params"], dict, "forest_params", source)
    for key, value in params.items():
        typed(value, JSON_SCALARS, f"forest_params.{key}", source)
    return ForestSurrogateConfig(
        algorithm=typed(raw["algorithm"], str, "algorithm", source),
        forest_params=dict(params),
        sklearn_version=typed(raw["sklearn_version"], (str, type(None)), "sklearn_version", source),
        spread_scale=spread,
        **read_common_sections(raw, source),
    )


# ---------------------------------------------------------------------------------------- skops
def schema_types(path: str | Path) -> set[str]:
    """Every ``module.Class`` named in the schema of the skops file ``path`` (read as JSON from the
    zip archive; nothing is loaded). A file that is not a skops archive is a load error."""
    path = Path(path)
    try:
        with zipfile.ZipFile(path) as archive:
            schema = json.loads(archive.read("schema.json").decode("utf-8"))
    except (zipfile.BadZipFile, KeyError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise SurrogateLoadError(f"{path}: not a readable skops file ({type(err).__name__}: {err})") from None
    found: set[str] = set()
    stack: list[Any] = [schema]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if isinstance(node.get("__class__"), str) and isinstance(node.get("__module__"), str):
                found.add(f"{node['__module__']}.{node['__class__']}")
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return found


def _load_estimator(path: Path, config: ForestSurrogateConfig, n_features: int) -> Any:
    """The estimator in ``path``, after checking every type in it against :data:`TRUSTED_TYPES`."""
    import skops.io as sio

    unexpected = sorted(schema_types(path) - TRUSTED_TYPES)
    if unexpected:
        raise SurrogateLoadError(
            f"{path}: refusing to load: the file contains object type(s) {unexpected} that a forest "
            f"surrogate never holds (trusted: forest, tree, array and builtin types); it was not written "
            "by ForestSurrogate.save_pretrained or has been tampered with"
        )
    untrusted = sio.get_untrusted_types(file=path)
    if set(untrusted) - TRUSTED_TYPES:  # skops sees a type our schema walk missed: refuse as well
        raise SurrogateLoadError(f"{path}: refusing to load untrusted type(s) {sorted(set(untrusted) - TRUSTED_TYPES)}")
    try:
        est = sio.load(path, trusted=list(untrusted))
    except Exception as err:  # skops raises many types on a corrupt archive
        raise SurrogateLoadError(f"{path}: could not load the skops model ({type(err).__name__}: {err})") from None
    expected = _estimator_class(config.algorithm)
    if type(est) is not expected:
        raise SurrogateLoadError(f"{path}: holds a {type(est).__name__}, the config says {config.algorithm} ({expected.__name__})")
    if getattr(est, "n_features_in_", None) != n_features:
        raise SurrogateLoadError(
            f"{path}: the model takes {getattr(est, 'n_features_in_', '?')} features, the config's feature set has {n_features}"
        )
    return est


def _estimator_class(algorithm: str) -> type:
    import importlib

    module, _, name = ALGORITHMS[algorithm].partition(":")
    return getattr(importlib.import_module(module), name)


# ---------------------------------------------------------------------------------------- model
class ForestSurrogate(GrafSurrogate, tags=list(TAGS), pipeline_tag="tabular-regression"):
    """A random forest (or extra-trees) on GRAF (+ extras, + ZCP) features; see the module docstring.

    ``ForestSurrogate()`` uses the default config; ``ForestSurrogate(config)`` a given
    :class:`ForestSurrogateConfig`; ``ForestSurrogate(algorithm="extra-trees", zcp=(...), ...)`` the
    settings of :meth:`ForestSurrogateConfig.make`. ``n_jobs``: scikit-learn threads (runtime only).
    """

    _load_options = ("allow_grammar_mismatch", "n_jobs")
    _kind = KIND
    _config_class = ForestSurrogateConfig
    _card_name = "einspace-graf-forest"

    def __init__(self, config: ForestSurrogateConfig | None = None, *, n_jobs: int = 1, **settings: Any) -> None:
        self._model: Any = None
        super().__init__(config, n_jobs=n_jobs, **settings)  # type: ignore[arg-type]

    def _set_threads(self) -> None:
        """Give the fitted estimator :attr:`n_jobs` threads (scikit-learn's ``n_jobs``)."""
        if getattr(self, "_model", None) is not None:
            self._model.n_jobs = self._nthread()

    @property
    def is_fitted(self) -> bool:
        return self._model is not None

    def _has_spread(self) -> bool:
        return True  # the spread of the trees

    @property
    def estimator(self) -> Any:
        """The fitted scikit-learn estimator."""
        self._check_fitted()
        return self._model

    @property
    def booster(self):  # pragma: no cover - guard
        raise AttributeError("a ForestSurrogate has no XGBoost booster; see .estimator")

    def __repr__(self) -> str:
        fs = self.config.feature_set
        state = "fitted" if self.is_fitted else "not fitted"
        return f"ForestSurrogate({self.config.algorithm}, features={fs.name!r}, zcp={list(fs.zcp)}, {state})"

    # -- model --------------------------------------------------------------------------------
    def _fit_matrix(self, X: np.ndarray, y: np.ndarray, w: np.ndarray | None) -> None:
        est = _estimator_class(self.config.algorithm)(**self.config.forest_params, n_jobs=self._nthread())
        est.fit(X.astype(np.float32), y, sample_weight=w)
        self._model = est

    def _predict_matrix(self, X: np.ndarray, return_std: bool) -> tuple[np.ndarray, np.ndarray | None]:
        """The mean of the trees' scores and, with ``return_std``, their standard deviation."""
        X32 = np.ascontiguousarray(X, dtype=np.float32)
        ok = ~np.isnan(X32[:, : len(feature_names(self.config.feature_set.extras))]).any(axis=1)
        per_tree = np.full((len(self._model.estimators_), len(X32)), np.nan)
        if ok.any():
            rows = X32[ok]
            for i, tree in enumerate(self._model.estimators_):
                per_tree[i, ok] = tree.predict(rows)
        scores = per_tree.mean(axis=0)
        return scores, (per_tree.std(axis=0) if return_std else None)

    # -- hub I/O ------------------------------------------------------------------------------
    def _save_pretrained(self, save_directory: Path) -> None:
        """Record the scikit-learn version in the config, then write it and ``model.skops``."""
        import sklearn

        self.config = dataclasses.replace(self.config, sklearn_version=sklearn.__version__)
        super()._save_pretrained(save_directory)

    def _save_model(self, save_directory: Path) -> None:
        """Write ``model.skops`` (without the runtime ``n_jobs``)."""
        import skops.io as sio

        n_jobs = self._model.n_jobs
        self._model.n_jobs = None  # a runtime setting: not saved
        try:
            tmp = save_directory / (MODEL_FILE + ".tmp")
            sio.dump(self._model, tmp)
            tmp.replace(save_directory / MODEL_FILE)
        finally:
            self._model.n_jobs = n_jobs

    @classmethod
    def _load(
        cls, config: ForestSurrogateConfig, fetch: Callable[[str], Path], *, source: str, n_jobs: int = 1
    ) -> ForestSurrogate:
        """Load ``model.skops`` after the trusted-type check."""
        import sklearn

        if config.sklearn_version and config.sklearn_version != sklearn.__version__:
            log.warning("%s: saved with scikit-learn %s, loading with %s; predictions may differ slightly",
                        source, config.sklearn_version, sklearn.__version__)
        model_path = fetch(MODEL_FILE)
        surrogate = cls(config)
        surrogate._model = _load_estimator(model_path, config, len(surrogate.feature_names))
        surrogate.n_jobs = n_jobs
        return surrogate

    # -- model card ---------------------------------------------------------------------------
    def _card_values(self) -> dict[str, Any]:
        import sklearn

        cfg = self.config
        fs = cfg.feature_set
        algo = "random forest" if cfg.algorithm == "random-forest" else "extra-trees ensemble"
        return {
            "description": (
                f"A scikit-learn {algo} on the {len(feature_names(False))} GRAF neural-graph features"
                + (" plus cheap extras (size, depth, output shape, parameters, FLOPs)" if fs.extras else "")
                + (f" and the zero-cost proxies {', '.join(fs.zcp)}" if fs.zcp else "")
                + " that predicts how well an einspace architecture will train, as a rank score, with the"
                " spread of its trees as an uncertainty."
            ),
            "algorithm": algo,
            "sklearn_version": cfg.sklearn_version or sklearn.__version__,
            "forest_params": json.dumps(cfg.forest_params, sort_keys=True),
            "n_trees": len(self._model.estimators_) if self._model is not None else cfg.forest_params.get("n_estimators"),
            "feature_set": fs.name,
            "graf_version": fs.graf_version or GRAF_VERSION,
            "n_features": len(self.feature_names),
            "zcp": ", ".join(fs.zcp) or "none",
        }
