"""Evaluator backends by name, so a distributed backend plugs in without touching callers."""

from __future__ import annotations

import importlib
import os
from typing import Any

from .base import Evaluator

__all__ = ["list_evaluators", "make_evaluator", "register_evaluator"]

_BACKENDS: dict[str, str] = {
    "local": "surrogate_hub.evaluators.local:LocalEvaluator",
    "ray": "surrogate_hub.evaluators.ray_backend:RayEvaluator",  # needs the `ray` extra
}


def register_evaluator(name: str, target: str, *, overwrite: bool = False) -> None:
    """Register a backend as ``"package.module:Factory"`` (imported only when used); the factory
    takes ``workers=`` plus backend-specific keywords and returns an :class:`Evaluator`."""
    if ":" not in target:
        raise ValueError(f"target must be 'module:Factory', got {target!r}")
    if name in _BACKENDS and not overwrite:
        raise ValueError(f"evaluator backend {name!r} is already registered (pass overwrite=True)")
    _BACKENDS[name] = target


def list_evaluators() -> list[str]:
    return sorted(_BACKENDS)


def make_evaluator(
    name: str = "local", *, workers: int | None = 1, cache: str | os.PathLike | None = None, **options: Any
) -> Evaluator:
    """An evaluator of backend ``name`` with ``workers`` parallel workers (None: the backend's
    default, e.g. a Ray cluster's capacity). With ``cache`` (a folder), trainings are looked up
    there first and stored there after (:class:`~.cache.CachedEvaluator`)."""
    try:
        target = _BACKENDS[name]
    except KeyError:
        raise KeyError(f"unknown evaluator backend {name!r}; registered: {list_evaluators()}") from None
    module, _, attr = target.partition(":")
    evaluator = getattr(importlib.import_module(module), attr)(workers=workers, **options)
    if cache is None:
        return evaluator
    from .cache import CachedEvaluator

    return CachedEvaluator(evaluator, cache)
