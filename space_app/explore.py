"""The Explore tab's data: the corpus (local folder or Hub dataset), its cross-task τ matrix and
the surrogates' evaluation table. Loading never raises: a missing corpus becomes a message."""

from __future__ import annotations

import json
import logging
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

log = logging.getLogger("surrogate_hub.space_app")

DEFAULT_CORPUS_REPO = "surrogate-hub/einspace-offline-corpus-v2"
LOCAL_CORPUS = Path("corpus") / "einspace-offline-v2"
TAU_FILE = "report/tau_matrix.json"


@dataclass
class CorpusView:
    source: str
    frame: pd.DataFrame | None  #: one row per record: task, status, val_acc, n_params, flops, origin, arch
    tau: dict | None  #: the report's tau_matrix.json ({"tasks", "tau", "n"}) when found
    message: str  #: what was loaded, or why nothing was

    @property
    def available(self) -> bool:
        return self.frame is not None

    @property
    def tasks(self) -> list[str]:
        return sorted(self.frame["task"].unique()) if self.frame is not None else []

    @classmethod
    def load(cls, source: str | None, repo_root: Path) -> CorpusView:
        """The corpus at ``source`` (folder or Hub dataset id); by default the repository's corpus
        v2 folder when present, else the published corpus v2 on the Hub."""
        if source is None:
            local = repo_root / LOCAL_CORPUS
            source = str(local) if local.is_dir() else DEFAULT_CORPUS_REPO
        shown = source
        if Path(source).is_absolute() and Path(source).is_relative_to(repo_root):
            shown = str(Path(source).relative_to(repo_root))
        try:
            from surrogate_hub.corpus import load

            ds = load(source)
            columns = ["task", "status", "val_acc", "n_params", "flops", "origin", "arch"]
            frame = ds.select_columns([c for c in columns if c in ds.column_names]).to_pandas()
        except Exception as err:  # noqa: BLE001 - the page explains instead of failing to start
            log.warning("corpus %s not available: %s", source, err)
            return cls(source, None, None, (
                f"**The corpus could not be loaded** from `{source}` ({type(err).__name__}: {str(err)[:300]}). "
                "Set `SURROGATE_HUB_CORPUS` to a corpus folder or a Hub dataset id "
                f"(for example `{DEFAULT_CORPUS_REPO}`) and restart the Space. Predict, Rank and Design work without it."
            ))
        tau, tau_note = _load_tau(source)
        ok = frame[frame["status"] == "ok"]
        msg = (f"Corpus `{shown}`: {len(frame):,} evaluations of {frame['arch'].nunique():,} architectures on "
               f"{frame['task'].nunique()} tasks, {len(ok):,} trained successfully.{tau_note}")
        return cls(source, frame, tau, msg)

    def header(self) -> str:
        text = ("The training data of the surrogates: architectures sampled from einspace (and evolved), each "
                "trained on small tasks under a fixed budget. " + self.message)
        return text

    def ok(self) -> pd.DataFrame:
        assert self.frame is not None
        return self.frame[(self.frame["status"] == "ok") & self.frame["val_acc"].notna()]

    def top(self, task: str, k: int) -> pd.DataFrame:
        """The ``k`` best architectures of ``task`` by mean validation accuracy over their
        successful runs (an architecture trained with several seeds appears once)."""
        rows = self.ok()
        rows = rows[rows["task"] == task]
        grouped = rows.groupby("arch", sort=False).agg(
            val_acc=("val_acc", "mean"), runs=("val_acc", "size"), params=("n_params", "first"),
            flops=("flops", "first"), origin=("origin", "first"))
        grouped = grouped.sort_values("val_acc", ascending=False, kind="stable").head(k)
        return pd.DataFrame({
            "rank": range(1, len(grouped) + 1),
            "val_acc": grouped["val_acc"].round(4).to_numpy(),
            "runs": grouped["runs"].to_numpy(),
            "params": grouped["params"].astype("int64").to_numpy(),
            "flops": grouped["flops"].astype("int64").to_numpy(),
            "origin": grouped["origin"].to_numpy(),
            "architecture": grouped.index.to_numpy(),
        })

    def accuracy_figure(self):
        """Box plots of validation accuracy per task (successful records), with counts and failures."""
        from matplotlib.figure import Figure

        assert self.frame is not None
        tasks = self.tasks
        ok = self.ok()
        data = [ok.loc[ok["task"] == t, "val_acc"].to_numpy() for t in tasks]
        fig = Figure(figsize=(9, 4.2), dpi=100, layout="constrained")
        ax = fig.add_subplot()
        ax.boxplot(data, showfliers=True, flierprops={"markersize": 2, "alpha": 0.4})
        rng = np.random.default_rng(0)
        for i, values in enumerate(data, 1):
            ax.scatter(i + rng.uniform(-0.18, 0.18, len(values)), values, s=3, alpha=0.35, color="#219ebc")
        failed = self.frame[self.frame["status"] != "ok"].groupby("task").size()
        ax.set_xticks(range(1, len(tasks) + 1),
                      [f"{t}\n{len(d)} ok, {int(failed.get(t, 0))} failed" for t, d in zip(tasks, data)], fontsize=8)
        ax.set_ylabel("validation accuracy")
        ax.set_title("Validation accuracy of the corpus architectures, per task", fontsize=10)
        ax.grid(axis="y", alpha=0.3)
        return fig

    def tau_note(self) -> str:
        assert self.tau is not None
        tau = np.asarray(self.tau["tau"], dtype=float)
        off = tau[~np.eye(len(tau), dtype=bool)]
        return ("**How much do tasks agree?** Kendall τ between the validation accuracies of the same "
                "architectures on two tasks (1: same order, 0: unrelated). "
                f"Off-diagonal mean {np.nanmean(off):.2f}, range {np.nanmin(off):.2f} to {np.nanmax(off):.2f}: "
                "a good architecture for one task is only loosely a good one for another, which is why the "
                "surrogates are evaluated on tasks they were not trained on.")

    def tau_figure(self):
        from matplotlib.figure import Figure

        assert self.tau is not None
        tasks = self.tau["tasks"]
        tau = np.asarray(self.tau["tau"], dtype=float)
        n = self.tau.get("n")
        fig = Figure(figsize=(6.6, 5.4), dpi=100, layout="constrained")
        ax = fig.add_subplot()
        im = ax.imshow(tau, vmin=-1, vmax=1, cmap="RdBu_r")
        ax.set_xticks(range(len(tasks)), tasks, rotation=40, ha="right", fontsize=8)
        ax.set_yticks(range(len(tasks)), tasks, fontsize=8)
        for i in range(len(tasks)):
            for j in range(len(tasks)):
                if not math.isnan(tau[i, j]):
                    label = f"{tau[i, j]:.2f}" + (f"\n({n[i][j]})" if n is not None and i != j else "")
                    ax.text(j, i, label, ha="center", va="center", fontsize=7,
                            color="white" if abs(tau[i, j]) > 0.6 else "black")
        fig.colorbar(im, ax=ax, shrink=0.8, label="Kendall τ (shared architectures in brackets)")
        ax.set_title("Cross-task rank agreement of validation accuracy", fontsize=10)
        return fig


def _load_tau(source: str) -> tuple[dict | None, str]:
    local = Path(source)
    try:
        if local.is_dir():
            path = local / TAU_FILE
        else:
            from huggingface_hub import hf_hub_download

            path = Path(hf_hub_download(source, TAU_FILE, repo_type="dataset"))
        tau = json.loads(path.read_text(encoding="utf-8"))
        if not {"tasks", "tau"} <= set(tau):
            raise ValueError("expected the keys 'tasks' and 'tau'")
        return tau, ""
    except Exception as err:  # noqa: BLE001
        return None, f" (No cross-task τ matrix: `{TAU_FILE}` could not be read: {type(err).__name__}.)"


@dataclass
class EvaluationView:
    table: pd.DataFrame
    note: str


def evaluation_table(path: Path | None, repo_root: Path, surrogates: dict[str, Any]) -> EvaluationView:
    """The evaluation of surrogates and baselines from a ``surrogates.json`` (by default the
    repository's ``benchmarks/results/surrogates.json``), or else the metrics stored in each loaded
    surrogate's config."""
    path = path or repo_root / "benchmarks" / "results" / "surrogates.json"
    if path.is_file():
        try:
            return _from_results(json.loads(path.read_text(encoding="utf-8")), path)
        except (ValueError, KeyError, TypeError) as err:
            log.warning("%s: not an evaluation file: %s", path, err)
    rows = []
    for name, sur in surrogates.items():
        metrics = getattr(getattr(sur.model, "config", None), "metrics", None) or {}
        loo = metrics.get("kendall_tau_loo") or {}
        if not loo:
            continue
        row: dict[str, Any] = {"surrogate": name}
        row.update({t: round(v, 3) for t, v in sorted(loo.items())})
        row["mean τ (held-out task)"] = metrics.get("kendall_tau_loo_mean")
        row["mean τ (within task)"] = metrics.get("kendall_tau_within_task_mean")
        rows.append(row)
    note = ("### Surrogate evaluation\nKendall τ between predicted and real validation accuracy on each task when "
            "the surrogate was fitted on the *other* tasks (leave-one-task-out), as stored in each surrogate's config.")
    if not rows:
        note += " No loaded surrogate stores its evaluation metrics."
    return EvaluationView(pd.DataFrame(rows), note)


def _from_results(results: dict, path: Path) -> EvaluationView:
    tasks = list(results["tasks"])
    rows = []
    for method, per_task in results["loo"].items():
        row: dict[str, Any] = {"method": method}
        row.update({t: round(per_task[t]["tau"], 3) for t in tasks})
        row["mean τ (held-out task)"] = round(per_task["mean"]["tau"], 3)
        row["mean ρ"] = round(per_task["mean"]["rho"], 3)
        row["P@10%"] = round(per_task["mean"]["p_at_10"], 3)
        within = (((results.get("within") or {}).get(method) or {}).get("mean") or {}).get("tau")
        row["mean τ (within task)"] = None if within is None else round(within, 3)
        rows.append(row)
    table = pd.DataFrame(rows).sort_values("mean τ (held-out task)", ascending=False, kind="stable")
    n_rows = results.get("n_rows", {})
    note = ("### Surrogate evaluation\nKendall τ between predicted and real validation accuracy on each task, "
            "for a surrogate fitted on the **other** tasks (leave-one-task-out: zero-shot transfer), with "
            "baselines: single zero-cost proxies (`zcp:`), parameter count, FLOPs and random. "
            "ρ: Spearman; P@10%: share of the true top 10% found in the predicted top 10%; within task: "
            "5-fold cross-validation. "
            + (f"Rows per task: {', '.join(f'{t} {n}' for t, n in n_rows.items())}. " if n_rows else "")
            + "`graf-xgb` is the recipe of the embedded `einspace-graf-xgb` (GRAF + extras, XGBoost). "
            + f"Source: `{path.name}`.")
    return EvaluationView(table.reset_index(drop=True), note)
