"""How much signal a task's labels carry: the figures reported next to every score.

- **near-chance share**: the share of successful architectures whose validation accuracy is within
  ``factor`` (1.2) times chance (1 / classes; the offline tasks are balanced). Labels of such
  architectures are mostly noise.
- **noise ceiling**: Kendall tau between two training seeds of the same architectures on the same
  task (same budget). No surrogate can rank a task's architectures better than the task ranks
  them itself, so surrogate scores are read against this ceiling.

Pure functions over plain records (dicts with ``arch``, ``task``, ``seed``, ``status``, ``val_acc``,
``num_classes``), so they work on a corpus, a benchmark's rows or a search log alike.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

__all__ = ["kendall_tau", "near_chance_share", "seed_pairs", "noise_ceiling", "task_signal"]


def kendall_tau(x: Sequence[float], y: Sequence[float]) -> float | None:
    """Kendall's tau-b of two equally long sequences (None for fewer than 3 pairs or no variance)."""
    if len(x) != len(y):
        raise ValueError(f"kendall_tau needs equally long inputs, got {len(x)} and {len(y)}")
    if len(x) < 3:
        return None
    from scipy.stats import kendalltau

    tau = kendalltau(x, y).statistic
    return None if tau is None or math.isnan(tau) else float(tau)


def near_chance_share(accuracies: Iterable[float], num_classes: int, factor: float = 1.2) -> float | None:
    """Share of ``accuracies`` at most ``factor`` / ``num_classes`` (None when empty)."""
    values = [a for a in accuracies if a is not None and not math.isnan(a)]
    if not values:
        return None
    return sum(a <= factor / num_classes for a in values) / len(values)


def seed_pairs(records: Iterable[Mapping[str, Any]], seeds: tuple[int, int] | None = None) -> dict[str, list[tuple[float, float]]]:
    """Per task, (accuracy with seed a, accuracy with seed b) of architectures trained successfully
    with both seeds. ``seeds`` defaults to the two smallest seeds present for each architecture."""
    by_key: dict[tuple[str, str], dict[int, float]] = defaultdict(dict)
    for r in records:
        if r.get("status") == "ok" and r.get("val_acc") is not None:
            by_key[(r["task"], r["arch"])][int(r["seed"])] = float(r["val_acc"])
    pairs: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for (task, _), accs in by_key.items():
        if seeds is not None:
            if seeds[0] in accs and seeds[1] in accs:
                pairs[task].append((accs[seeds[0]], accs[seeds[1]]))
        elif len(accs) >= 2:
            a, b = sorted(accs)[:2]
            pairs[task].append((accs[a], accs[b]))
    return dict(pairs)


def noise_ceiling(pairs: Sequence[tuple[float, float]]) -> float | None:
    """Kendall tau between the two seeds' accuracies (None for fewer than 3 pairs)."""
    return kendall_tau([p[0] for p in pairs], [p[1] for p in pairs])


def task_signal(records: Iterable[Mapping[str, Any]], factor: float = 1.2) -> dict[str, dict[str, Any]]:
    """Per task: rows, successful rows, near-chance share (of successful random architectures, first
    seed), noise ceiling and its number of pairs, median and best validation accuracy."""
    records = list(records)
    pairs = seed_pairs(records)
    out: dict[str, dict[str, Any]] = {}
    for task in sorted({r["task"] for r in records}):
        rows = [r for r in records if r["task"] == task]
        ok = [r for r in rows if r.get("status") == "ok" and r.get("val_acc") is not None]
        first_seed = min((int(r["seed"]) for r in rows), default=0)
        random_ok = [r["val_acc"] for r in ok if r.get("origin") == "random" and int(r["seed"]) == first_seed]
        classes = int(rows[0]["num_classes"])
        accs = sorted(r["val_acc"] for r in ok)
        out[task] = {
            "rows": len(rows),
            "ok": len(ok),
            "num_classes": classes,
            "near_chance_share": near_chance_share(random_ok, classes, factor),
            "noise_ceiling": noise_ceiling(pairs.get(task, [])),
            "noise_pairs": len(pairs.get(task, [])),
            "median_acc": accs[len(accs) // 2] if accs else None,
            "best_acc": accs[-1] if accs else None,
        }
    return out
