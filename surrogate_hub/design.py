"""Quick architecture design with a surrogate as the objective (no training).

:func:`design` runs regularised evolution (:class:`~surrogate_hub.search.RegularizedEvolution`,
ask/tell) for ``steps`` candidates whose fitness is the surrogate's predicted score for the given
input shape and class count, and returns the best-so-far trace and the best architecture. It is
the cheap half of the paper's surrogate-as-objective protocol: the running-best architectures
(:attr:`DesignResult.improvements`, each better than the previous by more than
``min_improvement``) are the candidates that protocol then trains, which this function does not.
A few hundred steps take about a second with the GRAF surrogate on one CPU core.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .search import RegularizedEvolution
from .space import Architecture, Limits, as_architecture, to_string

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

__all__ = ["DesignResult", "Improvement", "design", "plot_trace"]


@dataclass(frozen=True, slots=True)
class Improvement:
    step: int  #: 1-based step at which the running best changed
    arch: str  #: compact string
    score: float


@dataclass(frozen=True, eq=False)
class DesignResult:
    best: str  #: compact string of the best architecture found
    best_score: float
    scores: np.ndarray  #: the score of every step's candidate (NaN: invalid at the input shape)
    trace: np.ndarray  #: best score so far after each step
    improvements: tuple[Improvement, ...]
    steps: int  #: steps run (fewer than asked when the time budget ran out)
    seconds: float
    stopped_early: bool  #: the time budget ended the run

    def to_dict(self) -> dict:
        """JSON-ready summary (scores and trace as lists, NaN as ``None``)."""
        nan_free = lambda xs: [None if math.isnan(x) else float(x) for x in xs]
        return {
            "best": self.best,
            "best_score": self.best_score,
            "steps": self.steps,
            "seconds": self.seconds,
            "stopped_early": self.stopped_early,
            "scores": nan_free(self.scores),
            "trace": nan_free(self.trace),
            "improvements": [{"step": i.step, "arch": i.arch, "score": i.score} for i in self.improvements],
        }


def design(
    surrogate,
    input_shape: Sequence[int],
    num_classes: int | None = None,
    *,
    steps: int = 300,
    population: int = 50,
    tournament: int = 10,
    seed: int = 0,
    initial: Sequence[Architecture | str] = (),
    limits: Limits | None = None,
    time_budget: float | None = None,
    min_improvement: float = 0.005,
) -> DesignResult:
    """Evolve architectures for ``input_shape``/``num_classes`` with ``surrogate.predict`` as fitness.

    ``steps`` candidates are scored (``initial`` architectures first, e.g. seed architectures, then
    random samples until the population of ``population`` is full, then mutants of tournament
    winners); invalid candidates score NaN and count as fitness 0. ``time_budget`` (seconds) stops
    the run early; the result says so. Deterministic for ``seed`` when no time budget interrupts.
    """
    if steps < 1:
        raise ValueError(f"steps must be positive, got {steps}")
    if len(initial) > steps:
        raise ValueError(f"{len(initial)} initial architectures but only {steps} steps")
    shape = tuple(int(s) for s in input_shape)
    evo = RegularizedEvolution(shape, population=population, tournament=tournament, seed=seed, limits=limits)
    starts = [as_architecture(a) for a in initial]
    scores = np.full(steps, np.nan)
    trace = np.full(steps, np.nan)
    improvements: list[Improvement] = []
    best_arch, best_score = None, -math.inf
    start = time.perf_counter()
    done = 0
    stopped = False
    for step in range(steps):
        if time_budget is not None and step and time.perf_counter() - start > time_budget:
            stopped = True
            break
        arch = starts[step] if step < len(starts) else evo.ask().arch
        score = float(surrogate.predict([arch], input_shape=shape, num_classes=num_classes, errors="nan")[0])
        evo.tell(arch, score, tag=str(step))
        scores[step] = score
        if not math.isnan(score) and score > best_score:
            if best_arch is None or score - (improvements[-1].score if improvements else -math.inf) > min_improvement:
                improvements.append(Improvement(step + 1, to_string(arch), score))
            best_arch, best_score = arch, score
        trace[step] = best_score if best_arch is not None else np.nan
        done = step + 1
    if best_arch is None:
        raise RuntimeError(f"no valid architecture for input shape {shape} in {done} steps")
    scores, trace = scores[:done], trace[:done]
    for array in (scores, trace):
        array.setflags(write=False)
    return DesignResult(
        best=to_string(best_arch),
        best_score=best_score,
        scores=scores,
        trace=trace,
        improvements=tuple(improvements),
        steps=done,
        seconds=time.perf_counter() - start,
        stopped_early=stopped,
    )


def plot_trace(result: DesignResult, *, title: str | None = None, dpi: int = 100) -> Figure:
    """Every candidate's score (dots) and the best-so-far curve (line) against the step."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7, 3.6), dpi=dpi, layout="constrained")
    ax = fig.add_subplot()
    x = np.arange(1, result.steps + 1)
    ax.scatter(x, result.scores, s=6, color="#8ecae6", label="candidate score")
    ax.plot(x, result.trace, color="#fb8500", lw=2, label="best so far")
    imp = result.improvements
    ax.scatter([i.step for i in imp], [i.score for i in imp], s=22, color="#d62828", zorder=3,
               label="running-best architectures")
    ax.set_xlabel("step (architectures scored)")
    ax.set_ylabel("surrogate score (higher = better)")
    ax.set_title(title or f"surrogate-objective evolution: {result.steps} steps in {result.seconds:.1f} s", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    return fig
