"""Jobs, results, the evaluator protocol, and :func:`run_job`, the one function every backend runs."""

from __future__ import annotations

import functools
import logging
import os
import socket
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol, runtime_checkable

__all__ = ["JOB_KINDS", "JOB_RUNNER", "Evaluator", "Job", "JobRunner", "Result", "Runner", "resolve_task", "run_job"]

log = logging.getLogger(__name__)

#: What a job does: ``train`` (train on the train split, score validation), ``retrain`` (the paper's
#: final evaluation: train on train + valid, score test), ``zcp`` (zero-cost proxies on one batch).
JOB_KINDS = ("train", "retrain", "zcp")


@dataclass(frozen=True)
class Job:
    """One unit of work on one architecture.

    ``task`` is a registered task name or ``"npy:/root/name"`` (resolved in the worker with
    ``task_seed``); ``budget`` holds :class:`surrogate_hub.train.Budget` fields; ``zcp`` names the
    proxies of a ``zcp`` job. ``device`` is any torch device string.
    """

    job_id: str
    arch: str
    task: str
    kind: str = "train"
    task_seed: int = 0
    seed: int = 0
    budget: Mapping[str, Any] = field(default_factory=dict)
    device: str = "cpu"
    zcp: tuple[str, ...] = ()
    zcp_batch_size: int = 64

    def __post_init__(self) -> None:
        if self.kind not in JOB_KINDS:
            raise ValueError(f"job {self.job_id}: kind must be one of {JOB_KINDS}, got {self.kind!r}")
        if self.kind == "zcp" and not self.zcp:
            raise ValueError(f"job {self.job_id}: a zcp job needs proxy names in zcp=")


@dataclass(frozen=True)
class Result:
    """The outcome of a :class:`Job`. ``status`` is ``"ok"`` or a failure code of
    :data:`surrogate_hub.train.FAILURE_STATUSES`; accuracies are None when not measured; ``zcp`` maps
    proxy names to values (NaN where a proxy is undefined) for ``zcp`` jobs. ``started``/``finished``
    are Unix times; ``worker`` is ``host:pid``. ``cached``: the result was read back from a
    :class:`~surrogate_hub.evaluators.cache.ResultCache` instead of computed now (its other fields
    are those of the original computation)."""

    job_id: str
    kind: str
    status: str
    reason: str | None = None
    val_acc: float | None = None
    test_acc: float | None = None
    train_seconds: float = 0.0
    n_params: int | None = None
    flops: int | None = None
    zcp: dict[str, float] | None = None
    started: float = 0.0
    finished: float = 0.0
    worker: str = ""
    cached: bool = False

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@runtime_checkable
class Evaluator(Protocol):
    """Runs jobs somewhere and streams their results back as they finish."""

    def evaluate(self, jobs: Iterable[Any], runner: Runner | None = None) -> Iterator[Any]:
        """Yield one :class:`Result` per job, in completion order. Never raises for a failing
        candidate (that is a result with a failure status). ``runner`` (default :data:`JOB_RUNNER`)
        says what is done with each job and what its outcome is (e.g. the corpus builder's records)."""
        ...

    def close(self) -> None:
        """Release workers; the evaluator is unusable afterwards."""
        ...


@functools.lru_cache(maxsize=16)
def resolve_task(spec: str, task_seed: int):
    """The task ``spec`` (a registered name or ``npy:/root/name``), resolved once per process so its
    data are loaded once per worker."""
    from ..tasks import get_task

    return get_task(spec, seed=task_seed)


def run_job(job: Job, task: Any = None) -> Result:
    """Do ``job`` here and now. Candidate failures (invalid, too large, NaN loss, ...) come back as
    results; only a task that cannot be resolved raises (a configuration error, not a candidate's).
    ``task`` is the job's resolved task when the backend shipped it (else resolved from ``job.task``)."""
    from ..train import Budget, retrain_and_test, train_architecture

    if task is None:
        task = resolve_task(job.task, job.task_seed)
    worker = f"{socket.gethostname()}:{os.getpid()}"
    started = time.time()
    if job.kind == "zcp":
        return _run_zcp(job, task, started, worker)
    budget = Budget(**job.budget)
    fn = train_architecture if job.kind == "train" else retrain_and_test
    r = fn(job.arch, task, budget, device=job.device, seed=job.seed)
    return Result(
        job_id=job.job_id, kind=job.kind, status=r.status, reason=r.reason, val_acc=r.val_acc,
        test_acc=r.test_acc, train_seconds=r.train_seconds, n_params=r.n_params, flops=r.flops,
        started=started, finished=time.time(), worker=worker,
    )


def _run_zcp(job: Job, task, started: float, worker: str) -> Result:
    from ..features.zero_cost import zero_cost
    from ..space import ArchitectureError

    tic = time.perf_counter()
    try:
        scores = zero_cost(job.arch, task, batch_size=job.zcp_batch_size, device=job.device, seed=job.seed, names=job.zcp)
    except ArchitectureError as err:
        status, reason, scores = "invalid", str(err), None
    except Exception as err:  # a candidate's network failing must not stop a search
        log.info("zero-cost proxies failed for %s: %s", job.job_id, err)
        status, reason, scores = "error", f"{type(err).__name__}: {err}", None
    else:
        status, reason = "ok", None
    return Result(
        job_id=job.job_id, kind="zcp", status=status, reason=reason,
        train_seconds=time.perf_counter() - tic,
        zcp=None if scores is None else {k: float(scores[k]) for k in job.zcp},
        started=started, finished=time.time(), worker=worker,
    )


@runtime_checkable
class Runner(Protocol):
    """What a backend does with each job: ``runner(job, task)`` runs it in a worker (``task`` is the
    resolved task when the backend ships task data, else None and the runner resolves it);
    :meth:`task_of` names the job's task as ``(spec, task_seed)`` (so a backend can ship its data
    once); :meth:`failed` is the outcome of a job whose worker process died on every attempt.
    A runner must be picklable (it travels to the workers)."""

    def __call__(self, job: Any, task: Any = None) -> Any: ...

    def task_of(self, job: Any) -> tuple[str, int]: ...

    def failed(self, job: Any, status: str, reason: str) -> Any: ...


class JobRunner:
    """The default runner: :func:`run_job` on :class:`Job` values, :class:`Result` outcomes."""

    def __call__(self, job: Job, task: Any = None) -> Result:
        return run_job(job, task)

    def task_of(self, job: Job) -> tuple[str, int]:
        return job.task, job.task_seed

    def failed(self, job: Job, status: str, reason: str) -> Result:
        now = time.time()
        return Result(job_id=job.job_id, kind=job.kind, status=status, reason=reason, started=now, finished=now)


#: the runner every backend uses unless told otherwise
JOB_RUNNER = JobRunner()
