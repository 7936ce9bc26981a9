"""Evaluate surrogates and baselines on a corpus and write ``benchmarks/results/surrogates.{json,md}``.

A thin wrapper around :mod:`surrogate_hub.evaluation` (``surrogate-hub evaluate``) with this
repository's defaults: results go to ``benchmarks/results`` and carry the machine description.
Methods defined here with ``@method`` (same signature as the library's: ``fn(train, test, seed)``)
are registered before the requested names are checked.

    python training/evaluate.py corpus/einspace-offline-v1 [--methods graf-xgb params ...] [--tasks ...] [--quick]

Slow methods (``bert`` fine-tunes a model per fold) are resumable and can use several cores:
``--fold-cache DIR`` keeps every fold's scores; ``--shard I/N`` in N processes splits the folds;
a last run without ``--shard`` assembles the results, and ``--merge`` adds them to the existing
``surrogates.json`` (same corpus, seed and folds) instead of replacing it:

    for i in 0 1; do python training/evaluate.py corpus/einspace-offline-v2 --methods bert \
        --bert-base runs/einspace-mlm --fold-cache runs/eval-folds/bert --shard $i/2 & done; wait
    python training/evaluate.py corpus/einspace-offline-v2 --methods bert --bert-base runs/einspace-mlm \
        --fold-cache runs/eval-folds/bert --merge
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path

from surrogate_hub.evaluation import (  # noqa: F401  (method: for @method here)
    FoldStore,
    default_cache_dir,
    evaluate_corpus,
    load_corpus,
    markdown,
    method,
    write_results,
)
from surrogate_hub.surrogates.bert.pretrain import MARKER_FILE

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
from _common import RESULTS, machine  # noqa: E402

from surrogate_hub.evaluation.methods import BERT_METHODS, BERT_SETTINGS, bert_settings  # noqa: E402

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
    p.add_argument("--bert-batch-size", type=int, default=BERT_SETTINGS["batch_size"])
    p.add_argument("--fold-cache", type=Path, default=None, help="keep every fold's scores here (resumable)")
    p.add_argument("--shard", default=None, help="I/N: compute only every N-th fold from the I-th (needs --fold-cache)")
    p.add_argument("--merge", action="store_true", help="add the methods to the existing results file instead of replacing it")
    args = p.parse_args(argv)
    BERT_SETTINGS.update(base=args.bert_base, encoding=args.bert_encoding, epochs=args.bert_epochs,
                         learning_rate=args.bert_lr, batch_size=args.bert_batch_size)
    shard = (0, 1)
    if args.shard is not None:
        from surrogate_hub.evaluation.fold_store import parse_shard

        try:
            shard = parse_shard(args.shard)
        except ValueError as err:
            p.error(str(err))
        if args.fold_cache is None:
            p.error("--shard needs --fold-cache (the shards share their folds through it)")
    bert = [m for m in args.methods or () if m in BERT_METHODS]
    if bert:
        import torch

        torch.set_num_threads(args.threads)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    start = time.perf_counter()
    try:
        data = load_corpus(args.corpus, tasks=args.tasks, cache_dir=default_cache_dir())
        store = None
        if args.fold_cache is not None:
            tag = {"content_hash": data.content_hash, "seed": args.seed, "folds": args.folds, "quick": args.quick}
            store = FoldStore(args.fold_cache, tag, shard=shard, method_tags={m: bert_settings(m) for m in bert})
        res = evaluate_corpus(data, args.methods, quick=args.quick, seed=args.seed, folds=args.folds, store=store,
                              name=args.corpus)
    except ValueError as err:
        p.error(str(err))
    for name in [m for m in res.get("methods", {}) if m in BERT_METHODS]:
        b = res["methods"][name]
        st = b["settings"] = {**bert_settings(name), "torch_threads": args.threads}
        b["description"] += (f": base {st['base']}, {st['encoding']} encoding, {st['pooling']} head, "
                             f"{st['epochs']:g} epochs at lr {st['learning_rate']:g}, batch {st['batch_size']}")
        marker = Path(st["base"]) / MARKER_FILE  # written by training/fit_bert.py pretrain
        if marker.is_file():
            mlm = json.loads(marker.read_text())
            b["settings"]["mlm"] = {k: mlm.get(k) for k in ("n_texts", "steps", "batch_size", "learning_rate", "final_loss", "seconds", "n_parameters")}
            b["description"] += (f"; the base is the einspace-native BERT ({mlm.get('n_parameters', 0):,} parameters) after "
                                 f"{mlm.get('steps')} masked-language-model steps on {mlm.get('n_texts')} sampled strings")
    if store is not None:
        log.info("folds: %d computed, %d read back, %d left to other shards", store.computed, store.read, store.left)
        if shard != (0, 1):
            print(f"shard {shard[0]}/{shard[1]} done; rerun without --shard to assemble the results")
            return 0
    res = {"machine": machine(), "wall_seconds": round(time.perf_counter() - start, 1), **res}
    out = args.out if args.out is not None else (None if args.quick else RESULTS)
    if out is not None:
        if args.merge:
            from surrogate_hub.evaluation import merge_results

            old = Path(out) / "surrogates.json"
            if old.is_file():
                try:
                    res = merge_results(json.loads(old.read_text()), res)
                except ValueError as err:
                    p.error(f"--merge into {old}: {err}")
        js, md = write_results(res, out)
        log.info("wrote %s and %s", js, md)
    print(markdown(res))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
