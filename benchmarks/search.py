"""Surrogate-accelerated search vs regularised evolution on tasks held out from the surrogate's corpus.

For each held-out task and seed, every strategy runs with the same budget of trained candidates and
(evolution, the surrogate strategies and random alike) the same initial population. Candidates are
trained exactly as the corpus's records were: the budget of each task (``budget`` with its
``task_budgets`` overrides), the sampler limits (``profile``), the data seed and one torch thread
come from the corpus's ``config.resolved.yaml``; the wall-clock gates are off, so a label never
depends on the machine's load. The surrogates are fitted on the corpus *without* the held-out tasks
(saved once under ``{runs}/surrogates/``), and their refits during a search add those same corpus
rows as weighted transfer data. GRAF+ZCP needs the corpus's zero-cost proxies
(``training/compute_zcp.py``).

Every run is an ordinary resumable search folder under ``{runs}/{task}/{variant}/seed{n}``:
rerunning the same command continues where it stopped. Runs go seed by seed, and within a seed task
by task with evolution first, so a stopped benchmark holds complete comparisons (every strategy on a
task with the same seed). All runs of one ``--runs`` folder share a training cache
(``{runs}/cache``): a training already done (the shared initial population, offspring that several
strategies propose) is read back instead of repeated; it still counts against the run's budget and
is logged ``cached: true``. ``{runs}/corpus.json`` pins the corpus's records: a rebuilt or extended
corpus needs a new ``--runs``.

Writes ``--results`` (JSON: per task and strategy the best validation accuracy at each trained
count, mean and s.e. over the finished seeds with their number ``n``, final test accuracy,
``trainings_to_baseline_best``, cached counts) and a PNG next to it, and prints a table.
``--aggregate-only`` does that for whatever runs have finished, without running anything.

``trainings_to_baseline_best``: the fraction of the baseline's (``evolution``) trainings that a
strategy needed for its mean best-so-far curve to reach the baseline's mean final best; null if it
never did. ``per_seed`` gives the same per seed, against that seed's baseline run.

Full size (issues 11 and 16): 3 held-out tasks x 3 seeds x 8 strategies = 72 runs of 120 trained
candidates (population 30) = 8,640 trainings as if performed, plus 72 final retrainings::

    python training/compute_zcp.py corpus/einspace-offline-v2 --workers 2   # once: GRAF+ZCP's proxies
    python benchmarks/search.py --corpus corpus/einspace-offline-v2 \\
        --tasks tile-count synth-textures text-language --seeds 0 1 2 --population 30 --budget 120 \\
        --workers 2 --label full

Time = trainings x mean CPU seconds per training / workers. Corpus v2's trainings of these tasks
took 9.6 s (tile-count, 24 epochs), 6.9 s (synth-textures) and 5.7 s (text-language) of one core
on this 2-core machine (mean of its ok records), 7.4 s on average. Without the cache: 8,640 x 7.4 s = 64,000 CPU s (17.8 CPU
hours), about 9 hours on 2 workers. With the cache, at least the 7 x 30 initial-population
trainings of each of the 9 (task, seed) pairs are read back (1,890): at most 6,750 x 7.4 s =
50,000 CPU s (13.9 CPU hours), about 7 hours on 2 workers, less by the re-proposed offspring the
cache also answers. On top, under an hour: about 460 surrogate refits (10 per surrogate-filter
run, 2-3 s each in the driver), the final retrainings (twice the epochs on train + valid, ~1,300 CPU
s before the cache) and GRAF+ZCP's proxies (~1,000 CPU s). A loaded machine takes longer.

The forest rows alone (``forest`` expands to ``evolution surrogate-filter:graf
surrogate-filter:forest surrogate-filter:forest+ucb``)::

    python benchmarks/search.py --strategies forest --seeds 0 1 --label forest \\
        --results benchmarks/results/search_forest-v2.json
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import logging
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import RESULTS, table, write_json  # noqa: E402

log = logging.getLogger("benchmarks.search")

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "corpus" / "einspace-offline-v2"
#: three v2 tasks with strong signal and different modalities (counting, texture, language)
TASKS = ["tile-count", "synth-textures", "text-language"]
#: zero-cost proxies of the GRAF+ZCP surrogate (the cheap, informative ones)
ZCP = ("grad_norm", "snip", "synflow", "nwot", "jacob_cov")
#: budget fields that measure the wall clock: off, so a candidate's label does not depend on the load
WALL_CLOCK = ("max_forward_seconds", "max_train_seconds")
#: surrogate kinds of ``strategy:KIND``: (family, zero-cost proxies)
SURROGATES = {"graf": ("graf-xgb", ()), "graf-zcp": ("graf-xgb", ZCP), "forest": ("forest", ())}
#: acquisitions of ``surrogate-filter:KIND+ACQ`` (default: mean)
ACQUISITIONS = ("mean", "ucb", "ei")
DEFAULT_STRATEGIES = [
    "evolution", "random", "surrogate-filter:graf", "surrogate-filter:graf-zcp", "surrogate-filter:forest",
    "surrogate-filter:forest+ucb", "surrogate-filter:forest+ei", "surrogate-objective:graf",
]
#: the forest rows (issue 16): forest-filter with the mean score, and ucb against mean acquisition
FOREST_STRATEGIES = ["evolution", "surrogate-filter:graf", "surrogate-filter:forest", "surrogate-filter:forest+ucb"]


class BenchmarkError(RuntimeError):
    """The corpus or the runs folder cannot be used as asked; the message says what to do."""


# -- the corpus -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Corpus:
    """The corpus the benchmark reads: its folder, build config and a fingerprint of its shards."""

    path: Path
    config: Any  #: surrogate_hub.corpus.CorpusConfig
    fingerprint: str
    records: int

    def train_budget(self, task: str) -> dict[str, Any]:
        """The corpus's training budget of ``task``, without the wall-clock gates."""
        return {**self.config.budget_for(task).to_dict(), **dict.fromkeys(WALL_CLOCK)}

    def limits(self) -> dict[str, Any]:
        return dataclasses.asdict(self.config.limits_value())

    def describe(self) -> dict[str, Any]:
        return {"path": str(self.path), "name": self.config.name, "records": self.records,
                "fingerprint": self.fingerprint, "profile": self.config.profile}


def open_corpus(path: Path) -> Corpus:
    import pyarrow.parquet as pq

    from surrogate_hub.corpus import ConfigError, CorpusConfig

    try:
        config = CorpusConfig.from_corpus(path)
    except ConfigError as err:
        raise BenchmarkError(str(err)) from None
    shards = sorted((path / "data").glob("shard-*.parquet"))
    if not shards:
        raise BenchmarkError(f"{path}: no corpus shards under data/")
    digest = hashlib.sha256("".join(f"{p.name}:{p.stat().st_size}\n" for p in shards).encode()).hexdigest()[:16]
    return Corpus(path, config, digest, sum(pq.ParquetFile(p).metadata.num_rows for p in shards))


def pin_corpus(runs: Path, corpus: Corpus) -> None:
    """Record the corpus in ``{runs}/corpus.json``, or refuse if the runs were made with another
    (their held-out surrogates and transfer rows would differ from a resumed run's)."""
    path = runs / "corpus.json"
    if path.is_file():
        old = json.loads(path.read_text(encoding="utf-8"))
        if old["fingerprint"] != corpus.fingerprint:
            raise BenchmarkError(
                f"the runs in {runs} were made with {old['records']} records of {old['name']} ({old['path']}); "
                f"{corpus.path} now has {corpus.records} records ({corpus.config.name}): the surrogates and transfer "
                "rows would differ. Give a new --runs folder (or the corpus those runs used)"
            )
        return
    from surrogate_hub.search.rundir import atomic_write_json

    runs.mkdir(parents=True, exist_ok=True)
    atomic_write_json(path, corpus.describe())


def check_zcp(corpus: Corpus, tasks: list[str]) -> None:
    """GRAF+ZCP is fitted on (and refit with) the proxies of every ``ok`` row of ``tasks``."""
    from surrogate_hub.corpus import load

    fix = f"run `python training/compute_zcp.py {corpus.path} --workers 2` first (it resumes), or leave graf-zcp out of --strategies"
    try:
        ds = load(corpus.path, zcp=True)
    except FileNotFoundError:
        raise BenchmarkError(f"surrogate graf-zcp needs the corpus's zero-cost proxies, and {corpus.path / 'zcp'} has none: {fix}") from None
    missing_cols = [f"zcp_{n}" for n in ZCP if f"zcp_{n}" not in ds.column_names]
    if missing_cols:
        raise BenchmarkError(f"{corpus.path / 'zcp'} lacks the proxies {missing_cols}: {fix}")
    cols = [c for c in ds.column_names if c.startswith("zcp_")]
    ok = [i for i, (t, s) in enumerate(zip(ds["task"], ds["status"])) if s == "ok" and t in tasks]
    values = np.array([ds[c] for c in cols], dtype=np.float64)[:, ok]
    lacking = int(np.isnan(values).all(axis=0).sum())
    if lacking:
        raise BenchmarkError(f"{lacking} of the {len(ok)} ok records of {tasks} have no zero-cost proxies in {corpus.path / 'zcp'}: {fix}")


def fit_heldout_surrogate(kind: str, corpus: Corpus, heldout: list[str], folder: Path) -> Path:
    """The surrogate ``kind`` fitted on the corpus without ``heldout``; saved once, reused afterwards."""
    if (folder / "config.json").is_file():
        return folder
    from surrogate_hub.corpus import load
    from surrogate_hub.surrogates import GrafSurrogate, fit_corpus

    family, zcp = SURROGATES[kind]
    ds = load(corpus.path, zcp=bool(zcp))
    tasks = sorted(set(ds["task"]) - set(heldout))
    if family == "forest":
        from surrogate_hub.surrogates import ForestSurrogate

        sur = ForestSurrogate(zcp=zcp)
    else:
        sur = GrafSurrogate(zcp=zcp)
    fit_corpus(sur, ds, tasks=tasks)
    sur.save_pretrained(folder)
    log.info("fitted %s on %s -> %s", kind, tasks, folder)
    return folder


# -- the runs ---------------------------------------------------------------------------------------
def parse_variant(variant: str) -> tuple[str, str, str]:
    """``strategy[:kind[+acquisition]]`` → (strategy, kind, acquisition), empty where not given."""
    strategy, _, rest = variant.partition(":")
    kind, _, acquisition = rest.partition("+")
    return strategy, kind, acquisition


def run_folder(runs: Path, task: str, variant: str, seed: int) -> Path:
    return runs / task / variant.replace(":", "-") / f"seed{seed}"


def plan(tasks: list[str], variants: list[str], seeds: list[int]) -> list[tuple[str, str, int]]:
    """(task, variant, seed) in running order: seed by seed, task by task, evolution first."""
    ordered = ["evolution", *(v for v in variants if v != "evolution")]
    return [(t, v, s) for s in seeds for t in tasks for v in ordered]


def search_config(task: str, variant: str, seed: int, args: argparse.Namespace, corpus: Corpus,
                  surrogates: dict[str, Path], heldout: list[str]):
    from surrogate_hub.search import SearchConfig

    strategy, kind, acquisition = parse_variant(variant)
    extra: dict[str, Any] = {}
    if strategy.startswith("surrogate"):
        extra = {
            "surrogate": str(surrogates[kind]), "transfer_corpus": str(corpus.path), "transfer_exclude": list(heldout),
            "transfer_weight": args.transfer_weight,
        }
        if acquisition:
            extra.update(acquisition=acquisition, kappa=args.kappa)
    train = corpus.train_budget(task)
    final = {**train, "epochs": args.final_epochs or 2 * train["epochs"]}
    return SearchConfig.make(
        profile="cpu", task=task, task_seed=corpus.config.task_seed, strategy=strategy, seed=seed,
        budget=args.budget, population=args.population, tournament=args.tournament, proposals=args.proposals,
        train_per_round=args.train_per_round, refit_every=args.refit_every, train=train, final_train=final,
        limits=corpus.limits(), workers=args.workers, device=args.device, **extra,
    )


# -- the summary ------------------------------------------------------------------------------------
def first_reach(curve: np.ndarray, target: float) -> int | None:
    hit = np.flatnonzero(curve >= target - 1e-12)
    return int(hit[0]) + 1 if len(hit) else None


def aggregate(runs: dict, tasks: list[str], variants: list[str], seeds: list[int], budget: int) -> dict:
    """Per task and strategy, over the seeds whose runs have finished (``n`` of them)."""
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
                "n": len(done),
                "seeds": [s["seed"] for s in done],
                "n_trained": [s["n_trained"] for s in done],
                "n_cached": [s.get("n_cached", 0) for s in done],
                "best_val_mean": [float(x) for x in mean],
                "best_val_se": [float(x) for x in se],
                "final_best_val": {"mean": float(mean[-1]), "se": float(se[-1])},
                "test_acc": {"mean": float(np.mean(tests)) if tests else None,
                             "se": float(np.std(tests, ddof=1) / np.sqrt(len(tests))) if len(tests) > 1 else None,
                             "values": tests},
                "trainings_to_baseline_best": None if reach is None else reach / budget,
                "trainings_to_baseline_best_per_seed": per_seed,
                "wall_seconds_mean": float(np.mean([s["wall_seconds"] for s in done])),
                "train_seconds_mean": float(np.mean([s["train_seconds"] for s in done])),
                "best_archs": [s["best"]["arch"] if s["best"] else None for s in done],
            }
    return out


def read_summary(folder: Path) -> dict | None:
    path = folder / "summary.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def report(agg: dict) -> str:
    rows = []
    for task, per in agg.items():
        for v, r in per.items():
            t = r["trainings_to_baseline_best"]
            rows.append({
                "task": task, "strategy": v, "n": r["n"],
                "best val": f"{r['final_best_val']['mean']:.3f} ± {r['final_best_val']['se']:.3f}",
                "test": "-" if r["test_acc"]["mean"] is None else f"{r['test_acc']['mean']:.3f}",
                "to baseline best": "never" if t is None else f"{t:.2f}",
                "trained": "/".join(map(str, r["n_trained"])),
                "cached": "/".join(map(str, r["n_cached"])),
            })
    return table(rows, ["task", "strategy", "n", "best val", "test", "to baseline best", "trained", "cached"])


# -- the command ------------------------------------------------------------------------------------
def parse_args(argv: list[str] | None) -> tuple[argparse.ArgumentParser, argparse.Namespace]:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--corpus", type=Path, default=CORPUS, help="corpus folder: budgets, sampler limits, surrogates' data")
    p.add_argument("--tasks", nargs="+", default=TASKS, help="held-out tasks (the surrogates never see them)")
    p.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    p.add_argument("--strategies", nargs="+", default=DEFAULT_STRATEGIES,
                   help="strategy or strategy:surrogate (graf, graf-zcp, forest), surrogate-filter:surrogate+acquisition "
                   "(mean, ucb, ei; e.g. surrogate-filter:forest+ucb), or 'forest' for the forest rows "
                   f"({' '.join(FOREST_STRATEGIES)}); evolution is the baseline and always runs")
    p.add_argument("--kappa", type=float, default=1.0, help="ucb exploration weight")
    p.add_argument("--population", type=int, default=30)
    p.add_argument("--budget", type=int, default=120, help="trained candidates per run, the population included")
    p.add_argument("--tournament", type=int, default=None, help="default: max(3, population // 10)")
    p.add_argument("--proposals", type=int, default=20)
    p.add_argument("--train-per-round", type=int, default=5)
    p.add_argument("--refit-every", type=int, default=None, help="default: max(5, population // 3)")
    p.add_argument("--transfer-weight", type=float, default=0.1)
    p.add_argument("--final-epochs", type=int, default=None, help="final retraining; default: twice the task's candidate epochs")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--device", default="cpu")
    p.add_argument("--runs", type=Path, default=None, help="run folders and cache (git-ignored); default: runs/search-benchmark/CORPUS")
    p.add_argument("--results", type=Path, default=None, help="default: benchmarks/results/search-CORPUS.json")
    p.add_argument("--label", default="custom", help="recorded in the JSON (e.g. full, reduced)")
    p.add_argument("--note", default="", help="free text recorded in the JSON (e.g. what a reduced run left out)")
    p.add_argument("--aggregate-only", action="store_true", help="do not run: summarise the finished runs")
    args = p.parse_args(argv)
    args.tournament = args.tournament or max(3, args.population // 10)
    args.refit_every = args.refit_every or max(5, args.population // 3)
    args.runs = args.runs or ROOT / "runs" / "search-benchmark" / args.corpus.name
    args.results = args.results or RESULTS / f"search-{args.corpus.name}.json"
    return p, args


def variants_of(p: argparse.ArgumentParser, strategies: list[str]) -> list[str]:
    expanded = [x for v in strategies for x in (FOREST_STRATEGIES if v == "forest" else [v])]
    variants = list(dict.fromkeys(["evolution", *expanded]))
    for v in variants:
        s, kind, acq = parse_variant(v)
        if s.startswith("surrogate") and kind not in SURROGATES:
            p.error(f"{v}: give the surrogate as {s}:KIND with KIND in {sorted(SURROGATES)}")
        if acq and (s != "surrogate-filter" or acq not in ACQUISITIONS):
            p.error(f"{v}: an acquisition is given as surrogate-filter:KIND+ACQ with ACQ in {list(ACQUISITIONS)}")
    return variants


def run_all(args: argparse.Namespace, corpus: Corpus, variants: list[str]) -> dict:
    """Fit the held-out surrogates, then run (or resume, or read back) every planned run."""
    heldout = list(args.tasks)
    kinds = sorted({parse_variant(v)[1] for v in variants if parse_variant(v)[1]})
    if any(SURROGATES[k][1] for k in kinds):
        check_zcp(corpus, sorted(set(corpus.config.tasks) - set(heldout)))
    pin_corpus(args.runs, corpus)
    surrogates = {
        k: fit_heldout_surrogate(k, corpus, heldout, args.runs / "surrogates" / f"{k}-without-{'-'.join(sorted(heldout))}")
        for k in kinds
    }
    import torch

    from surrogate_hub.evaluators import make_evaluator
    from surrogate_hub.search import run_search

    threads = corpus.config.threads  # the corpus's labels were trained with this many threads
    torch.set_num_threads(threads)
    evaluator = make_evaluator("local", workers=args.workers, threads_per_worker=threads, cache=args.runs / "cache")
    todo = plan(args.tasks, variants, args.seeds)
    log.info("%d runs of %d trained candidates (%d trainings as if performed); cache %s",
             len(todo), args.budget, len(todo) * args.budget, args.runs / "cache")
    runs: dict = {}
    try:
        for i, (task, v, seed) in enumerate(todo, 1):
            folder = run_folder(args.runs, task, v, seed)
            done = read_summary(folder)
            if done is None or final_diverged(done):  # a finished run resumes only to redo its final retraining
                log.info("run %d/%d: %s %s seed %d", i, len(todo), task, v, seed)
                cfg = search_config(task, v, seed, args, corpus, surrogates, heldout)
                done = run_search(cfg, folder, evaluator=evaluator, progress=False)
            runs[(task, v, seed)] = done
    except BaseException:
        evaluator.terminate()  # Ctrl-C or a crash: stop the workers now; the runs resume on rerun
        raise
    finally:
        evaluator.close()
    log.info("trainings this invocation: %d done, %d read back from the cache", evaluator.computed, evaluator.hits)
    return runs


def final_diverged(summary: dict) -> bool:
    """True for a finished run whose final retraining diverged and was not yet repeated with the
    candidate budget (runs finished before that fallback existed)."""
    from surrogate_hub.search.engine import final_diverged as diverged

    return diverged(summary.get("final"))


def main(argv: list[str] | None = None) -> int:
    p, args = parse_args(argv)
    variants = variants_of(p, args.strategies)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    for name in ("surrogate_hub.train", "surrogate_hub.surrogates.finetune"):
        logging.getLogger(name).setLevel(logging.WARNING)
    tic = time.perf_counter()
    try:
        corpus = open_corpus(args.corpus)
        if args.aggregate_only:
            runs = {(t, v, s): r for t, v, s in plan(args.tasks, variants, args.seeds)
                    if (r := read_summary(run_folder(args.runs, t, v, s))) is not None}
        else:
            runs = run_all(args, corpus, variants)
    except BenchmarkError as err:
        raise SystemExit(f"error: {err}") from None
    agg = aggregate(runs, args.tasks, variants, args.seeds, args.budget)
    print(report(agg))
    from surrogate_hub.search.plots import load_runs, plot_runs

    folders = [run_folder(args.runs, t, v, s) for (t, v, s) in runs]
    png = args.results.with_suffix(".png")
    if folders:
        plot_runs(load_runs(folders), png, title=f"search benchmark ({args.label}): held-out tasks, mean ± s.e. over seeds",
                  label=lambda r: str(Path(r.path).parent.name))
    write_json({
        "label": args.label,
        "note": args.note,
        "corpus": corpus.describe(),
        "sizes": {"tasks": args.tasks, "seeds": args.seeds, "strategies": variants, "population": args.population,
                  "budget": args.budget, "tournament": args.tournament, "proposals": args.proposals,
                  "train_per_round": args.train_per_round, "refit_every": args.refit_every,
                  "transfer_weight": args.transfer_weight,
                  "candidate_training": {t: corpus.train_budget(t) for t in args.tasks},
                  "final_epochs": args.final_epochs or "2 x the task's candidate epochs",
                  "sampler_limits": corpus.limits(), "workers": args.workers, "device": args.device,
                  "zcp": list(ZCP), "kappa": args.kappa},
        "baseline": "evolution",
        "runs_finished": len(runs),
        "runs_planned": len(plan(args.tasks, variants, args.seeds)),
        "surrogates": {k: f"{'forest (GRAF + extras)' if SURROGATES[k][0] == 'forest' else 'GRAF-XGB'}"
                          f"{'+ZCP' if SURROGATES[k][1] else ''} fitted on {corpus.config.name} without {args.tasks}"
                       for k in sorted({parse_variant(v)[1] for v in variants if parse_variant(v)[1]})},
        "seconds_this_invocation": time.perf_counter() - tic,
        "results": agg,
        "plot": png.name,
    }, args.results)
    print(f"wrote {args.results}" + (f" and {png}" if folders else ""))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
