"""Calibration of a surrogate's spread: is the forest unsure where it is wrong?

For each leave-one-task-out fold (:func:`~.protocol.loo_folds`) a method with a spread (e.g.
:func:`~.methods.forest` with ``return_std=True``) is fitted on the other tasks and gives each
held-out row a score ``mu`` and a spread ``sigma``. The row's *true normalised target* is its
accuracy normalised within the held-out task the way the surrogate's training targets are
(``percentile`` by default), so scores and truth are on one scale. Per task:

``within_1`` / ``within_2``   share of rows with ``|truth - mu| <= 1 sigma`` / ``2 sigma`` (a
                              well-calibrated normal spread gives about 0.68 / 0.95)
``tau_abs_error_spread``      Kendall tau between ``|truth - mu|`` and ``sigma`` (> 0: the spread is
                              larger where the error is)
``mean_spread``, ``rmse``     the typical spread next to the typical error
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..surrogates.targets import normalise_targets
from .data import EvalData, Rows
from .metrics import kendall_tau
from .protocol import loo_folds

__all__ = ["calibrate", "spread_metrics"]

SpreadFn = Callable[[Rows, Rows, int], tuple[np.ndarray, np.ndarray]]


def spread_metrics(scores: Any, spread: Any, truth: Any) -> dict[str, Any]:
    """The calibration figures (module docstring) of rows with a finite score, spread and truth."""
    mu, sd, y = (np.asarray(v, dtype=np.float64).reshape(-1) for v in (scores, spread, truth))
    if not (len(mu) == len(sd) == len(y)):
        raise ValueError(f"scores, spread and truth differ in length ({len(mu)}, {len(sd)}, {len(y)})")
    ok = np.isfinite(mu) & np.isfinite(sd) & np.isfinite(y)
    err = np.abs(y[ok] - mu[ok])
    n = int(ok.sum())
    if n == 0:
        return {"n": 0, "within_1": None, "within_2": None, "tau_abs_error_spread": None, "mean_spread": None, "rmse": None}
    return {
        "n": n,
        "within_1": float(np.mean(err <= sd[ok])),
        "within_2": float(np.mean(err <= 2 * sd[ok])),
        "tau_abs_error_spread": kendall_tau(sd[ok], err) if n >= 3 else None,
        "mean_spread": float(np.mean(sd[ok])),
        "rmse": float(np.sqrt(np.mean(err**2))),
    }


def calibrate(data: EvalData, fn: SpreadFn, *, seed: int = 0, normalisation: str = "percentile") -> dict[str, Any]:
    """Leave-one-task-out calibration of ``fn(train, test, seed) -> (scores, spread)`` on ``data``:
    ``{"by_task": {task: figures}, "mean": {figure: mean over tasks}, "pooled": figures of all rows,
    "rows": {"task", "score", "spread", "truth"} (for plots)}``."""
    acc = data.rows.val_acc
    by_task: dict[str, dict[str, Any]] = {}
    pooled: dict[str, list] = {"task": [], "score": [], "spread": [], "truth": []}
    for task, tr, te in loo_folds(data):
        scores, spread = fn(data.rows.take(tr), data.rows.take(te).unlabelled(), seed)
        truth = normalise_targets(acc[te], None, normalisation)
        by_task[task] = spread_metrics(scores, spread, truth)
        pooled["task"] += [task] * len(te)
        for key, values in (("score", scores), ("spread", spread), ("truth", truth)):
            pooled[key] += [None if not np.isfinite(v) else float(v) for v in np.asarray(values, dtype=np.float64)]
    keys = ("within_1", "within_2", "tau_abs_error_spread", "mean_spread", "rmse")
    mean = {k: (float(np.mean(vals)) if (vals := [m[k] for m in by_task.values() if m[k] is not None]) else None) for k in keys}
    all_rows = spread_metrics(*(np.array([np.nan if v is None else v for v in pooled[k]]) for k in ("score", "spread", "truth")))
    return {"by_task": by_task, "mean": mean, "pooled": all_rows, "normalisation": normalisation, "rows": pooled}
