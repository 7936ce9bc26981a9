"""Surrogate-objective design: the trace is the running best of real surrogate scores."""

from __future__ import annotations

import math

import numpy as np
import pytest

from surrogate_hub.design import design, plot_trace
from surrogate_hub.space import infer, parse
from surrogate_hub.space.seeds import seed_string
from surrogate_hub.surrogates import load_surrogate

SHAPE = (3, 16, 16)


@pytest.fixture(scope="module")
def surrogate():
    return load_surrogate("einspace-graf-xgb")


def test_trace_is_running_best_of_rescored_candidates(surrogate):
    r = design(surrogate, SHAPE, 10, steps=60, population=20, tournament=5, seed=3)
    assert r.steps == 60 and len(r.scores) == len(r.trace) == 60 and not r.stopped_early
    assert np.all(np.diff(r.trace[~np.isnan(r.trace)]) >= 0)
    assert r.trace[-1] == pytest.approx(np.nanmax(r.scores)) == pytest.approx(r.best_score)
    # the reported best really scores that, and is valid for the shape
    infer(parse(r.best), SHAPE)
    again = surrogate.predict([r.best], input_shape=SHAPE, num_classes=10)[0]
    assert again == pytest.approx(r.best_score)
    # improvements: increasing, the last one is the best, steps within the run
    assert [i.score for i in r.improvements] == sorted(i.score for i in r.improvements)
    assert r.improvements[-1].score <= r.best_score and 1 <= r.improvements[0].step <= 60
    assert np.all(np.diff([i.score for i in r.improvements]) > 0.005)
    assert r.to_dict()["best"] == r.best


def test_evolution_beats_its_own_random_phase(surrogate):
    r = design(surrogate, SHAPE, 10, steps=300, population=50, seed=0)
    random_phase = np.nanmax(r.scores[:50])
    assert r.best_score > random_phase  # mutation of tournament winners found better than 50 samples
    assert np.nanmean(r.scores[-100:]) > np.nanmean(r.scores[:50])


def test_deterministic_and_seeded(surrogate):
    a = design(surrogate, SHAPE, 10, steps=80, population=20, seed=1)
    b = design(surrogate, SHAPE, 10, steps=80, population=20, seed=1)
    c = design(surrogate, SHAPE, 10, steps=80, population=20, seed=2)
    assert a.best == b.best and np.array_equal(a.scores, b.scores, equal_nan=True)
    assert not np.array_equal(a.scores, c.scores, equal_nan=True)


def test_initial_architectures_are_scored_first(surrogate):
    seeds = [seed_string("resnet18_no_maxpool"), seed_string("wideresnet16_4")]
    r = design(surrogate, (3, 32, 32), 10, steps=10, population=5, initial=seeds)
    expected = surrogate.predict(seeds, input_shape=(3, 32, 32), num_classes=10)
    assert r.scores[:2] == pytest.approx(expected)


def test_time_budget_stops_early(surrogate):
    r = design(surrogate, SHAPE, 10, steps=100_000, time_budget=0.3)
    assert r.stopped_early and 1 <= r.steps < 100_000 and r.seconds < 5


def test_bad_arguments(surrogate):
    with pytest.raises(ValueError, match="steps"):
        design(surrogate, SHAPE, steps=0)
    with pytest.raises(ValueError, match="initial"):
        design(surrogate, SHAPE, steps=1, initial=["computation<relu>", "computation<relu>"])


def test_plot_trace(surrogate):
    r = design(surrogate, SHAPE, 10, steps=40, population=10)
    fig = plot_trace(r)
    ax = fig.axes[0]
    line = ax.get_lines()[0]
    assert np.allclose(line.get_ydata(), r.trace, equal_nan=True)
    assert not math.isnan(r.best_score)
