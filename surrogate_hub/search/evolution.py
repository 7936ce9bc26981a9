"""Regularised evolution (Real et al., 2019) as an ask/tell optimiser over einspace architectures.

The paper's protocol: a population of the most recent ``population`` evaluated architectures
(the oldest is removed when a new one arrives), parents picked by tournaments of ``tournament``
members drawn with replacement, offspring made by mutation only. The first ``population`` asks
are random samples unless the population is seeded with already evaluated architectures.

The optimiser is a pure state machine: no training, no I/O. Everything it draws comes from one
``random.Random(seed)`` stream, so a run is replayed exactly by telling it the same results in
the same order (which is how long jobs resume).
"""

from __future__ import annotations

import logging
import math
import random
from collections import deque
from dataclasses import dataclass
from typing import Literal

from ..space import Architecture, Limits, sample
from ..space.mutate import MutationError, mutate

log = logging.getLogger(__name__)

__all__ = ["RegularizedEvolution", "Member", "Proposal"]


@dataclass(frozen=True, slots=True)
class Member:
    arch: Architecture
    fitness: float  #: NaN and failed candidates count as 0
    tag: str | None = None  #: caller's id of the evaluation (e.g. a corpus job id)


@dataclass(frozen=True, slots=True)
class Proposal:
    """A candidate to evaluate. ``origin`` is ``"sample"`` (filling the population), ``"mutation"``
    (a child of ``parent``) or ``"fallback"`` (a fresh sample because no valid mutant of the
    tournament winner was found; ``parent`` is then ``None`` and ``reason`` says why)."""

    arch: Architecture
    parent: str | None  #: tag of the mutated parent; None for a random sample (initial or fallback)
    origin: Literal["sample", "mutation", "fallback"] = "sample"
    reason: str | None = None


class RegularizedEvolution:
    def __init__(
        self,
        input_shape,
        *,
        population: int = 100,
        tournament: int = 10,
        seed: int = 0,
        limits: Limits | None = None,
        mutation_tries: int = 20,
    ) -> None:
        if population < 1 or tournament < 1:
            raise ValueError(f"population and tournament must be positive, got {population}, {tournament}")
        self.input_shape = tuple(input_shape)
        self.population_size = population
        self.tournament = tournament
        self.limits = limits
        self.mutation_tries = mutation_tries  #: mutations tried before a fresh sample replaces the child
        self.rng = random.Random(seed)
        self.population: deque[Member] = deque(maxlen=population)
        self.n_told = 0
        self.n_fallbacks = 0  #: asks answered with a fresh sample because mutation found no valid child
        self.best: Member | None = None

    def ask(self) -> Proposal:
        """The next candidate: a random sample while the population fills, then a mutated winner."""
        if len(self.population) < self.population_size:
            return Proposal(sample(self.input_shape, rng=self.rng, limits=self.limits), None, "sample")
        members = list(self.population)
        contenders = [members[int(self.rng.random() * len(members))] for _ in range(self.tournament)]
        parent = max(contenders, key=lambda m: m.fitness)  # first of equals: ties go to the earliest draw
        try:
            child = mutate(parent.arch, self.input_shape, rng=self.rng, limits=self.limits,
                           max_tries=self.mutation_tries, fallback=False)
        except MutationError as err:  # no valid child (e.g. a parent outside the limits): start afresh
            self.n_fallbacks += 1
            log.info("no valid mutant of %s (%s); proposing a fresh sample", parent.tag or "the tournament winner", err)
            arch = sample(self.input_shape, rng=self.rng, limits=self.limits)
            return Proposal(arch, None, "fallback", f"no valid mutant of {parent.tag or 'the winner'}: {err}")
        return Proposal(child, parent.tag, "mutation")

    def tell(self, arch: Architecture, fitness: float | None, tag: str | None = None) -> None:
        """Record an evaluated candidate (``None``/NaN fitness, e.g. a failed training, counts as 0)."""
        value = 0.0 if fitness is None or math.isnan(fitness) else float(fitness)
        member = Member(arch, value, tag)
        self.population.append(member)  # deque(maxlen) drops the oldest
        self.n_told += 1
        if self.best is None or value > self.best.fitness:
            self.best = member
