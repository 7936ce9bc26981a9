"""The evaluator interface: jobs in, results streamed out, in-process, in a process pool, or in a
backend registered by name (as a distributed one would be)."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed

import pytest

from surrogate_hub.evaluators import Job, LocalEvaluator, Result, make_evaluator, register_evaluator, run_job

CONV = "sequential(routing[im2col(3,1,1), computation<linear(16)>, col2im], computation<relu>)"
TINY = {"epochs": 1, "batch_size": 128, "max_forward_seconds": None}


def _job(job_id: str, arch: str = CONV, kind: str = "train", **kw) -> Job:
    return Job(job_id, arch, "digits", kind, budget=kw.pop("budget", TINY), **kw)


def test_run_job_trains_retrains_and_probes(torch1) -> None:
    trained = run_job(_job("a"))
    assert trained.ok and trained.kind == "train" and 0.0 < trained.val_acc <= 1.0 and trained.test_acc is None
    assert trained.n_params > 0 and trained.flops > 0 and trained.finished >= trained.started > 0
    retrained = run_job(_job("b", kind="retrain"))
    assert retrained.ok and retrained.val_acc is None and 0.0 < retrained.test_acc <= 1.0
    probed = run_job(_job("c", kind="zcp", zcp=("params", "synflow")))
    assert probed.ok and set(probed.zcp) == {"params", "synflow"} and probed.zcp["params"] > 0


@pytest.mark.parametrize(
    ("arch", "kind", "status"),
    [
        ("not an architecture", "train", "invalid"),
        ("not an architecture", "zcp", "invalid"),
        (CONV, "train", "too_large"),
    ],
)
def test_failing_candidates_are_results_not_exceptions(torch1, arch, kind, status) -> None:
    budget = {**TINY, "max_params": 10}
    result = run_job(_job("x", arch, kind, budget=budget, zcp=("params",) if kind == "zcp" else ()))
    assert result.status == status and result.reason and result.val_acc is None


def test_job_kind_is_checked() -> None:
    with pytest.raises(ValueError, match="kind must be one of"):
        _job("x", kind="fly")
    with pytest.raises(ValueError, match="needs proxy names"):
        _job("x", kind="zcp")


def test_in_process_evaluator_streams_one_result_per_job(torch1) -> None:
    jobs = [_job(f"j{i}", seed=i) for i in range(3)]
    with LocalEvaluator(workers=1) as ev:
        results = list(ev.evaluate(jobs))
    assert [r.job_id for r in results] == ["j0", "j1", "j2"]
    assert all(r.ok for r in results)


@pytest.mark.slow
def test_process_pool_gives_the_same_results_as_in_process(torch1) -> None:
    jobs = [_job(f"j{i}", seed=i) for i in range(3)] + [_job("bad", "nonsense")]
    with LocalEvaluator(workers=2) as ev:
        pooled = {r.job_id: r for r in ev.evaluate(jobs)}
    local = {j.job_id: run_job(j) for j in jobs}
    assert set(pooled) == set(local)
    for key in local:
        assert (pooled[key].status, pooled[key].val_acc) == (local[key].status, local[key].val_acc)
    assert len({r.worker for r in pooled.values()} - {local["j0"].worker}) >= 1  # ran elsewhere


class ThreadEvaluator:
    """A backend written outside the package, like a Ray one would be: it only decides where
    ``run_job`` runs and streams results as they complete."""

    instances: list[ThreadEvaluator] = []

    def __init__(self, workers: int = 1) -> None:
        self.pool = ThreadPoolExecutor(workers)
        self.jobs_seen = 0
        self.lock = threading.Lock()
        ThreadEvaluator.instances.append(self)

    def evaluate(self, jobs: Iterable[Job]) -> Iterator[Result]:
        futures = []
        for job in jobs:
            with self.lock:
                self.jobs_seen += 1
            futures.append(self.pool.submit(run_job, job))
        for fut in as_completed(futures):
            yield fut.result()

    def close(self) -> None:
        self.pool.shutdown()


def test_a_registered_backend_drops_in_without_touching_the_search(torch1, tmp_path) -> None:
    from surrogate_hub.search import SearchConfig, run_search

    register_evaluator("threads-test", f"{__name__}:ThreadEvaluator", overwrite=True)
    cfg = SearchConfig.make(
        profile="cpu", task="digits", strategy="evolution", budget=5, population=3, proposals=4, train_per_round=2,
        train=TINY, final_train=TINY, evaluator="threads-test", workers=2,
    )
    summary = run_search(cfg, tmp_path / "run", progress=False)
    backend = ThreadEvaluator.instances[-1]
    assert summary["n_trained"] == 5 and backend.jobs_seen == 6  # 5 candidates + the final retraining
    with pytest.raises(KeyError, match="unknown evaluator backend 'nope'"):
        make_evaluator("nope")
