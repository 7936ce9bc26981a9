"""Searches that share a training cache: a second strategy reuses the first one's trainings (its
initial population above all), counts them against its budget as trained, logs them as cached, and
ends exactly where it would have without the cache. Real task, real trainer, real surrogate."""

from __future__ import annotations

import json

from surrogate_hub.evaluators import make_evaluator
from surrogate_hub.search import SearchConfig, run_search

TINY = {"epochs": 1, "batch_size": 128, "max_forward_seconds": None}
LIMITS = {"max_params": 20_000, "max_activation": 5_000, "max_total_activation": 20_000}
KEYS = ("id", "arch", "origin", "parent", "status", "val_acc", "predicted", "trained", "trained_index")


def tiny(strategy: str) -> SearchConfig:
    return SearchConfig.make(
        profile="cpu", task="digits", strategy=strategy, budget=7, population=3, tournament=2, proposals=4,
        train_per_round=2, refit_every=3, train=TINY, final_train=TINY, limits=LIMITS,
    )


def trained(folder) -> list[dict]:
    events = [json.loads(line) for line in (folder / "log.jsonl").read_text().splitlines()]
    return sorted((e for e in events if e.get("trained")), key=lambda e: e["trained_index"])


def test_a_second_strategy_trains_fewer_and_ends_where_it_would_without_the_cache(torch1, tmp_path) -> None:
    cache = tmp_path / "cache"
    with make_evaluator("local", workers=1, cache=cache) as ev:
        first = run_search(tiny("evolution"), tmp_path / "evolution", evaluator=ev, progress=False)
        assert ev.hits == 0 and first["n_cached"] == 0
        second = run_search(tiny("surrogate-filter"), tmp_path / "filter", evaluator=ev, progress=False)
        new_trainings = ev.computed - (first["n_trained"] + 1)  # the evolution run's trainings and final
    assert second["n_trained"] == 7 and 3 <= second["n_cached"] < 7
    assert new_trainings == 7 - second["n_cached"] + (0 if second["final"].get("cached") else 1)
    logged = trained(tmp_path / "filter")
    assert sum(e["cached"] for e in logged) == second["n_cached"] and all(e["cached"] for e in logged[:3])
    shared = [(e["arch"], e["status"], e["val_acc"]) for e in logged[:3]]
    assert shared == [(e["arch"], e["status"], e["val_acc"]) for e in trained(tmp_path / "evolution")[:3]]

    plain = run_search(tiny("surrogate-filter"), tmp_path / "plain", progress=False)  # no cache: all trained
    assert plain["n_cached"] == 0
    assert [tuple(e.get(k) for k in KEYS) for e in logged] == [tuple(e.get(k) for k in KEYS) for e in trained(tmp_path / "plain")]
    for key in ("best", "curve", "test_acc", "n_filtered", "refits"):
        assert second[key] == plain[key], key

    with make_evaluator("local", workers=1, cache=cache) as ev:  # the same run again: nothing to train
        again = run_search(tiny("surrogate-filter"), tmp_path / "again", evaluator=ev, progress=False)
        assert ev.computed == 0 and again["n_cached"] == 7
    assert (again["best"], again["curve"], again["test_acc"]) == (plain["best"], plain["curve"], plain["test_acc"])
