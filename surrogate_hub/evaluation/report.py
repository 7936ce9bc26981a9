"""The results document as Markdown, and writing ``surrogates.json`` / ``surrogates.md`` atomically."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

__all__ = ["markdown", "merge_results", "write_results"]


def _f(v: Any, digits: int = 3) -> str:
    return "–" if v is None else f"{v:.{digits}f}"


def _order(res: dict[str, Any], mode: str) -> list[str]:
    names = [m for m, r in res["methods"].items() if r[mode] is not None]
    return sorted(names, key=lambda m: -(res["methods"][m][mode]["tau"]["mean"] if res["methods"][m][mode]["tau"]["mean"] is not None else -9))


def markdown(res: dict[str, Any]) -> str:
    """A human-readable report of :func:`~.protocol.evaluate`'s document."""
    tasks = res["tasks"]
    ceiling = res["ceiling"]
    has_ceiling = any(v is not None for v in ceiling["by_task"].values())
    lines = ["# Surrogate evaluation", ""]
    if res.get("quick"):
        lines += ["**Quick run** (a smoke check on a subsample; these figures are not the evaluation).", ""]
    lines += [
        (
            f"Corpus `{res.get('corpus', '?')}` (usable-record hash `{res['content_hash']}`), seed {res['seed']}. "
            "A row is one architecture on one task: failed and zero-accuracy records are dropped, and the "
            "records of an architecture trained with several seeds are one row labelled with their mean "
            "accuracy, so no seed of it is ever in another fold. Leave-one-task-out fits on the other tasks' "
            "rows only (targets normalised per task among them) and scores the held-out task; *unseen* rows "
            "are architectures in no training row of that fold. Kendall τ is tau-b; P@10% is the share of "
            "the true top 10% found in the predicted top 10%; ‘–’ means undefined or not available."
        ),
        "",
    ]
    if not has_ceiling:
        lines += [
            (
                "**No noise ceiling:** this corpus has no task with at least "
                f"{ceiling['min_pairs']} architectures trained with two seeds, so the noise ceiling and "
                "τ/ceiling are null (not estimated). Corpus v1 has one seed per record: it never has a ceiling."
            ),
            "",
        ]
    else:
        lines += [
            (
                "Noise ceiling: Kendall τ between the two seeds' accuracies of the architectures trained "
                "twice on the task; τ/ceiling per task, and mean τ / mean ceiling over the tasks with one. "
                "The labels of two-seed rows are seed means, slightly less noisy than the single seeds the "
                "ceiling compares."
            ),
            "",
        ]
    lines += ["## Tasks", "", "| task | records | usable | rows | two-seed rows | noise ceiling τ |",
              "| --- | --- | --- | --- | --- | --- |"]
    for t in tasks:
        d = res["data"][t]
        lines.append(f"| {t} | {d['records']} | {d['usable']} | {d['rows_evaluated']} | "
                     f"{ceiling['n_pairs'][t]} | {_f(ceiling['by_task'][t])} |")
    lines += ["", "## Leave-one-task-out (fit on the other tasks, zero-shot on this one): Kendall τ", "",
              "| method | " + " | ".join(tasks) + " | mean τ | τ unseen | τ seen | mean ρ | P@10% | τ/ceiling | s |",
              "| --- |" + " --- |" * (len(tasks) + 7)]
    for m in _order(res, "loo"):
        r = res["methods"][m]["loo"]
        cells = []
        for t in tasks:
            cov = r["n_scored"][t] / r["n"][t] if r["n"][t] else 1.0
            cells.append(_f(r["tau"]["by_task"][t]) + ("" if cov == 1 else f" ({cov:.0%})"))
        lines.append(f"| {m} | " + " | ".join(cells) + f" | **{_f(r['tau']['mean'])}** | {_f(r['tau_unseen']['mean'])} | "
                     f"{_f(r['tau_seen']['mean'])} | {_f(r['rho']['mean'])} | {_f(r['p_at_10']['mean'])} | "
                     f"{_f(r['tau_over_ceiling']['mean'])} | {res['methods'][m]['seconds']:.0f} |")
    any_m = next(iter(res["methods"].values()), None)
    if any_m is not None:
        lo = any_m["loo"]
        lines += ["", "Percentages: share of the task's rows the method could score (the rest have no value, e.g. a "
                  "proxy that failed); τ is computed on the scored rows only. Unseen rows (architectures in no "
                  "training row of the fold) per task: "
                  + ", ".join(f"{t} {lo['n_unseen'][t]} of {lo['n'][t]}" for t in tasks) + "."]
    within = _order(res, "within")
    if within:
        folds = res["methods"][within[0]]["within"]["folds"]
        lines += ["", f"## Within-task ({folds}-fold cross-validation, fitted methods only): Kendall τ", "",
                  "| method | " + " | ".join(tasks) + " | mean τ | mean ρ | P@10% |", "| --- |" + " --- |" * (len(tasks) + 3)]
        for m in within:
            r = res["methods"][m]["within"]
            lines.append(f"| {m} | " + " | ".join(_f(r["tau"]["by_task"][t]) for t in tasks)
                         + f" | **{_f(r['tau']['mean'])}** | {_f(r['rho']['mean'])} | {_f(r['p_at_10']['mean'])} |")
    lines += ["", "## Methods", ""] + [f"- `{m}`: {r.get('description') or '–'}" for m, r in res["methods"].items()]
    if res["coverage"]:
        lines += ["", "## Zero-cost proxy coverage (rows without a value)", "",
                  "| proxy | " + " | ".join(tasks) + " | all |", "| --- |" + " --- |" * (len(tasks) + 1)]
        for p, c in res["coverage"].items():
            lines.append(f"| {p} | " + " | ".join(str(c["by_task"][t]) for t in tasks) + f" | {c['n_nan']} |")
    if res.get("wall_seconds") is not None:
        cpus = (res.get("machine") or {}).get("cpu_count", "?")
        lines += ["", f"Wall time of the whole run: {res['wall_seconds']:.0f} s on {cpus} CPU cores (column *s*: per method; "
                  "for a method evaluated from stored folds, the time its folds took when they were computed)."]
    if res["skipped"]:
        lines += ["", "Skipped: " + "; ".join(f"{m} ({why})" for m, why in res["skipped"].items()) + "."]
    return "\n".join(lines) + "\n"


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def write_results(res: dict[str, Any], out_dir: str | Path, name: str = "surrogates") -> tuple[Path, Path]:
    """Write ``{out_dir}/{name}.json`` and ``{name}.md`` (atomically); returns their paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    js, md = out / f"{name}.json", out / f"{name}.md"
    _atomic_write(js, json.dumps(res, indent=1) + "\n")
    _atomic_write(md, markdown(res))
    return js, md


#: keys that must agree for two results documents to be merged
MERGE_KEYS = ("content_hash", "seed", "folds", "tasks", "n_rows")


def merge_results(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """``old`` with the methods of ``new`` added (a method in both: ``new``'s), for adding a slow
    method's results to an existing document. Raises ``ValueError`` when the two were not computed
    on the same rows and folds (:data:`MERGE_KEYS`)."""
    from .protocol import _legacy

    diff = [k for k in MERGE_KEYS if old.get(k) != new.get(k)]
    if diff:
        raise ValueError(f"cannot merge results computed on other data or folds (they differ in {', '.join(diff)}); "
                         "rerun the methods on the same corpus, seed and folds")
    methods = {**old.get("methods", {}), **new.get("methods", {})}
    skipped = {k: v for k, v in {**old.get("skipped", {}), **new.get("skipped", {})}.items() if k not in methods}
    out = {**old, "methods": methods, "skipped": skipped, **_legacy(methods)}
    still = [m for m in new.get("incomplete", []) if m not in methods]
    out.pop("incomplete", None)
    if still:
        out["incomplete"] = still
    return out
