"""`NpyTask`: a dataset in the Unseen-NAS layout ``{root}/{name}/{train,valid,test}_{x,y}.npy``."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from surrogate_hub.tasks.base import SPLITS, Task, TaskError

_LAYOUT = "{root}/{name}/{train,valid,test}_{x,y}.npy"


@dataclass(frozen=True)
class NpyTask(Task):
    """A task read from the Unseen-NAS folder layout used by einspace and the surrogate paper.

    ``x`` files hold N×C×H×W numeric arrays (channels first), ``y`` files integer labels. The input
    shape is read from the arrays and the number of classes is the largest label in any split + 1.
    Construction checks the folder (file presence, shapes, lengths, labels) and raises `TaskError`
    naming the offending file; `load` streams the memory-mapped ``x`` files once to check for
    NaN/inf and normalise with the train split's per-channel statistics. Pickled arrays are never
    loaded.
    """

    root: Path
    name: str
    seed: int = 0  # the data are fixed; kept so records of every task carry a seed
    mmap: bool = True
    input_shape: tuple[int, int, int] = field(init=False)
    num_classes: int = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "root", Path(self.root))
        arrays = self._open()
        object.__setattr__(self, "input_shape", tuple(int(d) for d in arrays["train"][0].shape[1:]))
        object.__setattr__(self, "num_classes", 1 + max(int(y.max()) for _, y in arrays.values()))

    @property
    def folder(self) -> Path:
        return self.root / self.name

    @property
    def description(self) -> str:
        return (
            f"Task {self.name!r} read from the Unseen-NAS .npy layout: input "
            f"{'×'.join(map(str, self.input_shape))}, {self.num_classes} classes."
        )

    @property
    def provenance(self) -> str:
        return f"local files {self.folder}/{{train,valid,test}}_{{x,y}}.npy"

    def _raw_splits(self) -> tuple[dict[str, tuple[np.ndarray, np.ndarray]], dict[str, str]]:
        return self._open(), {split: str(self.folder / f"{split}_x.npy") for split in SPLITS}

    def _open(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Open and check all six files; ``x`` memory-mapped (if `mmap`), ``y`` as int64."""
        if not self.folder.is_dir():
            raise TaskError(
                f"{self.folder}: no such folder; an Unseen-NAS task is a folder laid out as "
                f"{_LAYOUT}"
            )
        arrays: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        for split in SPLITS:
            x_path, y_path = self.folder / f"{split}_x.npy", self.folder / f"{split}_y.npy"
            x, y = self._read(x_path), self._read(y_path)
            _check_x(x, x_path)
            y = _check_y(y, y_path)
            if len(x) != len(y):
                raise TaskError(
                    f"{x_path} has {len(x)} examples but {y_path} has {len(y)} labels; "
                    "each x file needs exactly one label per example in its y file"
                )
            if len(x) == 0:
                raise TaskError(f"{x_path}: the {split} split has no examples")
            if arrays and x.shape[1:] != arrays["train"][0].shape[1:]:
                raise TaskError(
                    f"{x_path}: examples have shape {x.shape[1:]} but train_x.npy has "
                    f"{arrays['train'][0].shape[1:]}; all splits must share one C×H×W shape"
                )
            arrays[split] = (x, y)
        return arrays

    def _read(self, path: Path) -> np.ndarray:
        if not path.is_file():
            raise TaskError(
                f"{path}: missing file; an Unseen-NAS task folder needs all six files {_LAYOUT}"
            )
        try:
            return np.load(path, mmap_mode="r" if self.mmap else None, allow_pickle=False)
        except (ValueError, OSError) as exc:
            raise TaskError(
                f"{path}: not a readable .npy array ({exc}); save it with numpy.save from a "
                "numeric array (object arrays and pickles are refused)"
            ) from exc


def _check_x(x: np.ndarray, path: Path) -> None:
    if x.dtype.kind not in "fiub":
        raise TaskError(
            f"{path}: dtype {x.dtype} is not numeric; store images as float or int arrays"
        )
    if x.ndim != 4:
        hint = " (add a channel axis, e.g. x[:, None])" if x.ndim == 3 else ""
        raise TaskError(
            f"{path}: x must be 4-D N×C×H×W (channels first), got shape {x.shape}{hint}"
        )


def _check_y(y: np.ndarray, path: Path) -> np.ndarray:
    """Labels as a 1-D int64 array; accepts N×1 and integral floats."""
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        raise TaskError(
            f"{path}: labels must be 1-D (one integer class per example), got shape {y.shape}; "
            "for one-hot labels save y.argmax(1)"
        )
    if y.dtype.kind == "f":
        if not (np.isfinite(y).all() and (y == np.round(y)).all()):
            raise TaskError(f"{path}: labels must be integers, found non-integer or NaN values")
    elif y.dtype.kind not in "iub":
        raise TaskError(f"{path}: labels must be integers, got dtype {y.dtype}")
    y = np.asarray(y, dtype=np.int64)
    if len(y) and y.min() < 0:
        raise TaskError(f"{path}: labels must be in [0, num_classes), found {int(y.min())}")
    return y
