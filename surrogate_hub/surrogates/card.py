"""Model cards for every surrogate family: metadata and evaluation tables from a config's
``metrics``, rendered from a template shipped as package data (``surrogates/cards/<kind>.md``).

``metrics`` entries are ``{metric: {dataset: value}}`` or ``{metric: value}``; finite numbers become
rows of the card's evaluation table and ``model-index`` results. Without jinja2 (a core install),
a minimal built-in template is filled in by plain substitution.
"""

from __future__ import annotations

import importlib.util
import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

from huggingface_hub import ModelCard, ModelCardData

__all__ = [
    "FALLBACK_TEMPLATE",
    "eval_results",
    "eval_table",
    "has_jinja2",
    "lineage_section",
    "metric_rows",
    "render_card",
    "template_path",
]

CARDS_DIR: Final = Path(__file__).resolve().parent / "cards"


def template_path(kind: str) -> Path:
    """The packaged card template of surrogate ``kind``."""
    return CARDS_DIR / f"{kind}.md"


def metric_rows(metrics: Mapping[str, Any]) -> tuple[list[str], dict[str, dict[str, float]]]:
    """``{metric: {dataset: value} | value}`` → (metric names, {dataset: {metric: value}}).

    A scalar ``<metric>_mean`` is the ``mean`` row of column ``<metric>``; other scalars are the
    ``all`` row."""
    names: list[str] = []
    table: dict[str, dict[str, float]] = {}
    for metric, value in metrics.items():
        base = metric.removesuffix("_mean")
        if not isinstance(value, Mapping) and base != metric and not isinstance(metrics.get(base, {}), (int, float)):
            metric, value = base, {"mean": value}
        per_dataset = value if isinstance(value, Mapping) else {"all": value}
        for dataset, v in per_dataset.items():
            if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v):
                if metric not in names:
                    names.append(metric)
                table.setdefault(str(dataset), {})[metric] = float(v)
    return names, table


def eval_results(metrics: Mapping[str, Any], dataset_type: str) -> list:
    """``huggingface_hub.EvalResult`` entries (the card's ``model-index``) for ``metrics``."""
    from huggingface_hub import EvalResult

    _, table = metric_rows(metrics)
    return [
        EvalResult(
            task_type="tabular-regression",
            task_name="architecture performance ranking",
            dataset_type=dataset_type,
            dataset_name=dataset,
            dataset_config=dataset,  # model-index groups results by dataset type + config, not name
            metric_type=metric,
            metric_name=metric,
            metric_value=value,
        )
        for dataset, row in table.items()
        for metric, value in row.items()
    ]


#: what the columns that need a caveat mean, said under the table when present
METRIC_NOTES = {
    "kendall_tau_loo_unseen": "leave-one-task-out τ on the held-out task's architectures that no training "
    "task had (the other rows' architectures were also trained on other tasks, which flatters transfer)",
    "noise_ceiling_tau": "Kendall τ between two training seeds of the same architectures: label noise "
    "bounds every predictor's τ by about this much",
    "kendall_tau_loo_over_ceiling": "leave-one-task-out τ divided by the noise ceiling",
}


def eval_table(metrics: Mapping[str, Any]) -> str:
    """A markdown table task × metric (with notes on the columns that need them), or a sentence
    saying there is none."""
    names, table = metric_rows(metrics)
    if not table:
        return "No evaluation recorded yet."
    lines = ["| task | " + " | ".join(names) + " |", "| --- |" + " --- |" * len(names)]
    for dataset, row in table.items():
        cells = [f"{row[m]:.3f}" if m in row else "–" for m in names]
        lines.append(f"| {dataset} | " + " | ".join(cells) + " |")
    notes = [f"`{name}`: {METRIC_NOTES[name]}." for name in names if name in METRIC_NOTES]
    return "\n".join(lines + ([""] + notes if notes else []))


def _tau(v: Any) -> str:
    return "–" if v is None else f"{v:.3f}"


def lineage_section(lineage: Any) -> str:
    """The card's "Fine-tuning lineage" section of a :class:`~.config.Lineage` (``""`` for none)."""
    if lineage is None:
        return ""
    held = (
        f"{lineage.n_heldout} held-out rows: Kendall τ {_tau(lineage.tau_before)} before (the base, zero-shot) → "
        f"{_tau(lineage.tau_after)} after (fine-tuned on the other rows)"
        if lineage.n_heldout else "no held-out rows (too few rows to hold any out): no before/after τ"
    )
    rows = [
        ("base surrogate", f"`{lineage.base}`"),
        ("base revision", f"`{lineage.base_revision or 'unrecorded'}`"),
        ("strategy", f"`{lineage.strategy}`" + (f" `{json.dumps(lineage.options, sort_keys=True)}`" if lineage.options else "")),
        ("user data", f"{lineage.n_rows} rows" + (f" from `{lineage.data_file}`" if lineage.data_file else "")),
        ("data hash", f"`sha256:{lineage.data_sha256}`"),
        ("task", f"input {','.join(map(str, lineage.input_shape))}, {lineage.num_classes} classes"),
        ("held-out check", held + f" (split seed {lineage.split_seed})"),
    ]
    if lineage.parent:
        parent = lineage.parent
        rows.append(("base's own lineage", f"fine-tuned from `{parent.get('base', '?')}` with `{parent.get('strategy', '?')}`"))
    lines = ["## Fine-tuning lineage", "",
             "This surrogate was fine-tuned from a pretrained one on a user's own trained architectures.", "",
             "| | |", "| --- | --- |"]
    lines += [f"| {k} | {v} |" for k, v in rows]
    return "\n".join(lines) + "\n"


FALLBACK_TEMPLATE: Final = """---
{{ card_data }}
---

# {{ model_name }}

{{ description }}

```python
from surrogate_hub.surrogates import load_surrogate

surrogate = load_surrogate("{{ model_name }}")
ranking = surrogate.rank(architecture_strings, input_shape=(3, 32, 32), num_classes=10)
```

Surrogate kind `{{ kind }}`; targets normalised per task ({{ normalisation }}); training corpus
`{{ corpus }}` (revision `{{ corpus_revision }}`).

{{ lineage }}
## Evaluation

{{ eval_table }}

Paper: {{ paper_url }}
"""


def has_jinja2() -> bool:
    return importlib.util.find_spec("jinja2") is not None


def render_card(data: ModelCardData, values: Mapping[str, Any], template: Path | None) -> ModelCard:
    """The card from ``template`` (jinja2), the built-in fallback when the file is absent, or the
    fallback by plain substitution when jinja2 is not installed."""
    if not has_jinja2():  # ModelCard.from_template needs jinja2; render the fallback by substitution
        body = FALLBACK_TEMPLATE.split("---\n", 2)[2]
        for key, value in values.items():
            body = body.replace("{{ " + key + " }}", str(value))
        return ModelCard(f"---\n{data.to_yaml()}\n---\n{body}")
    if template is not None and Path(template).is_file():
        return ModelCard.from_template(data, template_path=str(template), **values)
    return ModelCard.from_template(data, template_str=FALLBACK_TEMPLATE, **values)


def common_card_values(cfg: Any) -> dict[str, Any]:
    """Template values every surrogate family's card shows: target normalisation, training corpus,
    default task shape, evaluation table, grammar hash, format and package versions, paper link."""
    from .. import __version__
    from .artifact import PAPER_URL

    return {
        "normalisation": cfg.target.normalisation,
        "drop_zero": cfg.target.drop_zero,
        "corpus": cfg.corpus.repo_or_path or "unrecorded",
        "corpus_revision": cfg.corpus.revision or "unrecorded",
        "default_input_shape": ",".join(map(str, cfg.default_input_shape)),
        "default_num_classes": cfg.default_num_classes,
        "eval_table": eval_table(cfg.metrics),
        "grammar_hash": cfg.grammar_hash,
        "format_version": cfg.format_version,
        "package_version": __version__,
        "paper_url": PAPER_URL,
    }
