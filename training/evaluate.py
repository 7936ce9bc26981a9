"""Evaluate surrogates and baselines on a corpus and write ``benchmarks/results/surrogates.{json,md}``.

A thin wrapper around :mod:`surrogate_hub.evaluation` (``surrogate-hub evaluate``) with this
repository's defaults: results go to ``benchmarks/results`` and carry the machine description.
Methods defined here with ``@method`` (same signature as the library's: ``fn(train, test, seed)``)
are registered before the requested names are checked.

    python training/evaluate.py corpus/einspace-offline-v1 [--methods graf-xgb params ...] [--tasks ...] [--quick]
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

from surrogate_hub.evaluation import evaluate_corpus, markdown, method, write_results  # noqa: F401  (method: for @method here)

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
from _common import RESULTS, machine  # noqa: E402

from surrogate_hub.evaluation.methods import BERT_SETTINGS  # noqa: E402

log = logging.getLogger("evaluate")


def evaluate(corpus: str | Path, methods: list[str] | None = None, seed: int = 0, folds: int = 5) -> dict:
    """The earlier entry point: the results document of :func:`surrogate_hub.evaluation.evaluate_corpus`
    (it still carries the earlier ``loo``/``within``/``n_rows``/``tasks`` keys)."""
    return evaluate_corpus(corpus, methods, seed=seed, folds=folds)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("corpus", help="corpus folder or Hub dataset repo id")
    p.add_argument("--methods", nargs="+", default=None, help="default: every default method the corpus supports")
    p.add_argument("--tasks", nargs="+", default=None)
    p.add_argument("--quick", action="store_true", help="smoke check on a subsample (not written to --out unless given)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--folds", type=int, default=5)
    p.add_argument("--out", type=Path, default=None, help=f"results folder (default {RESULTS}; for --quick: none)")
    p.add_argument("--bert-base", default=BERT_SETTINGS["base"], help="bert method: base model (folder, Hub id, minilm)")
    p.add_argument("--bert-encoding", default=BERT_SETTINGS["encoding"], choices=["long", "compact"])
    p.add_argument("--bert-epochs", type=float, default=BERT_SETTINGS["epochs"])
    p.add_argument("--bert-lr", type=float, default=BERT_SETTINGS["learning_rate"])
    p.add_argument("--threads", type=int, default=1, help="torch threads (bert method)")
    args = p.parse_args(argv)
    BERT_SETTINGS.update(base=args.bert_base, encoding=args.bert_encoding, epochs=args.bert_epochs,
                         learning_rate=args.bert_lr)
    if args.methods and "bert" in args.methods:
        import torch

        torch.set_num_threads(args.threads)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    start = time.perf_counter()
    try:
        res = evaluate_corpus(args.corpus, args.methods, tasks=args.tasks, quick=args.quick, seed=args.seed,
                              folds=args.folds)
    except ValueError as err:
        p.error(str(err))
    res = {"machine": machine(), "wall_seconds": round(time.perf_counter() - start, 1), **res}
    out = args.out if args.out is not None else (None if args.quick else RESULTS)
    if out is not None:
        js, md = write_results(res, out)
        log.info("wrote %s and %s", js, md)
    print(markdown(res))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
