"""A plain-words reading of a surrogate score: its percentile among random architectures.

Surrogate scores are rank estimates, comparable only between architectures scored by the same
surrogate for the same input shape and class count. :func:`reference_scores` scores a fixed,
seeded sample of random einspace architectures (the grammar's sampler, default limits) for that
input shape and class count; :meth:`ReferenceScores.percentile` places a score among them, and
:meth:`ReferenceScores.describe` says it in words. The reading is the *surrogate's* opinion:
its error is that of the surrogate (see its evaluation), plus the sampling error of the reference.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .space import Limits, sample_many

__all__ = ["ReferenceScores", "reference_scores"]


@dataclass(frozen=True, eq=False)
class ReferenceScores:
    """Sorted surrogate scores of ``n`` random architectures for one input shape and class count."""

    input_shape: tuple[int, int, int]
    num_classes: int | None
    seed: int
    scores: np.ndarray  #: sorted ascending, NaN (invalid samples) removed

    def __post_init__(self) -> None:
        if len(self.scores) == 0:
            raise ValueError("a reference needs at least one valid score")

    @property
    def n(self) -> int:
        return len(self.scores)

    def percentile(self, score: float) -> float:
        """Share (0-100) of the reference scoring below ``score``, ties counted half; NaN for NaN."""
        if score is None or math.isnan(score):
            return math.nan
        below = np.searchsorted(self.scores, score, side="left")
        not_above = np.searchsorted(self.scores, score, side="right")
        return 100.0 * (below + not_above) / (2 * self.n)

    def describe(self, score: float) -> str:
        """One sentence: where ``score`` stands among random architectures for this task shape."""
        p = self.percentile(score)
        if math.isnan(p):
            return "no score (the architecture is invalid for this input shape)"
        shape = "×".join(str(s) for s in self.input_shape)
        task = f"{shape} inputs" + (f" and {self.num_classes} classes" if self.num_classes else "")
        if p >= 99.5:
            place = "better than all but the top 0.5%"
        else:
            place = f"better than {p:.0f}%"
        band = next(words for limit, words in _BANDS if p >= limit)
        return f"{band}: predicted to train {place} of random einspace architectures for {task}"


_BANDS = (
    (90.0, "Top 10%"),
    (75.0, "Top quarter"),
    (50.0, "Above the median"),
    (25.0, "Below the median"),
    (0.0, "Bottom quarter"),
)


def reference_scores(
    surrogate,
    input_shape: Sequence[int],
    num_classes: int | None = None,
    *,
    n: int = 500,
    seed: int = 0,
    limits: Limits | None = None,
) -> ReferenceScores:
    """Score ``n`` random architectures (``sample_many(n, input_shape, seed=seed)``) with
    ``surrogate.predict`` and keep the valid scores, sorted, as the reference."""
    if n < 1:
        raise ValueError(f"n must be positive, got {n}")
    shape = tuple(int(s) for s in input_shape)
    archs = sample_many(n, shape, seed=seed, limits=limits)
    scores = np.asarray(surrogate.predict(archs, input_shape=shape, num_classes=num_classes, errors="nan"), dtype=np.float64)
    scores = np.sort(scores[~np.isnan(scores)])
    scores.setflags(write=False)
    return ReferenceScores(shape, num_classes, seed, scores)  # type: ignore[arg-type]
