"""Acquisition functions and the ``--acquisition`` option of surrogate-filter."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from surrogate_hub.search import SearchConfig, SearchConfigError
from surrogate_hub.search.acquisition import (
    acquire,
    expected_improvement,
    top_k,
    upper_confidence_bound,
)


def test_ucb_is_mean_plus_kappa_spread_and_monotone_in_kappa():
    mu = np.array([0.2, 0.5, 0.4])
    sd = np.array([0.3, 0.0, 0.1])
    np.testing.assert_allclose(upper_confidence_bound(mu, sd, 0.0), mu)
    np.testing.assert_allclose(upper_confidence_bound(mu, sd, 2.0), [0.8, 0.5, 0.6])
    assert top_k(acquire("mean", mu, sd), 1) == [1]
    assert top_k(acquire("ucb", mu, sd, kappa=2.0), 1) == [0]  # the unsure candidate wins with exploration
    with pytest.raises(ValueError, match="kappa must be >= 0"):
        upper_confidence_bound(mu, sd, -1.0)


def test_expected_improvement_against_monte_carlo():
    rng = np.random.default_rng(0)
    mu = np.array([0.1, 0.5, 0.5, 0.9])
    sd = np.array([0.2, 0.05, 0.3, 0.1])
    best = 0.6
    draws = mu + sd * rng.standard_normal((200_000, 4))
    mc = np.maximum(draws - best, 0).mean(axis=0)
    np.testing.assert_allclose(expected_improvement(mu, sd, best), mc, atol=2e-3)


def test_expected_improvement_limits_and_monotonicity():
    ei0 = expected_improvement([0.3, 0.7], [0.0, 0.0], best=0.5)
    np.testing.assert_allclose(ei0, [0.0, 0.2])  # no spread: plain improvement
    sigmas = expected_improvement([0.4] * 4, [0.01, 0.1, 0.2, 0.4], best=0.5)
    assert np.all(np.diff(sigmas) > 0)  # more spread, more chance to improve
    means = expected_improvement([0.1, 0.3, 0.5, 0.7], [0.1] * 4, best=0.5)
    assert np.all(np.diff(means) > 0)
    with pytest.raises(ValueError, match="best must be a finite"):
        expected_improvement([0.1], [0.1], best=math.nan)


def test_nan_scores_rank_last_and_nan_spread_counts_as_zero():
    values = acquire("ucb", [0.5, math.nan, 0.6, 0.6], [math.nan, 0.2, 0.0, 0.0], kappa=1.0)
    assert np.isnan(values[1]) and values[0] == 0.5
    assert top_k(values, 4) == [2, 3, 0, 1]  # ties in input order, NaN last
    assert np.isnan(acquire("ei", [math.nan], [0.1], best=0.0)[0])


def test_acquire_errors():
    with pytest.raises(ValueError, match="unknown acquisition 'thompson'"):
        acquire("thompson", [0.1], [0.1])
    with pytest.raises(ValueError, match="needs the surrogate's spread"):
        acquire("ucb", [0.1])
    with pytest.raises(ValueError, match="needs the incumbent"):
        acquire("ei", [0.1], [0.1])
    with pytest.raises(ValueError, match="differ in length"):
        acquire("ucb", [0.1, 0.2], [0.1])


def test_search_config_acquisition_checks_and_layout():
    base = dict(profile="cpu", task="digits", strategy="surrogate-filter")
    assert "acquisition" not in SearchConfig.make(**base).to_dict()  # default: layout of earlier runs
    cfg = SearchConfig.make(**base, acquisition="ucb", kappa=2.0)
    assert cfg.to_dict()["acquisition"] == "ucb" and cfg.to_dict()["kappa"] == 2.0
    with pytest.raises(SearchConfigError, match="unknown acquisition 'best'"):
        SearchConfig.make(**base, acquisition="best")
    with pytest.raises(SearchConfigError, match="surrogate-filter only"):
        SearchConfig.make(**{**base, "strategy": "evolution"}, acquisition="ei")
    with pytest.raises(SearchConfigError, match="kappa: must be a number >= 0"):
        SearchConfig.make(**base, acquisition="ucb", kappa=-0.5)


TINY = {"epochs": 1, "batch_size": 128, "max_forward_seconds": None}
LIMITS = {"max_params": 20_000, "max_activation": 5_000, "max_total_activation": 20_000}


def _tiny(surrogate: str, acquisition: str) -> SearchConfig:
    return SearchConfig.make(
        profile="cpu", task="digits", strategy="surrogate-filter", budget=7, population=3, tournament=2,
        proposals=4, train_per_round=2, refit_every=3, train=TINY, final_train=TINY, limits=LIMITS,
        surrogate=surrogate, acquisition=acquisition, kappa=3.0,
    )


@pytest.fixture(scope="module")
def forest_folder(tmp_path_factory):
    from surrogate_hub.space import n_params, parse, sample_many, to_string
    from surrogate_hub.surrogates import ForestSurrogate
    from surrogate_hub.tasks import get_task

    shape = tuple(get_task("digits").input_shape)
    archs = [to_string(a) for a in sample_many(40, shape, seed=3)]
    y = np.log([n_params(parse(a), shape, 10) for a in archs])
    folder = tmp_path_factory.mktemp("forest")
    ForestSurrogate(default_input_shape=shape, forest_params={"n_estimators": 10}).fit(archs, y).save_pretrained(folder)
    return folder


@pytest.mark.slow
@pytest.mark.parametrize("acquisition", ["ucb", "ei"])
def test_surrogate_filter_with_a_forest_and_acquisition(torch1, tmp_path, forest_folder, acquisition):
    from surrogate_hub.search import prepare, run_search

    out = tmp_path / acquisition
    summary = run_search(prepare(_tiny(str(forest_folder), acquisition)), out, progress=False)
    assert summary["n_trained"] == 7 and summary["n_filtered"] == 4
    assert json.loads((out / "config.json").read_text())["config"]["acquisition"] == acquisition
    events = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
    offspring = [e for e in events if e["event"] == "candidate" and e.get("round", 0) > 0]
    assert offspring and all(e["predicted"] is not None or e["status"] == "filtered" for e in offspring)


def test_acquisition_without_a_spread_fails_before_training(tmp_path):
    from surrogate_hub.search import SearchSetupError, prepare, run_search

    with pytest.raises(SearchSetupError, match="needs a surrogate with a spread"):
        run_search(prepare(_tiny("einspace-graf-xgb", "ucb")), tmp_path / "run", progress=False)
    log = tmp_path / "run" / "log.jsonl"
    assert not log.exists() or not [line for line in log.read_text().splitlines() if '"trained": true' in line]


@pytest.mark.parametrize(("flags", "message"), [
    (["--acquisition", "best"], "invalid choice: 'best'"),
    (["--acquisition", "ucb", "--kappa", "-1"], "kappa: must be a number >= 0"),
    (["--strategy", "evolution", "--acquisition", "ei"], "applies to surrogate-filter only"),
])
def test_cli_acquisition_errors_are_one_line(tmp_path, capsys, flags, message):
    from surrogate_hub.cli import main

    args = ["search", "--profile", "cpu", "--task", "digits", "--strategy", "surrogate-filter", "--out", str(tmp_path / "r")]
    try:
        code = main(args + flags)
    except SystemExit as exit_:  # argparse's own choice check
        code = exit_.code
    assert code != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith(("error: ", "surrogate-hub search: error: ")) and message in err[-1]
