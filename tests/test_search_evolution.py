"""Regularised evolution: population filling, tournaments, mutation children, fallbacks, replay."""

from __future__ import annotations

import math

import pytest

from surrogate_hub.search import Proposal, RegularizedEvolution
from surrogate_hub.space import Limits, infer, n_params, parse, to_string

SHAPE = (1, 8, 8)


def _run(seed: int, steps: int, population: int = 4) -> list[tuple[str, str | None, str]]:
    ev = RegularizedEvolution(SHAPE, population=population, tournament=2, seed=seed)
    out = []
    for i in range(steps):
        prop = ev.ask()
        out.append((to_string(prop.arch), prop.parent, prop.origin))
        ev.tell(prop.arch, float(n_params(prop.arch, SHAPE, 10) % 97), tag=f"t{i}")
    return out


def test_population_fills_with_samples_then_mutates_tournament_winners() -> None:
    ev = RegularizedEvolution(SHAPE, population=3, tournament=50, seed=1)
    for i in range(3):
        prop = ev.ask()
        assert isinstance(prop, Proposal) and prop.origin == "sample" and prop.parent is None
        infer(prop.arch, SHAPE)  # valid at the input shape
        ev.tell(prop.arch, [0.2, 0.9, 0.5][i], tag=f"m{i}")
    prop = ev.ask()
    # 50 draws with replacement from 3 members: the best (m1) is in the tournament
    assert prop.origin == "mutation" and prop.parent == "m1" and prop.reason is None
    infer(prop.arch, SHAPE)
    assert ev.best.tag == "m1" and ev.n_told == 3


def test_tell_bounds_the_population_and_counts_failures_as_zero() -> None:
    ev = RegularizedEvolution(SHAPE, population=2, tournament=1, seed=0)
    arch = parse("computation<linear(16)>")
    for i, fitness in enumerate([0.5, None, math.nan]):
        ev.tell(arch, fitness, tag=f"m{i}")
    assert [m.tag for m in ev.population] == ["m1", "m2"]  # the oldest left
    assert [m.fitness for m in ev.population] == [0.0, 0.0]
    assert ev.best.tag == "m0" and ev.n_told == 3


def test_a_run_replays_exactly_from_its_seed_and_results() -> None:
    first = _run(seed=7, steps=10)
    assert first == _run(seed=7, steps=10)
    assert first != _run(seed=8, steps=10)
    assert [origin for _, _, origin in first[:4]] == ["sample"] * 4
    assert {origin for _, _, origin in first[4:]} <= {"mutation", "fallback"}


def test_no_valid_mutant_gives_a_fresh_sample_marked_as_a_fallback(caplog) -> None:
    limits = Limits(max_params=2_000)
    big = parse("sequential(computation<linear(512)>, computation<linear(512)>)")  # far outside the limits
    assert n_params(big, SHAPE, 10) > 100 * limits.max_params
    # one try, on a seed whose try is not the root (replacing the root could fit the limits)
    ev = RegularizedEvolution(SHAPE, population=1, tournament=1, seed=0, limits=limits, mutation_tries=1)
    ev.tell(big, 0.9, tag="huge")
    with caplog.at_level("INFO", logger="surrogate_hub.search.evolution"):
        prop = ev.ask()
    assert prop.origin == "fallback" and prop.parent is None  # not recorded as a child of "huge"
    assert "huge" in prop.reason and "no valid mutation" in prop.reason
    assert ev.n_fallbacks == 1 and "fresh sample" in caplog.text
    infer(prop.arch, SHAPE)


def test_sampling_errors_are_not_swallowed(monkeypatch) -> None:
    from surrogate_hub.search import evolution

    def fail(*args, **kwargs):
        raise RuntimeError("no valid derivation found")

    monkeypatch.setattr(evolution, "sample", fail)
    ev = RegularizedEvolution(SHAPE, population=1, tournament=1, seed=0)
    with pytest.raises(RuntimeError, match="no valid derivation"):
        ev.ask()


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="positive"):
        RegularizedEvolution(SHAPE, population=0)
