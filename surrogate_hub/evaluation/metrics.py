"""Ranking metrics between predicted scores and measured accuracies, and the noise ceiling.

All functions take 1-D arrays and return plain floats (``None`` where a value is undefined, never a
made-up number):

* :func:`kendall_tau` - Kendall's tau-b (ties in either array handled), ``None`` when either array
  is constant or has fewer than two values.
* :func:`spearman_rho` - Spearman's rank correlation, ``None`` in the same cases.
* :func:`precision_at` - P@k%: of the ``k = max(1, round(frac * n))`` truly best rows, the share
  that the scores also put in their top ``k`` (ties broken by row order).
* :func:`ranking_metrics` - the three above on the rows a method scored (NaN scores are *not*
  ranked: they are counted as uncovered and reported, never turned into silent ties).
* :func:`noise_ceiling` - Kendall tau between two training seeds of the same architectures.

scipy is imported inside the functions (``import surrogate_hub`` stays light).
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["MIN_CEILING_PAIRS", "kendall_tau", "noise_ceiling", "precision_at", "ranking_metrics", "spearman_rho"]

#: Fewest two-seed architectures of a task for which a noise ceiling is reported.
MIN_CEILING_PAIRS = 10


def _pair(a: Any, b: Any) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(a, dtype=np.float64).reshape(-1)
    y = np.asarray(b, dtype=np.float64).reshape(-1)
    if len(x) != len(y):
        raise ValueError(f"got {len(x)} scores but {len(y)} accuracies")
    if np.isnan(x).any() or np.isnan(y).any():
        raise ValueError("NaN values: drop unscored rows first (ranking_metrics does)")
    return x, y


def _defined(x: np.ndarray, y: np.ndarray) -> bool:
    return len(x) >= 2 and np.ptp(x) > 0 and np.ptp(y) > 0


def kendall_tau(scores: Any, acc: Any) -> float | None:
    """Kendall's tau-b between ``scores`` and ``acc``; ``None`` if undefined (constant input)."""
    from scipy.stats import kendalltau

    x, y = _pair(scores, acc)
    return float(kendalltau(x, y).statistic) if _defined(x, y) else None


def spearman_rho(scores: Any, acc: Any) -> float | None:
    """Spearman's rho between ``scores`` and ``acc``; ``None`` if undefined (constant input)."""
    from scipy.stats import spearmanr

    x, y = _pair(scores, acc)
    return float(spearmanr(x, y).statistic) if _defined(x, y) else None


def precision_at(scores: Any, acc: Any, frac: float = 0.1) -> float | None:
    """Share of the true top ``max(1, round(frac * n))`` rows that are also in the predicted top;
    ``None`` for no rows. Ties are broken by row order (stable sort) in both rankings."""
    if not 0 < frac <= 1:
        raise ValueError(f"frac must be in (0, 1], got {frac}")
    x, y = _pair(scores, acc)
    if len(x) == 0:
        return None
    k = max(1, round(frac * len(x)))
    best_true = set(np.argsort(-y, kind="stable")[:k].tolist())
    best_pred = set(np.argsort(-x, kind="stable")[:k].tolist())
    return len(best_true & best_pred) / k


def ranking_metrics(scores: Any, acc: Any, frac: float = 0.1) -> dict[str, Any]:
    """``{"tau", "rho", "p_at_10", "n", "n_scored"}`` on the rows with a (non-NaN) score.

    ``n`` counts all rows, ``n_scored`` those the method could score; the metrics use only the
    latter, so a proxy that fails on part of a task is judged where it works *and* its coverage
    (``n_scored / n``) is reported beside it.
    """
    s = np.asarray(scores, dtype=np.float64).reshape(-1)
    a = np.asarray(acc, dtype=np.float64).reshape(-1)
    if len(s) != len(a):
        raise ValueError(f"got {len(s)} scores but {len(a)} accuracies")
    ok = ~np.isnan(s)
    x, y = s[ok], a[ok]
    return {
        "tau": kendall_tau(x, y),
        "rho": spearman_rho(x, y),
        "p_at_10": precision_at(x, y, frac),
        "n": len(s),
        "n_scored": int(ok.sum()),
    }


def noise_ceiling(acc_a: Any, acc_b: Any, min_pairs: int = MIN_CEILING_PAIRS) -> float | None:
    """Kendall tau between the accuracies of the same architectures trained with two seeds.

    It bounds how well any predictor can rank one seed's measurements. ``None`` (not estimated)
    with fewer than ``min_pairs`` architectures or constant accuracies.
    """
    x, y = _pair(acc_a, acc_b)
    if len(x) < max(2, min_pairs):
        return None
    return kendall_tau(x, y)
