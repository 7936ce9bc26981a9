"""The training-result cache: keyed by what decides a training, durable, safe with writers at once,
and in front of a real evaluator a cached job is answered with the result a real training gave."""

from __future__ import annotations

import dataclasses
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from multiprocessing import get_context

import pytest

from surrogate_hub.evaluators import (
    CachedEvaluator,
    Job,
    LocalEvaluator,
    Result,
    ResultCache,
    make_evaluator,
)

CONV = "sequential(routing[im2col(3,1,1), computation<linear(16)>, col2im], computation<relu>)"
TINY = {"epochs": 1, "batch_size": 128, "max_forward_seconds": None}


def _job(job_id: str, arch: str = CONV, **kw) -> Job:
    return Job(job_id, arch, kw.pop("task", "digits"), kw.pop("kind", "train"), budget=kw.pop("budget", TINY), **kw)


def _result(job_id: str, status: str = "ok", acc: float | None = 0.5) -> Result:
    return Result(job_id, "train", status, val_acc=acc, train_seconds=1.5, n_params=10, flops=20, worker="h:1")


def test_a_stored_result_comes_back_for_the_same_training_only(tmp_path) -> None:
    cache = ResultCache(tmp_path)
    assert cache.put(_job("a"), _result("a"))
    back = cache.get(_job("b"))  # another run's id, the same training
    assert back == dataclasses.replace(_result("a"), job_id="b", cached=True)
    assert cache.get(_job("c", arch=CONV.replace(", ", ","))) is not None  # the canonical string is the key
    for other in (
        _job("d", seed=1), _job("e", task_seed=1), _job("f", task="sum-digits"), _job("g", kind="retrain"),
        _job("h", budget={**TINY, "epochs": 2}), _job("i", device="cuda:0"), _job("j", arch="computation<linear(16)>"),
    ):
        assert cache.get(other) is None, other
    assert cache.get(_job("k", device="cpu")) is not None and len(cache) == 1


@pytest.mark.parametrize(("status", "stored"), [
    ("ok", True), ("too_large", True), ("invalid", True), ("nan_loss", True),
    ("timeout", False), ("too_slow", False), ("oom", False), ("error", False),
])
def test_only_outcomes_the_architecture_decides_are_cached(tmp_path, status: str, stored: bool) -> None:
    cache = ResultCache(tmp_path)
    assert cache.put(_job("a"), _result("a", status, None)) is stored
    assert (cache.get(_job("a")) is not None) is stored


def test_proxy_jobs_and_results_read_back_are_not_stored(tmp_path) -> None:
    cache = ResultCache(tmp_path)
    assert not cache.put(_job("z", kind="zcp", zcp=("params",)), _result("z"))
    assert not cache.put(_job("a"), dataclasses.replace(_result("a"), cached=True))
    assert len(cache) == 0


def test_an_unreadable_entry_is_a_miss_then_overwritten(tmp_path) -> None:
    cache = ResultCache(tmp_path)
    cache.put(_job("a"), _result("a"))
    (path,) = tmp_path.glob("??/*.json")
    path.write_text('{"format_version": 1, "key": ')  # torn by hand (our writes are atomic renames)
    assert cache.get(_job("a")) is None
    cache.put(_job("a"), _result("a", acc=0.25))
    assert cache.get(_job("a")).val_acc == 0.25


def _put_many(folder: str, start: int) -> int:
    cache = ResultCache(folder)
    for i in range(start, start + 40):  # keys overlap with the other writers' on purpose
        cache.put(_job(f"j{i}", seed=i % 50), _result(f"j{i}", acc=(i % 50) / 100))
    return start


@pytest.mark.parametrize("pool", ["threads", "processes"])
def test_writers_at_once_leave_every_entry_whole(tmp_path, pool: str) -> None:
    make = (lambda: ThreadPoolExecutor(4)) if pool == "threads" else (lambda: ProcessPoolExecutor(2, mp_context=get_context("spawn")))
    with make() as ex:
        list(ex.map(_put_many, [str(tmp_path)] * 4, [0, 10, 20, 30]))
    cache = ResultCache(tmp_path)
    assert len(cache) == 50 and not list(tmp_path.rglob("*.tmp"))
    assert all(cache.get(_job("x", seed=s)).val_acc == s / 100 for s in range(50))


def test_cached_evaluator_answers_repeats_with_the_real_training(torch1, tmp_path) -> None:
    jobs = [_job("a"), _job("b", seed=1), _job("c", budget={**TINY, "max_params": 10})]  # c: too_large
    with CachedEvaluator(LocalEvaluator(workers=1), tmp_path) as ev:
        first = {r.job_id: r for r in ev.evaluate(jobs)}
        assert (ev.hits, ev.computed) == (0, 3)
        again = {r.job_id: r for r in ev.evaluate([dataclasses.replace(j, job_id=j.job_id + "2") for j in jobs])}
        assert (ev.hits, ev.computed) == (3, 3)
    assert first["c"].status == "too_large" and first["a"].ok
    for k, r in first.items():
        assert dataclasses.replace(again[k + "2"], job_id=k, cached=False) == r and again[k + "2"].cached
    with make_evaluator("local", workers=1, cache=tmp_path) as ev:  # the registry's front door
        assert isinstance(ev, CachedEvaluator)
        fresh = LocalEvaluator(workers=1)
        rerun = next(iter(fresh.evaluate([_job("a")])))  # a real training again gives the same number
        assert rerun.val_acc == first["a"].val_acc
        assert next(iter(ev.evaluate([_job("a")]))).cached
