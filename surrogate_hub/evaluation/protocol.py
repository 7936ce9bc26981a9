"""The evaluation protocol: leave-one-task-out and within-task folds, and the results document.

Leave-one-task-out (``loo``), for every method
    For each task *t*: the method gets the rows of every other task as ``train`` and the rows of *t*
    (labels hidden) as ``test``; its scores are compared with *t*'s accuracies. Besides all rows,
    the metrics are computed on the **unseen** rows: architectures that appear in no training row of
    that fold (``n_unseen`` says how many), and on the **seen** rest.
Within-task (``within``), fitted methods only
    ``folds``-fold cross-validation inside each task (rows shuffled with ``seed``); the out-of-fold
    scores of all folds are pooled and compared with the task's accuracies.
Noise ceiling
    Per task, the Kendall tau between the two seeds of the architectures trained twice (``null``
    when the corpus has fewer than :data:`~.metrics.MIN_CEILING_PAIRS` such architectures, as in
    corpus v1, which has one seed: never estimated). ``tau_over_ceiling`` is tau / ceiling per task;
    its mean is the mean tau over the tasks with a ceiling divided by their mean ceiling.
Coverage
    The NaN count of every proxy column per task, and per method and task the rows it scored
    (``n_scored``); metrics use the scored rows only (see :func:`~.metrics.ranking_metrics`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from .data import EvalData, Rows
from .fold_store import FoldStore
from .metrics import MIN_CEILING_PAIRS, noise_ceiling, ranking_metrics
from .registry import MethodSpec, resolve

__all__ = ["QUICK_METHODS", "evaluate", "loo_folds", "subsample", "unseen_mask", "within_folds"]

log = logging.getLogger(__name__)

#: The methods ``--quick`` runs unless others are named.
QUICK_METHODS: tuple[str, ...] = ("graf-xgb", "params", "flops", "random")
#: Rows per task kept by ``--quick``.
QUICK_ROWS = 60


# ------------------------------------------------------------------------------------------- folds
def loo_folds(data: EvalData) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """``(task, train index, test index)`` per task: train on every other task, test on this one."""
    task = np.asarray(data.rows.task)
    return [(t, np.flatnonzero(task != t), np.flatnonzero(task == t)) for t in data.tasks]


def within_folds(index: np.ndarray, folds: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """``folds`` (train, test) splits of ``index`` (rows of one task), shuffled with ``seed``.
    Every row is tested exactly once; a row is one architecture with all its seeds."""
    if folds < 2:
        raise ValueError(f"within-task CV needs at least 2 folds, got {folds}")
    perm = np.random.default_rng(seed).permutation(np.asarray(index))
    out = []
    for f in range(folds):
        test = np.sort(perm[f::folds])
        if len(test):
            out.append((np.setdiff1d(index, test), test))
    return out


def unseen_mask(train: Rows, test: Rows) -> np.ndarray:
    """True for the test rows whose architecture is in no training row."""
    seen = set(train.arch)
    return np.fromiter((a not in seen for a in test.arch), dtype=bool, count=len(test))


def subsample(data: EvalData, rows_per_task: int, seed: int = 0) -> EvalData:
    """At most ``rows_per_task`` random rows of each task (``--quick``); ceilings are kept."""
    rng = np.random.default_rng(seed)
    keep = []
    for t in data.tasks:
        idx = data.task_index(t)
        keep.append(np.sort(rng.choice(idx, size=min(rows_per_task, len(idx)), replace=False)))
    return replace(data, rows=data.rows.take(np.concatenate(keep) if keep else np.zeros(0, np.int64)))


# ---------------------------------------------------------------------------------------- running
def _scores(spec: MethodSpec, train: Rows, test: Rows, seed: int, key: str = "", store: FoldStore | None = None) -> np.ndarray | None:
    """The method's scores of ``test``; with a ``store``, read back or stored under ``key`` (``None``:
    a fold that another shard owns)."""
    def compute() -> np.ndarray:
        s = np.asarray(spec.fn(train, test.unlabelled(), seed), dtype=np.float64).reshape(-1)
        if len(s) != len(test):
            raise ValueError(f"method {spec.name} returned {len(s)} scores for {len(test)} test rows")
        return s

    if store is None:
        return compute()
    s = store.scores(spec.name, key, test, compute)
    if s is not None and len(s) != len(test):
        raise ValueError(f"stored fold {key} of {spec.name} has {len(s)} scores for {len(test)} test rows")
    return s


def _mean(values: Sequence[float | None]) -> float | None:
    vals = [v for v in values if v is not None]
    return float(np.mean(vals)) if vals else None


def _table(per_task: dict[str, dict[str, Any]], key: str) -> dict[str, Any]:
    by_task = {t: m[key] for t, m in per_task.items()}
    return {"mean": _mean(list(by_task.values())), "by_task": by_task}


def _run_loo(spec: MethodSpec, data: EvalData, seed: int, ceiling: dict[str, float | None],
             store: FoldStore | None = None) -> dict[str, Any] | None:
    acc = data.rows.val_acc
    per_task: dict[str, dict[str, Any]] = {}
    complete = True
    for t, tr, te in loo_folds(data):
        train, test = data.rows.take(tr), data.rows.take(te)
        s = _scores(spec, train, test, seed, f"loo-{t}", store)
        if s is None:
            complete = False
            continue
        m = ranking_metrics(s, acc[te])
        unseen = unseen_mask(train, test)
        mu = ranking_metrics(s[unseen], acc[te][unseen])
        ms = ranking_metrics(s[~unseen], acc[te][~unseen])
        c = ceiling.get(t)
        per_task[t] = {
            **m,
            "tau_unseen": mu["tau"], "rho_unseen": mu["rho"], "p_at_10_unseen": mu["p_at_10"],
            "n_unseen": int(unseen.sum()),
            "tau_seen": ms["tau"], "n_seen": int((~unseen).sum()),
            "tau_over_ceiling": None if c is None or m["tau"] is None or c <= 0 else m["tau"] / c,
        }
    if not complete:
        return None
    out = {k: _table(per_task, k) for k in ("tau", "rho", "p_at_10", "tau_unseen", "rho_unseen", "p_at_10_unseen", "tau_seen", "tau_over_ceiling")}
    for k in ("n", "n_scored", "n_unseen", "n_seen"):
        out[k] = {t: m[k] for t, m in per_task.items()}
    with_c = [t for t in per_task if ceiling.get(t) is not None and per_task[t]["tau"] is not None]
    out["tau_over_ceiling"]["mean"] = (
        float(np.mean([per_task[t]["tau"] for t in with_c]) / np.mean([ceiling[t] for t in with_c]))
        if with_c and np.mean([ceiling[t] for t in with_c]) > 0 else None
    )
    return out


def _run_within(spec: MethodSpec, data: EvalData, seed: int, folds: int, store: FoldStore | None = None) -> dict[str, Any] | None:
    acc = data.rows.val_acc
    per_task = {}
    complete = True
    for t in data.tasks:
        idx = data.task_index(t)
        pred = np.full(len(acc), np.nan)
        for f, (tr, te) in enumerate(within_folds(idx, folds, seed)):
            s = _scores(spec, data.rows.take(tr), data.rows.take(te), seed, f"within-{t}-{f}", store)
            if s is None:
                complete = False
            else:
                pred[te] = s
        per_task[t] = ranking_metrics(pred[idx], acc[idx])
    if not complete:
        return None
    out = {k: _table(per_task, k) for k in ("tau", "rho", "p_at_10")}
    out["n"] = {t: m["n"] for t, m in per_task.items()}
    out["n_scored"] = {t: m["n_scored"] for t, m in per_task.items()}
    out["folds"] = folds
    return out


def ceilings(data: EvalData, min_pairs: int = MIN_CEILING_PAIRS) -> dict[str, Any]:
    """``{"mean", "by_task": {task: tau or None}, "n_pairs": {task: n}}`` of the corpus."""
    by_task = {t: (noise_ceiling(p[:, 0], p[:, 1], min_pairs) if len(p) else None) for t, p in data.seed_pairs.items()}
    return {"mean": _mean(list(by_task.values())), "by_task": by_task,
            "n_pairs": {t: len(p) for t, p in data.seed_pairs.items()}, "min_pairs": min_pairs}


def coverage(data: EvalData) -> dict[str, Any]:
    """NaN counts of each proxy column, per task and in all."""
    task = np.asarray(data.rows.task)
    out = {}
    for p, v in data.rows.zcp.items():
        nan = np.isnan(v)
        out[p] = {"n_nan": int(nan.sum()), "by_task": {t: int(nan[task == t].sum()) for t in data.tasks}}
    return out


def evaluate(
    data: EvalData,
    methods: Sequence[str] | None = None,
    *,
    seed: int = 0,
    folds: int = 5,
    within: bool = True,
    on_method: Callable[[str, dict], None] | None = None,
    store: FoldStore | None = None,
) -> dict[str, Any]:
    """Run ``methods`` (``None``: every default method the corpus supports) on ``data``.

    Requested names are validated after the built-ins and the corpus's ``zcp:<name>`` baselines are
    registered. Returns the results document (``methods.<name>.loo.tau.mean`` and so on, see
    :mod:`surrogate_hub.evaluation`). ``on_method(name, result)`` is called after each method.
    ``store``: a :class:`~.fold_store.FoldStore` that keeps every fold's scores (resumable, shardable);
    a method with folds left to other shards is left out of ``methods`` and named in ``incomplete``.
    """
    from .methods import register_proxy_baselines

    register_proxy_baselines(data.proxies)
    columns = ["n_params", "flops", *(f"zcp_{p}" for p in data.proxies)]
    specs, skipped = resolve(methods, columns)
    ceiling = ceilings(data)
    results: dict[str, Any] = {}
    incomplete: list[str] = []
    for spec in specs:
        start = time.perf_counter()
        res: dict[str, Any] = {"fitted": spec.fitted, "description": spec.description}
        res["loo"] = _run_loo(spec, data, seed, ceiling["by_task"], store)
        res["within"] = _run_within(spec, data, seed, folds, store) if spec.fitted and within else None
        res["seconds"] = round(time.perf_counter() - start, 2)
        if store is not None:  # the folds' own computing time, also for folds computed by earlier runs or shards
            res["seconds"] = round(store.fold_seconds.get(spec.name, 0.0), 2)
        if res["loo"] is None or (spec.fitted and within and res["within"] is None):
            incomplete.append(spec.name)
            log.info("%s: folds left to other shards; rerun without a shard when they are done", spec.name)
            continue
        results[spec.name] = res
        log.info("%s: LOO mean tau %s (%.0f s)", spec.name, _fmt(res["loo"]["tau"]["mean"]), res["seconds"])
        if on_method is not None:
            on_method(spec.name, res)
    rows = data.rows
    return {
        "tasks": list(data.tasks),
        "seed": seed,
        "folds": folds,
        "content_hash": data.content_hash,
        "data": {t: {**data.stats[t], "rows_evaluated": int((np.asarray(rows.task) == t).sum())} for t in data.tasks},
        "ceiling": ceiling,
        "coverage": coverage(data),
        "methods": results,
        "skipped": skipped,
        **({"incomplete": incomplete} if incomplete else {}),
        "n_rows": {t: int((np.asarray(rows.task) == t).sum()) for t in data.tasks},
        **_legacy(results),
    }


def _fmt(v: float | None) -> str:
    return "n/a" if v is None else f"{v:.3f}"


def _legacy(results: dict[str, Any]) -> dict[str, Any]:
    """The layout of the earlier harness, kept for its readers (``training/fit_graf.py --metrics``
    and scripts reading ``loo.<method>.mean.tau``): ``{mode: {method: {task: {tau, rho, p_at_10},
    "mean": {...}}}}``; ``within`` for fitted methods only."""
    out: dict[str, Any] = {"loo": {}, "within": {}}
    for name, res in results.items():
        for mode in ("loo", "within"):
            r = res[mode]
            if r is None:
                continue
            tasks = list(r["tau"]["by_task"])
            out[mode][name] = {t: {k: r[k]["by_task"][t] for k in ("tau", "rho", "p_at_10")} for t in tasks}
            out[mode][name]["mean"] = {k: r[k]["mean"] for k in ("tau", "rho", "p_at_10")}
    return out
