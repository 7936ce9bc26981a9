"""Best-so-far curves of search runs and their plots (matplotlib, imported when plotting).

Curves are read from each run's ``log.jsonl`` (so unfinished runs plot too): the best validation
accuracy among the first *n* trained candidates, against *n* and against the run's wall time.
Several runs of one strategy are shown as their mean with a band of one standard error.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = ["PlotError", "Run", "load_run", "load_runs", "best_so_far", "mean_se", "plot_runs"]


class PlotError(ValueError):
    """Run folders that cannot be plotted; the message names the folder."""


@dataclass(frozen=True)
class Run:
    path: Path
    config: dict
    trained: list[dict]  #: trained candidates' log events, in trained order

    @property
    def strategy(self) -> str:
        return self.config["strategy"]

    @property
    def task(self) -> str:
        return str(self.config["task"])

    @property
    def label(self) -> str:
        if self.strategy.startswith("surrogate"):
            return f"{self.strategy} ({Path(str(self.config.get('surrogate'))).name})"
        return self.strategy

    def curve(self) -> np.ndarray:
        return best_so_far([r.get("val_acc") for r in self.trained])

    def wall_curve(self, charge_cached: bool = True) -> tuple[np.ndarray, np.ndarray]:
        """(times, best so far) in the order trainings finished (with parallel workers that is not
        the trained order); times are the run's active seconds. With ``charge_cached``, each
        training read back from a cache (``cached: true``) adds its original seconds, shared by the
        run's workers, to the times from then on: the curve the run would have had training it."""
        order = sorted(self.trained, key=lambda r: r.get("wall") or 0.0)
        times = np.array([r.get("wall") or 0.0 for r in order], dtype=np.float64)
        if charge_cached:
            workers = max(1, int(self.config.get("workers") or 1))
            saved = [(r.get("train_seconds") or 0.0) if r.get("cached") else 0.0 for r in order]
            times = times + np.cumsum(saved) / workers
        return times, best_so_far([r.get("val_acc") for r in order])


def best_so_far(accs: Sequence[float | None]) -> np.ndarray:
    """Running maximum of ``accs``; failed candidates (None/NaN) count as 0."""
    values = np.array([0.0 if a is None else a for a in accs], dtype=np.float64)
    values = np.nan_to_num(values, nan=0.0)
    return np.maximum.accumulate(values) if len(values) else values


def mean_se(curves: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard error over curves, ignoring NaN (a run not started yet at that point);
    shorter curves are held at their last value."""
    n = max(len(c) for c in curves)
    m = np.array([np.r_[c, np.full(n - len(c), c[-1] if len(c) else np.nan)] for c in curves])
    count = np.sum(~np.isnan(m), axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.nansum(m, axis=0) / count
        var = np.nansum((m - mean) ** 2, axis=0) / np.maximum(count - 1, 1)
        se = np.where(count > 1, np.sqrt(var / np.maximum(count, 1)), 0.0)
    return np.where(count > 0, mean, np.nan), se


def load_run(path: str | Path) -> Run:
    path = Path(path)
    cfg_path, log_path = path / "config.json", path / "log.jsonl"
    if not cfg_path.is_file() or not log_path.is_file():
        raise PlotError(f"{path}: not a search run folder (needs config.json and log.jsonl)")
    config = json.loads(cfg_path.read_text(encoding="utf-8"))["config"]
    trained = []
    for line in log_path.read_text(encoding="utf-8").splitlines():
        try:
            event = json.loads(line)
        except json.JSONDecodeError:
            break  # an unfinished last line
        if event.get("event") == "candidate" and event.get("trained"):
            trained.append(event)
    trained.sort(key=lambda e: e["trained_index"])
    return Run(path, config, trained)


def load_runs(paths: Iterable[str | Path]) -> list[Run]:
    """Runs from folders; a folder that is not a run is searched (recursively) for run folders."""
    runs = []
    for p in map(Path, paths):
        if (p / "config.json").is_file():
            runs.append(load_run(p))
        elif p.is_dir():
            found = sorted(c.parent for c in p.rglob("log.jsonl"))
            if not found:
                raise PlotError(f"{p}: no search runs in this folder")
            runs.extend(load_run(f) for f in found)
        else:
            raise PlotError(f"{p}: no such folder")
    if not any(r.trained for r in runs):
        raise PlotError("the runs have no trained candidates yet")
    return runs


def plot_runs(
    runs: Sequence[Run], out: str | Path, *, title: str | None = None, label: Callable[[Run], str] | None = None
) -> Path:
    """Write a PNG: one row per task, columns = best-so-far vs trained candidates and vs wall time
    (trainings read back from a cache charged at their original cost: :meth:`Run.wall_curve`)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    label = label or (lambda r: r.label)
    tasks = sorted({r.task for r in runs})
    fig, axes = plt.subplots(len(tasks), 2, figsize=(11, 3.6 * len(tasks)), squeeze=False)
    for row, task in zip(axes, tasks):
        groups: dict[str, list[Run]] = {}
        for r in runs:
            if r.task == task and r.trained:
                groups.setdefault(label(r), []).append(r)
        for name, members in sorted(groups.items()):
            mean, se = mean_se([r.curve() for r in members])
            x = np.arange(1, len(mean) + 1)
            (line,) = row[0].plot(x, mean, drawstyle="steps-post", label=f"{name} (n={len(members)})")
            row[0].fill_between(x, mean - se, mean + se, step="post", color=line.get_color(), alpha=0.2)
            walls = [r.wall_curve() for r in members]
            end = max(t[-1] for t, _ in walls) / 60
            grid = np.linspace(0, end, 200)
            on_grid = np.array([_step_at(t / 60, c, grid) for t, c in walls])
            on_grid[:, np.isnan(on_grid).any(axis=0)] = np.nan  # from the time every run has a result
            wmean, wse = mean_se(list(on_grid))
            row[1].plot(grid, wmean, drawstyle="steps-post", color=line.get_color())
            row[1].fill_between(grid, wmean - wse, wmean + wse, step="post", color=line.get_color(), alpha=0.2)
        row[0].set(xlabel="trained candidates", ylabel="best validation accuracy", title=task)
        row[1].set(xlabel="wall time (min)", ylabel="best validation accuracy", title=task)
        row[0].legend(fontsize=8, loc="lower right")
        for ax in row:
            ax.grid(alpha=0.3)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out


def _step_at(times: np.ndarray, values: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """The step function (value after each time) sampled on ``grid``; NaN before the first point."""
    idx = np.searchsorted(times, grid, side="right") - 1
    out = np.where(idx >= 0, values[np.clip(idx, 0, None)], np.nan)
    return out
