"""Summarise a corpus: a markdown report and PNG plots.

Writes ``{out}/report.md`` with records and failures per task, the signal of each task's labels
(near-chance share, noise ceiling), accuracy statistics, build time, and the cross-task Kendall τ
matrix on the shared pool (how well an architecture ranking on one task transfers to another), plus
``acc_per_task.png``, ``acc_vs_params.png``, ``tau_matrix.png``, ``learning_curves.png`` (when the
records carry curves) and ``signal.json``.

    python training/corpus_report.py corpus/einspace-offline-v1 [--out corpus/einspace-offline-v1/report]
"""

from __future__ import annotations

import argparse
import json
import statistics
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np


def shared_tau(records: list[dict]) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Kendall τ between tasks over the shared-pool architectures trained successfully on both."""
    from scipy.stats import kendalltau

    acc: dict[str, dict[str, float]] = defaultdict(dict)
    first_seed = min(r["seed"] for r in records)  # second-seed (noise) runs are not mixed in
    for r in records:
        if r["pool"] == "shared" and r["origin"] == "random" and r["status"] == "ok" and r["seed"] == first_seed:
            acc[r["task"]][r["arch"]] = r["val_acc"]
    tasks = sorted(acc)
    tau = np.full((len(tasks), len(tasks)), np.nan)
    n = np.zeros((len(tasks), len(tasks)), dtype=int)
    for i, a in enumerate(tasks):
        for j, b in enumerate(tasks):
            common = sorted(set(acc[a]) & set(acc[b]))
            n[i, j] = len(common)
            if len(common) >= 3:
                tau[i, j] = kendalltau([acc[a][x] for x in common], [acc[b][x] for x in common]).statistic
    return tasks, tau, n


def report(corpus: Path, out: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from surrogate_hub.corpus.build import read_shards

    records = list(read_shards(corpus / "data", quarantine=False)[0].values())
    if not records:
        raise SystemExit(f"{corpus}: no records")
    out.mkdir(parents=True, exist_ok=True)
    tasks = sorted({r["task"] for r in records})
    ok = {t: [r for r in records if r["task"] == t and r["status"] == "ok"] for t in tasks}

    fig, ax = plt.subplots(figsize=(9, 4))
    ax.boxplot([[r["val_acc"] for r in ok[t]] or [np.nan] for t in tasks], tick_labels=tasks, showfliers=True)
    ax.set_ylabel("validation accuracy")
    ax.set_title("Accuracy distribution per task (successful trainings)")
    ax.tick_params(axis="x", rotation=30)
    fig.tight_layout()
    fig.savefig(out / "acc_per_task.png", dpi=110)
    plt.close(fig)

    cols = min(4, len(tasks))
    rows_n = (len(tasks) + cols - 1) // cols
    fig, axes = plt.subplots(rows_n, cols, figsize=(3.2 * cols, 2.8 * rows_n), squeeze=False)
    for ax, t in zip(axes.flat, tasks):
        ax.scatter([r["n_params"] for r in ok[t]], [r["val_acc"] for r in ok[t]], s=6, alpha=0.6,
                   c=["tab:red" if r["origin"] == "evolution" else "tab:blue" for r in ok[t]])
        ax.set_xscale("log")
        ax.set_title(t, fontsize=9)
        ax.set_xlabel("parameters", fontsize=8)
        ax.set_ylabel("val acc", fontsize=8)
    for ax in list(axes.flat)[len(tasks):]:
        ax.axis("off")
    fig.suptitle("Accuracy vs parameters (red: evolution, blue: random)", fontsize=10)
    fig.tight_layout()
    fig.savefig(out / "acc_vs_params.png", dpi=110)
    plt.close(fig)

    curves = {t: [r["val_curve"] for r in ok[t] if r.get("val_curve")] for t in tasks}
    if any(curves.values()):
        fig, axes = plt.subplots(rows_n, cols, figsize=(3.2 * cols, 2.6 * rows_n), squeeze=False)
        for ax, t in zip(axes.flat, tasks):
            mine = curves[t]
            if mine:
                length = max(len(c) for c in mine)
                grid = np.array([c + [np.nan] * (length - len(c)) for c in mine])
                epochs = np.arange(1, length + 1)
                for c in mine[:: max(1, len(mine) // 60)]:
                    ax.plot(range(1, len(c) + 1), c, color="tab:blue", alpha=0.12, lw=0.7)
                ax.plot(epochs, np.nanmedian(grid, axis=0), color="black", lw=1.5, label="median")
                ax.plot(epochs, np.nanquantile(grid, 0.9, axis=0), color="tab:red", lw=1.2, label="90th pct")
            ax.set_title(t, fontsize=9)
            ax.set_xlabel("epoch", fontsize=8)
            ax.set_ylabel("val acc", fontsize=8)
        for ax in list(axes.flat)[len(tasks):]:
            ax.axis("off")
        axes.flat[0].legend(fontsize=7)
        fig.suptitle("Learning curves (validation accuracy after each epoch)", fontsize=10)
        fig.tight_layout()
        fig.savefig(out / "learning_curves.png", dpi=110)
        plt.close(fig)

    from surrogate_hub.corpus.signal import task_signal

    signal = task_signal(records)
    (out / "signal.json").write_text(json.dumps(signal, indent=1))

    tau_tasks, tau, n = shared_tau(records)
    fig, ax = plt.subplots(figsize=(6, 5))
    im = ax.imshow(tau, vmin=-1, vmax=1, cmap="RdBu_r")
    ax.set_xticks(range(len(tau_tasks)), tau_tasks, rotation=45, ha="right")
    ax.set_yticks(range(len(tau_tasks)), tau_tasks)
    for i in range(len(tau_tasks)):
        for j in range(len(tau_tasks)):
            if not np.isnan(tau[i, j]):
                ax.text(j, i, f"{tau[i, j]:.2f}", ha="center", va="center", fontsize=7)
    fig.colorbar(im, ax=ax, label="Kendall τ")
    ax.set_title("Cross-task Kendall τ on the shared pool")
    fig.tight_layout()
    fig.savefig(out / "tau_matrix.png", dpi=110)
    plt.close(fig)

    lines = [f"# Corpus report: `{corpus.name}`", "", f"{len(records)} records, {sum(len(v) for v in ok.values())} successful, "
             f"{len({r['arch'] for r in records})} distinct architectures.", "",
             "| task | records | ok | failures | val acc median | p90 | max | CPU hours | mean s/record |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for t in tasks:
        mine = [r for r in records if r["task"] == t]
        accs = sorted(r["val_acc"] for r in ok[t])
        fails = Counter(r["status"] for r in mine if r["status"] != "ok")
        secs = [r["train_seconds"] or 0 for r in mine]
        q = (lambda p: f"{np.quantile(accs, p):.3f}") if accs else (lambda p: "–")
        lines.append(
            f"| {t} | {len(mine)} | {len(accs)} | {', '.join(f'{k} {v}' for k, v in sorted(fails.items())) or 'none'} | "
            f"{q(0.5)} | {q(0.9)} | {q(1.0)} | {sum(secs) / 3600:.2f} | {statistics.mean(secs):.1f} |"
        )
    lines += ["", "## Signal of each task's labels", "",
              "*Near chance*: successful random architectures (first seed) within 1.2× of chance. *Noise ceiling*: Kendall τ "
              "between two training seeds of the same architectures; no predictor ranks a task better.", "",
              "| task | near chance | noise ceiling τ | pairs |", "| --- | --- | --- | --- |"]
    for t in tasks:
        sig = signal[t]
        near = "–" if sig["near_chance_share"] is None else f"{100 * sig['near_chance_share']:.0f} %"
        ceiling = "–" if sig["noise_ceiling"] is None else f"{sig['noise_ceiling']:.3f}"
        lines.append(f"| {t} | {near} | {ceiling} | {sig['noise_pairs']} |")
    by_origin = Counter((r["origin"], r["status"] == "ok") for r in records)
    lines += ["", "Records by origin (ok / all): " + ", ".join(
        f"{o} {by_origin[(o, True)]}/{by_origin[(o, True)] + by_origin[(o, False)]}" for o in ("random", "evolution", "seed")), ""]
    lines += ["## Cross-task Kendall τ (shared pool)", "",
              "τ between validation accuracies of the shared random architectures trained successfully on both tasks "
              "(number of common architectures in brackets).", "",
              "| | " + " | ".join(tau_tasks) + " |", "| --- |" + " --- |" * len(tau_tasks)]
    for i, a in enumerate(tau_tasks):
        cells = [("–" if np.isnan(tau[i, j]) else f"{tau[i, j]:.2f} ({n[i, j]})") for j in range(len(tau_tasks))]
        lines.append(f"| {a} | " + " | ".join(cells) + " |")
    off = tau[~np.eye(len(tau_tasks), dtype=bool)] if len(tau_tasks) > 1 else np.array([])
    if off.size and not np.all(np.isnan(off)):
        lines += ["", f"Mean off-diagonal τ: {np.nanmean(off):.3f}."]
    lines += ["", "![accuracy per task](acc_per_task.png)", "", "![accuracy vs parameters](acc_vs_params.png)", "",
              "![cross-task tau](tau_matrix.png)", ""]
    if (out / "learning_curves.png").exists():
        lines += ["![learning curves](learning_curves.png)", ""]
    path = out / "report.md"
    path.write_text("\n".join(lines), encoding="utf-8")
    (out / "tau_matrix.json").write_text(json.dumps({"tasks": tau_tasks, "tau": np.where(np.isnan(tau), None, tau).tolist(), "n": n.tolist()}, indent=1))
    return path


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("corpus", type=Path)
    p.add_argument("--out", type=Path, default=None, help="default: CORPUS/report")
    args = p.parse_args(argv)
    print(report(args.corpus, args.out or args.corpus / "report"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
