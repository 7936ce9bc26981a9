"""Durable runs: kill -9 of a real search process, then the same command, equals an uninterrupted run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from surrogate_hub.cli import main
from surrogate_hub.search import ResumeError, SearchConfig, run_search
from surrogate_hub.search.rundir import RunDir

ROOT = Path(__file__).resolve().parents[1]
CONFIG = {
    "profile": "cpu", "task": "digits", "strategy": "surrogate-filter", "budget": 11, "population": 3,
    "tournament": 2, "proposals": 4, "train_per_round": 2, "refit_every": 3,
    "train": {"epochs": 2, "batch_size": 64, "max_forward_seconds": None},
    "final_train": {"epochs": 1, "batch_size": 128, "max_forward_seconds": None},
    "limits": {"max_params": 20_000, "max_activation": 5_000, "max_total_activation": 20_000},
}
KEYS = ("id", "arch", "origin", "parent", "status", "val_acc", "predicted", "trained", "trained_index")


def candidates(folder: Path) -> list[dict]:
    events = [json.loads(line) for line in (folder / "log.jsonl").read_text().splitlines()]
    return [e for e in events if e["event"] == "candidate"]


def n_trained(folder: Path) -> int:
    path = folder / "log.jsonl"
    if not path.exists():
        return 0
    return sum(1 for line in path.read_text().splitlines() if '"trained":true' in line)


@pytest.mark.slow
def test_resume_after_kill_9_equals_an_uninterrupted_run(torch1, tmp_path) -> None:
    cfg_path = tmp_path / "search.yaml"
    cfg_path.write_text(yaml.safe_dump(CONFIG))
    argv = ["search", "--config", str(cfg_path), "--no-progress"]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]), "OMP_NUM_THREADS": "1"}
    killed = tmp_path / "killed"
    proc = subprocess.Popen([sys.executable, "-m", "surrogate_hub.cli", *argv, "--out", str(killed)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 240
    while n_trained(killed) < 5 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    at_kill = n_trained(killed)
    assert 5 <= at_kill < CONFIG["budget"], f"the run should be killed midway (trained {at_kill})"
    assert not (killed / "summary.json").exists()
    with open(killed / "log.jsonl", "a") as fh:  # as if killed in the middle of writing a line
        fh.write('{"event":"candidate","id":"c000')
    assert main([*argv, "--out", str(killed)]) == 0
    straight = tmp_path / "straight"
    assert main([*argv, "--out", str(straight)]) == 0
    resumed, reference = candidates(killed), candidates(straight)
    assert [tuple(e.get(k) for k in KEYS) for e in resumed if e["trained"]] == sorted(
        (tuple(e.get(k) for k in KEYS) for e in reference if e["trained"]), key=lambda t: t[-1])
    assert {tuple(e.get(k) for k in KEYS) for e in resumed} == {tuple(e.get(k) for k in KEYS) for e in reference}
    assert len(resumed) == len({e["id"] for e in resumed})  # nothing logged (so nothing trained) twice
    a, b = (json.loads((f / "summary.json").read_text()) for f in (killed, straight))
    assert (a["best"], a["test_acc"], a["curve"]) == (b["best"], b["test_acc"], b["curve"])


def test_a_different_config_does_not_resume(torch1, tmp_path) -> None:
    cfg = SearchConfig.make(**{**CONFIG, "strategy": "evolution", "budget": 4})
    run_search(cfg, tmp_path, progress=False)
    with pytest.raises(ResumeError, match=r"differs in \['budget'\]"):
        run_search(cfg.replace(budget=5), tmp_path, progress=False)
    run_search(cfg.replace(workers=1), tmp_path, progress=False)  # runtime keys may change


def test_a_torn_last_line_is_cut_from_the_log(tmp_path) -> None:
    run = RunDir(tmp_path)
    run.start({"config": {"a": 1}, "grammar_hash": "x"}, ())
    run.append({"event": "candidate", "id": "c00001"})
    run.close()
    with open(tmp_path / "log.jsonl", "a") as fh:
        fh.write('{"event": "cand')
    assert run.read_log() == [{"event": "candidate", "id": "c00001"}]
    assert (tmp_path / "log.jsonl").read_text().endswith("}\n")
