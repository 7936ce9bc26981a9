"""What the fit scripts (``fit_graf.py``, ``fit_bert.py``) share: the corpus/output/metrics arguments
and recording the corpus and the evaluation figures in the fitted surrogate's config."""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path
from typing import Any

__all__ = ["add_fit_arguments", "input_shape", "read_metrics", "record"]


def add_fit_arguments(parser: argparse.ArgumentParser, *, method: str) -> None:
    """The arguments of fitting on a corpus and saving: ``corpus``, ``--out``, ``--revision``,
    ``--corpus-id``, ``--metrics``, ``--method`` (default ``method``), ``--input-shape``, ``--classes``."""
    parser.add_argument("corpus", help="corpus folder or Hub dataset repo id")
    parser.add_argument("--out", type=Path, required=True, help="folder to save the surrogate in")
    parser.add_argument("--revision", default=None, help="corpus revision (Hub)")
    parser.add_argument("--corpus-id", default=None,
                        help="Hub dataset id the corpus is published as (recorded in config.json and the card's datasets)")
    parser.add_argument("--metrics", type=Path, default=None, help="evaluation JSON from training/evaluate.py")
    parser.add_argument("--method", default=method, help="which method's figures to record from --metrics")
    parser.add_argument("--input-shape", default="3,32,32", help="default input shape stored in the config")
    parser.add_argument("--classes", type=int, default=10, help="default number of classes stored in the config")


def input_shape(text: str) -> tuple[int, ...]:
    """``"3,32,32"`` → ``(3, 32, 32)``."""
    return tuple(int(x) for x in text.split(","))


def read_metrics(path: Path, method: str, digits: int) -> dict[str, Any]:
    """The Kendall tau (per task and mean) and mean Spearman rho of ``method`` in the evaluation JSON
    ``path``, leave-one-task-out and within-task, rounded to ``digits``, as config ``metrics``."""
    results = json.loads(Path(path).read_text())
    metrics: dict[str, Any] = {}
    for mode, label in (("loo", "loo"), ("within", "within_task")):
        per = results[mode].get(method)
        if per:
            metrics[f"kendall_tau_{label}"] = {t: round(v["tau"], digits) for t, v in per.items() if t != "mean"}
            metrics[f"kendall_tau_{label}_mean"] = round(per["mean"]["tau"], digits)
            metrics[f"spearman_rho_{label}_mean"] = round(per["mean"]["rho"], digits)
    # the caveats of the harness's document (corpus v2 on): transfer to architectures no other task
    # trained, and the label-noise ceiling that bounds every tau
    loo = (results.get("methods") or {}).get(method, {}).get("loo", {})
    for key, label in (("tau_unseen", "kendall_tau_loo_unseen"), ("tau_over_ceiling", "kendall_tau_loo_over_ceiling")):
        _add_by_task(metrics, label, loo.get(key), digits)
    _add_by_task(metrics, "noise_ceiling_tau", results.get("ceiling"), digits)
    return metrics


def _add_by_task(metrics: dict[str, Any], label: str, block: dict[str, Any] | None, digits: int) -> None:
    """``block`` (``{"mean": x, "by_task": {...}}``) as ``label`` per task and ``label_mean``; nulls left out."""
    if not block or block.get("mean") is None:
        return
    metrics[label] = {t: round(v, digits) for t, v in block["by_task"].items() if v is not None}
    metrics[f"{label}_mean"] = round(block["mean"], digits)


def record(
    surrogate: Any,
    *,
    corpus_id: str | None = None,
    corpus_revision: str | None = None,
    metrics: dict[str, Any] | None = None,
) -> None:
    """Record in ``surrogate.config`` where its corpus is published (``corpus_id``), the corpus
    revision and the evaluation ``metrics``; ``None`` leaves a field as it is."""
    config = surrogate.config
    corpus = config.corpus
    if corpus_revision:
        corpus = dataclasses.replace(corpus, revision=corpus_revision)
    if corpus_id:
        corpus = dataclasses.replace(corpus, repo_or_path=corpus_id)
    changes: dict[str, Any] = {"corpus": corpus}
    if metrics is not None:
        changes["metrics"] = metrics
    surrogate.config = dataclasses.replace(config, **changes)
