"""The rank command: order architectures by a surrogate's predicted score."""

from __future__ import annotations

import argparse
import logging
import sys

from ._common import command, emit, parse_input_shape, positive_int, read_lines


# -- rank -------------------------------------------------------------------------------------
def _cfg_rank(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", nargs="?", default="-", help="one architecture per line (default: stdin)")
    p.add_argument("--surrogate", default="einspace-graf-xgb",
                   help="registered name, local folder or Hub repo id (default: einspace-graf-xgb)")
    p.add_argument("--input-shape", type=parse_input_shape, required=True, metavar="C,H,W")
    p.add_argument("--classes", type=positive_int, default=None, metavar="K",
                   help="number of classes (default: the surrogate's default)")
    p.add_argument("--top", type=positive_int, default=None, metavar="K", help="print only the best K")
    p.add_argument("--json", action="store_true", help="JSON lines: rank, arch, score")
    p.add_argument("--revision", default=None, help="Hub revision of the surrogate")


@command("rank", "rank architectures by a pretrained surrogate's predicted score, best first")(_cfg_rank)
def _rank(args: argparse.Namespace) -> int:
    from ..space import ArchitectureError, infer, parse
    from ..surrogates.registry import load_surrogate

    log = logging.getLogger(__name__)
    archs, texts, skipped = [], [], 0
    for lineno, text in read_lines(args.file):
        try:
            arch = parse(text)
            infer(arch, args.input_shape)
        except ArchitectureError as err:
            skipped += 1
            log.warning("line %d skipped: %s: %s", lineno, type(err).__name__, err)
            continue
        archs.append(arch)
        texts.append(text)
    if not archs:
        sys.stderr.write("error: no valid architectures to rank\n")
        return 1
    surrogate = load_surrogate(args.surrogate, revision=args.revision)
    ranking = surrogate.rank(archs, input_shape=args.input_shape, num_classes=args.classes)
    rows = ranking.to_records()[: args.top] if args.top else ranking.to_records()
    for row in rows:
        text = texts[row["index"]]
        if args.json:
            emit({"rank": row["rank"], "arch": text, "score": row["score"]})
        else:
            sys.stdout.write(f"{row['rank']}\t{row['score']:.4f}\t{text}\n")
    if skipped:
        log.warning("%d malformed or invalid line(s) skipped", skipped)
    return 0


