"""Core task types: the arrays a task yields, the task interface, and train-split normalisation.

numpy only: importing this module (or anything in `surrogate_hub.tasks`) never imports torch.
"""

from __future__ import annotations

import abc
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

SPLITS: tuple[str, ...] = ("train", "valid", "test")

# Rows per chunk when computing statistics and normalising, so memory-mapped inputs are streamed.
_CHUNK = 4096
# A channel whose train-split std is below this is only centred (constant channels stay finite).
_MIN_STD = 1e-8


class TaskError(ValueError):
    """A task cannot be found or its data is malformed. The message says what to fix."""


@dataclass(frozen=True)
class TaskData:
    """The three fixed splits of a task, ready to train on.

    `x_*` are float32 arrays of shape N×C×H×W, normalised with the train split's per-channel mean
    and std; `y_*` are int64 labels in ``[0, num_classes)``. The arrays are shared by every caller
    of `Task.load` (the result is cached): treat them as read-only.
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_valid: np.ndarray
    y_valid: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray

    def __post_init__(self) -> None:
        for split in SPLITS:
            x, y = self.split(split)
            if x.dtype != np.float32 or x.ndim != 4:
                raise TaskError(
                    f"{split}: x must be a float32 N×C×H×W array, got {x.dtype} {x.shape}"
                )
            if y.dtype != np.int64 or y.shape != (len(x),):
                raise TaskError(
                    f"{split}: y must be int64 of shape ({len(x)},), got {y.dtype} {y.shape}"
                )

    def split(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """``(x, y)`` of split ``name`` (one of ``train``, ``valid``, ``test``)."""
        if name not in SPLITS:
            raise TaskError(f"unknown split {name!r}; expected one of {', '.join(SPLITS)}")
        return getattr(self, f"x_{name}"), getattr(self, f"y_{name}")


class Task(abc.ABC):
    """A classification task: fixed train/valid/test splits of N×C×H×W inputs and integer labels.

    Concrete tasks are frozen dataclasses that provide the attributes below and `_raw_splits`;
    `load` normalises and caches. Tasks are cheap to construct; `load` does the work.
    """

    name: str
    description: str  # one paragraph for the dataset card: what the task is and what makes it hard
    provenance: str  # where the data comes from (package, generator, file path)
    input_shape: tuple[int, int, int]  # C, H, W
    num_classes: int
    seed: int

    @abc.abstractmethod
    def _raw_splits(self) -> tuple[dict[str, tuple[np.ndarray, np.ndarray]], dict[str, str]]:
        """Unnormalised ``{split: (x, y)}`` plus ``{split: source}`` (named in error messages)."""

    def load(self) -> TaskData:
        """The normalised splits; computed on the first call, then served from memory."""
        cache = self._memory_cache()
        if "data" not in cache:
            splits, sources = self._raw_splits()
            cache["data"] = normalise_splits(splits, sources)
        return cache["data"]

    def to_dict(self) -> dict[str, Any]:
        """Metadata for records and dataset cards (does not load the data)."""
        return {
            "name": self.name,
            "input_shape": list(self.input_shape),
            "num_classes": self.num_classes,
            "seed": self.seed,
            "description": self.description,
            "provenance": self.provenance,
        }

    def _memory_cache(self) -> dict[str, TaskData]:
        # Frozen dataclasses cannot assign attributes; a private dict created once holds the cache.
        try:
            return self.__dict__["_cache"]
        except KeyError:
            cache: dict[str, TaskData] = {}
            object.__setattr__(self, "_cache", cache)
            return cache


def normalise_splits(
    splits: Mapping[str, tuple[np.ndarray, np.ndarray]], sources: Mapping[str, str]
) -> TaskData:
    """Normalise every split with the train split's per-channel mean/std; reject non-finite values.

    Works chunk by chunk, so memory-mapped inputs are streamed rather than copied twice.
    """
    x_train = splits["train"][0]
    mean, std = _channel_stats(x_train, sources["train"])
    arrays: dict[str, np.ndarray] = {}
    for split in SPLITS:
        x, y = splits[split]
        out = np.empty(x.shape, dtype=np.float32)
        for start in range(0, len(x), _CHUNK):
            chunk = np.asarray(x[start : start + _CHUNK], dtype=np.float64)
            if split != "train":  # the train split was checked while computing the statistics
                _check_finite(chunk, sources[split])
            out[start : start + _CHUNK] = (chunk - mean) / std
        arrays[f"x_{split}"] = out
        arrays[f"y_{split}"] = np.asarray(y, dtype=np.int64)
    return TaskData(**arrays)


def _channel_stats(x: np.ndarray, source: str) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel mean and std over (N, H, W), two-pass in float64, shaped 1×C×1×1."""
    if len(x) == 0:
        raise TaskError(f"{source}: the train split is empty")
    count = len(x) * x.shape[2] * x.shape[3]
    total = np.zeros(x.shape[1])
    for start in range(0, len(x), _CHUNK):
        chunk = np.asarray(x[start : start + _CHUNK], dtype=np.float64)
        _check_finite(chunk, source)
        total += chunk.sum(axis=(0, 2, 3))
    mean = (total / count)[None, :, None, None]
    squares = np.zeros(x.shape[1])
    for start in range(0, len(x), _CHUNK):
        chunk = np.asarray(x[start : start + _CHUNK], dtype=np.float64)
        squares += ((chunk - mean) ** 2).sum(axis=(0, 2, 3))
    std = np.sqrt(squares / count)[None, :, None, None]
    return mean, np.where(std < _MIN_STD, 1.0, std)


def _check_finite(chunk: np.ndarray, source: str) -> None:
    if not np.isfinite(chunk).all():
        n_bad = int((~np.isfinite(chunk)).sum())
        raise TaskError(
            f"{source}: contains NaN or infinite values ({n_bad} in one chunk); "
            "clean or impute them before training"
        )


def save_npy_layout(
    splits: Mapping[str, tuple[np.ndarray, np.ndarray]], folder: str | os.PathLike[str]
) -> Path:
    """Write ``{folder}/{split}_{x,y}.npy`` (the Unseen-NAS layout) atomically; returns the folder.

    The files are written to a temporary sibling folder that is renamed into place, so a reader
    never sees a half-written task; if another writer got there first, its copy is kept.
    """
    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = folder.with_name(f".{folder.name}.tmp-{os.getpid()}")
    tmp.mkdir(exist_ok=True)
    for split in SPLITS:
        x, y = splits[split]
        np.save(tmp / f"{split}_x.npy", np.asarray(x))
        np.save(tmp / f"{split}_y.npy", np.asarray(y))
    try:
        tmp.rename(folder)
    except OSError:
        for file in tmp.iterdir():
            file.unlink()
        tmp.rmdir()
        if not folder.is_dir():
            raise
        # else a concurrent writer got there first: keep its copy
    return folder
