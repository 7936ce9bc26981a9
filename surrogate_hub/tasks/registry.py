"""The task registry: names → task factories, queried through functions (like timm's models)."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from surrogate_hub.tasks.base import Task, TaskError

TaskFactory = Callable[..., Task]  # factory(seed=...), plus cache_dir=... when one is given
F = TypeVar("F", bound=TaskFactory)

_REGISTRY: dict[str, TaskFactory] = {}
NPY_PREFIX = "npy:"


def register_task(name: str) -> Callable[[F], F]:
    """Decorator registering ``factory(seed=0) -> Task`` under ``name``.

    The factory is called with ``seed=`` only, or also with ``cache_dir=`` when `get_task` is given
    one (factories of tasks without a disk cache may omit that parameter).
    """

    def decorate(factory: F) -> F:
        if name in _REGISTRY:
            raise TaskError(f"task {name!r} is already registered")
        if name.startswith(NPY_PREFIX):
            raise TaskError(f"task names may not start with {NPY_PREFIX!r}")
        _REGISTRY[name] = factory
        return factory

    return decorate


def list_tasks() -> list[str]:
    """Names of the registered tasks, sorted."""
    return sorted(_REGISTRY)


def get_task(name: str, seed: int = 0, cache_dir: str | os.PathLike[str] | None = None) -> Task:
    """The task called ``name`` generated with ``seed``.

    ``name`` is a registered name (see `list_tasks`) or ``"npy:/path/to/root/taskname"`` for a
    folder in the Unseen-NAS layout (see `NpyTask`; ``seed`` is recorded, the data are fixed).
    Registered tasks are memoised per (name, seed, cache_dir), so their loaded data are shared
    between callers.
    """
    if name.startswith(NPY_PREFIX):
        from surrogate_hub.tasks.npy import NpyTask

        path = Path(name[len(NPY_PREFIX) :]).expanduser()
        return NpyTask(path.parent, path.name, seed=seed)
    if name not in _REGISTRY:
        raise TaskError(
            f"unknown task {name!r}; registered tasks: {', '.join(list_tasks())}. "
            f"For a dataset in the Unseen-NAS layout "
            f"{{root}}/{{name}}/{{train,valid,test}}_{{x,y}}.npy "
            f"pass '{NPY_PREFIX}/path/to/root/name' or use NpyTask(root, name)."
        )
    return _cached_task(name, seed, None if cache_dir is None else str(cache_dir))


@functools.lru_cache(maxsize=64)
def _cached_task(name: str, seed: int, cache_dir: str | None) -> Task:
    if cache_dir is None:
        return _REGISTRY[name](seed=seed)
    return _REGISTRY[name](seed=seed, cache_dir=cache_dir)
