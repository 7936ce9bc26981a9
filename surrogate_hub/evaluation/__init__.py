"""Evaluation of surrogates and baselines on a corpus: leave-one-task-out and within-task ranking
quality, the unseen-architecture subset, noise ceilings and proxy coverage.

    from surrogate_hub.evaluation import evaluate_corpus
    res = evaluate_corpus("corpus/einspace-offline-v1", methods=["graf-xgb", "params"])
    res["methods"]["graf-xgb"]["loo"]["tau"]["mean"]

or ``surrogate-hub evaluate CORPUS [--methods ...] [--tasks ...] [--quick] [--out DIR]``. The
protocol (folds, unseen rows, ceilings, coverage) is described in :mod:`.protocol`, the rows (one per
architecture and task, seeds averaged, zero-accuracy and failed records dropped) in :mod:`.data`,
the metrics in :mod:`.metrics`.

Adding a method
    A method is a function ``fn(train, test, seed) -> scores`` registered with :func:`method`::

        from surrogate_hub.evaluation import method

        @method("bert")
        def _bert(train, test, seed):
            sur = BertSurrogate(seed=seed).fit(train["arch"], train["val_acc"], train["task"],
                                               input_shapes=train["input_shape"], num_classes=train["num_classes"])
            return sur.predict(test["arch"], input_shape=test["input_shape"][0], num_classes=test["num_classes"][0])

    ``train`` and ``test`` are :class:`Rows`: columns ``arch`` (compact strings), ``task``,
    ``input_shape`` (tuple per row), ``num_classes``, ``n_params``, ``flops``, ``n_seeds`` and
    ``zcp_<name>``, as attributes or items (``train["arch"]``), plus ``graf()`` (cached GRAF+extras
    matrix). ``train["val_acc"]`` holds the raw accuracies (the mean over seeds); normalise them per
    task yourself (:func:`surrogate_hub.surrogates.targets.normalise_targets`) or let the surrogate's
    ``fit`` do it - ``train`` holds only the fold's training rows, so either way no held-out label
    is used. ``test`` has no ``val_acc``. Test rows always belong to one task (one input shape and
    class count). Return one float per test row, higher = predicted better; NaN where the method
    cannot score a row (it is reported as missing coverage, not ranked). ``seed`` is the run's seed.
    Methods are ``fitted`` by default (they learn from ``train`` and also get within-task CV);
    baselines register with ``fitted=False`` and are scored once per task. Register in any module; the CLI imports extra
    modules with ``--import MODULE`` before it checks the requested names.

Results document (``surrogates.json``)
    ``methods.<name>.loo``: ``tau``, ``rho``, ``p_at_10``, ``tau_unseen``, ``rho_unseen``,
    ``p_at_10_unseen``, ``tau_seen`` and ``tau_over_ceiling``, each ``{"mean", "by_task": {task: value}}``; ``n``, ``n_scored``,
    ``n_unseen``, ``n_seen`` per task. ``methods.<name>.within``: ``tau``, ``rho``, ``p_at_10`` (null
    for baselines). ``ceiling``: ``{"mean", "by_task", "n_pairs", "min_pairs"}``; ``coverage``: NaN
    counts per proxy; ``data``: record and row counts per task; ``skipped``: default methods the
    corpus cannot run. ``loo``/``within``/``n_rows`` repeat the metrics in the earlier layout
    (``loo.<method>.<task>.tau``, ``loo.<method>.mean.tau``) for older readers.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .data import (
    EvalData,
    FeatureCache,
    Rows,
    default_cache_dir,
    from_columns,
    load_corpus,
)
from .metrics import (
    kendall_tau,
    noise_ceiling,
    precision_at,
    ranking_metrics,
    spearman_rho,
)
from .protocol import (
    QUICK_METHODS,
    QUICK_ROWS,
    evaluate,
    loo_folds,
    subsample,
    unseen_mask,
    within_folds,
)
from .registry import (
    MethodSpec,
    UnknownMethodError,
    get_methods,
    method,
    resolve,
    unregister,
)
from .fold_store import FoldStore, FoldStoreMismatch
from .report import markdown, merge_results, write_results

__all__ = [
    "FoldStore",
    "FoldStoreMismatch",
    "QUICK_METHODS",
    "EvalData",
    "FeatureCache",
    "MethodSpec",
    "Rows",
    "UnknownMethodError",
    "default_cache_dir",
    "evaluate",
    "evaluate_corpus",
    "from_columns",
    "get_methods",
    "kendall_tau",
    "load_corpus",
    "loo_folds",
    "markdown",
    "merge_results",
    "method",
    "noise_ceiling",
    "precision_at",
    "ranking_metrics",
    "resolve",
    "spearman_rho",
    "subsample",
    "unregister",
    "unseen_mask",
    "within_folds",
    "write_results",
]


def evaluate_corpus(
    corpus: str | Path | EvalData,
    methods: Sequence[str] | None = None,
    *,
    tasks: Sequence[str] | None = None,
    quick: bool = False,
    seed: int = 0,
    folds: int = 5,
    within: bool = True,
    revision: str | None = None,
    cache_dir: str | Path | None = None,
    name: str | None = None,
    store: FoldStore | None = None,
) -> dict[str, Any]:
    """Load ``corpus`` (folder or Hub dataset id; or an already loaded :class:`EvalData`) and
    :func:`evaluate` it. ``quick`` keeps at most :data:`QUICK_ROWS` rows per task, at most 3 folds
    and, unless ``methods`` are given, :data:`QUICK_METHODS`. ``cache_dir``: feature cache folder
    (default :func:`default_cache_dir`); ``name``: the corpus name recorded in the results;
    ``store``: a :class:`FoldStore` (see :func:`evaluate`)."""
    if isinstance(corpus, EvalData):
        data = corpus
    else:
        data = load_corpus(corpus, revision=revision, tasks=tasks,
                           cache_dir=cache_dir if cache_dir is not None else default_cache_dir())
    if quick:
        data = subsample(data, QUICK_ROWS, seed)
        folds = min(folds, 3)
        methods = list(QUICK_METHODS) if methods is None else methods
    res = evaluate(data, methods, seed=seed, folds=folds, within=within, store=store)
    label = name if name is not None else (str(corpus) if not isinstance(corpus, EvalData) else None)
    return {"corpus": label, "revision": revision, "quick": quick, **res}
