"""Fit the GRAF-XGBoost surrogate on a whole corpus and save it (optionally as the embedded default).

    python training/fit_graf.py corpus/einspace-offline-v1 --out surrogate_hub/pretrained/einspace-graf-xgb \
        [--metrics benchmarks/results/surrogates.json] [--no-extras] [--zcp grad_norm snip ...]

The saved folder (``config.json``, ``model.json``, ``README.md``) loads with
``surrogate_hub.surrogates.load_surrogate(folder)``; the evaluation figures, when given, go into
``config.json`` and the model card.
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    from surrogate_hub.surrogates.base import fit_corpus
    from surrogate_hub.surrogates.graf_xgb import GrafSurrogate

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("corpus", help="corpus folder or Hub dataset repo id")
    p.add_argument("--out", type=Path, required=True, help="folder to save the surrogate in")
    p.add_argument("--revision", default=None, help="corpus revision (Hub)")
    p.add_argument("--no-extras", action="store_true", help="GRAF only, without parameters/FLOPs/shape extras")
    p.add_argument("--zcp", nargs="*", default=[], help="zero-cost proxy columns to use (the corpus must hold them)")
    p.add_argument("--metrics", type=Path, default=None, help="evaluation JSON from training/evaluate.py")
    p.add_argument("--method", default="graf-xgb", help="which method's figures to record from --metrics")
    p.add_argument("--input-shape", default="3,32,32", help="default input shape stored in the config")
    p.add_argument("--classes", type=int, default=10, help="default number of classes stored in the config")
    p.add_argument("--corpus-id", default=None,
                   help="Hub dataset id the corpus is published as (recorded in config.json and the card's datasets)")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    shape = tuple(int(x) for x in args.input_shape.split(","))
    sur = GrafSurrogate(
        extras=not args.no_extras, zcp=tuple(args.zcp), default_input_shape=shape, default_num_classes=args.classes
    )
    fit_corpus(sur, args.corpus, revision=args.revision)
    if args.revision is None and Path(args.corpus).is_dir():  # provenance: the commit of the local corpus
        import dataclasses

        commit = _git_commit(Path(args.corpus))
        if commit:
            sur.config = dataclasses.replace(sur.config, corpus=dataclasses.replace(sur.config.corpus, revision=commit))
    if args.corpus_id:
        import dataclasses

        sur.config = dataclasses.replace(sur.config, corpus=dataclasses.replace(sur.config.corpus, repo_or_path=args.corpus_id))
    if args.metrics:
        res = json.loads(args.metrics.read_text())
        metrics = {}
        for mode, label in (("loo", "loo"), ("within", "within_task")):
            per = res[mode].get(args.method)
            if per:
                metrics[f"kendall_tau_{label}"] = {t: round(v["tau"], 6) for t, v in per.items() if t != "mean"}
                metrics[f"kendall_tau_{label}_mean"] = round(per["mean"]["tau"], 6)
                metrics[f"spearman_rho_{label}_mean"] = round(per["mean"]["rho"], 6)
        sur.config = sur.config.with_metrics(metrics) if hasattr(sur.config, "with_metrics") else _replace_metrics(sur.config, metrics)
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


def _replace_metrics(config, metrics: dict):
    import dataclasses

    return dataclasses.replace(config, metrics=metrics)


if __name__ == "__main__":
    raise SystemExit(main())
