"""``GrafSurrogate``: an XGBoost regressor on GRAF features (+ extras, + optional zero-cost proxies).

Features
    The 385 GRAF features (:mod:`surrogate_hub.features.graf`), then, with ``extras=True`` (the
    default), the 9 cheap extras (terminals, non-terminals, depth, output rank and dims, parameters,
    FLOPs), which depend on the input shape and class count, then one column ``zcp_<name>`` per
    zero-cost proxy named in ``zcp``. Values are clipped to the float32 range (XGBoost works in
    float32; synflow overflows); NaN is kept and treated by XGBoost as missing.

Input shapes
    Extras need a (C, H, W) input shape and a class count. ``fit`` takes them per row (as in the
    corpus) or one for all rows; ``predict``/``rank`` take one for the call. Callers who give none
    get the config's ``default_input_shape`` / ``default_num_classes``.

Zero-cost proxies
    With ``zcp=("synflow", "snip", ...)`` in the config, ``fit`` and ``predict`` need a ``zcp``
    argument: an array ``[n_archs, len(zcp)]`` in the config's order, or a mapping
    ``{name: values}``; NaN marks a proxy that could not be computed. Compute them with
    :func:`surrogate_hub.features.proxies.compute_proxies` (torch) or read the corpus's ``zcp_<name>``
    columns (:func:`~.base.fit_corpus` does). Without ``zcp`` in the config, passing ``zcp`` is an
    error.

Artifacts (a folder or Hub model repo)
    ``config.json`` (:class:`GrafSurrogateConfig`, see :meth:`GrafSurrogateConfig.to_dict`),
    ``model.json`` (XGBoost's own JSON model format: loading never unpickles) and ``README.md``
    (model card from the packaged template ``surrogates/cards/graf-xgb.md``). Loading checks, in order: the surrogate
    kind, the format version (a reader per known version), the grammar hash, the feature contract
    (GRAF version and feature-name hash), and that the model file exists, parses and has the
    expected features; each failure is a :class:`~.errors.SurrogateLoadError` naming the file.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import numpy as np

from ..features.graf import GRAF_VERSION, feature_names, graf_matrix, names_hash
from ..space.errors import ArchitectureError
from ..space.ops import grammar_hash
from ..space.tree import Architecture
from .artifact import CONFIG_FILE, SurrogateHubMixin
from .artifact import read_config_file, resolve_file  # noqa: F401  (re-exported: moved to .artifact)
from .base import (
    SurrogateBase,
    check_archs,
    check_errors,
    check_shape_and_classes,
    config_or_settings,
    fit_rows,
    is_count,
    is_shape,
    per_row,
    unscorable,
)
from .config import JSON_SCALARS as _JSON_SCALARS
from .config import (
    LINEAGE_KEY,
    ConfigReaders,
    CorpusRef,
    Lineage,
    TargetConfig,
    check_shared_fields,
    check_spread_scale,
    optional_spread_scale,
    read_shared_sections,
)
from .config import check_keys as _check_keys
from .config import typed as _typed
from .errors import SurrogateLoadError
from .targets import usable_targets
from .xgb_numpy import UnsupportedModelError, load_forest

__all__ = [
    "CONFIG_FILE",
    "CorpusRef",
    "FeatureSetConfig",
    "FORMAT_VERSION",
    "GrafSurrogate",
    "GrafSurrogateConfig",
    "KIND",
    "MODEL_FILE",
    "TargetConfig",
    "config_readers",
    "read_config_file",
]

log = logging.getLogger(__name__)

KIND: Final = "graf-xgb"
FORMAT_VERSION: Final = 1
MODEL_FILE: Final = "model.json"
#: card tags of this family, besides those of every surrogate (:data:`~.artifact.CARD_TAGS`)
TAGS: Final = ["graf", "xgboost"]

#: XGBoost settings used when the config gives none; ``n_estimators`` is the number of boosting
#: rounds, every other key is an XGBoost booster parameter.
DEFAULT_XGB_PARAMS: Final[Mapping[str, Any]] = {
    "objective": "reg:squarederror",
    "n_estimators": 400,
    "learning_rate": 0.05,
    "max_depth": 6,
    "min_child_weight": 2,
    "subsample": 0.8,
    "colsample_bytree": 0.5,
    "tree_method": "hist",
    "seed": 0,
}
_F32_MAX: Final = float(np.finfo(np.float32).max)


def _xgboost():
    """Import xgboost on first use (``import surrogate_hub.surrogates`` must stay light)."""
    import xgboost

    return xgboost


# --------------------------------------------------------------------------------------- config
@dataclass(frozen=True)
class FeatureSetConfig:
    """The feature contract a model was trained with; ``names_hash`` is filled in when empty."""

    name: str = "graf+extras"
    graf_version: str = GRAF_VERSION
    names_hash: str = ""
    extras: bool = True
    zcp: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.names_hash:
            object.__setattr__(self, "names_hash", names_hash(self.names()))

    def names(self) -> tuple[str, ...]:
        """Feature (column) names in this code's order."""
        return feature_names(self.extras) + tuple(f"zcp_{z}" for z in self.zcp)

    @staticmethod
    def default_name(extras: bool, zcp: Sequence[str]) -> str:
        return "graf" + ("+extras" if extras else "") + ("+zcp" if zcp else "")

    @classmethod
    def make(cls, extras: bool = True, zcp: Iterable[str] = ()) -> FeatureSetConfig:
        """The feature set of ``extras`` and the proxies ``zcp``, with its default name."""
        zcp = tuple(zcp)
        return cls(name=cls.default_name(extras, zcp), extras=extras, zcp=zcp)

    def check(self) -> None:
        """Refuse proxy names that are empty, not strings or repeated (for a config's ``__post_init__``)."""
        if len(set(self.zcp)) != len(self.zcp) or not all(isinstance(z, str) and z for z in self.zcp):
            raise ValueError(f"feature_set.zcp must be distinct proxy names, got {self.zcp!r}")


@dataclass(frozen=True)
class GrafSurrogateConfig:
    """Everything that defines a :class:`GrafSurrogate` except the fitted trees; ``config.json``.

    Build one with :meth:`make` (flat keyword settings) or directly. ``metrics`` is free-form, filled
    by evaluation; the model card reads ``{metric: {dataset: value}}`` (or ``{metric: value}``)
    entries into its evaluation table and ``model-index``.
    """

    surrogate: str = KIND
    format_version: int = FORMAT_VERSION
    grammar_hash: str = field(default_factory=grammar_hash)
    feature_set: FeatureSetConfig = field(default_factory=FeatureSetConfig)
    target: TargetConfig = field(default_factory=TargetConfig)
    xgb_params: dict[str, Any] = field(default_factory=lambda: dict(DEFAULT_XGB_PARAMS))
    default_input_shape: tuple[int, int, int] = (3, 32, 32)
    default_num_classes: int = 10
    corpus: CorpusRef = field(default_factory=CorpusRef)
    metrics: dict[str, Any] = field(default_factory=dict)
    lineage: Lineage | None = None  #: set on fine-tuned surrogates only (:mod:`.finetune`)
    #: boosters fitted with seeds ``seed``, ``seed + 1``, ...: the score is their mean and
    #: ``predict(..., return_std=True)`` their standard deviation (1: a single booster, no spread)
    ensemble: int = 1
    #: factor applied to the ensemble's spread, calibrated on held-out tasks when fitting
    #: (:mod:`.spread`); 1.0: raw spread
    spread_scale: float = 1.0

    def __post_init__(self) -> None:
        if not isinstance(self.ensemble, int) or isinstance(self.ensemble, bool) or self.ensemble < 1:
            raise ValueError(f"ensemble must be a positive int (the number of boosters), got {self.ensemble!r}")
        check_spread_scale(self.spread_scale)
        check_shared_fields(self)
        self.feature_set.check()

    @classmethod
    def make(
        cls,
        *,
        extras: bool = True,
        zcp: Iterable[str] = (),
        normalisation: str = "percentile",
        drop_zero: bool = True,
        xgb_params: Mapping[str, Any] | None = None,
        default_input_shape: Sequence[int] = (3, 32, 32),
        default_num_classes: int = 10,
        ensemble: int = 1,
    ) -> GrafSurrogateConfig:
        """A config from flat settings; ``xgb_params`` update :data:`DEFAULT_XGB_PARAMS`."""
        return cls(
            feature_set=FeatureSetConfig.make(extras, zcp),
            target=TargetConfig(normalisation=normalisation, drop_zero=drop_zero),
            xgb_params={**DEFAULT_XGB_PARAMS, **(xgb_params or {})},
            default_input_shape=tuple(default_input_shape),  # type: ignore[arg-type]
            default_num_classes=default_num_classes,
            ensemble=ensemble,
        )

    def to_dict(self) -> dict[str, Any]:
        """The ``config.json`` layout (key order as written)::

            {"surrogate": "graf-xgb", "format_version": 1, "grammar_hash": "...",
             "feature_set": {"name", "graf_version", "names_hash", "extras", "zcp": [...]},
             "target": {"normalisation", "drop_zero"}, "xgb_params": {...},
             "default_input_shape": [C, H, W], "default_num_classes": K,
             "corpus": {"repo_or_path", "revision"}, "metrics": {...}}

        plus ``"lineage": {...}`` (:class:`~.config.Lineage`) on a fine-tuned surrogate only, and
        ``"ensemble": k`` for an ensemble of k > 1 boosters and its ``"spread_scale"`` (absent: one
        booster, so a single-booster config keeps the layout above exactly).
        """
        d = json.loads(json.dumps(dataclasses.asdict(self)))  # tuples → lists, a deep copy
        if d.get(LINEAGE_KEY) is None:
            d.pop(LINEAGE_KEY, None)
        if d["ensemble"] == 1:
            del d["ensemble"]
        if d["spread_scale"] == 1.0:
            del d["spread_scale"]
        return d

    @classmethod
    def from_dict(cls, raw: Any, source: str = CONFIG_FILE) -> GrafSurrogateConfig:
        """Read a ``config.json`` dict with the reader for its ``format_version``."""
        return _READERS.read(raw, source)


# Readers of config.json, one per format version: each turns a raw dict into the current config.
_READERS: ConfigReaders[GrafSurrogateConfig] = ConfigReaders(KIND, "GrafSurrogate")
_reader = _READERS.register


def config_readers() -> dict[int, Callable[[dict, str], GrafSurrogateConfig]]:
    """The config readers by format version (a copy)."""
    return _READERS.versions()


def read_common_sections(raw: dict, source: str) -> dict[str, Any]:
    """The config sections every GRAF-feature family shares, type-checked: ``feature_set`` and those
    of every family (:func:`~.config.read_shared_sections`), as keyword arguments of its config class."""
    fs = _check_keys(raw["feature_set"], [f.name for f in dataclasses.fields(FeatureSetConfig)], "feature_set", source)
    zcp = _typed(fs["zcp"], list, "feature_set.zcp", source)
    for z in zcp:
        _typed(z, str, "feature_set.zcp[]", source)
    return {
        "feature_set": FeatureSetConfig(
            name=_typed(fs["name"], str, "feature_set.name", source),
            graf_version=_typed(fs["graf_version"], str, "feature_set.graf_version", source),
            names_hash=_typed(fs["names_hash"], str, "feature_set.names_hash", source) or "?",
            extras=_typed(fs["extras"], bool, "feature_set.extras", source),
            zcp=tuple(zcp),
        ),
        **read_shared_sections(raw, source),
    }


@_reader(1)
def _read_v1(raw: dict, source: str) -> GrafSurrogateConfig:
    top = [f.name for f in dataclasses.fields(GrafSurrogateConfig) if f.name not in (LINEAGE_KEY, "ensemble", "spread_scale")]
    raw, spread = optional_spread_scale(raw, source)
    if isinstance(raw, dict) and "ensemble" in raw:  # optional: absent means one booster
        raw = dict(raw)
        ensemble = _typed(raw.pop("ensemble"), int, "ensemble", source)
    else:
        ensemble = 1
    _check_keys(raw, top, "config", source)
    params = _typed(raw["xgb_params"], dict, "xgb_params", source)
    for key, value in params.items():
        _typed(value, _JSON_SCALARS, f"xgb_params.{key}", source)
    return GrafSurrogateConfig(
        surrogate=KIND,
        format_version=1,
        xgb_params=dict(params),
        ensemble=ensemble,
        spread_scale=spread,
        **read_common_sections(raw, source),
    )


# ---------------------------------------------------------------------------------------- model
class GrafSurrogate(SurrogateBase, SurrogateHubMixin, tags=list(TAGS), pipeline_tag="tabular-regression"):
    """XGBoost on GRAF (+ extras, + ZCP) features; see the module docstring.

    ``GrafSurrogate()`` uses the default config; ``GrafSurrogate(config)`` a given
    :class:`GrafSurrogateConfig`; ``GrafSurrogate(zcp=("synflow",), normalisation="minmax", ...)``
    the settings of :meth:`GrafSurrogateConfig.make`.
    """

    _load_options = ("allow_grammar_mismatch", "n_jobs")
    _kind = KIND
    _config_class = GrafSurrogateConfig
    _card_name = "einspace-graf-xgb"

    def __init__(self, config: GrafSurrogateConfig | None = None, *, n_jobs: int = 1, **settings: Any) -> None:
        self.config: GrafSurrogateConfig = config_or_settings(self._config_class, config, settings)
        self._booster: Any = None
        self._forest: Any = None  #: numpy evaluator of a loaded model (:mod:`.xgb_numpy`); no xgboost
        self._model_path: Path | None = None  #: the loaded model file, for a lazy xgboost Booster
        self._members: list = []  #: fitted boosters of an ensemble (``_booster`` is the first)
        self._member_forests: list = []  #: numpy evaluators of a loaded ensemble's boosters
        self.n_jobs = n_jobs

    @property
    def n_jobs(self) -> int:
        """XGBoost threads for fitting and prediction (runtime only, not saved). Default 1: the
        trees are small, and OpenMP threads on a busy machine cost far more than they give
        (measured 10-50x slower with 2 threads on 2 shared cores). ``0`` or ``-1``: all cores."""
        return self._n_jobs

    @n_jobs.setter
    def n_jobs(self, value: int) -> None:
        if not isinstance(value, int) or isinstance(value, bool) or value < -1:
            raise ValueError(f"n_jobs must be a positive int, or 0/-1 for all cores, got {value!r}")
        self._n_jobs = value
        self._set_threads()

    def _set_threads(self) -> None:
        """Give the fitted model(s) :attr:`n_jobs` threads."""
        for booster in {id(b): b for b in [self._booster, *getattr(self, "_members", [])] if b is not None}.values():
            booster.set_param({"nthread": self._nthread()})

    def _nthread(self) -> int:
        import os

        return self._n_jobs if self._n_jobs > 0 else (os.cpu_count() or 1)

    # -- properties ---------------------------------------------------------------------------
    @property
    def feature_names(self) -> tuple[str, ...]:
        return self.config.feature_set.names()

    @property
    def zcp_names(self) -> tuple[str, ...]:  # type: ignore[override]
        return tuple(self.config.feature_set.zcp)

    @property
    def is_fitted(self) -> bool:
        return self._booster is not None or self._forest is not None

    @property
    def booster(self):
        """The fitted ``xgboost.Booster`` (imports xgboost; a loaded model is read again by it)."""
        self._check_fitted()
        if self._booster is None:
            self._booster = _load_booster(self._model_path, self.feature_names)
            self._booster.set_param({"nthread": self._nthread()})
        return self._booster

    def __repr__(self) -> str:
        fs = self.config.feature_set
        state = "fitted" if self.is_fitted else "not fitted"
        return f"GrafSurrogate(features={fs.name!r}, zcp={list(fs.zcp)}, {state})"

    # -- features -----------------------------------------------------------------------------
    def _zcp_matrix(self, zcp: Any, n: int) -> np.ndarray | None:
        names = self.zcp_names
        if not names:
            if zcp is not None:
                raise ValueError("this surrogate uses no zero-cost proxies (config feature_set.zcp is empty); drop zcp=")
            return None
        if zcp is None:
            raise ValueError(
                f"this surrogate uses the zero-cost proxies {list(names)}: pass task= (your data: a task "
                "name, 'npy:ROOT/NAME' or a Task; the proxies are computed on it) or zcp= (an array "
                "[n_archs, n_proxies] in that order, or a mapping name -> values)"
            )
        if isinstance(zcp, Mapping):
            missing = [z for z in names if z not in zcp]
            if missing:
                raise ValueError(f"zcp is missing the proxies {missing} (needed: {list(names)})")
            cols = [np.asarray([np.nan if v is None else v for v in zcp[z]], dtype=np.float64) for z in names]
            if any(len(c) != n for c in cols):
                raise ValueError(f"zcp: every proxy needs {n} values")
            return np.stack(cols, axis=1) if n else np.empty((0, len(names)))
        m = np.asarray(zcp, dtype=np.float64)
        if m.ndim == 1 and len(names) == 1:
            m = m.reshape(-1, 1)
        if m.shape != (n, len(names)):
            raise ValueError(f"zcp must have shape ({n}, {len(names)}) (archs × {list(names)}), got {m.shape}")
        return m

    def features(
        self,
        archs: Iterable[str | Architecture],
        *,
        input_shapes: Any = None,
        num_classes: Any = None,
        zcp: Any = None,
        errors: str = "raise",
    ) -> np.ndarray:
        """The model's input matrix ``[n, len(feature_names)]`` (float64, clipped to float32 range).

        ``input_shapes``/``num_classes``: one value or one per architecture (default: the config's).
        ``errors="nan"`` gives invalid architectures an all-NaN row (zcp columns included);
        ``errors="raise"`` raises an :class:`ArchitectureError` naming the first invalid one.
        """
        check_errors(errors)
        items = list(archs)
        n = len(items)
        cfg = self.config
        shapes = per_row(input_shapes, n, cfg.default_input_shape, is_shape, "input_shapes")
        classes = per_row(num_classes, n, cfg.default_num_classes, is_count, "num_classes")
        z = self._zcp_matrix(zcp, n)
        extras = cfg.feature_set.extras
        n_base = len(feature_names(extras))
        X = np.empty((n, len(self.feature_names)), dtype=np.float64)
        groups: dict[tuple, list[int]] = {}
        for i in range(n):
            key = (tuple(int(d) for d in shapes[i]), int(classes[i])) if extras else ()
            groups.setdefault(key, []).append(i)
        for key, idx in groups.items():
            shape, k = key if extras else (None, None)
            X[idx, :n_base] = graf_matrix([items[i] for i in idx], shape, k, extras=extras, errors="nan")[0]
        if z is not None:
            X[:, n_base:] = z
        bad = np.flatnonzero(np.isnan(X[:, :n_base]).any(axis=1))
        if len(bad):
            if errors == "raise":
                i = int(bad[0])
                key = (tuple(int(d) for d in shapes[i]), int(classes[i]))
                try:
                    graf_matrix([items[i]], *key, extras=extras)
                except ArchitectureError as err:
                    raise unscorable(i, items[i], err, key[0] if extras else None) from err
                raise ArchitectureError(f"architecture #{i} has non-finite features and cannot be scored")
            X[bad] = np.nan
        np.clip(X, -_F32_MAX, _F32_MAX, out=X)
        return X

    # -- fit / predict ------------------------------------------------------------------------
    def fit(
        self,
        archs: Sequence[str | Architecture],
        targets: Sequence[float] | np.ndarray,
        tasks: Sequence[str] | None = None,
        *,
        input_shapes: Any = None,
        num_classes: Any = None,
        zcp: Any = None,
        weights: Sequence[float] | np.ndarray | None = None,
        calibrate_spread: bool = True,
    ) -> GrafSurrogate:
        """Fit on raw accuracies ``targets`` (one per architecture).

        Rows with a NaN target, and with ``target.drop_zero`` those with a zero target, are dropped;
        the rest are normalised per task (``tasks``; ``None``: all rows are one group) with
        ``target.normalisation``. ``weights``: one non-negative weight per row (XGBoost sample
        weights; default: all 1). Invalid architectures raise. Returns ``self``.

        A model with a spread (an ensemble, a forest) also calibrates it unless
        ``calibrate_spread=False``: refits with whole tasks held out (at most 5) give the
        ``spread_scale`` of the config (:mod:`.spread`); this costs up to 5 more fits.
        """
        items, y, task_list, shapes, classes = fit_rows(archs, targets, tasks, input_shapes, num_classes, self.config)
        n = len(items)
        z = self._zcp_matrix(zcp, n)
        w = None
        if weights is not None:
            w = np.asarray(weights, dtype=np.float64).reshape(-1)
            if len(w) != n or not np.all(np.isfinite(w)) or (w < 0).any():
                raise ValueError(f"weights must be {n} finite non-negative values, got {len(w)}")
        target = self.config.target
        idx, y_fit = usable_targets(y, task_list, target.normalisation, target.drop_zero)
        X = self.features(
            [items[i] for i in idx],
            input_shapes=[shapes[i] for i in idx],
            num_classes=[classes[i] for i in idx],
            zcp=None if z is None else z[idx],
        )
        w_fit = None if w is None else w[idx]
        scale = 1.0
        if calibrate_spread and self._has_spread():
            groups = ["all"] * len(idx) if task_list is None else [task_list[i] for i in idx]
            scale = self._calibrate_spread(X, y_fit, w_fit, groups)
        self.config = dataclasses.replace(self.config, spread_scale=scale)
        self._fit_matrix(X, y_fit, w_fit)
        return self

    def _has_spread(self) -> bool:
        """Whether ``predict(..., return_std=True)`` has a spread (an ensemble of boosters)."""
        return self.config.ensemble > 1

    def _calibrate_spread(self, X: np.ndarray, y: np.ndarray, w: np.ndarray | None, groups: list[str]) -> float:
        """:func:`~.spread.spread_scale` with refits of a copy of this surrogate (same config)."""
        from .spread import spread_scale

        def fit_predict(train: np.ndarray, test: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            probe = type(self)(self.config, n_jobs=self.n_jobs)
            probe._fit_matrix(X[train], y[train], None if w is None else w[train])
            mean, spread = probe._predict_matrix(X[test], True)
            return mean, spread

        return spread_scale(fit_predict, y, groups)

    def _fit_matrix(self, X: np.ndarray, y: np.ndarray, w: np.ndarray | None) -> None:
        """Fit the model on the feature matrix ``X`` and normalised targets ``y`` (subclasses
        fitting another model override this)."""
        xgb = _xgboost()
        params = dict(self.config.xgb_params)
        rounds = int(params.pop("n_estimators", 100))
        params.setdefault("verbosity", 0)
        params["nthread"] = self._nthread()
        dtrain = xgb.DMatrix(X, label=y, weight=w, missing=np.nan, feature_names=list(self.feature_names))
        seed = int(params.pop("seed", 0))
        self._members = [
            xgb.train({**params, "seed": seed + i}, dtrain, num_boost_round=rounds) for i in range(self.config.ensemble)
        ]
        self._booster = self._members[0]
        self._forest = self._model_path = None
        self._member_forests = []

    def predict(
        self,
        archs: Iterable[str | Architecture],
        *,
        input_shape: Sequence[int] | None = None,
        num_classes: int | None = None,
        zcp: Any = None,
        task: Any = None,
        errors: str = "raise",
        progress: bool = False,
        workers: int | None = None,
        return_std: bool = False,
    ) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
        """Scores (float64, higher = better) for ``archs`` at ``input_shape``/``num_classes``
        (default: the config's, or the task's); NaN for invalid architectures when ``errors="nan"``.
        ``return_std=True`` returns ``(scores, spread)``: the standard deviation of the ensemble's
        members' scores times the config's calibrated ``spread_scale`` (NaN where the score is NaN);
        only surrogates fitted as an ensemble have one.

        A surrogate with zero-cost proxies needs ``zcp`` (precomputed) or ``task`` (a task name,
        ``"npy:ROOT/NAME"`` or a :class:`~surrogate_hub.tasks.Task`): the proxies are then computed
        on one training batch of that task (torch; ``workers`` processes for large inputs,
        ``progress`` bar on stderr), and the input shape and class count default to the task's.
        """
        self._check_fitted()
        items = check_archs(archs)
        if not items:
            empty = np.empty(0, dtype=np.float64)
            return (empty, empty.copy()) if return_std else empty
        if task is not None:
            from .task_inputs import resolve_task

            task = resolve_task(task)
            input_shape = tuple(task.input_shape) if input_shape is None else input_shape
            num_classes = task.num_classes if num_classes is None else num_classes
        check_shape_and_classes(input_shape, num_classes)
        if zcp is None and task is not None and self.zcp_names:
            from .task_inputs import task_proxies

            # graph features first: invalid architectures fail (or get NaN) before any proxy is computed
            names = self.zcp_names
            probe = self.features(items, input_shapes=input_shape, num_classes=num_classes,
                                  zcp=np.zeros((len(items), len(names))), errors=errors)
            valid = np.flatnonzero(~np.isnan(probe[:, : probe.shape[1] - len(names)]).any(axis=1))
            zcp = np.full((len(items), len(names)), np.nan)
            if len(valid):
                zcp[valid] = task_proxies([items[i] for i in valid], task, names, input_shape=input_shape,
                                          progress=progress, workers=workers)
        X = self.features(items, input_shapes=input_shape, num_classes=num_classes, zcp=zcp, errors=errors)
        scores, std = self._predict_matrix(X, return_std)
        n_base = len(feature_names(self.config.feature_set.extras))
        invalid = np.isnan(X[:, :n_base]).any(axis=1)
        scores[invalid] = np.nan
        if not return_std:
            return scores
        std = std * self.config.spread_scale
        std[invalid] = np.nan
        return scores, std

    def _predict_matrix(self, X: np.ndarray, return_std: bool) -> tuple[np.ndarray, np.ndarray | None]:
        """Scores of the feature rows ``X`` and, with ``return_std``, their spread (subclasses
        predicting with another model override this)."""
        if return_std and self.config.ensemble < 2:
            raise ValueError(
                "this GRAF-XGBoost surrogate is a single booster and has no spread: fit an ensemble "
                "(GrafSurrogate(ensemble=5)) or use a forest surrogate (ForestSurrogate, kind 'forest')"
            )
        if self.config.ensemble > 1:
            if self._member_forests:
                per = np.stack([f.predict(X) for f in self._member_forests])
            else:
                per = np.stack([np.asarray(b.inplace_predict(X), dtype=np.float64).reshape(-1) for b in self._members])
            return per.mean(axis=0), (per.std(axis=0) if return_std else None)
        if self._forest is not None:
            scores = self._forest.predict(X)
        else:
            scores = np.asarray(self._booster.inplace_predict(X), dtype=np.float64).reshape(-1)
        return scores, None

    # -- hub I/O ------------------------------------------------------------------------------
    def _save_model(self, save_directory: Path) -> None:
        """Write ``model.json`` (and ``model-<i>.json`` for the other boosters of an ensemble)."""
        self.booster.save_model(str(save_directory / MODEL_FILE))
        for i in range(1, self.config.ensemble):
            self._member_booster(i).save_model(str(save_directory / member_file(i)))

    def _member_booster(self, i: int):
        """The ``i``-th booster of an ensemble (a loaded one is read by xgboost now)."""
        if len(self._members) == self.config.ensemble:
            return self._members[i]
        return _load_booster(self._model_path.with_name(member_file(i)), self.feature_names)

    @classmethod
    def _check_config(cls, config: GrafSurrogateConfig, source: str) -> None:
        check_feature_set(config.feature_set, source)

    @classmethod
    def _load(
        cls, config: GrafSurrogateConfig, fetch: Callable[[str], Path], *, source: str, n_jobs: int = 1
    ) -> GrafSurrogate:
        """A surrogate of the checked ``config`` with the model files from ``fetch``; ``n_jobs``:
        XGBoost threads for prediction."""
        model_path = fetch(MODEL_FILE)
        surrogate = cls(config)
        surrogate._model_path = model_path
        paths = [model_path] + [fetch(member_file(i)) for i in range(1, config.ensemble)]
        try:  # numpy trees: no xgboost import (a cold start); xgboost for what they do not cover
            forests = [load_forest(p, surrogate.feature_names) for p in paths]
            surrogate._forest, surrogate._member_forests = forests[0], (forests if config.ensemble > 1 else [])
        except UnsupportedModelError as err:
            log.info("%s: %s; predicting with xgboost", model_path, err)
            surrogate._members = [_load_booster(p, surrogate.feature_names) for p in paths]
            surrogate._booster = surrogate._members[0]
        surrogate.n_jobs = n_jobs
        return surrogate

    # -- model card ---------------------------------------------------------------------------
    def _card_values(self) -> dict[str, Any]:
        cfg = self.config
        fs = cfg.feature_set
        return {
            "description": (
                f"An XGBoost regressor on the {len(feature_names(False))} GRAF neural-graph features"
                + (" plus cheap extras (size, depth, output shape, parameters, FLOPs)" if fs.extras else "")
                + (f" and the zero-cost proxies {', '.join(fs.zcp)}" if fs.zcp else "")
                + " that predicts how well an einspace architecture will train, as a rank score."
                + (f" It is an ensemble of {cfg.ensemble} differently seeded boosters (files model.json, "
                   f"model-1.json, ...): the score is their mean, and `predict(..., return_std=True)` gives "
                   "their standard deviation as an uncertainty." if cfg.ensemble > 1 else "")
            ),
            "feature_set": fs.name,
            "graf_version": fs.graf_version,
            "n_features": len(self.feature_names),
            "zcp": ", ".join(fs.zcp) or "none",
            "xgb_params": json.dumps(cfg.xgb_params, sort_keys=True),
        }


# ------------------------------------------------------------------------------------- helpers
def check_feature_set(fs: FeatureSetConfig, source: str) -> None:
    """Refuse a feature set that this installation does not compute the same way (GRAF version,
    feature names); ``source`` names the config in the error."""
    if fs.graf_version != GRAF_VERSION:
        raise SurrogateLoadError(
            f"{source}: trained on GRAF features version {fs.graf_version}, this installation computes "
            f"version {GRAF_VERSION}; refit the surrogate"
        )
    expected = names_hash(fs.names())
    if fs.names_hash != expected:
        raise SurrogateLoadError(
            f"{source}: feature_set.names_hash {fs.names_hash} does not match this installation's "
            f"features ({expected}); the feature contract changed: refit the surrogate"
        )


def member_file(i: int) -> str:
    """The model file of booster ``i`` of an ensemble (booster 0 is :data:`MODEL_FILE`)."""
    return MODEL_FILE if i == 0 else f"model-{i}.json"


def _load_booster(path: Path, names: Sequence[str]):
    xgb = _xgboost()
    try:  # check it is a JSON object first: XGBoost's own errors on binary junk are not readable
        raw = json.loads(path.read_bytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise SurrogateLoadError(f"{path}: not a readable XGBoost JSON model (not valid JSON: {err})") from None
    if not isinstance(raw, dict) or "learner" not in raw:
        raise SurrogateLoadError(f"{path}: not a readable XGBoost JSON model (no 'learner' object)")
    del raw
    booster = xgb.Booster()
    try:
        booster.load_model(str(path))
    except (xgb.core.XGBoostError, UnicodeDecodeError) as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise SurrogateLoadError(f"{path}: not a readable XGBoost JSON model ({first[:200]})") from None
    n = booster.num_features()
    if n != len(names):
        raise SurrogateLoadError(f"{path}: the model takes {n} features, the config's feature set has {len(names)}")
    if booster.feature_names is not None and tuple(booster.feature_names) != tuple(names):
        raise SurrogateLoadError(f"{path}: the model's feature names differ from the config's feature set")
    return booster
