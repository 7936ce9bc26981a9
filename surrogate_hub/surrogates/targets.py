"""Training targets: per-task normalisation and the selection of usable corpus rows.

Accuracies are not comparable across tasks, so surrogates are fitted on targets normalised within
each group (task): the empirical-CDF percentile by default, min-max as an option (``DESIGN.md``,
"Targets and transfer"). Both are pure functions of arrays.

Percentile
    ``average_rank / n`` within the group: ties share their average rank, the largest value gets 1,
    so every value lies in (0, 1]. A group of one value gives 1.
Min-max
    ``(v - min) / (max - min)`` in [0, 1]; a constant group (max == min) gives 0.5 everywhere.
None
    the values unchanged (as float64).

NaN policy: NaN values stay NaN and are ignored when ranking or scaling the rest of their group.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

import numpy as np

__all__ = ["NORMALISATIONS", "TrainingRows", "average_ranks", "normalise_targets", "training_rows", "usable_targets"]

log = logging.getLogger(__name__)

#: Accepted ``method`` values of :func:`normalise_targets`.
NORMALISATIONS: Final = ("percentile", "minmax", "none")


def average_ranks(values: np.ndarray) -> np.ndarray:
    """1-based ranks of a 1-D float array, ties sharing their average rank (no NaN allowed)."""
    values = np.asarray(values, dtype=np.float64)
    n = len(values)
    order = np.argsort(values, kind="mergesort")
    sorted_values = values[order]
    # start of each run of equal values
    starts = np.flatnonzero(np.r_[True, sorted_values[1:] != sorted_values[:-1]])
    ends = np.r_[starts[1:], n]  # exclusive
    run_rank = (starts + 1 + ends) / 2.0  # mean of ranks starts+1 .. ends
    ranks = np.empty(n, dtype=np.float64)
    ranks[order] = np.repeat(run_rank, ends - starts)
    return ranks


def _normalise_group(v: np.ndarray, method: str) -> np.ndarray:
    out = np.full(len(v), np.nan)
    ok = ~np.isnan(v)
    x = v[ok]
    if len(x) == 0:
        return out
    if method == "percentile":
        out[ok] = average_ranks(x) / len(x)
    elif method == "minmax":
        lo, hi = float(x.min()), float(x.max())
        out[ok] = 0.5 if hi == lo else (x - lo) / (hi - lo)
    else:
        out[ok] = x
    return out


def normalise_targets(
    values: Sequence[float] | np.ndarray,
    groups: Sequence[Hashable] | np.ndarray | None = None,
    method: str = "percentile",
) -> np.ndarray:
    """Normalise ``values`` within each group of ``groups`` (one label per value; ``None``: one group).

    ``method`` is ``"percentile"`` (empirical CDF with average ranks, in (0, 1]), ``"minmax"``
    ([0, 1], a constant group → 0.5) or ``"none"``. NaN stays NaN. Returns float64, input order.
    """
    if method not in NORMALISATIONS:
        raise ValueError(f"unknown target normalisation {method!r}; expected one of {NORMALISATIONS}")
    v = np.asarray(values, dtype=np.float64)
    if v.ndim != 1:
        raise ValueError(f"values must be one-dimensional, got shape {v.shape}")
    if groups is None:
        return _normalise_group(v, method)
    labels = list(groups)
    if len(labels) != len(v):
        raise ValueError(f"got {len(v)} values but {len(labels)} group labels")
    out = np.empty(len(v), dtype=np.float64)
    index: dict[Hashable, list[int]] = {}
    for i, g in enumerate(labels):
        index.setdefault(g, []).append(i)
    for rows in index.values():
        idx = np.asarray(rows)
        out[idx] = _normalise_group(v[idx], method)
    return out


def usable_targets(
    targets: np.ndarray,
    groups: Sequence[Hashable] | None,
    method: str = "percentile",
    drop_zero: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """The rows a surrogate fits on and their targets, normalised per group with ``method``:
    ``(row indices, normalised targets)``. NaN targets, and zeros with ``drop_zero``, are dropped;
    fewer than two usable rows is a ``ValueError``."""
    y = np.asarray(targets, dtype=np.float64)
    keep = ~np.isnan(y)
    if drop_zero:
        keep &= y != 0
    idx = np.flatnonzero(keep)
    if len(idx) < 2:
        raise ValueError(f"need at least 2 training rows with a usable target, got {len(idx)} of {len(y)}")
    if len(idx) < len(y):
        log.info("dropped %d of %d rows (NaN or zero target)", len(y) - len(idx), len(y))
    kept = None if groups is None else [groups[i] for i in idx]
    return idx, normalise_targets(y[idx], kept, method)


@dataclass(frozen=True)
class TrainingRows:
    """Usable training rows of a corpus, column by column (same length, corpus order).

    ``targets`` are the raw validation accuracies (not normalised); ``zcp`` is ``[n, len(names)]``
    in the order asked for, or ``None`` when no proxies were asked for.
    """

    archs: tuple[str, ...]
    targets: np.ndarray
    tasks: tuple[str, ...]
    input_shapes: tuple[tuple[int, ...], ...]
    num_classes: tuple[int, ...]
    zcp: np.ndarray | None = None
    dropped: Mapping[str, int] | None = None  #: rows dropped, by reason

    def __len__(self) -> int:
        return len(self.archs)


def _column(data: Any, name: str) -> list:
    """A column of a ``datasets.Dataset``, a mapping of columns or a sequence of record dicts."""
    names = getattr(data, "column_names", None)  # a datasets.Dataset
    if names is not None or isinstance(data, Mapping):
        if name not in (names if names is not None else data):
            raise KeyError(f"the corpus has no column {name!r}")
        return list(data[name])
    try:
        return [row[name] for row in data]
    except KeyError:
        raise KeyError(f"a corpus record has no field {name!r}") from None


def training_rows(
    data: Any,
    *,
    tasks: Iterable[str] | None = None,
    drop_zero: bool = True,
    zcp: Sequence[str] = (),
) -> TrainingRows:
    """The rows of a corpus that a surrogate can learn from.

    ``data`` is a ``datasets.Dataset`` (as from :func:`surrogate_hub.corpus.load`), a mapping of
    columns, or a sequence of record dicts with the corpus columns ``arch``, ``task``,
    ``input_shape``, ``num_classes``, ``val_acc``, ``status`` (and ``zcp_<name>`` for each name in
    ``zcp``). Drops rows whose status is not ``ok``, whose accuracy is missing or NaN and, with
    ``drop_zero`` (the paper's protocol), whose accuracy is exactly zero; ``tasks`` keeps only those
    tasks. Missing proxy values are kept as NaN (XGBoost treats NaN as missing).
    """
    archs = _column(data, "arch")
    n = len(archs)
    task_col = _column(data, "task")
    shapes = _column(data, "input_shape")
    classes = _column(data, "num_classes")
    accs = _column(data, "val_acc")
    status = _column(data, "status")
    proxy_cols = [_column(data, f"zcp_{z}") for z in zcp]
    wanted = None if tasks is None else set(tasks)
    keep: list[int] = []
    dropped = {"task": 0, "failed": 0, "missing": 0, "zero": 0}
    for i in range(n):
        acc = accs[i]
        if wanted is not None and task_col[i] not in wanted:
            dropped["task"] += 1
        elif status[i] != "ok":
            dropped["failed"] += 1
        elif acc is None or math.isnan(acc):
            dropped["missing"] += 1
        elif drop_zero and acc == 0:
            dropped["zero"] += 1
        else:
            keep.append(i)
    z = None
    if zcp:
        z = np.array(
            [[np.nan if col[i] is None else col[i] for col in proxy_cols] for i in keep], dtype=np.float64
        ).reshape(len(keep), len(zcp))
    return TrainingRows(
        archs=tuple(archs[i] for i in keep),
        targets=np.array([accs[i] for i in keep], dtype=np.float64),
        tasks=tuple(task_col[i] for i in keep),
        input_shapes=tuple(tuple(int(d) for d in shapes[i]) for i in keep),
        num_classes=tuple(int(classes[i]) for i in keep),
        zcp=z,
        dropped={k: v for k, v in dropped.items() if v},
    )
