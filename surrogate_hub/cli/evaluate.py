"""The evaluate command: rank-quality of surrogates and baselines on a corpus."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from pathlib import Path

from ._common import command, positive_int


def _cfg_evaluate(p: argparse.ArgumentParser) -> None:
    p.add_argument("corpus", nargs="?", default=None,
                   help="corpus folder (data/shard-*.parquet, optional zcp/) or Hub dataset repo id")
    p.add_argument("--methods", nargs="+", default=None, metavar="NAME",
                   help="methods to run (default: every default method the corpus supports; "
                        "--list-methods shows them)")
    p.add_argument("--tasks", nargs="+", default=None, metavar="TASK", help="only these tasks (default: all)")
    p.add_argument("--quick", action="store_true",
                   help="smoke check: at most 60 rows per task, 3 folds, graf-xgb and the cheap baselines")
    p.add_argument("--out", type=Path, default=None, metavar="DIR",
                   help="write DIR/surrogates.json and DIR/surrogates.md (default: print the report only)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--folds", type=positive_int, default=5, help="within-task CV folds (default 5)")
    p.add_argument("--no-within", action="store_true", help="skip within-task CV (leave-one-task-out only)")
    p.add_argument("--import", dest="imports", action="append", default=[], metavar="MODULE",
                   help="import MODULE first, so that the methods it registers can be named (repeatable)")
    p.add_argument("--revision", default=None, help="Hub revision of the corpus")
    p.add_argument("--cache-dir", type=Path, default=None,
                   help="feature cache folder (default $SURROGATE_HUB_CACHE/evaluation or ~/.cache/surrogate-hub/evaluation)")
    p.add_argument("--fold-cache", type=Path, default=None, metavar="DIR",
                   help="keep every fold's scores in DIR: a stopped run resumes, shards share folds")
    p.add_argument("--shard", default=None, metavar="I/N",
                   help="compute only every N-th fold from the I-th (N processes on one --fold-cache); "
                        "then rerun without --shard to assemble the results")
    p.add_argument("--list-methods", action="store_true", help="list the registered methods and exit")


def _fail(message: str) -> int:
    sys.stderr.write(f"error: {message}\n")
    return 2


@command("evaluate", "leave-one-task-out and within-task ranking quality of surrogates and baselines on a corpus")(_cfg_evaluate)
def _evaluate(args: argparse.Namespace) -> int:
    from ..evaluation import (
        default_cache_dir,
        evaluate_corpus,
        get_methods,
        load_corpus,
        markdown,
        write_results,
    )

    for name in args.imports:
        try:
            importlib.import_module(name)
        except ImportError as err:
            return _fail(f"--import {name}: {err}")
    if args.list_methods:
        for name, spec in sorted(get_methods().items()):
            kind = "fitted" if spec.fitted else "baseline"
            sys.stdout.write(f"{name}\t{kind}\t{spec.description}\n")
        sys.stdout.write("zcp:<proxy>\tbaseline\tone per zero-cost proxy column of the corpus\n")
        return 0
    if args.folds < 2 and not args.no_within:
        return _fail("--folds must be at least 2 (or pass --no-within)")
    if args.corpus is None:
        return _fail("give a CORPUS (folder or Hub dataset id), or --list-methods")
    shard = (0, 1)
    if args.shard is not None:
        from ..evaluation.fold_store import parse_shard

        try:
            shard = parse_shard(args.shard)
        except ValueError as err:
            return _fail(str(err))
        if args.fold_cache is None:
            return _fail("--shard needs --fold-cache DIR (the shards share their folds through it)")
    local = Path(args.corpus)
    if not local.is_dir() and (local.exists() or args.corpus.startswith((".", "/", "~"))):
        return _fail(f"{args.corpus}: no such corpus folder")
    if local.is_dir() and not any((local / "data").glob("shard-*.parquet")):
        return _fail(f"{local}: no corpus shards under data/ (is this a corpus folder?)")
    try:
        data = load_corpus(args.corpus, revision=args.revision, tasks=args.tasks,
                           cache_dir=args.cache_dir if args.cache_dir is not None else default_cache_dir())
    except ValueError as err:  # unknown task, missing columns, an inconsistent corpus
        return _fail(f"{args.corpus}: {err}")
    except Exception as err:  # noqa: BLE001 - no such folder or Hub repo, offline, unreadable shards
        return _fail(f"{args.corpus}: cannot load the corpus (not a corpus folder, and as a Hub dataset id: "
                     f"{type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''})")
    store = None
    if args.fold_cache is not None:
        from ..evaluation import FoldStore

        tag = {"content_hash": data.content_hash, "seed": args.seed, "folds": args.folds, "quick": args.quick,
               "within": not args.no_within}
        store = FoldStore(args.fold_cache, tag, shard=shard)
    try:
        res = evaluate_corpus(data, args.methods, quick=args.quick, seed=args.seed, folds=args.folds,
                              within=not args.no_within, revision=args.revision, name=args.corpus, store=store)
    except ValueError as err:  # unknown method (UnknownMethodError), a method's missing columns, a stored fold of other settings
        return _fail(str(err))
    if shard != (0, 1):
        sys.stdout.write(f"shard {shard[0]}/{shard[1]}: {store.computed} folds computed, {store.read} read back; "
                         "rerun without --shard when every shard is done\n")
        return 0
    if args.out is not None:
        from .. import __version__

        res = {"package_version": __version__, **res}
        js, md = write_results(res, args.out)
        logging.getLogger(__name__).info("wrote %s and %s", js, md)
    sys.stdout.write(markdown(res))
    return 0
