"""Forest surrogates against GRAF-XGBoost, and the calibration of the forest's spread.

Runs the library's evaluation protocol (:mod:`surrogate_hub.evaluation`: leave-one-task-out and
within-task 5-fold CV, seed 0) for ``graf-xgb``, ``forest`` and ``forest-zcp`` (and whatever
``--methods`` names), then the leave-one-task-out calibration of the forests' spread
(:mod:`surrogate_hub.evaluation.calibration`). Writes ``benchmarks/results/forest.json`` (the
evaluation document plus ``calibration``), ``forest.md`` (the evaluation report plus a calibration
table) and ``forest_calibration.png`` (|error| against spread, held-out rows of every task)::

    python benchmarks/forest.py corpus/einspace-offline-v2   # corpus v1: forest_v1.*
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import RESULTS, machine, table

ROOT = Path(__file__).resolve().parents[1]


def calibration_table(calib: dict) -> str:
    rows = []
    for name, res in calib.items():
        for task, m in [*res["by_task"].items(), ("mean over tasks", res["mean"]), ("all rows", res["pooled"])]:
            rows.append({"method": name, "task": task, **{k: ("–" if m.get(k) is None else f"{m[k]:.3f}") for k in
                         ("within_1", "within_2", "tau_abs_error_spread", "mean_spread", "rmse")}})
    return table(rows, ["method", "task", "within_1", "within_2", "tau_abs_error_spread", "mean_spread", "rmse"])


def plot(calib: dict, out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(calib), figsize=(5 * len(calib), 4), squeeze=False)
    for ax, (name, res) in zip(axes[0], calib.items()):
        r = res["rows"]
        mu, sd, y = (np.array([np.nan if v is None else v for v in r[k]]) for k in ("score", "spread", "truth"))
        ok = np.isfinite(mu) & np.isfinite(sd) & np.isfinite(y)
        ax.scatter(sd[ok], np.abs(y[ok] - mu[ok]), s=4, alpha=0.4)
        lim = float(np.nanmax(sd[ok])) if ok.any() else 1.0
        ax.plot([0, lim], [0, lim], "k--", lw=1, label="|error| = spread")
        ax.plot([0, lim], [0, 2 * lim], "k:", lw=1, label="|error| = 2 spread")
        p = res["pooled"]
        ax.set_title(f"{name}: within 1σ {p['within_1']:.2f}, 2σ {p['within_2']:.2f}, τ {p['tau_abs_error_spread']:.2f}")
        ax.set_xlabel("spread across trees (std)")
        ax.set_ylabel("|true normalised target - score|")
        ax.legend(loc="upper left", fontsize=8)
    fig.suptitle("Leave-one-task-out: held-out rows of every task")
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("corpus", nargs="?", default=str(ROOT / "corpus" / "einspace-offline-v2"))
    p.add_argument("--methods", nargs="+", default=["graf-xgb", "forest", "forest-zcp"])
    p.add_argument("--calibrate", nargs="+", default=["forest", "forest-zcp"], choices=["forest", "forest-zcp", "extra-trees"])
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--no-within", action="store_true", help="leave-one-task-out only")
    p.add_argument("--out", default=str(RESULTS / "forest.json"))
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)

    from surrogate_hub.evaluation import evaluate, load_corpus, markdown
    from surrogate_hub.evaluation.calibration import calibrate
    from surrogate_hub.evaluation.methods import PAPER_PROXIES, forest
    from surrogate_hub.evaluation.report import _atomic_write

    start = time.perf_counter()
    data = load_corpus(args.corpus)
    res = evaluate(data, args.methods, seed=args.seed, within=not args.no_within)
    settings = {"forest": {}, "forest-zcp": {"zcp": PAPER_PROXIES}, "extra-trees": {"algorithm": "extra-trees"}}
    calib = {}
    for name in args.calibrate:
        tic = time.perf_counter()
        calib[name] = calibrate(data, lambda tr, te, seed, kw=settings[name]: forest(tr, te, seed, return_std=True, **kw),
                                seed=args.seed)
        logging.info("%s calibration: %s (%.0f s)", name, calib[name]["pooled"], time.perf_counter() - tic)
    res.update({"corpus": str(args.corpus), "calibration": calib, "machine": machine(),
                "seconds": round(time.perf_counter() - start, 1)})
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    _atomic_write(out, json.dumps(res, indent=1) + "\n")
    png = out.with_name(out.stem + "_calibration.png")
    plot(calib, png)
    md = markdown(res).replace("# Surrogate evaluation", "# Forest surrogates: evaluation and spread calibration", 1)
    md += (
        "\n## Calibration of the spread (leave-one-task-out)\n\n"
        "Spread = standard deviation of the trees' scores; truth = the held-out task's accuracies normalised "
        "within the task (percentile), the scale the surrogate is trained on. within_1/within_2: share of rows "
        "with |truth - score| <= 1/2 spreads (about 0.68/0.95 if the spread were a calibrated normal sd); "
        "tau_abs_error_spread: Kendall tau between |error| and spread. "
        f"Plot: `{png.name}`.\n\n" + calibration_table(calib) + "\n"
    )
    _atomic_write(out.with_suffix(".md"), md)
    print(calibration_table(calib))
    for name in args.methods:
        m = res["methods"][name]
        print(f"{name}: LOO tau {m['loo']['tau']['mean']:.3f}" + (
            f", within tau {m['within']['tau']['mean']:.3f}" if m.get("within") else ""))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
