"""Every strategy end to end on a tiny task and budget, with real training and the real surrogate."""

from __future__ import annotations

import json

import pytest

from surrogate_hub.search import SearchConfig, list_strategies, run_search
from surrogate_hub.search.plots import load_runs, plot_runs

TINY = {"epochs": 1, "batch_size": 128, "max_forward_seconds": None}
LIMITS = {"max_params": 20_000, "max_activation": 5_000, "max_total_activation": 20_000}


def tiny(strategy: str, **kw) -> SearchConfig:
    values = dict(
        profile="cpu", task="digits", strategy=strategy, budget=7, population=3, tournament=2, proposals=4,
        train_per_round=2, refit_every=3, train=TINY, final_train=TINY, limits=LIMITS,
    )
    return SearchConfig.make(**{**values, **kw})


def read_log(folder) -> list[dict]:
    return [json.loads(line) for line in (folder / "log.jsonl").read_text().splitlines()]


def test_the_registry_has_the_four_strategies() -> None:
    assert list_strategies() == ["evolution", "random", "surrogate-filter", "surrogate-objective"]


@pytest.mark.parametrize("strategy", ["random", "evolution", "surrogate-filter", "surrogate-objective"])
def test_every_strategy_runs_logs_and_reports(torch1, tmp_path, strategy) -> None:
    out = tmp_path / strategy
    summary = run_search(tiny(strategy), out, progress=False)
    events = read_log(out)
    trained = [e for e in events if e["event"] == "candidate" and e["trained"]]
    assert [e["trained_index"] for e in trained] == sorted(e["trained_index"] for e in trained)
    assert len(trained) == summary["n_trained"]
    assert len({e["id"] for e in events}) == len(events)  # no candidate logged twice
    if strategy == "surrogate-objective":
        assert 3 <= summary["n_trained"] <= 7 and summary["n_scored"] > 0
        assert {e["origin"] for e in trained[3:]} <= {"running-best"}
        scored = {e["id"]: e for e in events if e.get("status") == "scored"}
        assert all(e["parent"] in scored and e["predicted"] == scored[e["parent"]]["predicted"] for e in trained[3:])
        assert all(e.get("val_acc") is None for e in scored.values())  # scores never carry accuracies
    else:
        assert summary["n_trained"] == 7
    if strategy in ("evolution", "surrogate-filter"):
        # 2 rounds of 4 offspring after the population of 3: 2 + 2 trained, 2 + 2 filtered (budget 7)
        assert summary["n_filtered"] == 4
        assert all(e["origin"] in ("mutation", "random") for e in events if e["event"] == "candidate")
    if strategy == "surrogate-filter":
        for r in sorted({e["round"] for e in events if e.get("round", 0) > 0}):
            rnd = [e for e in events if e.get("round") == r and e["event"] == "candidate"]
            picked = [e["predicted"] for e in rnd if e["trained"]]
            others = [e["predicted"] for e in rnd if not e["trained"]]
            assert min(picked) >= max(others)  # the surrogate's top offspring were trained
    best = max(trained, key=lambda e: e["val_acc"] or 0)
    assert summary["best"]["val_acc"] == best["val_acc"] and summary["best"]["arch"] == best["arch"]
    assert summary["best"]["arch_long"].startswith(("sequential[", "branching[", "routing[", "computation["))
    assert summary["final"]["status"] == "ok" and 0 < summary["test_acc"] <= 1
    assert summary["curve"] == sorted(summary["curve"]) and summary["curve"][-1] == best["val_acc"]
    state = json.loads((out / "state.json").read_text())
    assert state["done"] and state["n_trained"] == summary["n_trained"]
    assert plot_runs(load_runs([out]), tmp_path / "p.png").stat().st_size > 1000


def test_same_config_same_run(torch1, tmp_path) -> None:
    keys = ("id", "arch", "status", "val_acc", "predicted", "trained")
    runs = []
    for name in ("a", "b"):
        run_search(tiny("surrogate-filter"), tmp_path / name, progress=False)
        runs.append([tuple(e.get(k) for k in keys) for e in read_log(tmp_path / name) if e["event"] == "candidate"])
    assert runs[0] == runs[1]
    other = run_search(tiny("surrogate-filter", seed=1), tmp_path / "c", progress=False)
    assert [e.get("arch") for e in read_log(tmp_path / "c")][:3] != [r[1] for r in runs[0]][:3]
    assert other["n_trained"] == 7


def test_failing_candidates_are_logged_and_the_run_goes_on(torch1, tmp_path) -> None:
    # a parameter cap that many sampled networks exceed: they fail with a reason, the search continues
    summary = run_search(tiny("evolution", train={**TINY, "max_params": 400}, budget=8), tmp_path, progress=False)
    trained = [e for e in read_log(tmp_path) if e.get("trained")]
    failed = [e for e in trained if e["status"] != "ok"]
    assert len(trained) == 8 and failed, "expected some candidates over the parameter cap"
    assert all(e["status"] == "too_large" and "max_params 400" in e["reason"] and e["val_acc"] is None for e in failed)
    assert summary["statuses"]["too_large"] == len(failed)


def test_the_refit_uses_only_trained_candidates(torch1, tmp_path) -> None:
    run_search(tiny("surrogate-filter", budget=9), tmp_path, progress=False)
    events = read_log(tmp_path)
    refits = [e for e in events if e["event"] == "refit"]
    trained = [e["id"] for e in sorted((e for e in events if e.get("trained")), key=lambda e: e["trained_index"])]
    filtered = {e["id"] for e in events if e.get("status") == "filtered"}
    assert [r["n_trained"] for r in refits] == [3, 7, 9]  # every 3 trained: after 3, after 7 (5+2), after 9
    for r in refits:
        assert r["trained_ids"] == trained[: r["n_trained"]]
        assert not set(r["trained_ids"]) & filtered


def test_random_and_evolution_start_from_the_same_population(torch1, tmp_path) -> None:
    for strategy in ("random", "evolution"):
        run_search(tiny(strategy, budget=3), tmp_path / strategy, progress=False)
    first = [[e["arch"] for e in read_log(tmp_path / s) if e.get("trained")] for s in ("random", "evolution")]
    assert first[0] == first[1] and len(first[0]) == 3


def test_wall_time_curves_follow_completion_order(tmp_path) -> None:
    from surrogate_hub.search.plots import Run

    trained = [  # trained order 1, 2, 3; the second finished last (parallel workers)
        {"trained_index": 1, "val_acc": 0.2, "wall": 1.0},
        {"trained_index": 2, "val_acc": 0.9, "wall": 5.0},
        {"trained_index": 3, "val_acc": None, "wall": 2.0},
    ]
    run = Run(tmp_path, {"strategy": "evolution", "task": "t"}, trained)
    assert run.curve().tolist() == [0.2, 0.9, 0.9]
    times, best = run.wall_curve()
    assert times.tolist() == [1.0, 2.0, 5.0] and best.tolist() == [0.2, 0.2, 0.9]
    cached = [{**trained[0], "cached": True, "train_seconds": 4.0}, *trained[1:]]  # read back, not trained
    run = Run(tmp_path, {"strategy": "evolution", "task": "t", "workers": 2}, cached)
    assert run.wall_curve()[0].tolist() == [3.0, 4.0, 7.0]  # as if its 4 s on one of 2 workers were spent
    assert run.wall_curve(charge_cached=False)[0].tolist() == [1.0, 2.0, 5.0]


def test_a_diverging_final_retraining_falls_back_to_the_candidate_budget(torch1, tmp_path) -> None:
    """The final budget diverges (nan_loss); the best architecture trained fine with the candidate
    budget, so its test accuracy comes from retraining with that one, and the summary says so."""
    summary = run_search(tiny("random", final_train={**TINY, "lr": 1e12}), tmp_path, progress=False)
    finals = [e for e in read_log(tmp_path) if e["event"] == "final"]
    assert [(e["budget"], e["status"]) for e in finals] == [("final_train", "nan_loss"), ("train", "ok")]
    assert summary["final"]["budget"] == "train" and 0 < summary["test_acc"] <= 1
    again = run_search(tiny("random", final_train={**TINY, "lr": 1e12}), tmp_path, progress=False)  # resume: nothing retrained
    assert len([e for e in read_log(tmp_path) if e["event"] == "final"]) == 2 and again["test_acc"] == summary["test_acc"]


def test_a_final_retraining_that_succeeds_keeps_the_final_budget(torch1, tmp_path) -> None:
    summary = run_search(tiny("random"), tmp_path, progress=False)
    assert summary["final"]["budget"] == "final_train" and summary["final"]["status"] == "ok"
