"""Scores of finished evaluation folds on disk: long evaluations resume, and shards share the work.

A method that fine-tunes a model per fold (BERT: minutes per fold on a CPU) makes an evaluation take
hours. With a :class:`FoldStore`, every fold's test scores are written to
``<folder>/<method>/<fold>.json`` (atomically) as soon as they exist, and read back instead of being
recomputed. ``shard=(i, n)`` computes only every n-th fold from the i-th, so that n processes on one
folder share the folds; a run that meets a fold it neither has nor owns reports the method as
incomplete, and a last run without a shard assembles the results from the stored folds.

Every file records a ``tag`` (the corpus's content hash, the seed, the number of folds and the
caller's method settings; ``method_tags`` add settings of single methods under ``"method"``) and a
hash of its test rows; a stored fold whose tag or rows differ is an
error (never silently mixed in).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["FoldStore", "FoldStoreMismatch", "parse_shard"]


class FoldStoreMismatch(ValueError):
    """A stored fold was written with other settings or other test rows."""


def parse_shard(text: str) -> tuple[int, int]:
    """``"I/N"`` → ``(I, N)``; ``ValueError`` naming the expected form unless ``0 <= I < N``."""
    try:
        i, n = (int(v) for v in text.split("/"))
        if not 0 <= i < n:
            raise ValueError
    except ValueError:
        raise ValueError(f"--shard must be I/N with 0 <= I < N (e.g. 0/2), got {text!r}") from None
    return i, n


def _rows_hash(test: Any) -> str:
    h = hashlib.sha256()
    for a, t in zip(test.arch, test.task):
        h.update(f"{t}\t{a}\n".encode())
    return h.hexdigest()[:16]


class FoldStore:
    """Fold scores under ``folder``, tagged with ``tag`` (JSON-serialisable); see the module docstring."""

    def __init__(
        self, folder: str | Path, tag: dict[str, Any], shard: tuple[int, int] = (0, 1), method_tags: dict[str, Any] | None = None
    ) -> None:
        i, n = shard
        if not (isinstance(i, int) and isinstance(n, int) and 0 <= i < n):
            raise ValueError(f"shard must be (i, n) with 0 <= i < n, got {shard!r}")
        self.folder, self.tag, self.shard = Path(folder), json.loads(json.dumps(tag)), (i, n)
        self.method_tags: dict[str, Any] = json.loads(json.dumps(method_tags or {}))
        self._counter: dict[str, int] = {}
        self.computed = self.read = self.left = 0
        #: seconds each method's folds took to compute (stored with the folds, so read back too)
        self.fold_seconds: dict[str, float] = {}

    def tag_of(self, method: str) -> dict[str, Any]:
        """The tag stored with ``method``'s folds: ``tag``, plus ``{"method": ...}`` when it has settings of its own."""
        return self.tag if method not in self.method_tags else {**self.tag, "method": self.method_tags[method]}

    def _path(self, method: str, key: str) -> Path:
        safe = lambda s: re.sub(r"[^A-Za-z0-9_.+-]", "_", s)  # noqa: E731
        return self.folder / safe(method) / f"{safe(key)}.json"

    def scores(self, method: str, key: str, test: Any, compute: Callable[[], np.ndarray]) -> np.ndarray | None:
        """The stored scores of fold ``key``, else ``compute()`` (stored) when this shard owns the
        fold, else ``None``. Folds are numbered per method in the order they are asked for."""
        k = self._counter.get(method, 0)
        self._counter[method] = k + 1
        path, rows, tag = self._path(method, key), _rows_hash(test), self.tag_of(method)
        if path.is_file():
            rec = json.loads(path.read_text())
            if rec.get("tag") != tag or rec.get("rows") != rows:
                raise FoldStoreMismatch(
                    f"{path}: stored with other settings or rows (tag {rec.get('tag')}, rows {rec.get('rows')}; "
                    f"now {tag}, rows {rows}); use another fold folder or delete this one"
                )
            self.read += 1
            self.fold_seconds[method] = self.fold_seconds.get(method, 0.0) + float(rec.get("seconds", 0.0))
            return np.asarray(rec["scores"], dtype=np.float64)
        if k % self.shard[1] != self.shard[0]:
            self.left += 1
            return None
        start = time.perf_counter()
        s = np.asarray(compute(), dtype=np.float64).reshape(-1)
        seconds = round(time.perf_counter() - start, 2)
        self.fold_seconds[method] = self.fold_seconds.get(method, 0.0) + seconds
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps({"tag": tag, "rows": rows, "seconds": seconds, "scores": [float(v) for v in s]}))
        tmp.replace(path)
        self.computed += 1
        return s
