"""Small corpora for tests: a corpus config file from a base dict, the records of a built corpus,
and a two-task corpus for the fit/publish script tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml


def config_file(tmp_path: Path, name: str, base: dict[str, Any], **over: Any) -> Path:
    """``base`` with ``output`` ``tmp_path/name`` and the keys ``over``, written as ``tmp_path/name.yaml``."""
    raw = {**base, "output": str(tmp_path / name), **over}
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


def records(out: Path) -> dict[str, dict]:
    """The records of the corpus in ``out`` by job id, without ``train_seconds`` (a timing)."""
    from surrogate_hub.corpus.build import read_shards

    found, _ = read_shards(out / "data", quarantine=False)
    return {k: {c: v for c, v in r.items() if c != "train_seconds"} for k, r in found.items()}


def build_small_corpus(out: Path, name: str) -> Path:
    """Build the corpus ``name`` in ``out``: 16 records on each of two tasks (digits, add-digits)."""
    from surrogate_hub.corpus import CorpusConfig
    from surrogate_hub.corpus.build import build

    cfg = CorpusConfig.from_dict({
        "name": name, "output": str(out), "tasks": ["digits", "add-digits"],
        "shared": {"random": 12}, "per_task": {"random": 4},
        "budget": {"epochs": 1, "max_forward_seconds": None},
        "limits": {"max_params": 20_000, "max_total_activation": 20_000, "max_depth": 8},
    })
    build(cfg, progress=False)
    return out
