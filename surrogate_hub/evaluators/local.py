"""The local backend: jobs run in this process, or in a pool of spawned local processes."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from multiprocessing import get_context
from typing import Any

from .base import JOB_RUNNER, Runner

__all__ = ["LocalEvaluator"]


def _worker_init(threads: int, log_level: int, parent: int) -> None:
    """Pin torch threads; ignore Ctrl-C (the parent stops the pool); exit when the parent dies."""
    import signal
    import threading
    import time

    import torch

    torch.set_num_threads(threads)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    logging.basicConfig(level=log_level)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)  # orphaned: the caller was killed; its finished results are in its own log

    threading.Thread(target=watch, daemon=True, name="exit-with-parent").start()


class LocalEvaluator:
    """``workers=1``: jobs run one after another in this process (torch threads untouched).
    ``workers>1``: a pool of ``workers`` spawned processes (spawn is safe with CUDA), each with
    ``threads_per_worker`` torch threads, that ignore Ctrl-C and exit when this process dies; at
    most ``workers`` jobs are in flight, results stream back as they finish. Use as a context
    manager or call :meth:`close` (waits for running jobs) or :meth:`terminate` (stops them now)."""

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
                initargs=(self.threads_per_worker, level, os.getpid()),
            )
        return self._pool

    def evaluate(self, jobs: Iterable[Any], runner: Runner | None = None) -> Iterator[Any]:
        runner = runner or JOB_RUNNER
        if self.workers == 1:
            for job in jobs:
                yield runner(job)
            return
        pool = self._executor()
        pending: set[Future] = set()
        todo = iter(jobs)
        for job in todo:  # keep the pool full, no more
            pending.add(pool.submit(runner, job))
            if len(pending) >= self.workers:
                break
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for fut in done:
                nxt = next(todo, None)
                if nxt is not None:
                    pending.add(pool.submit(runner, nxt))
                yield fut.result()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None

    def terminate(self) -> None:
        """Stop the workers now (Ctrl-C, a crash): jobs in flight are lost, to be redone on resume."""
        if self._pool is None:
            return
        processes = list(getattr(self._pool, "_processes", {}).values())  # no public API to kill workers
        self._pool.shutdown(wait=False, cancel_futures=True)
        for proc in processes:
            proc.terminate()
        for proc in processes:
            proc.join(timeout=5)
        self._pool = None

    def __enter__(self) -> LocalEvaluator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
