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

import math
import random
from collections import deque
from dataclasses import dataclass

from ..space import Architecture, Limits, sample
from ..space.mutate import mutate

__all__ = ["RegularizedEvolution", "Member", "Proposal"]


@dataclass(frozen=True, slots=True)
class Member:
    arch: Architecture
    fitness: float  #: NaN and failed candidates count as 0
    tag: str | None = None  #: caller's id of the evaluation (e.g. a corpus job id)


@dataclass(frozen=True, slots=True)
class Proposal:
    arch: Architecture
    parent: str | None  #: tag of the mutated parent; None for a random sample


class RegularizedEvolution:
    def __init__(
        self,
        input_shape,
        *,
        population: int = 100,
        tournament: int = 10,
        seed: int = 0,
        limits: Limits | None = None,
    ) -> None:
        if population < 1 or tournament < 1:
            raise ValueError(f"population and tournament must be positive, got {population}, {tournament}")
        self.input_shape = tuple(input_shape)
        self.population_size = population
        self.tournament = tournament
        self.limits = limits
        self.rng = random.Random(seed)
        self.population: deque[Member] = deque(maxlen=population)
        self.n_told = 0
        self.best: Member | None = None

    def ask(self) -> Proposal:
        """The next candidate: a random sample while the population fills, then a mutated winner."""
        if len(self.population) < self.population_size:
            return Proposal(sample(self.input_shape, rng=self.rng, limits=self.limits), None)
        members = list(self.population)
        contenders = [members[int(self.rng.random() * len(members))] for _ in range(self.tournament)]
        parent = max(contenders, key=lambda m: m.fitness)  # first of equals: ties go to the earliest draw
        try:
            child = mutate(parent.arch, self.input_shape, rng=self.rng, limits=self.limits)
        except RuntimeError:  # a parent outside the limits: start afresh rather than stop the run
            return Proposal(sample(self.input_shape, rng=self.rng, limits=self.limits), None)
        return Proposal(child, parent.tag)

    def tell(self, arch: Architecture, fitness: float | None, tag: str | None = None) -> None:
        """Record an evaluated candidate (``None``/NaN fitness, e.g. a failed training, counts as 0)."""
        value = 0.0 if fitness is None or math.isnan(fitness) else float(fitness)
        member = Member(arch, value, tag)
        self.population.append(member)  # deque(maxlen) drops the oldest
        self.n_told += 1
        if self.best is None or value > self.best.fitness:
            self.best = member
