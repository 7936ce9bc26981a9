"""The corpus dataset card (``README.md``), rendered from ``model_cards/corpus_card.md``.

Structured data (statistics, config, schema) goes into the template; the YAML header is built
with ``huggingface_hub.DatasetCardData``, never by joining strings.
"""

from __future__ import annotations

import json
import statistics
from collections import Counter
from pathlib import Path

import yaml

from .build import RESOLVED, read_shards
from .schema import COLUMNS

__all__ = ["render_card", "write_card", "TEMPLATE"]

TEMPLATE = Path(__file__).resolve().parents[2] / "model_cards" / "corpus_card.md"


def _fmt(x: float | None) -> str:
    return "–" if x is None else f"{x:.3f}"


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{100 * x:.0f} %"


def render_card(out: Path, *, license: str = "apache-2.0", template: Path | None = None) -> str:
    from huggingface_hub import DatasetCard, DatasetCardData

    from ..tasks import get_task

    out = Path(out)
    resolved = yaml.safe_load((out / RESOLVED).read_text(encoding="utf-8"))
    cfg = resolved["config"]
    records, _ = read_shards(out / "data", quarantine=False)
    rows = list(records.values())
    tasks = []
    for name in cfg["tasks"]:
        task = get_task(name, seed=cfg["task_seed"])
        data = task.load()
        tasks.append({
            "name": name, "shape": "×".join(map(str, task.input_shape)), "num_classes": task.num_classes,
            "sizes": f"{len(data.y_train)} / {len(data.y_valid)} / {len(data.y_test)}",
            "description": task.description.replace("\n", " ").replace("|", "/"),
            "provenance": task.provenance.replace("\n", " "),
        })
    from .signal import task_signal

    signal = task_signal(rows)
    stats = []
    for name in cfg["tasks"]:
        mine = [r for r in rows if r["task"] == name]
        accs = [r["val_acc"] for r in mine if r["status"] == "ok"]
        fails = Counter(r["status"] for r in mine if r["status"] != "ok")
        stats.append({
            "task": name, "records": len(mine), "ok": len(accs),
            "failures": ", ".join(f"{k} {v}" for k, v in sorted(fails.items())) or "none",
            "median": _fmt(statistics.median(accs) if accs else None), "max": _fmt(max(accs) if accs else None),
            "seconds": f"{sum(r['train_seconds'] or 0 for r in mine):,.0f}",
            "near_chance": _pct(signal.get(name, {}).get("near_chance_share")),
            "ceiling": _fmt(signal.get(name, {}).get("noise_ceiling")),
            "pairs": signal.get(name, {}).get("noise_pairs", 0),
            "evolution": sum(r["origin"] == "evolution" for r in mine),
        })
    baselines = _baselines(out / "report" / "baselines.json", cfg["tasks"])
    n = len(rows)
    size = "n<1K" if n < 1000 else "1K<n<10K" if n < 10_000 else "10K<n<100K"
    data = DatasetCardData(
        license=license,
        pretty_name=cfg["name"],
        size_categories=size,
        task_categories=["tabular-regression"],
        tags=["neural-architecture-search", "einspace", "surrogate", "performance-prediction", "surrogate-hub"],
        configs=[{"config_name": "default", "data_files": [{"split": "train", "path": "data/shard-*.parquet"}]}],
    )
    ev = cfg["evolution"]
    card = DatasetCard.from_template(
        data,
        template_path=str(template or TEMPLATE),
        pretty_name=cfg["name"],
        n_tasks=len(cfg["tasks"]), n_records=n, n_ok=sum(r["status"] == "ok" for r in rows),
        n_archs=len({r["arch"] for r in rows}), package_version=resolved["package_version"],
        task_seed=cfg["task_seed"], tasks=tasks, stats=stats, seed=cfg["seed"],
        shared_random=cfg["shared"]["random"], shared_seeds=", ".join(cfg["shared"]["seeds"]),
        per_task_random=cfg["per_task"]["random"], evo_iterations=ev["iterations"],
        evo_population=ev["population"], evo_tournament=ev["tournament"],
        limits=json.dumps(cfg["limits"]), budget=json.dumps(cfg["budget"]),
        profile=cfg.get("profile") or "", task_budgets=json.dumps(cfg.get("task_budgets") or {}),
        noise_count=(cfg.get("noise") or {}).get("count", 0), noise_seed=(cfg.get("noise") or {}).get("seed", 1),
        threads=cfg.get("threads", 1), replaced=resolved.get("replaced_tasks") or [], baselines=baselines,
        schema=[(k, t, d.replace("|", "/")) for k, (t, d) in COLUMNS.items()], repo_hint=f"surrogate-hub/{cfg['name']}",
        license=license,
    )
    return str(card)


def _baselines(path: Path, tasks: list[str]) -> list[dict]:
    """Rows of ``report/baselines.json`` (``benchmarks/tasks.py --from-corpus`` writes it), or none."""
    if not path.exists():
        return []
    doc = json.loads(path.read_text(encoding="utf-8"))["tasks"]
    return [{"task": t, "linear": _fmt(doc[t]["best_linear"]), "seed": _fmt(doc[t]["best_seed"]),
             "seed_name": doc[t]["best_seed_name"],
             "wins": {True: "yes", False: "no"}.get(doc[t]["seed_beats_linear"], "–")}
            for t in tasks if t in doc]


def write_card(out: Path, **kwargs) -> Path:
    """Render the card into ``{out}/README.md`` and return its path."""
    path = Path(out) / "README.md"
    path.write_text(render_card(out, **kwargs), encoding="utf-8")
    return path
