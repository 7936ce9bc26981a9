"""The finetune command: adapt a pretrained surrogate to the user's own trained architectures."""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

from ._common import CommandError, command, emit, parse_input_shape, positive_int


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number in [0, 1), got {text!r}") from None
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"must be a number in [0, 1), got {text!r}")
    return value


def _cfg(p: argparse.ArgumentParser) -> None:
    from ..surrogates.finetune import FINETUNE_STRATEGIES, RECOMMENDED

    p.add_argument("--surrogate", required=True, metavar="NAME_OR_PATH",
                   help="the base: a registered name (e.g. einspace-graf-xgb), a local folder or a Hub repo id")
    p.add_argument("--data", required=True, metavar="FILE",
                   help="your trained architectures: JSONL, CSV or parquet with columns arch and val_acc "
                        "(or accuracy), or a search run folder")
    p.add_argument("--input-shape", required=True, type=parse_input_shape, metavar="C,H,W", help="your data's input shape")
    p.add_argument("--classes", required=True, type=positive_int, metavar="K", help="your data's number of classes")
    p.add_argument("--out", required=True, metavar="DIR", help="folder to save the fine-tuned surrogate in")
    p.add_argument("--strategy", default=None, choices=sorted(FINETUNE_STRATEGIES),
                   help="how to fine-tune (default: the recommended one for the surrogate's kind: "
                        + ", ".join(f"{k} -> {v}" for k, v in RECOMMENDED.items()) + ")")
    p.add_argument("--holdout", type=_fraction, default=0.2, metavar="FRACTION",
                   help="share of your rows held out to measure Kendall tau before/after (default 0.2; 0: none)")
    p.add_argument("--seed", type=int, default=0, help="seed of the held-out split (default 0)")
    p.add_argument("--corpus", default=None, metavar="PATH_OR_REPO",
                   help="strategy corpus: the corpus to refit on (default: the one the base records)")
    p.add_argument("--arch-column", default=None, help="architecture column (default: arch or architecture)")
    p.add_argument("--acc-column", default=None, help="accuracy column (default: val_acc, accuracy, acc or val_accuracy)")
    p.add_argument("--revision", default=None, help="Hub revision of the base surrogate")
    p.add_argument("--push-to-hub", default=None, metavar="REPO", help="also upload the result to this Hub model repo")
    p.add_argument("--private", action="store_true", help="with --push-to-hub: create the repo private")
    p.add_argument("--force", action="store_true", help="replace --out if it exists and is not empty")
    p.add_argument("--json", action="store_true", help="print the lineage as one JSON line on stdout")


@command("finetune", "fine-tune a pretrained surrogate on your own trained architectures (held-out tau, lineage)")(_cfg)
def _finetune(args: argparse.Namespace) -> int:
    from ..surrogates.finetune import finetune_with_report, recommended_strategy
    from ..surrogates.registry import load_surrogate
    from ..surrogates.userdata import read_user_data

    out = Path(args.out).expanduser()
    if out.exists() and not out.is_dir():
        raise CommandError(f"--out {out}: exists and is not a folder", status=2)
    if out.is_dir() and any(out.iterdir()) and not args.force:
        raise CommandError(f"--out {out}: folder exists and is not empty; choose another or pass --force", status=2)
    surrogate = load_surrogate(args.surrogate, revision=args.revision)
    strategy = args.strategy or recommended_strategy(surrogate)
    options = {}
    if args.corpus is not None:
        if strategy != "corpus":
            raise CommandError(f"--corpus is used by --strategy corpus only, not {strategy!r}", status=2)
        options["corpus"] = args.corpus
    rows = read_user_data(args.data, input_shape=args.input_shape, arch_column=args.arch_column,
                          acc_column=args.acc_column)
    zcp = rows.zcp_matrix(tuple(getattr(surrogate, "zcp_names", ())))
    skipped = ", ".join(f"{n} with {r}" for r, n in rows.skipped.items())
    sys.stderr.write(f"data: {len(rows)} architectures from {rows.n_read} rows of {rows.source}"
                     + (f" (skipped {skipped})" if skipped else "") + "\n")
    sys.stderr.write(f"fine-tuning {args.surrogate} with strategy {strategy}\n")
    try:
        tuned, lineage = finetune_with_report(
            surrogate, rows.archs, rows.accuracies, input_shape=args.input_shape, num_classes=args.classes,
            base_name=args.surrogate, zcp=zcp, strategy=strategy, holdout=args.holdout, seed=args.seed,
            data_file=str(Path(rows.source).resolve()), revision=args.revision, **options,
        )
    except ValueError as err:  # the library's argument errors: bad option, unusable corpus, too few rows
        raise CommandError(str(err)) from err
    if lineage.n_heldout:
        def fmt(v):
            return "undefined" if v is None else f"{v:.3f}"

        sys.stderr.write(f"held-out check on {lineage.n_heldout} rows: Kendall tau {fmt(lineage.tau_before)} "
                         f"(base, zero-shot) -> {fmt(lineage.tau_after)} (fine-tuned on the other rows)\n")
    else:
        sys.stderr.write("held-out check: skipped (fewer than 10 usable rows, or --holdout 0)\n")
    tmp = out.with_name(out.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tuned.save_pretrained(tmp, repo_id=args.push_to_hub)
    if out.exists():
        shutil.rmtree(out)
    tmp.replace(out)
    sys.stderr.write(f"saved to {out}\n")
    if args.push_to_hub:
        url = tuned.push_to_hub(args.push_to_hub, private=args.private or None,
                                commit_message=f"Fine-tune {args.surrogate} ({strategy}, {lineage.n_rows} rows)")
        sys.stderr.write(f"pushed to {args.push_to_hub} ({url})\n")
    if args.json:
        emit(lineage.to_dict())
    return 0
