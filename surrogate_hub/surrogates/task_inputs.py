"""Surrogate inputs computed on the user's data: the zero-cost proxies of architectures on a task.

A surrogate with proxies in its feature set (e.g. ``einspace-graf-zcp-xgb``) scores an architecture
from its graph *and* from proxies measured on one training batch of the task at hand. This module
computes them the way the training corpus did (``training/compute_zcp.py``: a fresh network compiled
under ``torch.manual_seed(seed)``, a batch of ``batch_size`` training examples drawn with ``seed``;
see :func:`surrogate_hub.features.zero_cost.zero_cost`), in a process pool for large inputs, with
an optional progress bar. Imports torch when proxies are computed, not before.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Sequence
from typing import Any, Final

import numpy as np

__all__ = ["POOL_THRESHOLD", "resolve_task", "task_proxies"]

log = logging.getLogger(__name__)

#: inputs with at least this many architectures use a process pool (when more than one core)
POOL_THRESHOLD: Final = 48


def resolve_task(task: Any):
    """A :class:`~surrogate_hub.tasks.Task` from a task, a registered name or ``"npy:ROOT/NAME"``."""
    from ..tasks import Task, get_task

    if isinstance(task, Task):
        return task
    if isinstance(task, str):
        return get_task(task)
    raise TypeError(f"task must be a task name, 'npy:ROOT/NAME' or a Task, got {type(task).__name__}")


def _task_spec(task: Any) -> Any:
    """What a worker process needs to rebuild ``task`` cheaply (not its loaded arrays)."""
    from ..tasks import list_tasks
    from ..tasks.npy import NpyTask

    if isinstance(task, NpyTask):
        return ("npy", str(task.root), task.name)
    if task.name in list_tasks() and getattr(task, "cache_dir", None) is None:
        return ("registered", task.name, task.seed)
    return ("object", task)


def _from_spec(spec: Any):
    from ..tasks import get_task
    from ..tasks.npy import NpyTask

    if spec[0] == "npy":
        return NpyTask(spec[1], spec[2])
    if spec[0] == "registered":
        return get_task(spec[1], seed=spec[2])
    return spec[1]


_WORKER: dict[str, Any] = {}


def _init_worker(spec: Any, names: tuple[str, ...], batch_size: int, seed: int, device: str) -> None:
    import torch

    torch.set_num_threads(1)
    task = _from_spec(spec)
    task.load()
    _WORKER.update(task=task, names=names, batch_size=batch_size, seed=seed, device=device)


def _one(arch: Any) -> list[float]:
    w = _WORKER
    return _proxies(arch, w["task"], w["names"], w["batch_size"], w["seed"], w["device"])


def _proxies(arch: Any, task: Any, names: tuple[str, ...], batch_size: int, seed: int, device: str) -> list[float]:
    from ..features.zero_cost import zero_cost
    from ..space.errors import ArchitectureError

    try:
        scores = zero_cost(arch, task, batch_size=batch_size, device=device, seed=seed, names=names)
    except ArchitectureError:
        return [float("nan")] * len(names)  # the surrogate reports the architecture itself as invalid
    except RuntimeError as err:  # e.g. out of memory in the forward pass: the proxies are missing
        log.warning("zero-cost proxies failed for %.80s: %s", arch, str(err).splitlines()[0] if str(err) else err)
        return [float("nan")] * len(names)
    return [float(scores[n]) for n in names]


def task_proxies(
    archs: Sequence[Any],
    task: Any,
    names: Sequence[str],
    *,
    input_shape: Sequence[int] | None = None,
    batch_size: int = 64,
    seed: int = 0,
    device: str = "cpu",
    workers: int | None = None,
    progress: bool = False,
) -> np.ndarray:
    """Proxies ``names`` of every architecture on ``task``: ``[len(archs), len(names)]``, NaN where
    an architecture is invalid or a proxy could not be computed.

    ``workers``: processes (default: all cores for :data:`POOL_THRESHOLD` or more architectures,
    else this process); ``progress``: a progress bar on stderr. ``input_shape``, when given, must be
    the task's: proxies run on the task's data.
    """
    from ..features.proxies import list_proxies  # imports torch

    task = resolve_task(task)
    names = tuple(names)
    unknown = [n for n in names if n not in list_proxies()]
    if unknown:
        raise ValueError(f"unknown zero-cost proxies {unknown}; known: {list_proxies()}")
    if input_shape is not None and tuple(input_shape) != tuple(task.input_shape):
        raise ValueError(
            f"input_shape {tuple(input_shape)} differs from the task's {tuple(task.input_shape)}: "
            "proxies are computed on the task's data, so leave input_shape out"
        )
    items = list(archs)
    if workers is None:
        workers = (os.cpu_count() or 1) if len(items) >= POOL_THRESHOLD else 1
    workers = max(1, min(int(workers), len(items) or 1))
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(items), desc=f"zero-cost proxies on {task.name}", unit="arch", leave=False)
    rows: list[list[float]] = []
    try:
        for row in _run(items, task, names, batch_size, seed, device, workers):
            rows.append(row)
            if bar is not None:
                bar.update(1)
    finally:
        if bar is not None:
            bar.close()
    return np.asarray(rows, dtype=np.float64).reshape(len(items), len(names))


def _run(items: list, task: Any, names: tuple[str, ...], batch_size: int, seed: int, device: str, workers: int) -> Iterator[list[float]]:
    texts = [a if isinstance(a, str) else _text(a) for a in items]
    if workers == 1:
        import torch

        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            for arch in texts:
                yield _proxies(arch, task, names, batch_size, seed, device)
        finally:
            torch.set_num_threads(threads)
        return
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import get_context

    chunk = max(1, min(16, len(texts) // (4 * workers)))
    with ProcessPoolExecutor(
        workers, mp_context=get_context("spawn"), initializer=_init_worker,
        initargs=(_task_spec(task), names, batch_size, seed, device),
    ) as pool:
        yield from pool.map(_one, texts, chunksize=chunk)


def _text(arch: Any) -> str:
    from ..space.printing import to_string

    return to_string(arch)
