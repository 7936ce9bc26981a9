"""Adapting a surrogate to a new task from architectures trained on it.

:func:`finetune` is the one entry point; ``strategy`` picks how the new data are used (a registry,
so fine-tuning strategies beyond ``"refit"`` plug in by name). It works for any surrogate with the
:class:`~.base.Surrogate` protocol: the base is copied, never modified.

``"refit"``
    A copy of ``base`` fitted from scratch on the new task's rows, optionally together with
    *transfer* rows (e.g. a corpus's other tasks, :func:`~.targets.training_rows`), each transfer
    row weighted ``weight`` relative to a new row. Targets are normalised per task by the surrogate
    (the new rows form one task), exactly as in pre-training. This is what a surrogate-filtered
    search does every ``refit_every`` trained candidates.
"""

from __future__ import annotations

import copy
import inspect
import logging
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..space.tree import Architecture
from .base import Surrogate, arch_texts
from .targets import TrainingRows

__all__ = ["FINETUNE_STRATEGIES", "finetune", "register_finetune_strategy"]

log = logging.getLogger(__name__)

#: The task label of the new rows when transfer rows are mixed in (never a corpus task name).
NEW_TASK = "<finetune-target>"

_STRATEGIES: dict[str, Callable[..., Surrogate]] = {}
FINETUNE_STRATEGIES = _STRATEGIES  # read-only view by convention: use register_finetune_strategy


def register_finetune_strategy(name: str) -> Callable:
    """Decorator: ``fn(base, archs, accuracies, *, input_shape, num_classes, zcp, transfer, weight)``."""

    def register(fn: Callable[..., Surrogate]) -> Callable[..., Surrogate]:
        _STRATEGIES[name] = fn
        return fn

    return register


def finetune(
    base: Surrogate,
    archs: Sequence[str | Architecture],
    accuracies: Sequence[float | None] | np.ndarray,
    *,
    input_shape: Sequence[int],
    num_classes: int,
    zcp: Any = None,
    transfer: TrainingRows | None = None,
    weight: float = 1.0,
    strategy: str = "refit",
) -> Surrogate:
    """A surrogate adapted to a task from ``archs`` trained on it with validation ``accuracies``
    (None/NaN for failed trainings; dropped like zero accuracies if the surrogate's config says so).

    ``input_shape``/``num_classes`` describe the task. ``zcp``: the task's zero-cost proxies of
    ``archs`` (``[n, k]`` in the surrogate's ``zcp_names`` order, or a mapping), required when the
    surrogate consumes proxies. ``transfer``: extra rows from other tasks (their ``zcp`` must be
    present when the surrogate consumes proxies), weighted ``weight`` each. ``base`` is not changed.
    """
    try:
        fn = _STRATEGIES[strategy]
    except KeyError:
        raise ValueError(f"unknown fine-tuning strategy {strategy!r}; known: {sorted(_STRATEGIES)}") from None
    if not weight >= 0:
        raise ValueError(f"weight must be >= 0, got {weight}")
    return fn(
        base, archs, accuracies, input_shape=tuple(input_shape), num_classes=int(num_classes), zcp=zcp,
        transfer=transfer, weight=float(weight),
    )


def _zcp_matrix(zcp: Any, names: Sequence[str], n: int, what: str) -> np.ndarray | None:
    if not names:
        if zcp is not None:
            raise ValueError(f"{what}: the surrogate uses no zero-cost proxies; drop zcp=")
        return None
    if zcp is None:
        raise ValueError(f"{what}: the surrogate uses the zero-cost proxies {list(names)}: pass their values")
    if isinstance(zcp, dict):
        zcp = np.stack([np.asarray([np.nan if v is None else v for v in zcp[k]], dtype=np.float64) for k in names], axis=1)
    m = np.asarray(zcp, dtype=np.float64).reshape(n, len(names))
    return m


@register_finetune_strategy("refit")
def _refit(
    base: Surrogate,
    archs: Sequence[str | Architecture],
    accuracies: Sequence[float | None] | np.ndarray,
    *,
    input_shape: tuple[int, ...],
    num_classes: int,
    zcp: Any,
    transfer: TrainingRows | None,
    weight: float,
) -> Surrogate:
    texts = list(arch_texts(archs))
    acc = np.array([np.nan if a is None else a for a in accuracies], dtype=np.float64)
    if len(acc) != len(texts):
        raise ValueError(f"got {len(texts)} architectures but {len(acc)} accuracies")
    names = tuple(getattr(base, "zcp_names", ()))
    z_new = _zcp_matrix(zcp, names, len(texts), "zcp")
    shapes: list = [tuple(input_shape)] * len(texts)
    classes: list = [num_classes] * len(texts)
    tasks: list[str] = [NEW_TASK] * len(texts)
    weights = [1.0] * len(texts)
    z_all = z_new
    if transfer is not None and len(transfer) and weight > 0:
        if names and transfer.zcp is None:
            raise ValueError(f"transfer rows have no zero-cost proxies; the surrogate needs {list(names)}")
        texts += list(transfer.archs)
        acc = np.concatenate([acc, transfer.targets])
        shapes += list(transfer.input_shapes)
        classes += list(transfer.num_classes)
        tasks += list(transfer.tasks)
        weights += [weight] * len(transfer)
        if names:
            z_all = np.concatenate([z_new, np.asarray(transfer.zcp, dtype=np.float64)])
    surrogate = copy.deepcopy(base)
    kwargs: dict[str, Any] = {"input_shapes": shapes, "num_classes": classes}
    if names:
        kwargs["zcp"] = z_all
    if any(w != 1.0 for w in weights):
        if "weights" not in inspect.signature(surrogate.fit).parameters:
            raise TypeError(f"{type(base).__name__}.fit takes no weights=; use weight=1.0 for its transfer rows")
        kwargs["weights"] = weights
    log.info("refit on %d new rows + %d transfer rows (weight %.3g)", len(arch_texts(archs)), len(texts) - len(arch_texts(archs)), weight)
    return surrogate.fit(texts, acc, tasks, **kwargs)
