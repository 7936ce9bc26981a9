"""The corpus command group: build (or resume) a corpus from a YAML config."""

from __future__ import annotations

import argparse
import sys

from ._backend import add_backend_args, backend_options
from ._common import command, emit, positive_int


# -- corpus -----------------------------------------------------------------------------------
def _cfg_corpus(p: argparse.ArgumentParser) -> None:
    p.add_argument("action", choices=["build"], help="build (or resume) a corpus")
    p.add_argument("--config", required=True, help="corpus YAML config (see training/configs/)")
    p.add_argument("--workers", type=positive_int, default=None,
                   help="parallel training processes (--backend ray: tasks in flight, default all the cluster runs at once)")
    add_backend_args(p)
    p.add_argument("--no-progress", action="store_true", help="no progress bars")


@command("corpus", "build or resume the architecture corpus described by a YAML config")(_cfg_corpus)
def _corpus(args: argparse.Namespace) -> int:
    from ..corpus import CorpusConfig
    from ..corpus.build import build

    options = backend_options(args)
    cfg = CorpusConfig.from_yaml(args.config)  # a ConfigError is a user error: one line, status 1
    try:
        summary = build(cfg, workers=args.workers, progress=not args.no_progress, backend=args.backend or "local",
                        backend_options=options)
    except KeyboardInterrupt:  # finished records are in the shards; the workers are stopped
        sys.stderr.write(
            f"error: interrupted; finished records are saved in {cfg.output}, "
            "rerun the same command to resume\n"
        )
        return 130
    emit(summary)
    return 0


