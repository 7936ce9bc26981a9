"""Fit the GRAF-XGBoost surrogate on a whole corpus and save it (optionally as the embedded default).

    python training/fit_graf.py corpus/einspace-offline-v1 --out surrogate_hub/pretrained/einspace-graf-xgb \
        [--metrics benchmarks/results/surrogates.json] [--no-extras] [--zcp grad_norm snip ...]

The saved folder (``config.json``, ``model.json``, ``README.md``) loads with
``surrogate_hub.surrogates.load_surrogate(folder)``; the evaluation figures, when given, go into
``config.json`` and the model card.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

if str(Path(__file__).resolve().parent) not in sys.path:  # _fitting, also when this file is loaded by path
    sys.path.append(str(Path(__file__).resolve().parent))
from _fitting import add_fit_arguments, input_shape, read_metrics, record


def main(argv: list[str] | None = None) -> int:
    from surrogate_hub.surrogates.base import fit_corpus
    from surrogate_hub.surrogates.graf_xgb import GrafSurrogate

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_fit_arguments(p, method="graf-xgb")
    p.add_argument("--no-extras", action="store_true", help="GRAF only, without parameters/FLOPs/shape extras")
    p.add_argument("--zcp", nargs="*", default=[], help="zero-cost proxy columns to use (the corpus must hold them)")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    sur = GrafSurrogate(
        extras=not args.no_extras,
        zcp=tuple(args.zcp),
        default_input_shape=input_shape(args.input_shape),
        default_num_classes=args.classes,
    )
    fit_corpus(sur, args.corpus, revision=args.revision)
    local = args.revision is None and Path(args.corpus).is_dir()
    record(
        sur,
        corpus_id=args.corpus_id,
        corpus_revision=_git_commit(Path(args.corpus)) if local else None,  # provenance: the local corpus's commit
        metrics=read_metrics(args.metrics, args.method, digits=6) if args.metrics else None,
    )
    sur.save_pretrained(args.out, model_card_kwargs={"model_name": args.out.name})
    print(args.out)
    return 0


def _git_commit(folder: Path) -> str | None:
    """The last commit touching ``folder`` when it is tracked by git and unmodified, else None."""
    import subprocess

    try:
        run = lambda *a: subprocess.run(["git", *a], cwd=folder, capture_output=True, text=True, check=True).stdout.strip()  # noqa: E731
        if run("status", "--porcelain", "--", "."):
            return None
        return run("log", "-1", "--format=%H", "--", ".") or None
    except (OSError, subprocess.CalledProcessError):
        return None


if __name__ == "__main__":
    raise SystemExit(main())
