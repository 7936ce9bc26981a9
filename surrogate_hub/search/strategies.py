"""Search strategies, registered by name; each is straight-line code over a :class:`~.engine.SearchContext`.

A strategy asks the context for what it needs (train these candidates, score these with the
surrogate, refit when due) and never trains, logs or resumes by itself. Everything it draws comes
from RNGs seeded by the run's seed, so rerunning it against a partially written log replays the
same candidates and picks up where the log ends (see :mod:`.engine`).

``random``                  ``budget`` PCFG samples, all trained.
``evolution``               regularised evolution, the paper's baseline: after a random initial
                            population, each round mutates ``proposals`` tournament winners and
                            trains ``train_per_round`` of them picked at random.
``surrogate-filter``        the same loop, but the surrogate ranks the offspring and the top
                            ``train_per_round`` are trained; refit every ``refit_every`` trained.
                            ``acquisition`` ranks by the mean score (``mean``) or, with a surrogate
                            that has a spread, by ``ucb`` / ``ei`` (:mod:`.acquisition`).
``surrogate-objective``     after the trained initial population (and a refit on it), evolution runs
                            on the surrogate's scores alone (a separate population seeded with the
                            initial architectures' *scores*: scores and accuracies never mix); each
                            scored offspring that beats the best score so far by more than
                            ``objective_improvement`` is a running best, and the latest running bests
                            are trained within the remaining budget.
"""

from __future__ import annotations

import random
import zlib
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from ..space import sample
from .evolution import RegularizedEvolution

if TYPE_CHECKING:  # pragma: no cover
    from .engine import Candidate, SearchContext

__all__ = ["register_strategy", "get_strategy", "list_strategies", "stable_seed", "SURROGATE_STRATEGIES"]

_STRATEGIES: dict[str, Callable[[SearchContext], None]] = {}
#: strategies that need a surrogate
SURROGATE_STRATEGIES = ("surrogate-filter", "surrogate-objective")


def register_strategy(name: str) -> Callable:
    def register(fn: Callable[[SearchContext], None]) -> Callable[[SearchContext], None]:
        _STRATEGIES[name] = fn
        return fn

    return register


def list_strategies() -> list[str]:
    return sorted(_STRATEGIES)


def get_strategy(name: str) -> Callable[[SearchContext], None]:
    try:
        return _STRATEGIES[name]
    except KeyError:
        raise KeyError(f"unknown strategy {name!r}; choose one of {list_strategies()}") from None


def stable_seed(*parts: object) -> int:
    """A seed from ``parts`` that is the same in every process and Python version."""
    return zlib.crc32("/".join(map(str, parts)).encode())


@register_strategy("random")
def random_search(ctx: SearchContext) -> None:
    # the evolution strategies' RNG stream: the first `population` samples are their initial population
    rng = random.Random(stable_seed(ctx.cfg.seed, "evolution"))
    cands = [ctx.candidate(sample(ctx.input_shape, rng=rng, limits=ctx.limits), "random") for _ in range(ctx.remaining)]
    ctx.train(cands)


def _evolution(ctx: SearchContext, select: Callable[[SearchContext, list[Candidate], int], list[int]]) -> None:
    cfg = ctx.cfg
    ev = RegularizedEvolution(
        ctx.input_shape, population=cfg.population, tournament=cfg.tournament,
        seed=stable_seed(cfg.seed, "evolution"), limits=ctx.limits,
    )
    initial = [ctx.proposal(ev.ask()) for _ in range(min(cfg.population, ctx.remaining))]
    for cand, rec in zip(initial, ctx.train(initial)):
        ev.tell(cand.arch, rec["val_acc"], tag=cand.id)
    ctx.refit_if_due()
    while ctx.remaining > 0:
        ctx.next_round()
        offspring = [ctx.proposal(ev.ask()) for _ in range(cfg.proposals)]
        k = min(cfg.train_per_round, ctx.remaining)
        picked = select(ctx, offspring, k)
        ctx.record([c for i, c in enumerate(offspring) if i not in set(picked)], "filtered")
        chosen = [offspring[i] for i in picked]
        for cand, rec in zip(chosen, ctx.train(chosen)):
            ev.tell(cand.arch, rec["val_acc"], tag=cand.id)
        ctx.refit_if_due()


@register_strategy("evolution")
def evolution(ctx: SearchContext) -> None:
    rng = random.Random(stable_seed(ctx.cfg.seed, "pick"))
    _evolution(ctx, lambda _ctx, offspring, k: sorted(rng.sample(range(len(offspring)), k)))


def _top_k(ctx: SearchContext, offspring: list[Candidate], k: int) -> list[int]:
    scores = ctx.predict(offspring)
    key = np.where(np.isnan(scores), np.inf, -scores)  # best first, NaN last, ties in proposal order
    return [int(i) for i in np.lexsort((np.arange(len(scores)), key))[:k]]


@register_strategy("surrogate-filter")
def surrogate_filter(ctx: SearchContext) -> None:
    if ctx.cfg.acquisition == "mean":
        _evolution(ctx, _top_k)
        return
    from . import acquisition  # ucb / ei: the surrogate's spread decides too

    acquisition.check_spread(ctx)
    _evolution(ctx, acquisition.select)


@register_strategy("surrogate-objective")
def surrogate_objective(ctx: SearchContext) -> None:
    cfg = ctx.cfg
    seeds = RegularizedEvolution(
        ctx.input_shape, population=cfg.population, tournament=cfg.tournament,
        seed=stable_seed(cfg.seed, "evolution"), limits=ctx.limits,
    )  # same initial population as the other evolution strategies
    initial = [ctx.proposal(seeds.ask()) for _ in range(min(cfg.population, ctx.remaining))]
    ctx.train(initial)
    ctx.refit_if_due(force=True)
    ev = RegularizedEvolution(
        ctx.input_shape, population=cfg.population, tournament=cfg.tournament,
        seed=stable_seed(cfg.seed, "objective"), limits=ctx.limits,
    )
    scores = ctx.predict(initial)  # the surrogate's view of the initial population, not accuracies
    for cand, s in zip(initial, scores):
        ev.tell(cand.arch, None if np.isnan(s) else float(s), tag=cand.id)
    best = -np.inf  # running bests are tracked among the untrained, scored offspring
    running: list[Candidate] = []
    n_iter = ctx.objective_iterations
    done = 0
    while done < n_iter:
        ctx.next_round()
        batch = [ctx.proposal(ev.ask()) for _ in range(min(cfg.proposals, n_iter - done))]
        done += len(batch)
        scores = ctx.predict(batch)
        for cand, s in zip(batch, scores):
            value = None if np.isnan(s) else float(s)
            ev.tell(cand.arch, value, tag=cand.id)
            if value is not None and value > best + cfg.objective_improvement:
                best = value
                running.append(cand)
        ctx.record(batch, "scored")
    ctx.next_round()
    keep = running[-ctx.remaining:] if ctx.remaining else []  # the latest are the best predicted
    ctx.train([ctx.candidate(c.arch, "running-best", parent=c.id, predicted=c.predicted) for c in keep])
