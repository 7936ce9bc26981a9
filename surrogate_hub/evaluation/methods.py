"""The built-in methods: GRAF-XGBoost surrogates (fitted per fold) and the baselines.

Fitted
    ``graf-xgb`` (GRAF + extras), ``graf-only-xgb`` (GRAF alone), ``graf-zcp-xgb`` (GRAF + extras +
    the paper's seven zero-cost proxies): the real :class:`~surrogate_hub.surrogates.GrafSurrogate`
    with its default config, fitted on the fold's training rows. ``forest`` and ``forest-zcp`` (the
    paper's surrogate of record), and the non-default ``extra-trees``: the same with
    :class:`~surrogate_hub.surrogates.ForestSurrogate`. Its ``fit`` drops zero targets and
    normalises the targets per task among the rows it is given - the fold's training tasks only.
    Features come from the evaluation's feature cache instead of being recomputed per fold (the
    values are identical: ``tests/test_evaluation.py`` checks it).
Baselines (no fitting)
    ``params``, ``flops``, ``random`` and ``zcp:<name>`` for every proxy column of the corpus
    (registered by :func:`register_proxy_baselines` once the corpus is loaded; ``zcp:params`` and
    ``zcp:flops`` are left out: they are the ``params`` and ``flops`` baselines again).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .data import FeatureCache, Rows
from .registry import method

__all__ = ["PAPER_PROXIES", "bert_settings", "forest", "graf_xgb", "register_proxy_baselines"]

#: The seven proxies the surrogate paper feeds to GRAF (``features.proxies.PAPER_PROXIES``,
#: repeated here so that registering needs no torch; a test keeps the two equal).
PAPER_PROXIES: tuple[str, ...] = ("grad_norm", "snip", "grasp", "fisher", "jacob_cov", "plain", "synflow")


def _cached_surrogate_class(kind: str = "graf-xgb"):
    from ..space.errors import ArchitectureError
    from ..surrogates.graf_xgb import _F32_MAX, GrafSurrogate

    if kind == "forest":
        from ..surrogates.forest import ForestSurrogate as base
    else:
        base = GrafSurrogate

    class CachedGrafSurrogate(base):  # type: ignore[valid-type,misc]
        """A :class:`GrafSurrogate` whose GRAF(+extras) columns come from a :class:`FeatureCache`."""

        def __init__(self, cache: FeatureCache, **settings: Any) -> None:
            super().__init__(**settings)
            self._cache = cache

        def features(self, archs, *, input_shapes=None, num_classes=None, zcp=None, errors="raise") -> np.ndarray:
            items = [str(a) for a in archs]
            n = len(items)
            shapes = [self.config.default_input_shape] * n if input_shapes is None else (
                [tuple(input_shapes)] * n if np.ndim(input_shapes) == 1 else list(input_shapes))
            if num_classes is None:
                num_classes = self.config.default_num_classes
            classes = [num_classes] * n if np.ndim(num_classes) == 0 else list(num_classes)
            keys = [(a, tuple(int(d) for d in s), int(k)) for a, s, k in zip(items, shapes, classes)]
            base = self._cache.lookup(keys)
            if not self.config.feature_set.extras:
                base = base[:, : self._cache.n_graf]
            z = self._zcp_matrix(zcp, n)
            X = base if z is None else np.concatenate([base, z], axis=1)
            if errors == "raise" and np.isnan(base).any():
                raise ArchitectureError(f"architecture #{int(np.flatnonzero(np.isnan(base).any(axis=1))[0])} has no features")
            return np.clip(X, -_F32_MAX, _F32_MAX)

    return CachedGrafSurrogate


def graf_xgb(train: Rows, test: Rows, seed: int, *, extras: bool = True, zcp: Sequence[str] = ()) -> np.ndarray:
    """Fit a default-config GRAF-XGBoost surrogate on ``train`` and score ``test``."""
    if train.cache is None or train.cache is not test.cache:
        raise ValueError("graf_xgb needs train and test rows of one EvalData (they share its feature cache)")
    sur = _cached_surrogate_class()(train.cache, extras=extras, zcp=tuple(zcp), xgb_params={"seed": seed})
    sur.fit(
        train.arch, train.val_acc, train.task, input_shapes=train.input_shape, num_classes=train.num_classes,
        zcp={z: train.zcp[z] for z in zcp} if zcp else None,
    )
    return _predict_groups(sur, test, zcp)


def _predict_groups(sur: Any, test: Rows, zcp: Sequence[str] = (), return_std: bool = False) -> Any:
    """``sur``'s scores (and spreads) of ``test``, one call per input shape and class count
    (``zcp``: proxy columns to pass; ``return_std``: also the spreads)."""
    scores, spread = np.full(len(test), np.nan), np.full(len(test), np.nan)
    groups: dict[tuple, list[int]] = {}
    for i, key in enumerate(zip(test.input_shape, test.num_classes)):
        groups.setdefault(key, []).append(i)
    for (shape, k), idx in groups.items():
        part = test.take(idx)
        extra: dict[str, Any] = {"return_std": True} if return_std else {}
        if zcp:
            extra["zcp"] = {z: part.zcp[z] for z in zcp}
        out = sur.predict(part.arch, input_shape=shape, num_classes=k, **extra)
        if return_std:
            scores[idx], spread[idx] = out
        else:
            scores[idx] = out
    return (scores, spread) if return_std else scores


def forest(train: Rows, test: Rows, seed: int, *, algorithm: str = "random-forest", zcp: Sequence[str] = (),
           return_std: bool = False) -> Any:
    """Fit a default-config :class:`~surrogate_hub.surrogates.forest.ForestSurrogate` on ``train``
    and score ``test``; with ``return_std`` also the spread across trees (``(scores, spread)``)."""
    if train.cache is None or train.cache is not test.cache:
        raise ValueError("forest needs train and test rows of one EvalData (they share its feature cache)")
    sur = _cached_surrogate_class("forest")(train.cache, algorithm=algorithm, zcp=tuple(zcp),
                                            forest_params={"random_state": seed})
    sur.fit(
        train.arch, train.val_acc, train.task, input_shapes=train.input_shape, num_classes=train.num_classes,
        zcp={z: train.zcp[z] for z in zcp} if zcp else None,
    )
    return _predict_groups(sur, test, zcp, return_std)


@method("forest", fitted=True, description="random forest on GRAF + extras (ForestSurrogate)")
def _forest(train: Rows, test: Rows, seed: int) -> np.ndarray:
    return forest(train, test, seed)


@method("forest-zcp", fitted=True, needs=tuple(f"zcp_{p}" for p in PAPER_PROXIES),
        description="random forest on GRAF + extras + the paper's seven zero-cost proxies (the paper's surrogate of record)")
def _forest_zcp(train: Rows, test: Rows, seed: int) -> np.ndarray:
    return forest(train, test, seed, zcp=PAPER_PROXIES)


@method("extra-trees", fitted=True, default=False, description="extra-trees on GRAF + extras (ForestSurrogate)")
def _extra_trees(train: Rows, test: Rows, seed: int) -> np.ndarray:
    return forest(train, test, seed, algorithm="extra-trees")


@method("graf-xgb", fitted=True, description="XGBoost on GRAF + extras (the shipped default)")
def _graf_xgb(train: Rows, test: Rows, seed: int) -> np.ndarray:
    return graf_xgb(train, test, seed, extras=True)


@method("graf-only-xgb", fitted=True, description="XGBoost on the 385 GRAF features alone")
def _graf_only_xgb(train: Rows, test: Rows, seed: int) -> np.ndarray:
    return graf_xgb(train, test, seed, extras=False)


@method("graf-zcp-xgb", fitted=True, needs=tuple(f"zcp_{p}" for p in PAPER_PROXIES),
        description="XGBoost on GRAF + extras + the paper's seven zero-cost proxies")
def _graf_zcp_xgb(train: Rows, test: Rows, seed: int) -> np.ndarray:
    return graf_xgb(train, test, seed, extras=True, zcp=PAPER_PROXIES)


@method("params", fitted=False, description="parameter count (more is better)")
def _params(train: Rows, test: Rows, seed: int) -> np.ndarray:
    return np.asarray(test.n_params, dtype=np.float64)


@method("flops", fitted=False, description="forward multiply-accumulates (more is better)")
def _flops(train: Rows, test: Rows, seed: int) -> np.ndarray:
    return np.asarray(test.flops, dtype=np.float64)


@method("random", fitted=False, description="uniform random scores (chance level)")
def _random(train: Rows, test: Rows, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).random(len(test))


def register_proxy_baselines(proxies: Sequence[str]) -> list[str]:
    """Register ``zcp:<name>`` for each proxy column (except params/flops); returns the names."""
    names = []
    for p in proxies:
        if p in ("params", "flops"):
            continue

        def score(train: Rows, test: Rows, seed: int, p: str = p) -> np.ndarray:
            return np.asarray(test.zcp[p], dtype=np.float64)

        method(f"zcp:{p}", fitted=False, needs=(f"zcp_{p}",), replace=True, description=f"zero-cost proxy {p} (more is better)")(score)
        names.append(f"zcp:{p}")
    return names


#: Settings of the ``bert`` method: :class:`~surrogate_hub.surrogates.bert.model.BertSurrogate`
#: keywords. ``base`` is a pretrained body (a folder such as the MLM-pretrained einspace-native model
#: of ``training/fit_bert.py pretrain``, ``minilm``, or a Hub id); change them before evaluating
#: (``training/evaluate.py --bert-*``).
BERT_SETTINGS: dict[str, Any] = {"base": "runs/einspace-mlm", "encoding": "long", "pooling": "cls", "epochs": 4.0,
                                 "learning_rate": 1e-4, "batch_size": 16}


def bert_settings(name: str) -> dict[str, Any]:
    """The :class:`BertSurrogate` keywords of BERT method ``name``: ``BERT_SETTINGS`` with the
    method's own settings over them (JSON-ready: tuples as lists)."""
    import json

    return json.loads(json.dumps({**BERT_SETTINGS, **BERT_METHODS[name][0]}))


def _bert_scores(train: Rows, test: Rows, seed: int, name: str) -> np.ndarray:
    """A :class:`BertSurrogate` of :func:`bert_settings` fine-tuned on ``train``, scoring ``test``."""
    from ..surrogates.bert.model import BertSurrogate

    sur = BertSurrogate(**{**bert_settings(name), "seed": seed})
    sur.fit(train.arch, train.val_acc, train.task, input_shapes=train.input_shape,
            num_classes=train.num_classes, progress=False)
    return _predict_groups(sur, test)


#: the BERT methods: name → (settings that override ``BERT_SETTINGS``, description)
BERT_METHODS: dict[str, tuple[dict[str, Any], str]] = {
    "bert": ({}, "BERT-style model on the architecture string (BertSurrogate, fine-tuned per fold)"),
    "bert-compact": ({"encoding": "compact"}, "the bert method on the compact string (no shapes: fewer tokens, faster)"),
    "bert-pooled": ({"encoding": "compact", "pooling": "mean-max", "learning_rate": 1e-3},
                    "bert-compact with the mean-max head (mean and max over all tokens, then an MLP) and lr 1e-3"),
    "bert-pooled-aug": ({"encoding": "compact", "pooling": "mean-max", "learning_rate": 1e-3,
                         "augmentations": ("reorder", "swap", "identity", "width"), "label_noise": 0.005},
                        "bert-pooled with the paper's four augmentations (p 0.5 per example and epoch) and N(0, 0.005^2) label noise"),
}


def _register_bert(name: str, description: str) -> None:
    @method(name, fitted=True, default=False, description=description)
    def _fn(train: Rows, test: Rows, seed: int) -> np.ndarray:
        return _bert_scores(train, test, seed, name)


for _name, (_, _description) in BERT_METHODS.items():
    _register_bert(_name, _description)
