"""Reading a user's own trained architectures: the data that fine-tuning starts from.

:func:`read_user_data` takes a file or a search run folder and returns :class:`UserRows`:

* JSONL (``.jsonl``/``.ndjson``): one JSON object per line;
* CSV (``.csv``; ``.tsv`` tab-separated) with a header line;
* parquet (``.parquet``);
* a search run folder (``surrogate-hub search --out DIR``): the trained candidates of its
  ``log.jsonl`` (failed trainings are skipped), with their zero-cost proxies when logged.

Columns: the architecture (compact einspace string) in ``arch`` or ``architecture``; the validation
accuracy in ``val_acc``, ``accuracy``, ``acc`` or ``val_accuracy`` (any scale: only the order
matters); optionally ``status`` (rows whose status is not ``ok`` are skipped and counted) and
``zcp_<name>`` columns of zero-cost proxies. Rows of the same architecture are averaged into one.

Every problem is a :class:`UserDataError` naming the file and the line (text files) or row
(parquet): a missing column, an accuracy that is missing, NaN, negative or not a number, an
architecture that does not parse or is invalid at the task's input shape, or no usable row at all.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import numpy as np

from ..errors import UserError

__all__ = ["ACC_COLUMNS", "ARCH_COLUMNS", "UserDataError", "UserRows", "read_user_data"]

ARCH_COLUMNS: Final = ("arch", "architecture")
ACC_COLUMNS: Final = ("val_acc", "accuracy", "acc", "val_accuracy")
RUN_LOG: Final = "log.jsonl"
FORMATS: Final = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".tsv": "tsv", ".parquet": "parquet"}


class UserDataError(UserError, ValueError):
    """A data file that cannot be used; the message names the file and the line or row."""


@dataclass(frozen=True)
class UserRows:
    """The usable rows of a data file: one per distinct architecture (mean accuracy of its rows).

    ``zcp`` maps proxy name → values when the file has ``zcp_<name>`` columns (NaN where missing);
    ``skipped`` counts rows left out by reason; ``n_read`` is the number of data rows read.
    """

    archs: tuple[str, ...]
    accuracies: np.ndarray
    source: str
    zcp: dict[str, np.ndarray] = field(default_factory=dict)
    skipped: dict[str, int] = field(default_factory=dict)
    n_read: int = 0
    task: str | None = None  #: the task of a search run folder, when it says

    def __len__(self) -> int:
        return len(self.archs)

    def zcp_matrix(self, names: Sequence[str]) -> np.ndarray | None:
        """``[n, len(names)]`` proxy values in ``names`` order (``None`` for no names); a proxy the
        file does not have is a :class:`UserDataError`."""
        if not names:
            return None
        missing = [n for n in names if n not in self.zcp]
        if missing:
            have = sorted(self.zcp) or "none"
            raise UserDataError(
                f"{self.source}: the surrogate needs the zero-cost proxies {list(names)} of every architecture, "
                f"the file has no column(s) {['zcp_' + m for m in missing]} (it has proxies: {have}); "
                "add them, or fine-tune a GRAF-only surrogate"
            )
        return np.stack([self.zcp[n] for n in names], axis=1)


# ------------------------------------------------------------------------------------------ readers
def _jsonl(path: Path) -> Iterator[tuple[str, dict]]:
    with open(path, encoding="utf-8") as fh:
        for number, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as err:
                raise UserDataError(f"{path}, line {number}: not valid JSON ({err.msg})") from None
            if not isinstance(obj, dict):
                raise UserDataError(f"{path}, line {number}: expected a JSON object, got {type(obj).__name__}")
            yield f"line {number}", obj


def _csv(path: Path, delimiter: str) -> Iterator[tuple[str, dict]]:
    with open(path, encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh, delimiter=delimiter)
        if reader.fieldnames is None:
            raise UserDataError(f"{path}: empty file (expected a header line with the column names)")
        for row in reader:
            yield f"line {reader.line_num}", {k: v for k, v in row.items() if k is not None}


def _parquet(path: Path) -> Iterator[tuple[str, dict]]:
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except Exception as err:  # noqa: BLE001 - pyarrow's errors vary; report them as a bad file
        raise UserDataError(f"{path}: not a readable parquet file ({' '.join(str(err).split())[:200]})") from None
    for i, row in enumerate(table.to_pylist(), 1):
        yield f"row {i}", row


def _run_folder(folder: Path) -> tuple[Iterator[tuple[str, dict]], Path, str | None]:
    log_path = folder / RUN_LOG
    if not log_path.is_file():
        raise UserDataError(f"{folder}: a folder must be a search run folder with a {RUN_LOG} (none found)")
    task = None
    config = folder / "config.json"
    if config.is_file():
        try:
            task = json.loads(config.read_text(encoding="utf-8")).get("task")
        except (json.JSONDecodeError, AttributeError):
            task = None

    def rows() -> Iterator[tuple[str, dict]]:
        for where, event in _jsonl(log_path):
            if event.get("event") != "candidate" or not event.get("trained"):
                continue
            row = {"arch": event.get("arch"), "val_acc": event.get("val_acc"), "status": event.get("status")}
            for name, value in (event.get("zcp") or {}).items():
                row[f"zcp_{name}"] = value
            yield where, row

    return rows(), log_path, task if isinstance(task, str) else None


def _pick(columns: Sequence[str], choices: Sequence[str], what: str, source: Path, override: str | None) -> str:
    if override is not None:
        if override not in columns:
            raise UserDataError(f"{source}: no {what} column {override!r}; the columns are {list(columns)}")
        return override
    for c in choices:
        if c in columns:
            return c
    raise UserDataError(f"{source}: no {what} column: expected one of {list(choices)}, the columns are {list(columns)}")


def _number(value: Any) -> float | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise TypeError("a boolean")
    return float(value)


def read_user_data(
    path: str | Path,
    *,
    input_shape: Sequence[int] | None = None,
    arch_column: str | None = None,
    acc_column: str | None = None,
) -> UserRows:
    """The usable rows of the data file or search run folder ``path`` (see the module docstring).

    ``input_shape``: the task's (C, H, W); every architecture must be valid at it. ``arch_column``/
    ``acc_column`` override the column names. Raises :class:`UserDataError` (file and line/row named).
    """
    from ..space import infer, parse
    from ..space.errors import ArchitectureError

    path = Path(path).expanduser()
    task = None
    if path.is_dir():
        rows, source, task = _run_folder(path)
    elif not path.exists():
        raise UserDataError(f"{path}: no such file or folder")
    else:
        fmt = FORMATS.get(path.suffix.lower())
        if fmt is None:
            raise UserDataError(f"{path}: unknown data format {path.suffix!r}; use {sorted(FORMATS)} or a search run folder")
        source = path
        rows = {"jsonl": lambda: _jsonl(path), "csv": lambda: _csv(path, ","), "tsv": lambda: _csv(path, "\t"),
                "parquet": lambda: _parquet(path)}[fmt]()

    arch_key = acc_key = None
    zcp_cols: list[str] = []
    by_arch: dict[str, list[float]] = {}
    zcp_by_arch: dict[str, list[list[float]]] = {}
    skipped: dict[str, int] = {}
    n_read = 0
    parsed: dict[str, str | None] = {}
    for where, row in rows:
        n_read += 1
        if arch_key is None:
            columns = list(row)
            arch_key = _pick(columns, ARCH_COLUMNS, "architecture", source, arch_column)
            acc_key = _pick(columns, ACC_COLUMNS, "accuracy", source, acc_column)
            zcp_cols = [c for c in columns if c.startswith("zcp_")]
        status = row.get("status")
        if status is not None and str(status).strip() not in ("", "ok"):
            reason = f"status {str(status).strip()}"
            skipped[reason] = skipped.get(reason, 0) + 1
            continue
        arch = row.get(arch_key)
        if not isinstance(arch, str) or not arch.strip():
            raise UserDataError(f"{source}, {where}: no architecture in column {arch_key!r}")
        arch = arch.strip()
        try:
            acc = _number(row.get(acc_key))
        except (TypeError, ValueError):
            raise UserDataError(f"{source}, {where}: accuracy {row.get(acc_key)!r} in column {acc_key!r} is not a number") from None
        if acc is None or math.isnan(acc):
            raise UserDataError(
                f"{source}, {where}: the accuracy (column {acc_key!r}) is {'missing' if acc is None else 'NaN'}; "
                "remove the row, or mark a failed training with a 'status' column other than 'ok'"
            )
        if not math.isfinite(acc) or acc < 0:
            raise UserDataError(f"{source}, {where}: accuracy {acc!r} must be a finite number >= 0")
        if arch not in parsed:
            try:
                tree = parse(arch)
                if input_shape is not None:
                    infer(tree, tuple(input_shape))
                parsed[arch] = None
            except ArchitectureError as err:
                parsed[arch] = f"{type(err).__name__}: {' '.join(str(err).split())[:200]}"
        if parsed[arch] is not None:
            short = arch if len(arch) <= 80 else arch[:77] + "..."
            at = f" at input shape {tuple(input_shape)}" if input_shape is not None else ""
            raise UserDataError(f"{source}, {where}: architecture {short!r} is not a valid einspace architecture{at} ({parsed[arch]})")
        by_arch.setdefault(arch, []).append(acc)
        if zcp_cols:
            values = []
            for c in zcp_cols:
                try:
                    v = _number(row.get(c))
                except (TypeError, ValueError):
                    raise UserDataError(f"{source}, {where}: {c} {row.get(c)!r} is not a number") from None
                values.append(math.nan if v is None else v)
            zcp_by_arch.setdefault(arch, []).append(values)
    if arch_key is None:
        raise UserDataError(f"{source}: no data rows")
    if not by_arch:
        detail = ", ".join(f"{n} with {r}" for r, n in skipped.items()) or "none"
        raise UserDataError(f"{source}: no usable rows ({n_read} rows read; skipped: {detail})")
    archs = tuple(by_arch)
    accs = np.array([float(np.mean(by_arch[a])) for a in archs])
    zcp = {}
    if zcp_cols:
        with np.errstate(all="ignore"):
            m = np.array([np.nanmean(np.array(zcp_by_arch[a]), axis=0) if np.isfinite(zcp_by_arch[a]).any() else
                          np.full(len(zcp_cols), np.nan) for a in archs]).reshape(len(archs), len(zcp_cols))
        zcp = {c[4:]: m[:, j] for j, c in enumerate(zcp_cols)}
    return UserRows(archs=archs, accuracies=accs, source=str(source), zcp=zcp, skipped=skipped, n_read=n_read, task=task)
