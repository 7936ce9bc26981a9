"""The Ray backend: jobs run as Ray tasks on a Ray cluster (one machine or many, CPUs or GPU fractions).

Each job is a Ray task with a resource request (``num_cpus``, ``num_gpus``, fractions allowed: four
candidates share a GPU with ``num_gpus=0.25``); at most ``workers`` tasks are in flight and results
stream back as they finish (``ray.wait``). A task's data are put in the object store once per run
and fetched once per worker process (cached there), never shipped per candidate; with
``ship_data=False`` every worker resolves the task itself (npy files on shared storage).

A worker process that dies (killed, out of host memory, its node lost) has its job retried once
by Ray; a second death makes the job's outcome a failure (status ``error``, or ``oom`` when Ray's
memory monitor killed it) with the reason, so the caller's log stays exact. An exception raised by
the runner itself (a task that cannot be resolved) is a configuration error and is re-raised, as
with the local backend.

Needs ``pip install "surrogate-hub[ray]"``; Ray is imported only when this backend is used.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Iterator
from typing import Any

from ..errors import UserError
from .base import JOB_RUNNER, Runner, resolve_task

__all__ = ["RayBackendError", "RayEvaluator"]

log = logging.getLogger(__name__)

#: how long a local cluster's raylet waits for its agents (Ray's default is too short on a loaded machine)
LOCAL_AGENT_TIMEOUT_MS = 120_000


class RayBackendError(UserError):
    """Ray is missing, the cluster cannot be joined, or it cannot run the requested resources."""


def _import_ray():
    try:
        import ray
    except ImportError:
        raise RayBackendError(
            "the ray backend needs Ray, which is not installed: pip install 'surrogate-hub[ray]'"
        ) from None
    return ray


def _check_reachable(address: str, timeout: float = 10.0) -> None:
    """Fail fast on a ``host:port`` nobody listens on (Ray itself retries for minutes)."""
    import socket

    if address == "auto" or "://" in address or ":" not in address:
        return
    host, _, port = address.rpartition(":")
    try:
        with socket.create_connection((host, int(port)), timeout=timeout):
            pass
    except (OSError, ValueError) as err:
        raise RayBackendError(
            f"cannot reach the Ray cluster at {address} ({err}); check the head node's address "
            "(`ray status` on it) or omit --ray-address / RAY_ADDRESS for a local cluster"
        ) from None


# -- the worker side (runs in Ray worker processes) ----------------------------------------------
_WORKER_TASKS: dict[tuple[str, int], Any] = {}
_WORKER_THREADS: list[int] = []


def _run_remote(runner: Runner, job: Any, key: tuple[str, int], box: list | None, threads: int) -> Any:
    """Run one job in a Ray worker. ``box`` holds the object-store reference of the job's task
    (wrapped in a list so Ray does not fetch it for every call): fetched on this worker's first job
    of that task, then served from the worker's cache."""
    if _WORKER_THREADS != [threads]:
        import torch

        torch.set_num_threads(threads)
        _WORKER_THREADS[:] = [threads]
    task = None
    if box is not None:
        task = _WORKER_TASKS.get(key)
        if task is None:
            import ray

            task = _WORKER_TASKS[key] = ray.get(box[0])
    return runner(job, task)


# -- the driver side -----------------------------------------------------------------------------
class RayEvaluator:
    """Evaluate jobs as Ray tasks. Joins the cluster at ``address`` (else ``RAY_ADDRESS``; else
    starts a local one, shut down again by :meth:`close`), or uses the Ray session this process
    already started. ``workers`` bounds the tasks in flight (None: as many as the cluster's CPUs
    and GPUs can run at once with ``num_cpus``/``num_gpus`` each). Each worker uses
    ``threads_per_worker`` torch threads; a job whose worker dies is retried ``max_retries`` times.
    """

    def __init__(
        self,
        workers: int | None = None,
        *,
        address: str | None = None,
        num_cpus: float = 1.0,
        num_gpus: float = 0.0,
        threads_per_worker: int = 1,
        ship_data: bool = True,
        max_retries: int = 1,
        init_options: dict[str, Any] | None = None,
    ) -> None:
        if workers is not None and workers < 1:
            raise ValueError(f"workers must be >= 1 (or None for the cluster's capacity), got {workers}")
        if num_cpus < 0 or num_gpus < 0 or (num_cpus == 0 and num_gpus == 0):
            raise ValueError(f"num_cpus and num_gpus must be >= 0 and not both 0, got {num_cpus}, {num_gpus}")
        if num_gpus > 1 and num_gpus != int(num_gpus):
            raise ValueError(f"num_gpus above 1 must be a whole number (Ray's rule), got {num_gpus}")
        if threads_per_worker < 1 or max_retries < 0:
            raise ValueError(f"threads_per_worker must be >= 1 and max_retries >= 0, got {threads_per_worker}, {max_retries}")
        ray = _import_ray()
        self._ray = ray
        self.num_cpus, self.num_gpus = float(num_cpus), float(num_gpus)
        self.threads_per_worker = threads_per_worker
        self.ship_data = ship_data
        self.max_retries = max_retries
        self._owns = False
        if address:  # checked even when this process is already connected (that session is then used)
            _check_reachable(address)
        if not ray.is_initialized():
            address = address or os.environ.get("RAY_ADDRESS") or None
            options = {"logging_level": logging.WARNING, **(init_options or {})}
            try:
                if address:
                    _check_reachable(address)  # RAY_ADDRESS
                    ray.init(address=address, **options)
                else:  # a busy machine starts Ray's agents slowly: give them time to register
                    options.setdefault("_system_config", {"agent_register_timeout_ms": LOCAL_AGENT_TIMEOUT_MS})
                    ray.init(include_dashboard=False, **options)
                    self._owns = True
            except RayBackendError:
                raise
            except Exception as err:  # noqa: BLE001 - Ray raises plain Exception on a failed start
                where = f"the Ray cluster at {address}" if address else "a local Ray cluster"
                raise RayBackendError(
                    f"cannot start or join {where}: {err}; start one with `ray start --head` and pass its "
                    "address (--ray-address / RAY_ADDRESS), or omit both for a local cluster"
                ) from None
        capacity = self._capacity()  # also refuses a request no node can satisfy
        self.workers = workers or capacity
        self._remote = ray.remote(_run_remote).options(
            num_cpus=self.num_cpus, num_gpus=self.num_gpus, max_retries=max_retries, retry_exceptions=False
        )
        self._task_refs: dict[tuple[str, int], Any] = {}
        self._pending: dict[Any, Any] = {}

    def _capacity(self) -> int:
        """How many tasks of this evaluator's shape the cluster runs at once; refuses a request no
        node can ever satisfy (it would wait forever)."""
        res = self._ray.cluster_resources()
        slots = []
        for name, need in (("CPU", self.num_cpus), ("GPU", self.num_gpus)):
            if need > 0:
                have = res.get(name, 0.0)
                if have < need:
                    raise RayBackendError(
                        f"each job asks for {need:g} {name}(s) but the Ray cluster has {have:g}; "
                        f"add nodes with {name}s or lower the request (--ray-num-{name.lower()}s)"
                    )
                slots.append(int(have // need))
        return max(1, min(slots))

    def _task_ref(self, key: tuple[str, int]) -> Any:
        """The object-store reference of task ``key``'s loaded data, put there once per run."""
        ref = self._task_refs.get(key)
        if ref is None:
            task = resolve_task(*key)
            task.load()  # the cached arrays travel with the task object
            ref = self._task_refs[key] = self._ray.put(task)
        return ref

    def evaluate(self, jobs: Iterable[Any], runner: Runner | None = None) -> Iterator[Any]:
        runner = runner or JOB_RUNNER
        ray = self._ray
        runner_ref = ray.put(runner)

        def submit(job: Any) -> None:
            key = tuple(runner.task_of(job))
            box = [self._task_ref(key)] if self.ship_data else None
            self._pending[self._remote.remote(runner_ref, job, key, box, self.threads_per_worker)] = job

        todo = iter(jobs)
        try:
            for job in todo:  # keep `workers` tasks in flight, no more
                submit(job)
                if len(self._pending) >= self.workers:
                    break
            while self._pending:
                ready, _ = ray.wait(list(self._pending), num_returns=1)
                for ref in ready:
                    job = self._pending.pop(ref)
                    outcome = self._outcome(ref, job, runner)
                    nxt = next(todo, None)
                    if nxt is not None:
                        submit(nxt)
                    yield outcome
        finally:
            self._cancel()

    def _outcome(self, ref: Any, job: Any, runner: Runner) -> Any:
        exc = self._ray.exceptions
        try:
            return self._ray.get(ref)
        except exc.RayTaskError:
            raise  # the runner raised: a configuration error (it is also an instance of the cause)
        except (exc.WorkerCrashedError, exc.NodeDiedError, exc.OutOfMemoryError, exc.ObjectLostError) as err:
            status = "oom" if isinstance(err, exc.OutOfMemoryError) else "error"
            first = str(err).strip().splitlines()[0] if str(err).strip() else ""
            reason = f"worker process died on all {self.max_retries + 1} attempt(s): {type(err).__name__}: {first}"
            job_id = getattr(job, "job_id", job)
            log.warning("job %s failed: %s", job_id, reason)
            return runner.failed(job, status, reason)

    def _cancel(self) -> None:
        for ref in self._pending:
            try:
                self._ray.cancel(ref, force=True)
            except Exception as err:  # noqa: BLE001 - cancelling is best effort
                log.debug("cancel failed: %s", err)
        self._pending.clear()

    def terminate(self) -> None:
        """Stop the jobs in flight now (Ctrl-C, a crash); they are redone on resume."""
        self._cancel()

    def close(self) -> None:
        self._cancel()
        self._task_refs.clear()
        if self._owns and self._ray.is_initialized():
            self._ray.shutdown()
        self._owns = False

    def __enter__(self) -> RayEvaluator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
