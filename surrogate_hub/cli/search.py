"""Commands of a search: search (run or resume one) and plot (curves of one or several runs)."""

from __future__ import annotations

import argparse
import json
import sys

from ._backend import add_backend_args, backend_options
from ._common import command, positive_int


def _cfg_search(p: argparse.ArgumentParser) -> None:
    from ..search.strategies import list_strategies

    p.add_argument("--task", default=None, help="task name (see `surrogate-hub tasks`) or npy:ROOT/NAME")
    p.add_argument("--strategy", default=None, help=f"one of {', '.join(list_strategies())}")
    p.add_argument("--config", default=None, metavar="YAML", help="a search config (see search/*.yaml); flags override it")
    p.add_argument("--profile", default=None, choices=["paper", "cpu"],
                   help="default sizes: paper (GPU protocol) or cpu (minutes); default: the config's, else paper")
    p.add_argument("--surrogate", default=None, help="registered name, local folder or Hub repo id (default: einspace-graf-xgb)")
    p.add_argument("--transfer-corpus", default=None, help="corpus whose other tasks join every refit")
    p.add_argument("--acquisition", default=None, choices=["mean", "ucb", "ei"],
                   help="surrogate-filter: train the offspring with the best mean score (default), upper "
                   "confidence bound (mean + kappa * spread) or expected improvement; ucb/ei need a surrogate "
                   "with a spread (a forest, or a GRAF-XGB ensemble)")
    p.add_argument("--kappa", type=float, default=None, help="ucb exploration weight (default 1.0)")
    p.add_argument("--budget", type=positive_int, default=None, help="trained candidates, initial population included")
    p.add_argument("--population", type=positive_int, default=None)
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--workers", type=positive_int, default=None,
                   help="parallel training processes (default 1: in-process; --backend ray: tasks in flight, default all the cluster runs at once)")
    add_backend_args(p)
    p.add_argument("--device", default=None, help="torch device: cpu, cuda, cuda:1, ... (default cpu)")
    p.add_argument("--out", required=True, help="run folder; rerun the same command to resume")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")


def _error(message: str) -> int:
    sys.stderr.write(f"error: {message}\n")
    return 2


@command("search", "search einspace for a good architecture on a task (resumable; rerun to resume)")(_cfg_search)
def _search(args: argparse.Namespace) -> int:
    from ..search import ResumeError, SearchConfig, SearchConfigError, SearchSetupError, prepare, run_search

    overrides = {
        "task": args.task, "strategy": args.strategy, "surrogate": args.surrogate, "transfer_corpus": args.transfer_corpus,
        "budget": args.budget, "population": args.population, "seed": args.seed, "workers": args.workers,
        "device": args.device, "evaluator": args.backend, "acquisition": args.acquisition, "kappa": args.kappa,
    }
    options = backend_options(args)
    evaluator = None
    try:
        cfg = SearchConfig.make(profile=args.profile, yaml_path=args.config, **overrides)
        prepared = prepare(cfg)
        if options:  # a backend with options (Ray): made here, so that the options reach it
            from ..evaluators import make_evaluator

            evaluator = make_evaluator(cfg.evaluator, workers=args.workers, **options)
        summary = run_search(prepared, args.out, evaluator=evaluator, progress=not args.no_progress)
    except (SearchConfigError, SearchSetupError, ResumeError) as err:
        return _error(str(err))
    finally:
        if evaluator is not None:
            evaluator.close()
    best = summary["best"]
    out = {
        "out": args.out, "strategy": summary["strategy"], "task": summary["task"], "n_trained": summary["n_trained"],
        "best_val_acc": None if best is None else best["val_acc"], "test_acc": summary["test_acc"],
        "best_arch": None if best is None else best["arch"],
    }
    sys.stdout.write(json.dumps(out) + "\n")
    return 0


def _cfg_plot(p: argparse.ArgumentParser) -> None:
    p.add_argument("runs", nargs="+", help="run folders (a folder of run folders also works)")
    p.add_argument("--out", default=None, help="PNG path (default: best_so_far.png in the single run folder, else required)")
    p.add_argument("--title", default=None)


@command("plot", "plot best-so-far validation accuracy of search runs (mean and s.e. by strategy)")(_cfg_plot)
def _plot(args: argparse.Namespace) -> int:
    from ..search.plots import PlotError, load_runs, plot_runs

    try:
        runs = load_runs(args.runs)
        out = args.out
        if out is None:
            if len(runs) != 1:
                raise PlotError(f"{len(runs)} runs given: pass --out FILE.png for the combined plot")
            out = str(runs[0].path / "best_so_far.png")
        path = plot_runs(runs, out, title=args.title)
    except PlotError as err:
        return _error(str(err))
    sys.stdout.write(f"{path}\n")
    return 0
