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
    p.add_argument("--replace-task", action="append", default=[], metavar="OLD=NEW",
                   help="swap task OLD of the existing corpus for the config's task NEW (same input shape): "
                        "OLD's records are dropped, NEW trains the same architectures; repeatable")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")


@command("corpus", "build or resume the architecture corpus described by a YAML config")(_cfg_corpus)
def _corpus(args: argparse.Namespace) -> int:
    from ..corpus import CorpusConfig
    from ..corpus.build import build

    options = backend_options(args)
    cfg = CorpusConfig.from_yaml(args.config)  # a ConfigError is a user error: one line, status 1
    replace = dict(_task_pair(text) for text in args.replace_task)
    try:
        summary = build(cfg, workers=args.workers, progress=not args.no_progress, backend=args.backend or "local",
                        backend_options=options, replace=replace)
    except KeyboardInterrupt:  # finished records are in the shards; the workers are stopped
        sys.stderr.write(
            f"error: interrupted; finished records are saved in {cfg.output}, "
            "rerun the same command to resume\n"
        )
        return 130
    emit(summary)
    return 0




def _task_pair(text: str) -> tuple[str, str]:
    from ..corpus import ConfigError

    old, sep, new = text.partition("=")
    if not sep or not old.strip() or not new.strip():
        raise ConfigError(f"--replace-task {text!r}: expected OLD=NEW, e.g. --replace-task chess-material=chess-signed")
    return old.strip(), new.strip()
