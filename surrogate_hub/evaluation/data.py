"""The evaluation data: corpus records folded into one row per (architecture, task), seed pairs for
the noise ceiling, and the cached GRAF feature matrix.

Rows
    A record is *usable* when its status is ``ok`` and its validation accuracy is present, finite and
    non-zero (zero-accuracy networks are dropped, as in the paper's protocol and in ``fit``). The
    usable records of one architecture on one task - one per training seed, or repeated records of
    the same seed - become **one row** whose label ``val_acc`` is the mean accuracy over its distinct
    seeds (``n_seeds`` says how many). A row is therefore never split between a training and a test
    fold, so one seed of an architecture can never leak into the fold that tests the other.
    Zero-cost proxies of a row are the mean over its records (NaN where none has a value).

Seed pairs
    Per task, the architectures with usable records for two different seeds give one pair
    ``(acc of the lowest seed, acc of the next seed)``; their Kendall tau is the task's noise ceiling.

Feature cache
    GRAF+extras features (394 columns; GRAF alone is their first 385) depend only on (arch, input
    shape, class count). :class:`FeatureCache` computes them once per distinct key and stores the
    matrix in ``{cache_dir}/graf-{version}-{names hash}-{content hash}.npz`` (written atomically), so
    later runs and every method share them. The content hash covers the sorted keys, so a changed
    corpus gets a new file and a stale one is never read.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["EvalData", "FeatureCache", "Rows", "default_cache_dir", "from_columns"]

log = logging.getLogger(__name__)

Key = tuple[str, tuple[int, ...], int]  #: (arch, input shape, classes)


def default_cache_dir() -> Path:
    """``$SURROGATE_HUB_CACHE/evaluation``, else ``~/.cache/surrogate-hub/evaluation``."""
    root = os.environ.get("SURROGATE_HUB_CACHE")
    base = Path(root) if root else Path.home() / ".cache" / "surrogate-hub"
    return base / "evaluation"


# ---------------------------------------------------------------------------------------- features
class FeatureCache:
    """GRAF+extras features of (arch, shape, classes) keys, computed once, optionally kept on disk."""

    def __init__(self, keys: Sequence[Key], cache_dir: str | Path | None = None) -> None:
        from ..features.graf import GRAF_VERSION, feature_names, names_hash

        self.keys: list[Key] = sorted(set(keys))
        self._index = {k: i for i, k in enumerate(self.keys)}
        self.names = feature_names(True)
        self.n_graf = len(feature_names(False))  #: the GRAF columns come first, then the extras
        digest = hashlib.sha256(json.dumps(self.keys).encode()).hexdigest()[:16]
        self.file = None if cache_dir is None else (
            Path(cache_dir) / f"graf-{GRAF_VERSION}-{names_hash(self.names)}-{digest}.npz"
        )
        self.from_disk = False
        self.matrix = self._load() if self.file is not None else None
        if self.matrix is None:
            self.matrix = self._compute()
            if self.file is not None:
                self._save()

    def _load(self) -> np.ndarray | None:
        if not self.file.is_file():
            return None
        try:
            with np.load(self.file) as f:
                m = f["X"]
        except (OSError, ValueError, KeyError) as err:
            log.warning("%s: unreadable feature cache (%s); recomputing", self.file, err)
            return None
        if m.shape != (len(self.keys), len(self.names)):
            log.warning("%s: feature cache has shape %s, expected %s; recomputing", self.file, m.shape,
                        (len(self.keys), len(self.names)))
            return None
        self.from_disk = True
        return m

    def _compute(self) -> np.ndarray:
        from ..features.graf import graf_matrix

        X = np.empty((len(self.keys), len(self.names)), dtype=np.float64)
        groups: dict[tuple, list[int]] = {}
        for i, (_, shape, k) in enumerate(self.keys):
            groups.setdefault((shape, k), []).append(i)
        for (shape, k), idx in groups.items():
            X[idx] = graf_matrix([self.keys[i][0] for i in idx], shape, k, extras=True, errors="nan")[0]
        return X

    def _save(self) -> None:
        self.file.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.file.with_name(f".{self.file.name}.{os.getpid()}.tmp")
        with open(tmp, "wb") as f:
            np.savez(f, X=self.matrix)
        os.replace(tmp, self.file)

    def lookup(self, keys: Sequence[Key]) -> np.ndarray:
        """Feature rows for ``keys`` (each must be one the cache was built with)."""
        try:
            return self.matrix[[self._index[k] for k in keys]]
        except KeyError as err:
            raise KeyError(f"no cached features for {err.args[0]!r}") from None


# -------------------------------------------------------------------------------------------- rows
@dataclass(frozen=True, eq=False)
class Rows:
    """A set of evaluation rows (one per architecture and task), column by column.

    The object every method receives as ``train`` and ``test``. Columns are attributes and, for
    ports of dict-based code, items: ``rows["arch"]``, ``rows["val_acc"]``, ``rows["zcp_snip"]``.
    ``val_acc`` is ``None`` on test rows: a method cannot see the labels it is scored against.
    """

    arch: tuple[str, ...]
    task: tuple[str, ...]
    input_shape: tuple[tuple[int, ...], ...]
    num_classes: tuple[int, ...]
    n_params: np.ndarray
    flops: np.ndarray
    n_seeds: np.ndarray
    zcp: Mapping[str, np.ndarray]
    val_acc: np.ndarray | None
    cache: FeatureCache | None = field(default=None, repr=False)

    def __len__(self) -> int:
        return len(self.arch)

    def __getitem__(self, name: str) -> Any:
        if name.startswith("zcp_"):
            if name[4:] not in self.zcp:
                raise KeyError(f"no zero-cost proxy column {name!r}; the corpus has {sorted(self.zcp)}")
            return self.zcp[name[4:]]
        if name in ("cache", "zcp") or name not in self.__dataclass_fields__:
            raise KeyError(f"no column {name!r}")
        value = getattr(self, name)
        if value is None:
            raise KeyError(f"{name!r} is hidden on test rows (methods never see the labels they are scored on)")
        return value

    def __contains__(self, name: object) -> bool:
        try:
            self[name]  # type: ignore[index]
        except KeyError:
            return False
        return True

    @property
    def keys(self) -> list[Key]:
        return list(zip(self.arch, self.input_shape, self.num_classes))

    def graf(self, extras: bool = True) -> np.ndarray:
        """Cached GRAF features ``[len(self), 394]`` (``extras=False``: the 385 GRAF columns)."""
        if self.cache is None:
            raise RuntimeError("these rows have no feature cache")
        X = self.cache.lookup(self.keys)
        return X if extras else X[:, : self.cache.n_graf]

    def take(self, idx: Sequence[int] | np.ndarray) -> Rows:
        """The rows at ``idx``, in that order."""
        idx = np.asarray(idx, dtype=np.int64)
        pick = idx.tolist()
        return replace(
            self,
            arch=tuple(self.arch[i] for i in pick),
            task=tuple(self.task[i] for i in pick),
            input_shape=tuple(self.input_shape[i] for i in pick),
            num_classes=tuple(self.num_classes[i] for i in pick),
            n_params=self.n_params[idx],
            flops=self.flops[idx],
            n_seeds=self.n_seeds[idx],
            zcp={k: v[idx] for k, v in self.zcp.items()},
            val_acc=None if self.val_acc is None else self.val_acc[idx],
        )

    def unlabelled(self) -> Rows:
        """The same rows without ``val_acc`` (what a method sees as ``test``)."""
        return replace(self, val_acc=None)


# ------------------------------------------------------------------------------------------ corpus
@dataclass(frozen=True, eq=False)
class EvalData:
    """Everything evaluation needs from a corpus (see the module docstring)."""

    rows: Rows  #: all usable rows, labelled
    tasks: tuple[str, ...]
    proxies: tuple[str, ...]  #: zero-cost proxy names with a ``zcp_<name>`` column
    seed_pairs: Mapping[str, np.ndarray]  #: task -> [n_pairs, 2] accuracies of two seeds
    stats: Mapping[str, dict[str, int]]  #: task -> record and row counts
    content_hash: str  #: hash of the usable records (job id, arch, task, seed, accuracy)

    def task_index(self, task: str) -> np.ndarray:
        return np.flatnonzero(np.asarray(self.rows.task) == task)


def _float(v: Any) -> float:
    return math.nan if v is None else float(v)


def from_columns(columns: Any, *, cache_dir: str | Path | None = None, tasks: Sequence[str] | None = None) -> EvalData:
    """:class:`EvalData` from corpus columns (a ``datasets.Dataset`` or a mapping of lists).

    Needs ``arch``, ``task``, ``input_shape``, ``num_classes``, ``seed``, ``val_acc``, ``status``,
    ``n_params``, ``flops``; uses ``job_id`` and ``zcp_<name>`` columns when present. ``tasks``
    keeps only those tasks (each must exist). ``cache_dir``: where the feature matrix is kept
    (``None``: memory only).
    """
    names = list(getattr(columns, "column_names", None) or columns.keys())
    required = ["arch", "task", "input_shape", "num_classes", "seed", "val_acc", "status", "n_params", "flops"]
    missing = [c for c in required if c not in names]
    if missing:
        raise ValueError(f"the corpus has no column(s) {missing}; is this a surrogate-hub corpus?")
    col = {c: list(columns[c]) for c in required}
    n = len(col["arch"])
    job = list(columns["job_id"]) if "job_id" in names else [str(i) for i in range(n)]
    proxies = tuple(sorted(c[4:] for c in names if c.startswith("zcp_")))
    zcol = {p: np.array([_float(v) for v in columns[f"zcp_{p}"]]) for p in proxies}
    all_tasks = sorted(set(col["task"]))
    if tasks is not None:
        unknown = [t for t in tasks if t not in all_tasks]
        if unknown:
            raise ValueError(f"unknown task(s) {unknown}; the corpus has {all_tasks}")
        all_tasks = [t for t in all_tasks if t in set(tasks)]
    wanted = set(all_tasks)

    stats = {t: {"records": 0, "failed": 0, "zero_acc": 0, "usable": 0} for t in all_tasks}
    groups: dict[tuple[str, str], list[int]] = {}
    for i in range(n):
        t = col["task"][i]
        if t not in wanted:
            continue
        stats[t]["records"] += 1
        acc = _float(col["val_acc"][i])
        if col["status"][i] != "ok" or not math.isfinite(acc):
            stats[t]["failed"] += 1
        elif acc == 0:
            stats[t]["zero_acc"] += 1
        else:
            stats[t]["usable"] += 1
            groups.setdefault((t, col["arch"][i]), []).append(i)

    order = sorted(groups)  # by task, then arch: deterministic
    arch, task, shape, classes, label, n_seeds, params, flops = [], [], [], [], [], [], [], []
    zcp = {p: [] for p in proxies}
    pairs: dict[str, list[tuple[float, float]]] = {t: [] for t in all_tasks}
    digest = hashlib.sha256()
    for t, a in order:
        idx = groups[(t, a)]
        by_seed: dict[int, list[float]] = {}
        for i in idx:
            by_seed.setdefault(int(col["seed"][i]), []).append(float(col["val_acc"][i]))
            digest.update(f"{job[i]}\t{a}\t{t}\t{col['seed'][i]}\t{float(col['val_acc'][i])!r}\n".encode())
        seed_acc = {s: float(np.mean(v)) for s, v in sorted(by_seed.items())}
        if len(seed_acc) >= 2:
            s0, s1 = list(seed_acc)[:2]
            pairs[t].append((seed_acc[s0], seed_acc[s1]))
        first = idx[0]
        arch.append(a)
        task.append(t)
        shape.append(tuple(int(d) for d in col["input_shape"][first]))
        classes.append(int(col["num_classes"][first]))
        label.append(float(np.mean(list(seed_acc.values()))))
        n_seeds.append(len(seed_acc))
        params.append(_float(col["n_params"][first]))
        flops.append(_float(col["flops"][first]))
        for p in proxies:
            vals = zcol[p][idx]
            vals = vals[~np.isnan(vals)]
            zcp[p].append(float(vals.mean()) if len(vals) else math.nan)
    for t in all_tasks:
        stats[t]["rows"] = sum(1 for x in task if x == t)
        stats[t]["two_seed_rows"] = len(pairs[t])

    keys = list(zip(arch, shape, classes))
    cache = FeatureCache(keys, cache_dir)
    bad = np.isnan(cache.lookup(keys)[:, : cache.n_graf]).any(axis=1) if keys else np.zeros(0, bool)
    if bad.any():
        raise ValueError(
            f"{int(bad.sum())} usable record(s) have architectures without GRAF features, e.g. "
            f"{arch[int(np.flatnonzero(bad)[0])][:120]!r}: the corpus is inconsistent with this grammar"
        )
    rows = Rows(
        arch=tuple(arch),
        task=tuple(task),
        input_shape=tuple(shape),
        num_classes=tuple(classes),
        n_params=np.asarray(params, dtype=np.float64),
        flops=np.asarray(flops, dtype=np.float64),
        n_seeds=np.asarray(n_seeds, dtype=np.int64),
        zcp={p: np.asarray(v, dtype=np.float64) for p, v in zcp.items()},
        val_acc=np.asarray(label, dtype=np.float64),
        cache=cache,
    )
    return EvalData(
        rows=rows,
        tasks=tuple(all_tasks),
        proxies=proxies,
        seed_pairs={t: np.asarray(pairs[t], dtype=np.float64).reshape(-1, 2) for t in all_tasks},
        stats=stats,
        content_hash=digest.hexdigest()[:16],
    )


def load_corpus(corpus: str | Path, *, revision: str | None = None, cache_dir: str | Path | None = None,
                tasks: Sequence[str] | None = None) -> EvalData:
    """:class:`EvalData` of a corpus folder (with its ``zcp/`` proxies when present) or Hub repo id."""
    from ..corpus import load

    local = Path(corpus)
    ds = load(corpus, revision=revision, zcp=local.is_dir() and (local / "zcp").is_dir())
    return from_columns(ds, cache_dir=cache_dir, tasks=tasks)
