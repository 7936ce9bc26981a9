"""Acquisition functions: which surrogate-scored candidates a search trains next.

A surrogate with a spread (``predict(..., return_std=True)``: a forest's trees, a GRAF-XGB
ensemble) gives each candidate a mean score ``mu`` and a spread ``sigma``. ``surrogate-filter``
trains the ``train_per_round`` offspring with the highest acquisition value:

``mean``  ``mu``: what the surrogate already likes (pure exploitation; needs no spread).
``ucb``   upper confidence bound ``mu + kappa * sigma``: also tries candidates the surrogate is
          unsure about.
``ei``    expected improvement over the incumbent ``best``:
          ``(mu - best) * Phi(z) + sigma * phi(z)``, ``z = (mu - best) / sigma`` (``max(mu - best, 0)``
          where ``sigma`` is 0). Scores are normalised ranks, not accuracies, so ``best`` is measured
          on the surrogate's scale: its mean score of the run's best trained architecture.

A NaN ``mu`` (an unscorable candidate) gives a NaN value, ranked last; a NaN ``sigma`` counts as 0.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Final

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from .engine import Candidate, SearchContext

__all__ = ["ACQUISITIONS", "DEFAULT_KAPPA", "acquire", "expected_improvement", "predict_with_spread", "top_k", "upper_confidence_bound"]

ACQUISITIONS: Final = ("mean", "ucb", "ei")
DEFAULT_KAPPA: Final = 1.0


def _arrays(mean: Any, std: Any) -> tuple[np.ndarray, np.ndarray]:
    mu = np.asarray(mean, dtype=np.float64).reshape(-1)
    sd = np.asarray(std, dtype=np.float64).reshape(-1)
    if mu.shape != sd.shape:
        raise ValueError(f"mean and std differ in length ({len(mu)} vs {len(sd)})")
    if (sd < 0).any():
        raise ValueError("std must be >= 0")
    return mu, np.nan_to_num(sd, nan=0.0)


def upper_confidence_bound(mean: Any, std: Any, kappa: float = DEFAULT_KAPPA) -> np.ndarray:
    """``mean + kappa * std`` (``kappa >= 0``)."""
    if not kappa >= 0:
        raise ValueError(f"kappa must be >= 0, got {kappa}")
    mu, sd = _arrays(mean, std)
    return mu + kappa * sd


def expected_improvement(mean: Any, std: Any, best: float) -> np.ndarray:
    """Expected improvement over ``best`` of a normal with ``mean`` and ``std`` (see the module)."""
    if not math.isfinite(best):
        raise ValueError(f"best must be a finite score, got {best}")
    mu, sd = _arrays(mean, std)
    gain = mu - best
    out = np.maximum(gain, 0.0)
    pos = sd > 0
    z = gain[pos] / sd[pos]
    cdf = 0.5 * (1.0 + np.vectorize(math.erf, otypes=[float])(z / math.sqrt(2.0))) if len(z) else z
    pdf = np.exp(-0.5 * z * z) / math.sqrt(2.0 * math.pi)
    out[pos] = gain[pos] * cdf + sd[pos] * pdf
    out[np.isnan(mu)] = np.nan
    return out


def acquire(name: str, mean: Any, std: Any = None, *, kappa: float = DEFAULT_KAPPA, best: float | None = None) -> np.ndarray:
    """The acquisition value ``name`` (one of :data:`ACQUISITIONS`) of every candidate."""
    if name == "mean":
        return np.asarray(mean, dtype=np.float64).reshape(-1).copy()
    if name not in ACQUISITIONS:
        raise ValueError(f"unknown acquisition {name!r}; choose one of {list(ACQUISITIONS)}")
    if std is None:
        raise ValueError(f"acquisition {name!r} needs the surrogate's spread (std)")
    if name == "ucb":
        return upper_confidence_bound(mean, std, kappa)
    if best is None:
        raise ValueError("acquisition 'ei' needs the incumbent's score (best)")
    return expected_improvement(mean, std, best)


def top_k(values: Any, k: int) -> list[int]:
    """Indices of the ``k`` highest ``values``, best first; NaN last, ties in input order."""
    v = np.asarray(values, dtype=np.float64).reshape(-1)
    key = np.where(np.isnan(v), np.inf, -v)
    return [int(i) for i in np.lexsort((np.arange(len(v)), key))[:k]]


def predict_with_spread(ctx: SearchContext, cands: list[Candidate]) -> tuple[np.ndarray, np.ndarray]:
    """Mean scores and spreads of ``cands`` from the run's surrogate (the mean is stored on each
    candidate, as :meth:`~.engine.SearchContext.predict` does). A surrogate without a spread is a
    :class:`~.engine.SearchSetupError` saying which surrogates have one."""
    kwargs: dict[str, Any] = {"zcp": ctx.zcp(cands)} if ctx.zcp_names else {}
    mean, std = _predict_with_spread(ctx, [c.arch for c in cands], kwargs)
    for cand, s in zip(cands, mean):
        cand.predicted = None if np.isnan(s) else float(s)
    return np.asarray(mean, dtype=np.float64), np.asarray(std, dtype=np.float64)


def check_spread(ctx: SearchContext) -> None:
    """Fail before anything is trained when the run's acquisition needs a spread the surrogate
    cannot give (one probe prediction; an unscorable probe is fine)."""
    kwargs: dict[str, Any] = {"zcp": np.zeros((1, len(ctx.zcp_names)))} if ctx.zcp_names else {}
    _predict_with_spread(ctx, ["computation<identity>"], kwargs)


def _predict_with_spread(ctx: SearchContext, archs: list[str], kwargs: dict[str, Any]) -> tuple[Any, Any]:
    """``ctx.surrogate.predict(..., return_std=True)``; a surrogate without a spread is a
    :class:`~.engine.SearchSetupError` naming the acquisition."""
    from .engine import SearchSetupError

    try:
        return ctx.surrogate.predict(archs, input_shape=ctx.input_shape, num_classes=ctx.num_classes,
                                     errors="nan", return_std=True, **kwargs)
    except (TypeError, ValueError) as err:
        if "return_std" not in str(err) and "spread" not in str(err):
            raise
        raise SearchSetupError(
            f"acquisition {ctx.cfg.acquisition!r} needs a surrogate with a spread (a forest surrogate, or a "
            f"GRAF-XGB ensemble fitted with ensemble >= 2); {ctx.cfg.surrogate!r} has none ({err})"
        ) from None


def incumbent_score(ctx: SearchContext) -> float | None:
    """The surrogate's mean score of the run's best trained architecture (``None`` before any
    training succeeded or when the surrogate cannot score it)."""
    if ctx.best is None:
        return None
    cand = ctx._as_candidate(ctx.best)
    kwargs: dict[str, Any] = {"zcp": ctx.zcp([cand])} if ctx.zcp_names else {}
    score = ctx.surrogate.predict([cand.arch], input_shape=ctx.input_shape, num_classes=ctx.num_classes,
                                  errors="nan", **kwargs)[0]
    return None if np.isnan(score) else float(score)


def select(ctx: SearchContext, offspring: list[Candidate], k: int) -> list[int]:
    """The ``k`` offspring with the highest value of the run's acquisition (``ucb`` or ``ei``)."""
    mean, std = predict_with_spread(ctx, offspring)
    best = None
    if ctx.cfg.acquisition == "ei":
        best = incumbent_score(ctx)
        if best is None:  # nothing trained scored yet: improvement over the best offspring's mean
            best = float(np.nanmax(mean)) if np.isfinite(mean).any() else 0.0
    return top_k(acquire(ctx.cfg.acquisition, mean, std, kappa=ctx.cfg.kappa, best=best), k)
