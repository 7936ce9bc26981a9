"""The fit command: fit a surrogate of one kind on a corpus and save it as a loadable folder.

Every kind goes through the same library call, :func:`~surrogate_hub.surrogates.base.fit_corpus`
(the one ``training/fit_graf.py`` and ``training/fit_bert.py`` use); the kinds differ only in the
class and the settings it is built with (:data:`KINDS`).
"""

from __future__ import annotations

import argparse
import importlib
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ._common import CommandError, command, integer, parse_input_shape, positive_int


@dataclass(frozen=True)
class Kind:
    """A surrogate kind of ``fit --kind``: its class (``"module:Class"``, imported when used), what
    it is, and the constructor settings for the parsed options."""

    cls: str
    help: str
    settings: Callable[[argparse.Namespace], dict[str, Any]]


def _paper_proxies() -> tuple[str, ...]:
    from ..evaluation.methods import PAPER_PROXIES  # the light copy: no torch

    return PAPER_PROXIES


def _bert_settings(a: argparse.Namespace) -> dict[str, Any]:
    given = {"base": a.base, "encoding": a.encoding, "pooling": a.pooling, "epochs": a.epochs, "learning_rate": a.lr,
             "batch_size": a.batch_size, "label_noise": a.label_noise,
             "augmentations": tuple(a.augment) if a.augment else None}
    return {"device": a.device, "seed": a.seed, **{k: v for k, v in given.items() if v is not None}}


#: ``--kind`` name -> how to build the surrogate
KINDS: dict[str, Kind] = {
    "graf": Kind("surrogate_hub.surrogates.graf_xgb:GrafSurrogate", "XGBoost on GRAF + extras (as einspace-graf-xgb)",
                 lambda a: {"xgb_params": {"seed": a.seed}}),
    "graf-zcp": Kind("surrogate_hub.surrogates.graf_xgb:GrafSurrogate",
                     "XGBoost on GRAF + extras + the paper's seven zero-cost proxies (the corpus must hold them)",
                     lambda a: {"xgb_params": {"seed": a.seed}, "zcp": _paper_proxies()}),
    "forest": Kind("surrogate_hub.surrogates.forest:ForestSurrogate", "random forest on GRAF + extras",
                   lambda a: {"forest_params": {"random_state": a.seed}}),
    "bert": Kind("surrogate_hub.surrogates.bert.model:BertSurrogate",
                 "BERT-style model fine-tuned on the architecture text (slow on a CPU)", _bert_settings),
}

#: options of ``--kind bert`` only (dest names; each is None or False when not given)
_BERT_ONLY = ("base", "encoding", "pooling", "epochs", "lr", "batch_size", "augment", "label_noise", "checkpoints", "resume",
              "device", "half")


def _cfg(p: argparse.ArgumentParser) -> None:
    p.add_argument("corpus", metavar="CORPUS", help="corpus folder or Hub dataset repo id")
    p.add_argument("--kind", required=True, choices=list(KINDS),
                   help="; ".join(f"{name}: {k.help}" for name, k in KINDS.items()))
    p.add_argument("--output", "--out", dest="output", required=True, metavar="DIR", help="folder to save the surrogate in")
    p.add_argument("--force", action="store_true", help="replace --output if it exists and is not empty")
    p.add_argument("--tasks", nargs="+", default=None, metavar="TASK", help="fit on these corpus tasks only (default: all)")
    p.add_argument("--revision", default=None, help="corpus revision (Hub)")
    p.add_argument("--corpus-id", default=None, metavar="REPO",
                   help="Hub dataset id the corpus is published as (recorded in config.json and the card)")
    p.add_argument("--input-shape", type=parse_input_shape, default=(3, 32, 32), metavar="C,H,W",
                   help="default input shape recorded in the config (default 3,32,32)")
    p.add_argument("--classes", type=positive_int, default=10, metavar="K", help="default class count recorded (default 10)")
    p.add_argument("--seed", type=integer, default=0, help="model seed (default 0)")
    p.add_argument("--threads", type=positive_int, default=None,
                   help="XGBoost/scikit-learn threads (default 1), or torch's CPU threads for bert (default: torch's own)")
    b = p.add_argument_group("--kind bert (defaults: the library's, i.e. the paper's recipe)")
    b.add_argument("--base", default=None,
                   help="einspace-native (random init, default), an MLM folder from training/fit_bert.py pretrain, "
                        "minilm, or a transformers folder / Hub id")
    b.add_argument("--encoding", default=None, choices=["long", "compact"], help="architecture text (default long)")
    b.add_argument("--pooling", default=None, choices=["mean-max", "cls"],
                   help="regression head: mean and max over all tokens (default) or the [CLS] vector")
    b.add_argument("--epochs", type=float, default=None, help="fine-tuning epochs (default 10)")
    b.add_argument("--lr", type=float, default=None, help="learning rate (default 1e-5; a small native model wants ~1e-4)")
    b.add_argument("--batch-size", type=positive_int, default=None, help="training batch (default 16)")
    b.add_argument("--augment", nargs="+", default=None, choices=["reorder", "swap", "identity", "width"],
                   help="training augmentations (default none)")
    b.add_argument("--label-noise", type=float, default=None, help="sd of target noise (the paper: 0.005)")
    b.add_argument("--checkpoints", default=None, metavar="DIR", help="keep the Trainer's checkpoints here (resumable)")
    b.add_argument("--resume", action="store_true", help="continue from the last checkpoint in --checkpoints")
    b.add_argument("--device", default=None, help="torch device: cpu, cuda, cuda:1 (default: CUDA when available)")
    b.add_argument("--half", action="store_true", help="store fp16 weights (half the size)")
    b.add_argument("--no-progress", dest="progress", action="store_false", help="no progress bar")


def _check_options(args: argparse.Namespace) -> None:
    if args.kind != "bert":
        given = [name for name in _BERT_ONLY if getattr(args, name) not in (None, False)]
        if given:
            raise CommandError(f"--{given[0].replace('_', '-')} applies to --kind bert only, not {args.kind!r}", status=2)
    if args.resume and args.checkpoints is None:
        raise CommandError("--resume needs --checkpoints", status=2)


@command("fit", "fit a surrogate (graf, graf-zcp, forest or bert) on a corpus and save it as a loadable folder")(_cfg)
def _fit(args: argparse.Namespace) -> int:
    import dataclasses

    _check_options(args)
    out = Path(args.output).expanduser()
    if out.exists() and not out.is_dir():
        raise CommandError(f"--output {out}: exists and is not a folder", status=2)
    if out.is_dir() and any(out.iterdir()) and not args.force:
        raise CommandError(f"--output {out}: folder exists and is not empty; choose another or pass --force", status=2)

    kind = KINDS[args.kind]
    module, _, name = kind.cls.partition(":")
    cls = getattr(importlib.import_module(module), name)
    settings = {**kind.settings(args), "default_input_shape": args.input_shape, "default_num_classes": args.classes}
    fit_kwargs: dict[str, Any] = {}
    if args.kind == "bert":
        fit_kwargs = {"output_dir": args.checkpoints, "resume": args.resume, "progress": args.progress}
        if args.threads is not None:
            import torch

            torch.set_num_threads(args.threads)  # the documented --threads; this process only
    elif args.threads is not None:
        settings["n_jobs"] = args.threads
    try:
        surrogate = cls(**settings)
    except (TypeError, ValueError) as err:  # e.g. an unknown augmentation or a bad setting
        raise CommandError(f"--kind {args.kind}: {err}", status=2) from err

    from ..surrogates.base import fit_corpus

    sys.stderr.write(f"fitting {args.kind} on {args.corpus}" + (f" (tasks {', '.join(args.tasks)})" if args.tasks else "") + "\n")
    try:
        fit_corpus(surrogate, args.corpus, args.tasks, revision=args.revision, fit_kwargs=fit_kwargs)
    except ValueError as err:  # no usable rows, proxies missing from the corpus, ...
        raise CommandError(str(err)) from err
    if args.corpus_id:
        config = surrogate.config
        surrogate.config = dataclasses.replace(config, corpus=dataclasses.replace(config.corpus, repo_or_path=args.corpus_id))

    tmp = out.with_name(out.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    surrogate.save_pretrained(tmp, **({"half": True} if args.half else {}), model_card_kwargs={"model_name": out.name})
    if out.exists():
        shutil.rmtree(out)
    tmp.replace(out)
    sys.stderr.write(f"saved to {out}\n")
    sys.stdout.write(f"{out}\n")
    return 0
