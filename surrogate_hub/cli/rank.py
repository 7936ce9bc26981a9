"""The rank command: order architectures by a surrogate's predicted score."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ._common import (
    CommandError,
    command,
    emit,
    parse_input_shape,
    positive_int,
    read_lines,
)
from ..surrogates.registry import DEFAULT_SURROGATE

GRAF_DEFAULT = DEFAULT_SURROGATE
ZCP_DEFAULT = "einspace-graf-zcp-xgb"


# -- rank -------------------------------------------------------------------------------------
def _cfg_rank(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", nargs="?", default="-", help="one architecture per line (default: stdin)")
    p.add_argument("--task", default=None, metavar="NAME_OR_NPY",
                   help="your data: a registered task, npy:ROOT/NAME or a folder in the Unseen-NAS .npy layout; "
                        f"zero-cost proxies are computed on it and the default surrogate becomes {ZCP_DEFAULT}")
    p.add_argument("--surrogate", default=None,
                   help=f"registered name, local folder or Hub repo id (default: {ZCP_DEFAULT} with --task, "
                        f"else {GRAF_DEFAULT})")
    p.add_argument("--input-shape", type=parse_input_shape, default=None, metavar="C,H,W",
                   help="input shape (required without --task; default: the task's)")
    p.add_argument("--classes", type=positive_int, default=None, metavar="K",
                   help="number of classes (default: the task's, else the surrogate's recorded default)")
    p.add_argument("--top", type=positive_int, default=None, metavar="K", help="print only the best K")
    p.add_argument("--json", action="store_true", help="JSON lines: rank, arch, score")
    p.add_argument("--skip-invalid", action="store_true",
                   help="exit 0 even when malformed or invalid lines were skipped (they are still reported)")
    p.add_argument("--workers", type=positive_int, default=None,
                   help="processes for the zero-cost proxies (default: all cores for large inputs)")
    progress = p.add_mutually_exclusive_group()
    progress.add_argument("--progress", dest="progress", action="store_true", default=None,
                          help="progress bar for the proxies (default: when stderr is a terminal)")
    progress.add_argument("--no-progress", dest="progress", action="store_false")
    p.add_argument("--revision", default=None, help="Hub revision of the surrogate")


def _task_argument(text: str) -> str:
    """A task name, ``npy:...``, or an existing folder (taken as ``npy:FOLDER``)."""
    if not text.startswith("npy:") and ("/" in text or text.startswith(".")) and Path(text).expanduser().is_dir():
        return "npy:" + str(Path(text).expanduser())
    return text


def _note(text: str) -> None:
    sys.stderr.write(f"note: {text}\n")


@command("rank", "rank architectures by a pretrained surrogate's predicted score, best first")(_cfg_rank)
def _rank(args: argparse.Namespace) -> int:
    from ..space import ArchitectureError, infer, parse
    from ..surrogates.registry import load_surrogate

    task = None
    if args.task is not None:
        from ..tasks import get_task

        task = get_task(_task_argument(args.task))
        if args.input_shape is not None and tuple(args.input_shape) != tuple(task.input_shape):
            raise CommandError(
                f"--input-shape {','.join(map(str, args.input_shape))} differs from the task's "
                f"{','.join(map(str, task.input_shape))}; leave it out with --task", status=2)
    elif args.input_shape is None:
        raise CommandError("--input-shape C,H,W is required without --task (the shape of your data)", status=2)
    shape = tuple(task.input_shape) if task is not None else tuple(args.input_shape)

    name = args.surrogate or (ZCP_DEFAULT if task is not None else GRAF_DEFAULT)
    surrogate = load_surrogate(name, revision=args.revision)
    if args.surrogate is None and task is None:
        _note(f"ranking with the GRAF-only surrogate {GRAF_DEFAULT}; pass --task NAME_OR_NPY to compute "
              f"zero-cost proxies on your data and rank with {ZCP_DEFAULT} (better transfer)")
    zcp = tuple(getattr(surrogate, "zcp_names", ()))
    if zcp and task is None:
        raise CommandError(
            f"surrogate {name!r} uses zero-cost proxies ({', '.join(zcp)}) computed on your data: pass --task "
            f"NAME_OR_NPY, or rank with the GRAF-only {GRAF_DEFAULT}", status=2)
    if args.classes is not None:
        classes, why = args.classes, "--classes"
    elif task is not None:
        classes, why = task.num_classes, f"task {task.name}"
    else:
        classes = getattr(getattr(surrogate, "config", None), "default_num_classes", None)
        if classes is None:
            raise CommandError(f"surrogate {name!r} records no default class count: pass --classes K", status=2)
        why = "the surrogate's recorded default; pass --classes K for your data"
    sys.stderr.write(f"classes: {classes} ({why})\n")

    archs, texts, skipped, total = [], [], [], 0
    for line in read_lines(args.file):
        total += 1
        try:
            if line.error:
                raise ArchitectureError(line.error)
            arch = parse(line.text)
            infer(arch, shape)
        except ArchitectureError as err:
            skipped.append(f"line {line.number}: {type(err).__name__}: {err}")
            continue
        archs.append(arch)
        texts.append(line.text)
    for message in skipped[:20]:
        sys.stderr.write(f"skipped {message}\n")
    if not archs:
        raise CommandError(f"no valid architectures to rank ({len(skipped)} of {total} lines skipped)")

    progress = sys.stderr.isatty() if args.progress is None else args.progress
    extra = {"task": task, "progress": progress, "workers": args.workers} if zcp else {}
    ranking = surrogate.rank(archs, input_shape=shape, num_classes=classes, **extra)
    rows = ranking.to_records()[: args.top] if args.top else ranking.to_records()
    for row in rows:
        text = texts[row["index"]]
        if args.json:
            emit({"rank": row["rank"], "arch": text, "score": row["score"]})
        else:
            score = "nan" if row["score"] is None else f"{row['score']:.4f}"
            sys.stdout.write(f"{row['rank']}\t{score}\t{text}\n")
    sys.stdout.flush()
    if skipped:
        more = " (first 20 shown)" if len(skipped) > 20 else ""
        verdict = "" if args.skip_invalid else "; pass --skip-invalid to accept that"
        sys.stderr.write(f"summary: ranked {len(archs)} of {total} lines, skipped {len(skipped)} malformed or "
                         f"invalid line(s){more}{verdict}\n")
        return 0 if args.skip_invalid else 1
    return 0
