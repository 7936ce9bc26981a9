"""A run folder: the resolved config, an append-only JSONL log and a state file.

``{out}/config.json``  the resolved :class:`~.config.SearchConfig` (plus package and grammar versions);
                       a rerun with the same ``--out`` must resolve to the same config (runtime keys
                       such as ``workers`` may change) or it is refused.
``{out}/log.jsonl``    one JSON object per line, appended and fsynced as events happen: every
                       candidate (``event: "candidate"``), every surrogate refit (``"refit"``) and the
                       final retraining (``"final"``). A line cut short by a kill is dropped (and
                       cut from the file) when the log is read back.
``{out}/state.json``   progress (trained count, best so far, done or not), rewritten atomically.
``{out}/summary.json`` written when the run completes.
"""

from __future__ import annotations

import json
import logging
import math
import os
from pathlib import Path
from typing import Any

__all__ = ["RunDir", "ResumeError", "atomic_write_json"]

log = logging.getLogger(__name__)


class ResumeError(ValueError):
    """The folder holds a run that this configuration cannot continue."""


def _jsonable(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


def atomic_write_json(path: Path, payload: Any) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(_jsonable(payload), fh, indent=2)
        fh.write("\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


class RunDir:
    CONFIG = "config.json"
    LOG = "log.jsonl"
    STATE = "state.json"
    SUMMARY = "summary.json"

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._fh = None

    # -- config -------------------------------------------------------------------------------
    def start(self, resolved: dict[str, Any], runtime_keys: tuple[str, ...]) -> bool:
        """Create the folder or check it holds the same run; returns True when resuming."""
        self.path.mkdir(parents=True, exist_ok=True)
        cfg_path = self.path / self.CONFIG
        if cfg_path.exists():
            stored = json.loads(cfg_path.read_text(encoding="utf-8"))
            strip = lambda d: {k: v for k, v in d.get("config", {}).items() if k not in runtime_keys}  # noqa: E731
            a, b = strip(stored), strip(_jsonable(resolved))
            if a != b:
                diff = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
                raise ResumeError(
                    f"{self.path} holds a run with a different configuration (differs in {diff}); "
                    "rerun with the same settings to resume, or choose a new --out"
                )
            if stored.get("grammar_hash") != resolved.get("grammar_hash"):
                raise ResumeError(f"{self.path} was started with another einspace grammar version; choose a new --out")
            atomic_write_json(cfg_path, {**stored, "config": {**stored["config"], **{k: resolved["config"][k] for k in runtime_keys}}})
            return (self.path / self.LOG).exists()
        if any(self.path.iterdir()):
            if (self.path / self.LOG).exists():
                raise ResumeError(f"{self.path} has a log but no {self.CONFIG}; choose a new --out")
        atomic_write_json(cfg_path, resolved)
        return False

    # -- log ----------------------------------------------------------------------------------
    def read_log(self) -> list[dict[str, Any]]:
        """The logged events; a truncated last line (a kill mid-write) is cut from the file."""
        path = self.path / self.LOG
        if not path.exists():
            return []
        data = path.read_bytes()
        events, good = [], 0
        for line in data.splitlines(keepends=True):
            if not line.endswith(b"\n"):
                break
            try:
                events.append(json.loads(line))
            except json.JSONDecodeError:
                break
            good += len(line)
        if good < len(data):
            log.warning("%s: dropping %d bytes of an unfinished last line", path, len(data) - good)
            with open(path, "r+b") as fh:
                fh.truncate(good)
        return events

    def append(self, event: dict[str, Any]) -> None:
        if self._fh is None:
            self._fh = open(self.path / self.LOG, "a", encoding="utf-8")
        self._fh.write(json.dumps(_jsonable(event), separators=(",", ":")) + "\n")
        self._fh.flush()
        os.fsync(self._fh.fileno())

    def write_state(self, state: dict[str, Any]) -> None:
        atomic_write_json(self.path / self.STATE, state)

    def write_summary(self, summary: dict[str, Any]) -> None:
        atomic_write_json(self.path / self.SUMMARY, summary)

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None
