"""Corpus builder: schema, config errors, resume after kill -9, corrupt shards, loading."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import yaml

from surrogate_hub.corpus import COLUMNS, ConfigError, CorpusConfig, load
from surrogate_hub.corpus.build import build, plan_jobs, read_shards
from surrogate_hub.space import infer, parse
from tests_support_corpus import config_file
from tests_support_corpus import records as _records

TINY = {
    "name": "tiny",
    "tasks": ["digits"],
    "shared": {"random": 6},
    "per_task": {"random": 4},
    "evolution": {"iterations": 4, "population": 4, "tournament": 2, "batch": 2},
    "budget": {"epochs": 1, "batch_size": 256, "max_forward_seconds": None},
    "limits": {"max_params": 20_000, "max_total_activation": 20_000, "max_depth": 8},
    "shard_size": 2,
    "seed": 3,
}


def _config(tmp_path: Path, name: str, **over) -> Path:
    return config_file(tmp_path, name, TINY, **over)


@pytest.fixture(scope="module")
def reference_build(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("ref")
    cfg = CorpusConfig.from_yaml(_config(tmp, "ref"))
    build(cfg, progress=False)
    return Path(cfg.output)


def test_records_follow_the_schema(reference_build: Path) -> None:
    records = _records(reference_build)
    assert len(records) == 6 + 4 + 4
    for r in records.values():
        assert set(r) == set(COLUMNS) - {"train_seconds"}
        assert r["task"] == "digits" and r["input_shape"] == [1, 8, 8] and r["num_classes"] == 10
        assert r["origin"] in {"random", "evolution", "seed"}
        if r["status"] == "ok":
            assert 0.0 <= r["val_acc"] <= 1.0
            assert r["n_params"] > 0 and r["reason"] is None
            infer(parse(r["arch"]), (1, 8, 8))
        else:
            assert r["val_acc"] is None and r["reason"]
    evolved = [r for r in records.values() if r["origin"] == "evolution"]
    assert len(evolved) == 4 and all(r["parent"] in records or r["parent"] is None for r in evolved)


def test_resume_after_kill_9_gives_the_same_records(tmp_path: Path, reference_build: Path) -> None:
    config = _config(tmp_path, "killed")
    cmd = [sys.executable, "-m", "surrogate_hub.cli", "corpus", "build", "--config", str(config), "--no-progress"]
    data = tmp_path / "killed" / "data"
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while not list(data.glob("shard-*.parquet")) and time.monotonic() < deadline:
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    partial = _records(tmp_path / "killed")
    assert 0 < len(partial) < 14, "the kill should land mid-build"
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    assert _records(tmp_path / "killed") == _records(reference_build)
    # a second restart finds nothing to do and adds nothing
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    rows = sum(pq.read_metadata(p).num_rows for p in data.glob("shard-*.parquet"))
    assert rows == 14


def test_corrupt_shard_is_quarantined_and_rebuilt(tmp_path: Path, reference_build: Path) -> None:
    cfg = CorpusConfig.from_yaml(_config(tmp_path, "corrupt"))
    build(cfg, progress=False)
    shards = sorted((tmp_path / "corrupt" / "data").glob("shard-*.parquet"))
    victim = shards[1]
    victim.write_bytes(victim.read_bytes()[:50])  # truncated file
    (victim.parent / ".shard-00099.parquet.tmp").write_bytes(b"partial")  # leftover of a killed write
    build(cfg, progress=False)
    assert (victim.parent / (victim.name + ".corrupt")).exists()
    assert not list(victim.parent.glob(".*.tmp"))
    assert _records(tmp_path / "corrupt") == _records(reference_build)


def test_changed_config_refuses_to_resume(tmp_path: Path) -> None:
    build(CorpusConfig.from_yaml(_config(tmp_path, "a", shared={"random": 1}, per_task={"random": 0}, evolution={})), progress=False)
    changed = CorpusConfig.from_yaml(_config(tmp_path, "a", shared={"random": 2}, per_task={"random": 0}, evolution={}))
    with pytest.raises(ConfigError, match="different config.*shared"):
        build(changed, progress=False)


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"tasks": []}, "tasks: list at least one task"),
        ({"tasks": ["no-such-task"]}, "unknown task 'no-such-task'"),
        ({"tasks": ["digits", "digits"]}, "listed twice"),
        ({"workers": 0}, "workers: must be >= 1"),
        ({"shard_size": "big"}, "shard_size: expected an integer"),
        ({"budget": {"epochz": 3}}, "budget: .*epochz.*allowed keys"),
        ({"budget": {"lr": -1}}, "budget: lr must be > 0"),
        ({"limits": {"max_depth": 1}}, "limits: .*max_depth"),
        ({"shared": {"seeds": ["vgg16"]}}, "shared.seeds: unknown seed architecture"),
        ({"evolution": {"iterations": 5, "population": 500}}, "evolution.population"),
        ({"zcp": ["synflow", "magic"]}, "zcp: unknown proxies"),
        ({"colour": "blue"}, "unknown key.*colour"),
    ],
)
def test_bad_config_values_give_clear_errors(tmp_path: Path, override: dict, message: str) -> None:
    raw = {**TINY, "output": str(tmp_path / "x"), **override}
    with pytest.raises(ConfigError, match=message):
        CorpusConfig.from_dict(raw)


def test_missing_and_malformed_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        CorpusConfig.from_yaml(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("tasks: [digits\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        CorpusConfig.from_yaml(bad)


def test_cli_reports_config_errors_without_traceback(tmp_path: Path) -> None:
    from surrogate_hub.cli import main

    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump({**TINY, "output": str(tmp_path / "o"), "workers": -2}))
    assert main(["corpus", "build", "--config", str(path), "--no-progress"]) == 1  # one error: line


def test_shared_pool_is_valid_on_every_task() -> None:
    cfg = CorpusConfig.from_dict({**TINY, "output": "unused", "tasks": ["digits", "synth-language", "chess-material"]})
    jobs = plan_jobs(cfg)
    shared = {}
    for j in jobs:
        if j.pool == "shared":
            shared.setdefault(j.arch, set()).add(j.task)
    assert len(shared) == 6 and all(len(ts) == 3 for ts in shared.values())
    from surrogate_hub.tasks import get_task

    for arch in shared:
        for t in cfg.tasks:
            infer(parse(arch), get_task(t).input_shape)
    assert plan_jobs(cfg) == jobs  # deterministic


def test_load_local_folder_and_datasets_parquet(reference_build: Path) -> None:
    import datasets

    ds = load(reference_build)
    assert len(ds) == 14 and set(COLUMNS) <= set(ds.column_names)
    ok = load(reference_build, ok_only=True)
    assert all(s == "ok" for s in ok["status"])
    by_task = load(reference_build, by_task=True)
    assert list(by_task) == ["digits"] and len(by_task["digits"]) == 14
    raw = datasets.load_dataset("parquet", data_files=str(reference_build / "data" / "*.parquet"), split="train")
    assert sorted(raw["job_id"]) == sorted(ds["job_id"])
    with pytest.raises(FileNotFoundError, match="no corpus shards"):
        load(reference_build / "data")


def test_a_stored_plan_is_followed_so_resumes_do_not_depend_on_the_sampler(tmp_path: Path) -> None:
    import json

    cfg = CorpusConfig.from_yaml(_config(tmp_path, "planned", shared={"random": 2}, per_task={"random": 0}, evolution={}))
    out = Path(cfg.output)
    out.mkdir()
    archs = ["computation<linear(16)>", "sequential(computation<norm>, computation<relu>)"]
    jobs = [{"job_id": f"digits/shared/{i:04d}", "arch": a, "task": "digits", "origin": "random", "pool": "shared",
             "seed": 3, "parent": None} for i, a in enumerate(archs)]
    (out / "plan.jsonl").write_text("".join(json.dumps(j) + "\n" for j in jobs))
    build(cfg, progress=False)
    assert sorted(r["arch"] for r in _records(out).values()) == sorted(archs)


def test_zero_cost_proxies_are_computed_resumably_and_joined(reference_build: Path, tmp_path: Path) -> None:
    import shutil

    from tests_support_scripts import run_script

    corpus = tmp_path / "c"
    shutil.copytree(reference_build, corpus)
    run_script("compute_zcp", [str(corpus), "--chunk", "4", "--batch-size", "16"])
    files = sorted((corpus / "zcp").glob("zcp-*.parquet"))
    run_script("compute_zcp", [str(corpus)])  # nothing left to do: no new files
    assert sorted((corpus / "zcp").glob("zcp-*.parquet")) == files
    ds = load(corpus, zcp=True)
    ok = [s == "ok" for s in ds["status"]]
    snip = ds["zcp_snip"]
    assert all((v == v) == good for v, good in zip(snip, ok))  # NaN exactly for failed records
    assert [p for p, good in zip(ds["zcp_params"], ok) if good] == [n for n, good in zip(ds["n_params"], ok) if good]


def test_training_script_builds_like_the_cli(tmp_path: Path) -> None:
    from tests_support_scripts import run_script

    config = _config(tmp_path, "script", shared={"random": 2}, per_task={"random": 0}, evolution={})
    run_script("build_corpus", [str(config), "--no-progress"])
    assert len(_records(tmp_path / "script")) == 2


def test_corpus_v1_loads_completely() -> None:
    """The committed corpus: every record loads, with the numbers its card promises."""
    from collections import Counter

    root = Path(__file__).resolve().parents[1] / "corpus" / "einspace-offline-v1"
    ds = load(root)
    records, _ = read_shards(root / "data", quarantine=False)
    assert len(ds) == len(records) == 2016
    ok = Counter(t for t, s in zip(ds["task"], ds["status"]) if s == "ok")
    assert len(ok) == 7 and min(ok.values()) >= 250
    shared = Counter(a for a, p, o in zip(ds["arch"], ds["pool"], ds["origin"]) if p == "shared" and o == "random")
    assert sum(1 for n in shared.values() if n == 7) >= 150
