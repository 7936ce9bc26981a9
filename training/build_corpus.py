"""Build (or resume) an architecture corpus from a YAML config; the same as
``surrogate-hub corpus build --config FILE``.

    python training/build_corpus.py training/configs/corpus_v1.yaml [--workers 2]

Kill it at any moment and run the same command again: it continues where it stopped.
"""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    from surrogate_hub.cli import main as cli

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("config")
    p.add_argument("--workers", type=int, default=None)
    p.add_argument("--no-progress", action="store_true")
    args = p.parse_args(argv)
    forwarded = ["-v", "corpus", "build", "--config", args.config]
    if args.workers:
        forwarded += ["--workers", str(args.workers)]
    if args.no_progress:
        forwarded.append("--no-progress")
    return cli(forwarded)


if __name__ == "__main__":
    sys.exit(main())
