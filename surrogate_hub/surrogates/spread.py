"""Calibrating a surrogate's spread (``predict(..., return_std=True)``) on held-out tasks.

The raw spread of a forest's trees or of an ensemble's boosters measures how much the members
disagree, not how far the mean is from the truth on a task none of them saw: on corpus v1 only
about 53 % of held-out targets fell within ±1 raw spread of the forest's score (68 % for a
calibrated normal spread). :func:`spread_scale` refits the model with whole tasks held out and
returns the factor that puts 68.27 % of the held-out targets within ±1 scaled spread; the
surrogate multiplies its spread by it. Scaling keeps the ranking of the spread (and of ucb/ei
acquisitions) meaningful while making its size interpretable.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

__all__ = ["COVERAGE", "spread_folds", "spread_scale"]

#: share of a normal distribution within one standard deviation of its mean
COVERAGE = 0.6827


def spread_folds(groups: Sequence[str], *, max_folds: int = 5, seed: int = 0) -> list[np.ndarray]:
    """Held-out index sets: whole groups (tasks), dealt round-robin into at most ``max_folds`` folds
    in sorted order; with a single group, ``max_folds`` random folds of rows instead."""
    groups = np.asarray(list(groups), dtype=object)
    names = sorted(set(groups.tolist()))
    if len(names) >= 2:
        k = min(max_folds, len(names))
        fold_of = {name: i % k for i, name in enumerate(names)}
        label = np.array([fold_of[g] for g in groups])
    else:
        k = max_folds
        label = np.random.default_rng(seed).permutation(len(groups)) % k
    return [np.flatnonzero(label == i) for i in range(k) if (label == i).any()]


def spread_scale(
    fit_predict: Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]],
    y: np.ndarray,
    groups: Sequence[str],
    *,
    max_folds: int = 5,
    min_rows: int = 20,
) -> float:
    """The factor for the spread: ``fit_predict(train_idx, test_idx) -> (mean, spread)`` on each
    fold of :func:`spread_folds`, then the 68.27 % quantile of ``|y - mean| / spread`` over all
    held-out rows with a positive spread. 1.0 (no scaling) with fewer than ``min_rows`` such rows."""
    y = np.asarray(y, dtype=np.float64)
    ratios: list[np.ndarray] = []
    everything = np.arange(len(y))
    for test in spread_folds(groups, max_folds=max_folds):
        train = np.setdiff1d(everything, test)
        if len(train) == 0:
            continue
        mean, spread = fit_predict(train, test)
        ok = np.isfinite(mean) & np.isfinite(spread) & (spread > 0)
        ratios.append(np.abs(y[test][ok] - mean[ok]) / spread[ok])
    z = np.concatenate(ratios) if ratios else np.empty(0)
    if len(z) < min_rows:
        return 1.0
    return float(np.quantile(z, COVERAGE))
