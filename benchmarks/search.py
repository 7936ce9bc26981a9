"""Surrogate-accelerated search vs regularised evolution on tasks held out from the surrogate's corpus.

For each held-out task and seed, every strategy runs with the same budget of trained candidates
(the same initial population for the evolution-based ones). The GRAF surrogates are fitted on the
corpus *without* the held-out tasks (saved once under ``{runs}/surrogates/``), and the refits during
a search add those same corpus rows as weighted transfer data. Every run is an ordinary resumable
search folder under ``{runs}/{task}/{variant}/seed{n}``: rerunning the same command continues where
it stopped (finished runs are read back, unfinished ones resume).

Writes ``--results`` (JSON: per task and strategy the best validation accuracy at each trained
count, mean and s.e. over seeds, final test accuracy, ``trainings_to_baseline_best``) and a PNG
next to it, and prints a table.

``trainings_to_baseline_best``: the fraction of the baseline's (``evolution``) trainings that a
strategy needed for its mean best-so-far curve to reach the baseline's mean final best; null if it
never did. ``per_seed`` gives the same per seed, against that seed's baseline run.

Full size (5,400 trained candidates: about 2-3 hours with 2 workers on an unloaded 2-core machine, at
corpus v1's ~2.5 s per candidate; several times that on a loaded one)::

    python benchmarks/search.py --tasks mult-digits tile-digits synth-language --seeds 0 1 2 \\
        --population 30 --budget 120 --workers 2 --label full

The forest rows (issue 16: forest-filter, and ucb against mean acquisition on the same tasks, seeds
and budgets; ``forest`` expands to ``evolution surrogate-filter:graf surrogate-filter:forest
surrogate-filter:forest+ucb``), at the reduced size below, into their own results file::

    python benchmarks/search.py --tasks mult-digits tile-digits synth-language --seeds 0 1 \\
        --population 8 --budget 20 --proposals 16 --train-per-round 4 --refit-every 8 --final-epochs 5 \\
        --strategies forest --workers 2 --label reduced-forest --results benchmarks/results/search_forest.json

The reduced run committed from the development session (see ``label`` in the JSON)::

    python benchmarks/search.py --tasks mult-digits tile-digits synth-language --seeds 0 1 \\
        --population 8 --budget 20 --proposals 16 --train-per-round 4 --refit-every 8 --final-epochs 5 \\
        --strategies evolution surrogate-filter:graf surrogate-filter:graf-zcp surrogate-objective:graf random \\
        --workers 2 --label reduced
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import RESULTS, table, write_json  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "corpus" / "einspace-offline-v1"
#: zero-cost proxies of the GRAF+ZCP surrogate (the corpus has them; the cheap, informative ones)
ZCP = ("grad_norm", "snip", "synflow", "nwot", "jacob_cov")
#: candidate budget of corpus v1 (so transfer rows and new rows are trained alike)
TRAIN = {"epochs": 5, "batch_size": 64, "max_params": 1_000_000, "max_forward_seconds": 0.5, "max_train_seconds": 30}
#: surrogate kinds of ``strategy:KIND``: (family, zero-cost proxies)
SURROGATES = {"graf": ("graf-xgb", ()), "graf-zcp": ("graf-xgb", ZCP), "forest": ("forest", ())}
#: acquisitions of ``surrogate-filter:KIND+ACQ`` (default: mean)
ACQUISITIONS = ("mean", "ucb", "ei")
DEFAULT_STRATEGIES = ["evolution", "surrogate-filter:graf", "surrogate-filter:graf-zcp", "surrogate-objective:graf", "random"]
#: the forest rows (issue 16): forest-filter with the mean score, and ucb against mean acquisition
FOREST_STRATEGIES = ["evolution", "surrogate-filter:graf", "surrogate-filter:forest", "surrogate-filter:forest+ucb"]


def fit_heldout_surrogate(kind: str, heldout: list[str], folder: Path) -> Path:
    """GRAF(-ZCP) fitted on the corpus without ``heldout``; saved once, reused afterwards."""
    if (folder / "config.json").is_file():
        return folder
    from surrogate_hub.corpus import load
    from surrogate_hub.surrogates import GrafSurrogate, fit_corpus

    family, zcp = SURROGATES[kind]
    ds = load(CORPUS, zcp=bool(zcp))
    tasks = sorted(set(ds["task"]) - set(heldout))
    if family == "forest":
        from surrogate_hub.surrogates import ForestSurrogate

        sur = ForestSurrogate(zcp=zcp)
    else:
        sur = GrafSurrogate(zcp=zcp)
    fit_corpus(sur, ds, tasks=tasks)
    sur.save_pretrained(folder)
    logging.info("fitted %s on %s -> %s", kind, tasks, folder)
    return folder


def run_one(task: str, variant: str, seed: int, args, surrogates: dict[str, Path], heldout: list[str], evaluator) -> dict:
    from surrogate_hub.search import SearchConfig, run_search

    strategy, _, kind = variant.partition(":")
    kind, _, acquisition = kind.partition("+")
    extra = {}
    if strategy.startswith("surrogate"):
        extra = {
            "surrogate": str(surrogates[kind]), "transfer_corpus": str(CORPUS), "transfer_exclude": list(heldout),
            "transfer_weight": args.transfer_weight,
        }
        if acquisition:
            extra.update(acquisition=acquisition, kappa=args.kappa)
    cfg = SearchConfig.make(
        profile="cpu", task=task, strategy=strategy, seed=seed, budget=args.budget, population=args.population,
        tournament=args.tournament, proposals=args.proposals, train_per_round=args.train_per_round,
        refit_every=args.refit_every, train=TRAIN, final_train={**TRAIN, "epochs": args.final_epochs, "max_forward_seconds": None},
        workers=args.workers, device=args.device, **extra,
    )
    out = args.runs / task / variant.replace(":", "-") / f"seed{seed}"
    return run_search(cfg, out, evaluator=evaluator, progress=False)


def first_reach(curve: np.ndarray, target: float) -> int | None:
    hit = np.flatnonzero(curve >= target - 1e-12)
    return int(hit[0]) + 1 if len(hit) else None


def aggregate(runs: dict, tasks: list[str], variants: list[str], seeds: list[int], budget: int) -> dict:
    from surrogate_hub.search.plots import best_so_far, mean_se

    out: dict = {}
    for task in tasks:
        base = {s: runs.get((task, "evolution", s)) for s in seeds}
        base_curves = [best_so_far(r["curve"]) for r in base.values() if r]
        base_final = float(np.mean([c[-1] for c in base_curves])) if base_curves else None
        out[task] = {}
        for v in variants:
            summaries = [runs.get((task, v, s)) for s in seeds]
            done = [s for s in summaries if s]
            if not done:
                continue
            curves = [best_so_far(s["curve"]) for s in done]
            mean, se = mean_se(curves)
            tests = [s["test_acc"] for s in done if s["test_acc"] is not None]
            reach = first_reach(mean, base_final) if base_final is not None else None
            per_seed = []
            for seed, s in zip(seeds, summaries):
                b = base.get(seed)
                if s and b:
                    r = first_reach(best_so_far(s["curve"]), best_so_far(b["curve"])[-1])
                    per_seed.append(None if r is None else r / b["n_trained"])
            out[task][v] = {
                "seeds": [s["seed"] for s in done],
                "n_trained": [s["n_trained"] for s in done],
                "best_val_mean": [float(x) for x in mean],
                "best_val_se": [float(x) for x in se],
                "final_best_val": {"mean": float(mean[-1]), "se": float(se[-1])},
                "test_acc": {"mean": float(np.mean(tests)) if tests else None,
                             "se": float(np.std(tests, ddof=1) / np.sqrt(len(tests))) if len(tests) > 1 else None,
                             "values": tests},
                "trainings_to_baseline_best": None if reach is None else reach / budget,
                "trainings_to_baseline_best_per_seed": per_seed,
                "wall_seconds_mean": float(np.mean([s["wall_seconds"] for s in done])),
                "best_archs": [s["best"]["arch"] if s["best"] else None for s in done],
            }
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--tasks", nargs="+", default=["mult-digits", "tile-digits", "synth-language"])
    p.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    p.add_argument("--strategies", nargs="+", default=DEFAULT_STRATEGIES,
                   help="strategy or strategy:surrogate (graf, graf-zcp, forest), surrogate-filter:surrogate+acquisition "
                   "(mean, ucb, ei; e.g. surrogate-filter:forest+ucb), or 'forest' for the forest rows "
                   f"({' '.join(FOREST_STRATEGIES)}); evolution is the baseline and always runs")
    p.add_argument("--kappa", type=float, default=1.0, help="ucb exploration weight")
    p.add_argument("--population", type=int, default=30)
    p.add_argument("--budget", type=int, default=120)
    p.add_argument("--tournament", type=int, default=None, help="default: max(3, population // 10)")
    p.add_argument("--proposals", type=int, default=20)
    p.add_argument("--train-per-round", type=int, default=5)
    p.add_argument("--refit-every", type=int, default=None, help="default: max(5, population // 3)")
    p.add_argument("--transfer-weight", type=float, default=0.1)
    p.add_argument("--final-epochs", type=int, default=10)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--device", default="cpu")
    p.add_argument("--runs", type=Path, default=ROOT / "runs" / "search-benchmark", help="run folders (git-ignored)")
    p.add_argument("--results", type=Path, default=RESULTS / "search.json")
    p.add_argument("--label", default="custom", help="recorded in the JSON (e.g. full, reduced)")
    p.add_argument("--note", default="", help="free text recorded in the JSON (e.g. what a reduced run left out)")
    p.add_argument("--aggregate-only", action="store_true", help="do not run: summarise the finished runs")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    for name in ("surrogate_hub.train", "surrogate_hub.surrogates.finetune"):
        logging.getLogger(name).setLevel(logging.WARNING)
    import torch

    torch.set_num_threads(1)
    args.tournament = args.tournament or max(3, args.population // 10)
    args.refit_every = args.refit_every or max(5, args.population // 3)
    strategies = [x for v in args.strategies for x in (FOREST_STRATEGIES if v == "forest" else [v])]
    variants = list(dict.fromkeys(["evolution", *strategies]))
    for v in variants:
        s, _, kind = v.partition(":")
        kind, plus, acq = kind.partition("+")
        if s.startswith("surrogate") and kind not in SURROGATES:
            p.error(f"{v}: give the surrogate as {s}:KIND with KIND in {sorted(SURROGATES)}")
        if plus and (s != "surrogate-filter" or acq not in ACQUISITIONS):
            p.error(f"{v}: an acquisition is given as surrogate-filter:KIND+ACQ with ACQ in {list(ACQUISITIONS)}")
    heldout = list(args.tasks)
    surrogates = {}
    for kind in sorted({v.partition(":")[2].partition("+")[0] for v in variants if ":" in v}):
        folder = args.runs / "surrogates" / f"{kind}-without-{'-'.join(sorted(heldout))}"
        surrogates[kind] = folder if args.aggregate_only else fit_heldout_surrogate(kind, heldout, folder)
    from surrogate_hub.evaluators import make_evaluator

    evaluator = None if args.aggregate_only else make_evaluator("local", workers=args.workers)  # one pool for all runs
    runs: dict = {}
    tic = time.perf_counter()
    for seed in args.seeds:  # seeds outermost: a stopped benchmark has whole seeds done first
        for task in args.tasks:
            for v in variants:
                out = args.runs / task / v.replace(":", "-") / f"seed{seed}"
                if args.aggregate_only:
                    import json

                    path = out / "summary.json"
                    if path.is_file():
                        runs[(task, v, seed)] = json.loads(path.read_text())
                    continue
                logging.info("run %s %s seed %d", task, v, seed)
                runs[(task, v, seed)] = run_one(task, v, seed, args, surrogates, heldout, evaluator)
    if evaluator is not None:
        evaluator.close()
    agg = aggregate(runs, args.tasks, variants, args.seeds, args.budget)
    rows = []
    for task, per in agg.items():
        for v, r in per.items():
            t = r["trainings_to_baseline_best"]
            rows.append({
                "task": task, "strategy": v, "seeds": len(r["seeds"]),
                "best val": f"{r['final_best_val']['mean']:.3f} ± {r['final_best_val']['se']:.3f}",
                "test": "-" if r["test_acc"]["mean"] is None else f"{r['test_acc']['mean']:.3f}",
                "to baseline best": "never" if t is None else f"{t:.2f}",
                "trained": "/".join(map(str, r["n_trained"])),
            })
    print(table(rows, ["task", "strategy", "seeds", "best val", "test", "to baseline best", "trained"]))
    from surrogate_hub.search.plots import load_runs, plot_runs

    folders = [args.runs / t / v.replace(":", "-") / f"seed{s}" for t in args.tasks for v in variants for s in args.seeds]
    folders = [f for f in folders if (f / "summary.json").is_file()]
    png = args.results.with_suffix(".png")
    if folders:
        plot_runs(load_runs(folders), png, title=f"search benchmark ({args.label}): held-out tasks, mean ± s.e. over seeds",
                  label=lambda r: str(Path(r.path).parent.name))
    write_json({
        "label": args.label,
        "note": args.note,
        "sizes": {"tasks": args.tasks, "seeds": args.seeds, "strategies": variants, "population": args.population,
                  "budget": args.budget, "tournament": args.tournament, "proposals": args.proposals,
                  "train_per_round": args.train_per_round, "refit_every": args.refit_every,
                  "transfer_weight": args.transfer_weight, "candidate_training": TRAIN, "final_epochs": args.final_epochs,
                  "workers": args.workers, "device": args.device, "zcp": list(ZCP), "kappa": args.kappa},
        "baseline": "evolution",
        "surrogates": {k: f"{'forest (GRAF + extras)' if SURROGATES[k][0] == 'forest' else 'GRAF-XGB'}"
                          f"{'+ZCP' if SURROGATES[k][1] else ''} fitted on {CORPUS.name} without {heldout}" for k in surrogates},
        "seconds_this_invocation": time.perf_counter() - tic,
        "results": agg,
        "plot": png.name,
    }, args.results)
    print(f"wrote {args.results} and {png}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
