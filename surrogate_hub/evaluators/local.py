"""The local backend: jobs run in this process, or in a pool of spawned local processes."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from multiprocessing import get_context

from .base import Job, Result, run_job

__all__ = ["LocalEvaluator"]


def _worker_init(threads: int, log_level: int) -> None:
    import torch

    torch.set_num_threads(threads)
    logging.basicConfig(level=log_level)


class LocalEvaluator:
    """``workers=1``: jobs run one after another in this process (torch threads untouched).
    ``workers>1``: a pool of ``workers`` spawned processes (spawn is safe with CUDA), each with
    ``threads_per_worker`` torch threads; at most ``workers`` jobs are in flight, results stream back
    as they finish. Use as a context manager or call :meth:`close`."""

    def __init__(self, workers: int = 1, *, threads_per_worker: int = 1) -> None:
        if workers < 1 or threads_per_worker < 1:
            raise ValueError(f"workers and threads_per_worker must be >= 1, got {workers}, {threads_per_worker}")
        self.workers = workers
        self.threads_per_worker = threads_per_worker
        self._pool: ProcessPoolExecutor | None = None

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            level = logging.getLogger().getEffectiveLevel()
            self._pool = ProcessPoolExecutor(
                self.workers, mp_context=get_context("spawn"), initializer=_worker_init,
                initargs=(self.threads_per_worker, level),
            )
        return self._pool

    def evaluate(self, jobs: Iterable[Job]) -> Iterator[Result]:
        if self.workers == 1:
            for job in jobs:
                yield run_job(job)
            return
        pool = self._executor()
        pending: set[Future] = set()
        todo = iter(jobs)
        for job in todo:  # keep the pool full, no more
            pending.add(pool.submit(run_job, job))
            if len(pending) >= self.workers:
                break
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for fut in done:
                nxt = next(todo, None)
                if nxt is not None:
                    pending.add(pool.submit(run_job, nxt))
                yield fut.result()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None

    def __enter__(self) -> LocalEvaluator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
