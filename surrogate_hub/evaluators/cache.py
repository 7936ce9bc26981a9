"""A durable cache of training results, and :class:`CachedEvaluator`, which consults it before any backend trains.

Training is deterministic given the architecture, the task (and its data seed), the training seed,
the budget, the device type, the grammar and the code (package and torch versions; see
:mod:`surrogate_hub.train`), so runs that propose
the same candidate (the strategies of one benchmark share their initial population) need train it
only once. :class:`ResultCache` keeps one small JSON file per key in a folder, written to a private
temporary file, fsynced and renamed into place: a file on disk is always complete, a kill at any
moment loses at most the result being written, and runs that write at once (threads or processes)
never corrupt each other (two writers of one key write the same result; the last rename wins).

Cached: ``train`` and ``retrain`` jobs whose outcome the architecture, budget and seed decide
(:data:`DETERMINISTIC_STATUSES`). Failures of the machine or the wall clock (``timeout``,
``too_slow``, ``oom``, ``error``) are computed again, and ``zcp`` jobs always run. The key assumes
that the runs sharing a folder train with one torch build and thread count (the search benchmark
pins one thread per training).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from .base import JOB_RUNNER, Evaluator, Job, Result, Runner

__all__ = ["CACHED_KINDS", "DETERMINISTIC_STATUSES", "CachedEvaluator", "ResultCache", "job_key"]

log = logging.getLogger(__name__)

#: job kinds whose results are cached
CACHED_KINDS = ("train", "retrain")
#: outcomes decided by the architecture, budget and seed alone (the same on any machine under any load)
DETERMINISTIC_STATUSES = ("ok", "invalid", "too_large", "nan_loss")
FORMAT_VERSION = 1


def _canonical_arch(text: str) -> str:
    from ..space import ArchitectureError, parse, to_string

    try:
        return to_string(parse(text))
    except ArchitectureError:  # an unparsable candidate is its own key (it fails the same way again)
        return text


def _budget_hash(budget: Any) -> str:
    """A hash of the budget's fields as given (two spellings of one budget only miss the cache)."""
    text = json.dumps(dict(budget), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _versions() -> dict[str, str]:
    """The versions of the code that trains: this package and torch (read from metadata, no import)."""
    from importlib.metadata import PackageNotFoundError, version

    from .. import __version__

    try:
        torch = version("torch")
    except PackageNotFoundError:  # pragma: no cover - training needs torch
        torch = "?"
    return {"package": __version__, "torch": torch}


def job_key(job: Job) -> dict[str, Any]:
    """What decides ``job``'s result: kind, canonical architecture, task, seeds, budget hash,
    device type (``cuda:1`` → ``cuda``), grammar hash and the package and torch versions."""
    from ..space import grammar_hash

    return {
        "kind": job.kind, "arch": _canonical_arch(job.arch), "task": job.task, "task_seed": job.task_seed,
        "seed": job.seed, "budget": _budget_hash(job.budget), "device": str(job.device).partition(":")[0],
        "grammar": grammar_hash(), **_versions(),
    }


def _digest(key: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(key, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


class ResultCache:
    """Results of :class:`~.base.Job` values, one JSON file per key under ``folder``
    (``{folder}/{digest[:2]}/{digest}.json``; see the module docstring)."""

    def __init__(self, folder: str | os.PathLike) -> None:
        self.folder = Path(folder)

    def _path(self, digest: str) -> Path:
        return self.folder / digest[:2] / f"{digest}.json"

    def get(self, job: Job) -> Result | None:
        """The cached result of ``job`` (with ``job.job_id`` and ``cached=True``), or None."""
        if job.kind not in CACHED_KINDS:
            return None
        key = job_key(job)
        path = self._path(_digest(key))
        try:
            stored = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as err:  # not written by us: ignore it, recompute, overwrite
            log.warning("%s: unreadable cache entry (%s); recomputing", path, err)
            return None
        if stored.get("format_version") != FORMAT_VERSION or stored.get("key") != key:
            log.warning("%s: cache entry of another format or key; recomputing", path)
            return None
        known = {f.name for f in dataclasses.fields(Result)} - {"job_id", "cached"}
        values = {k: v for k, v in stored["result"].items() if k in known}
        return Result(job_id=job.job_id, cached=True, **values)

    def put(self, job: Job, result: Result) -> bool:
        """Store ``result`` durably if it is cacheable; returns whether it was stored."""
        if job.kind not in CACHED_KINDS or result.cached or result.status not in DETERMINISTIC_STATUSES:
            return False
        key = job_key(job)
        digest = _digest(key)
        path = self._path(digest)
        path.parent.mkdir(parents=True, exist_ok=True)
        payload = {
            "format_version": FORMAT_VERSION, "key": key,
            "result": {k: v for k, v in result.to_dict().items() if k not in ("job_id", "cached")},
        }
        tmp = path.with_name(f".{digest}.{os.getpid()}.{threading.get_ident()}.tmp")  # private to this writer
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(payload, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
        _fsync_dir(path.parent)
        return True

    def __len__(self) -> int:
        return sum(1 for _ in self.folder.glob("??/*.json"))


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # e.g. Windows: directories cannot be opened
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


class CachedEvaluator:
    """Any :class:`~.base.Evaluator` (local, Ray, ...) with a :class:`ResultCache` in front: jobs
    found in the cache come back at once as results with ``cached=True``; the others run on
    ``inner`` and their cacheable results are stored before they are yielded. Jobs of a custom
    runner (e.g. the corpus builder's) pass through untouched. ``hits`` and ``computed`` count
    the jobs answered each way."""

    def __init__(self, inner: Evaluator, cache: ResultCache | str | os.PathLike) -> None:
        self.inner = inner
        self.cache = cache if isinstance(cache, ResultCache) else ResultCache(cache)
        self.hits = 0
        self.computed = 0

    @property
    def workers(self) -> Any:
        return getattr(self.inner, "workers", None)

    def evaluate(self, jobs: Iterable[Any], runner: Runner | None = None) -> Iterator[Any]:
        if runner is not None and runner is not JOB_RUNNER:
            yield from self.inner.evaluate(jobs, runner)
            return
        todo: list[Job] = []
        for job in jobs:
            hit = self.cache.get(job)
            if hit is None:
                todo.append(job)
            else:
                self.hits += 1
                yield hit
        if not todo:
            return
        by_id = {job.job_id: job for job in todo}
        for result in self.inner.evaluate(todo):
            self.computed += 1
            self.cache.put(by_id[result.job_id], result)
            yield result

    def close(self) -> None:
        self.inner.close()

    def terminate(self) -> None:
        """Stop the inner evaluator's jobs now, if it can."""
        stop = getattr(self.inner, "terminate", None)
        if stop is not None:
            stop()

    def __enter__(self) -> CachedEvaluator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
