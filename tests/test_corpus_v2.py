"""Corpus v2 machinery: scaled seeds, analytic gates, learning curves, noise pairs, per-task budgets,
named sampler profiles, timeouts retried, silent resumes, workers that die with the builder, and the
signal figures (near-chance share, noise ceiling) on hand-made records."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from surrogate_hub.corpus import ConfigError, CorpusConfig
from surrogate_hub.corpus.build import build, evaluate_job, plan_jobs, read_shards
from surrogate_hub.corpus.signal import kendall_tau, near_chance_share, noise_ceiling, seed_pairs, task_signal
from surrogate_hub.space import (
    ShapeError,
    activations,
    flops,
    infer,
    limits_profile,
    n_params,
    output_shape,
    parse,
    sample_many,
    to_string,
)
from surrogate_hub.space.seeds import get_seed, list_seeds, parse_seed_spec, scaled_seed
from surrogate_hub.tasks import get_task
from surrogate_hub.train import Budget, train_architecture
from tests_support_corpus import config_file

TINY = {
    "name": "tiny-v2",
    "tasks": ["digits", "tile-count"],
    "profile": "cpu-small-v2",
    "shared": {"random": 4, "seeds": ["mlpmixer_d2*0.125"]},
    "noise": {"count": 2, "seed": 7},
    "per_task": {"random": 1},
    "evolution": {"iterations": 2, "population": 3, "tournament": 2, "batch": 2},
    "budget": {"epochs": 1, "batch_size": 256},
    "task_budgets": {"tile-count": {"epochs": 2}},
    "limits": {"max_params": 20_000, "max_total_activation": 20_000, "max_depth": 8},
    "shard_size": 3,
    "seed": 3,
}


def _config(tmp_path: Path, name: str, **over) -> Path:
    return config_file(tmp_path, name, TINY, **over)


# -- scaled seeds ---------------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(1, 8, 8), (3, 8, 8), (12, 8, 8), (1, 16, 16), (3, 16, 16), (1, 32, 32)])
@pytest.mark.parametrize("name", list_seeds())
def test_scaled_seeds_fit_every_square_task_shape_and_shrink(name: str, shape) -> None:
    small = scaled_seed(f"{name}*0.125", shape)
    infer(small, shape)  # valid for the shape
    assert n_params(small, shape, 10) < n_params(get_seed(name), (3, 32, 32), 10)
    assert n_params(small, shape, 10) <= n_params(scaled_seed(f"{name}*0.5", shape), shape, 10)
    widths = [int(w) for w in __import__("re").findall(r"linear\((\d+)\)", to_string(small))]
    assert min(widths) >= 16


def test_mixer_token_mixing_follows_the_token_count() -> None:
    # 8x8 inputs: 1x1 patches give 64 tokens; 16x16: 4x4 patches give 16 tokens
    assert "im2col(1,1,0)" in to_string(scaled_seed("mlpmixer_d2*0.25", (1, 8, 8)))
    text = to_string(scaled_seed("mlpmixer_d2*0.25", (1, 16, 16)))
    assert "im2col(4,4,0)" in text and "routing[identity, computation<linear(16)>, perm(0,2,1)]" in text


def test_mixer_without_a_mixable_token_count_is_refused_clearly() -> None:
    with pytest.raises(ShapeError, match="no patch size"):
        scaled_seed("mlpmixer_d2*0.25", (1, 16, 26))


@pytest.mark.parametrize("spec,error", [("vgg*0.5", KeyError), ("vit_d2*big", ValueError), ("vit_d2*2", ValueError)])
def test_bad_seed_specs(spec: str, error) -> None:
    with pytest.raises(error):
        parse_seed_spec(spec)


def test_plain_seed_name_is_scale_one() -> None:
    assert parse_seed_spec("vit_d2") == ("vit_d2", 1.0)


# -- analytic gates, curves, threads --------------------------------------------------------------
def test_gates_are_analytic_and_say_which_limit() -> None:
    task = get_task("digits")
    arch = "sequential(routing[im2col(3,1,1), computation<linear(64)>, col2im], computation<relu>)"
    a = parse(arch)
    f, act = flops(a, (1, 8, 8), 10), activations(a, (1, 8, 8))
    r = train_architecture(arch, task, Budget(epochs=1, max_flops=f - 1))
    assert r.status == "too_large" and "max_flops" in r.reason and r.flops == f and r.activations == act
    r = train_architecture(arch, task, Budget(epochs=1, max_activations=act - 1))
    assert r.status == "too_large" and "max_activations" in r.reason
    assert Budget().max_forward_seconds is None and Budget().max_train_seconds is None


def test_activation_count_by_hand() -> None:
    # linear(16) on 3x8x8 (channels last: 3x8x16 = 384 elements) then relu (384)
    assert activations(parse("sequential(computation<linear(16)>, computation<relu>)"), (3, 8, 8)) == 768


def test_learning_curve_is_recorded_per_epoch() -> None:
    r = train_architecture(
        "sequential(computation<linear(32)>, computation<relu>)", get_task("digits"), Budget(epochs=3, batch_size=128)
    )
    assert r.ok and len(r.val_curve) == 3 and len(r.loss_curve) == 3
    assert r.val_curve[-1] == r.val_acc
    assert r.loss_curve[-1] < r.loss_curve[0]


def test_threads_are_pinned_for_the_call_and_restored() -> None:
    import torch

    before = torch.get_num_threads()
    train_architecture("computation<identity>", get_task("digits"), Budget(epochs=1), threads=1)
    assert torch.get_num_threads() == before
    with pytest.raises(ValueError, match="threads"):
        train_architecture("computation<identity>", get_task("digits"), Budget(epochs=1), threads=0)


@pytest.mark.parametrize("field", ["max_params", "max_flops", "max_activations", "max_train_seconds"])
def test_budget_limits_must_be_positive(field: str) -> None:
    with pytest.raises(ValueError, match=field):
        Budget(**{field: 0})


# -- profiles, config, plan -----------------------------------------------------------------------
def test_named_profile_reproduces_the_corpus_distribution() -> None:
    limits = limits_profile("cpu-small")
    archs = sample_many(20, (1, 8, 8), seed=0, limits=limits)
    assert all(n_params(a, (1, 8, 8), 1) <= limits.max_params for a in archs)
    assert limits_profile("cpu-small", max_depth=6).max_depth == 6
    v2 = limits_profile("cpu-small-v2")
    for a in sample_many(30, (1, 8, 8), seed=1, limits=v2):
        assert output_shape(a, (1, 8, 8))[0] >= v2.min_head_features == 8
    with pytest.raises(KeyError, match="cpu-small"):
        limits_profile("gpu-huge")


@pytest.mark.parametrize(
    "override,message",
    [
        ({"profile": "nope"}, "profile: unknown limits profile"),
        ({"noise": {"count": 10, "seed": 1}}, "noise.count: must be between 0 and shared.random"),
        ({"noise": {"count": 1, "seed": 3}}, "noise.seed: must differ"),
        ({"task_budgets": {"chess-material": {"epochs": 2}}}, "task_budgets: tasks ['chess-material']"),
        ({"task_budgets": {"digits": {"epoch": 2}}}, "task_budgets.digits:"),
        ({"budget": {"max_flops": -5}}, "max_flops must be positive"),
        ({"shared": {"random": 4, "seeds": ["vit_d2*x"]}}, "shared.seeds: seed 'vit_d2*x'"),
        ({"threads": 0}, "threads: must be >= 1"),
    ],
)
def test_bad_v2_config_values(tmp_path: Path, override: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=__import__("re").escape(message)):
        CorpusConfig.from_yaml(_config(tmp_path, "bad", **override))


def test_plan_has_noise_pairs_scaled_seeds_and_per_task_budgets(tmp_path: Path) -> None:
    cfg = CorpusConfig.from_yaml(_config(tmp_path, "plan"))
    jobs = plan_jobs(cfg)
    noise = [j for j in jobs if j.seed == 7]
    assert len(noise) == 2 * 2 and all(j.pool == "shared" and j.job_id.endswith("/seed7") for j in noise)
    first = {j.job_id: j for j in jobs if j.seed == 3}
    for j in noise:  # the same architecture as its first-seed twin
        assert first[j.job_id.rsplit("/", 1)[0]].arch == j.arch
    seeds = {j.task: j.arch for j in jobs if j.origin == "seed"}
    assert "im2col(1,1,0)" in seeds["digits"] and "im2col(4,4,0)" in seeds["tile-count"]
    assert cfg.budget_for("tile-count").epochs == 2 and cfg.budget_for("digits").epochs == 1


def test_v1_config_still_resumes_unchanged(tmp_path: Path) -> None:
    """A build made before the v2 keys existed compares them as their defaults."""
    from surrogate_hub.corpus.build import RESOLVED, _check_resume

    raw = {k: v for k, v in TINY.items() if k not in ("profile", "noise", "task_budgets")}
    raw["shared"] = {"random": 4}
    out = tmp_path / "old"
    out.mkdir()
    stored = {k: v for k, v in CorpusConfig.from_dict({**raw, "output": str(out)}).to_dict().items()
              if k not in ("noise", "task_budgets", "profile", "threads", "retries")}
    (out / RESOLVED).write_text(yaml.safe_dump({"config": stored}))
    _check_resume(out, CorpusConfig.from_dict({**raw, "output": str(out)}))  # no error



def test_a_corpus_folder_gives_back_its_config(tmp_path: Path) -> None:
    """Readers of a corpus (the search benchmark) take its budget and sampler limits from the folder."""
    from surrogate_hub.corpus.config import RESOLVED

    cfg = CorpusConfig.from_dict({**TINY, "output": str(tmp_path)})
    old = {k: v for k, v in cfg.to_dict().items() if k not in ("task_budgets", "threads")}  # written before they existed
    (tmp_path / RESOLVED).write_text(yaml.safe_dump({"config": old, "grammar_hash": "x"}))
    back = CorpusConfig.from_corpus(tmp_path)
    assert back.budget_for("digits") == cfg.budget_for("digits") and back.budget_for("tile-count").epochs == 1
    assert back.limits_value() == cfg.limits_value() and back.limits_value().min_head_features == 8
    (tmp_path / RESOLVED).write_text(yaml.safe_dump({"config": cfg.to_dict()}))
    assert CorpusConfig.from_corpus(tmp_path) == cfg
    with pytest.raises(ConfigError, match="not found.*corpus folder"):
        CorpusConfig.from_corpus(tmp_path / "nothing")

# -- records, retries, resumes ----------------------------------------------------------------------
@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("v2")
    cfg = CorpusConfig.from_yaml(_config(tmp, "built"))
    build(cfg, progress=False)
    return Path(cfg.output)


def test_records_carry_curves_threads_and_provenance(built: Path) -> None:
    records, _ = read_shards(built / "data", quarantine=False)
    assert len(records) == 2 * (1 + 4 + 2 + 1 + 2)
    for r in records.values():
        assert r["threads"] == 1 and r["attempts"] == 1 and r["task_seed"] == 0
        if r["status"] == "ok":
            expected = 2 if r["task"] == "tile-count" else 1
            assert len(r["val_curve"]) == len(r["loss_curve"]) == expected == r["epochs"]
            assert r["val_curve"][-1] == r["val_acc"] and r["activations"] > 0
    assert {r["seed"] for r in records.values()} == {3, 7}


def test_resuming_a_finished_build_is_a_silent_no_op(built: Path, caplog) -> None:
    cfg = CorpusConfig.from_yaml(built.parent / "built.yaml")
    before = sorted(p.name for p in (built / "data").iterdir())
    with caplog.at_level(logging.WARNING):
        build(cfg, progress=False)
    assert sorted(p.name for p in (built / "data").iterdir()) == before
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_replay_trusts_stored_children_over_regenerated_ones(tmp_path: Path, built: Path, caplog) -> None:
    """A stored evolution child that today's code would not propose is kept, silently."""
    import shutil

    import pyarrow as pa
    import pyarrow.parquet as pq

    out = tmp_path / "replay"
    shutil.copytree(built, out)
    cfg_path = _config(tmp_path, "replay")
    for shard in (out / "data").glob("shard-*.parquet"):
        table = pq.read_table(shard)
        rows = table.to_pylist()
        for row in rows:
            if row["origin"] == "evolution":
                row["arch"] = "computation<identity>"  # as if an older mutation had proposed it
        pq.write_table(pa.Table.from_pylist(rows, schema=table.schema), shard)
    with caplog.at_level(logging.WARNING):
        build(CorpusConfig.from_yaml(cfg_path), progress=False)
    records, _ = read_shards(out / "data", quarantine=False)
    evolved = [r for r in records.values() if r["origin"] == "evolution"]
    assert evolved and all(r["arch"] == "computation<identity>" for r in evolved)
    assert len(records) == 2 * (1 + 4 + 2 + 1 + 2)
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_timeouts_are_retried_and_counted(tmp_path: Path) -> None:
    cfg = CorpusConfig.from_yaml(_config(tmp_path, "slow", budget={"epochs": 3, "batch_size": 8, "max_train_seconds": 1e-6}))
    job = plan_jobs(cfg)[0]
    record = evaluate_job(job, cfg)
    assert record["status"] == "timeout" and record["attempts"] == 2
    cfg0 = CorpusConfig.from_yaml(_config(tmp_path, "slow0", budget={"epochs": 3, "batch_size": 8, "max_train_seconds": 1e-6}, retries=0))
    assert evaluate_job(job, cfg0)["attempts"] == 1


def _children(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True).stdout
    return [int(x) for x in out.split()]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    status = Path(f"/proc/{pid}/status")
    return not (status.exists() and "State:\tZ" in status.read_text())


@pytest.mark.slow
def test_killing_the_builder_leaves_no_workers(tmp_path: Path) -> None:
    config = _config(tmp_path, "orphans", budget={"epochs": 400, "batch_size": 16})
    cmd = [sys.executable, "-m", "surrogate_hub.cli", "corpus", "build", "--config", str(config),
           "--no-progress", "--workers", "2"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    workers: list[int] = []
    while time.monotonic() < deadline:
        workers = [p for p in _children(proc.pid) if "spawn_main" in Path(f"/proc/{p}/cmdline").read_text(errors="ignore")]
        if len(workers) >= 2:
            break
        time.sleep(0.2)
    assert len(workers) >= 2, "the builder did not start its workers"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    deadline = time.monotonic() + 20
    while any(_alive(w) for w in workers) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not [w for w in workers if _alive(w)], "worker processes outlived the killed builder"


@pytest.mark.slow
def test_ctrl_c_stops_cleanly_with_one_line(tmp_path: Path) -> None:
    config = _config(tmp_path, "interrupt", budget={"epochs": 400, "batch_size": 16})
    cmd = [sys.executable, "-m", "surrogate_hub.cli", "corpus", "build", "--config", str(config),
           "--no-progress", "--workers", "2"]
    # SIGINT back to its default in the child: a shell running pytest in the background starts it
    # ignored, and Python keeps an ignored SIGINT ignored (the build would never see Ctrl-C)
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 120
    while len(_children(proc.pid)) < 2 and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(1.0)
    assert proc.poll() is None, "the build ended before it could be interrupted"
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: interrupted") and "resume" in lines[0]


# -- signal figures on hand-made data ------------------------------------------------------------------
def test_near_chance_share_by_hand() -> None:
    assert near_chance_share([0.1, 0.11, 0.12, 0.5, 0.9], 10) == pytest.approx(3 / 5)
    assert near_chance_share([], 10) is None


def test_noise_ceiling_by_hand() -> None:
    pairs = [(0.1, 0.2), (0.2, 0.1), (0.5, 0.6), (0.7, 0.8)]  # 5 concordant, 1 discordant pair
    assert noise_ceiling(pairs) == pytest.approx(4 / 6)
    assert noise_ceiling(pairs[:2]) is None
    assert kendall_tau([1, 2, 3], [3, 2, 1]) == pytest.approx(-1)


def test_seed_pairs_and_task_signal() -> None:
    rows = []
    for i, (a, b) in enumerate([(0.1, 0.1), (0.5, 0.4), (0.8, 0.9), (0.3, 0.35)]):
        for seed, acc in ((0, a), (1, b)):
            rows.append({"task": "t", "arch": f"a{i}", "seed": seed, "status": "ok", "val_acc": acc,
                         "num_classes": 10, "origin": "random"})
    rows.append({"task": "t", "arch": "bad", "seed": 0, "status": "nan_loss", "val_acc": None,
                 "num_classes": 10, "origin": "random"})
    assert len(seed_pairs(rows)["t"]) == 4
    sig = task_signal(rows)["t"]
    assert sig["rows"] == 9 and sig["ok"] == 8 and sig["noise_pairs"] == 4
    assert sig["near_chance_share"] == pytest.approx(1 / 4) and sig["noise_ceiling"] == pytest.approx(1.0)
    assert sig["best_acc"] == 0.9


# -- the command line reproduces the corpus ---------------------------------------------------------
def test_sample_profile_on_the_command_line(capsys) -> None:
    from surrogate_hub.cli import main

    assert main(["sample", "--n", "5", "--input-shape", "1,8,8", "--profile", "cpu-small-v2", "--seed", "4"]) == 0
    lines = capsys.readouterr().out.splitlines()
    expected = [to_string(a) for a in sample_many(5, (1, 8, 8), seed=4, limits=limits_profile("cpu-small-v2"))]
    assert lines == expected


def test_sample_unknown_profile_is_one_error_line() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "surrogate_hub.cli", "sample", "--input-shape", "1,8,8", "--profile", "huge"],
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode != 0 and proc.stderr.strip().splitlines() == [proc.stderr.strip()]
    assert proc.stderr.startswith("error: --profile: unknown limits profile 'huge'")


def test_train_with_a_corpus_config_reproduces_a_record(tmp_path: Path, capsys) -> None:
    import json

    from surrogate_hub.cli import main

    config = _config(tmp_path, "repro")
    cfg = CorpusConfig.from_yaml(config)
    job = next(j for j in plan_jobs(cfg) if j.task == "tile-count" and j.origin == "random")
    record = evaluate_job(job, cfg)
    code = main(["train", job.arch, "--task", "tile-count", "--config", str(config), "--seed", str(job.seed)])
    out = json.loads(capsys.readouterr().out)
    assert out["status"] == record["status"] and code == (0 if record["status"] == "ok" else 1)
    assert out["val_acc"] == record["val_acc"] and out["budget"]["epochs"] == 2 and out["threads"] == 1
    assert list(out["val_curve"]) == (record["val_curve"] or [])


def test_train_bad_budget_value_is_one_error_line() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "surrogate_hub.cli", "train", "computation<identity>", "--task", "digits", "--lr", "-1"],
        capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode != 0 and len(proc.stderr.strip().splitlines()) == 1
    assert proc.stderr.startswith("error: budget: lr must be > 0")


def test_tasks_benchmark_summary_by_hand() -> None:
    """benchmarks/tasks.py writes the signal bars of the corpus card and the closing note."""
    import importlib.util

    path = Path(__file__).resolve().parents[1] / "benchmarks" / "tasks.py"
    spec = importlib.util.spec_from_file_location("tasks_benchmark", path)
    bench = importlib.util.module_from_spec(spec)
    saved = list(sys.path)
    try:
        spec.loader.exec_module(bench)  # it puts benchmarks/ on sys.path for its _common module
    finally:
        sys.path[:] = saved
    rows = []
    for i, (a, b) in enumerate([(0.1, 0.1), (0.5, 0.45), (0.8, 0.9), (0.3, 0.35), (0.11, 0.05)]):
        for seed, acc in ((0, a), (1, b)):
            rows.append({"task": "t", "kind": "random", "arch": f"a{i}", "seed": seed, "status": "ok",
                         "val_acc": acc, "seconds": 1.0, "num_classes": 10})
    rows.append({"task": "t", "kind": "linear", "arch": "lin", "seed": 0, "status": "ok", "val_acc": 0.6,
                 "seconds": 1.0, "num_classes": 10})
    rows.append({"task": "t", "kind": "seed:vit_d2*0.125", "arch": "vit", "seed": 0, "status": "ok",
                 "val_acc": 0.7, "seconds": 3.0, "num_classes": 10})
    rows.append({"task": "t", "kind": "seed:wideresnet16_4*0.125", "arch": "wrn", "seed": 0, "status": "too_large",
                 "val_acc": None, "seconds": 0.0, "num_classes": 10})
    (row,) = bench.summarise(rows, 0)
    assert row["random"] == 5 and row["pairs"] == 5
    assert row["near_chance"] == 0.4  # 0.1 and 0.11 are within 1.2x of chance (0.12)
    assert row["ceiling_tau"] == pytest.approx(0.8)  # 9 of 10 pairs concordant
    assert row["best_linear"] == 0.6 and row["best_seed"] == 0.7 and row["best_seed_name"] == "vit_d2*0.125"
    assert row["seed_beats_linear"] is True and row["seeds_ok"] == "1/2"
    assert row["near_chance_ok"] and row["ceiling_ok"]


def test_a_build_can_be_extended_with_more_evolution(tmp_path: Path, built: Path) -> None:
    """More evolution children per task continue the same runs; any other change is refused."""
    import shutil

    out = tmp_path / "extend"
    shutil.copytree(built, out)
    before, _ = read_shards(out / "data", quarantine=False)
    evo = {**TINY["evolution"], "iterations": 4}
    build(CorpusConfig.from_yaml(_config(tmp_path, "extend", evolution=evo)), progress=False)
    after, _ = read_shards(out / "data", quarantine=False)
    assert {k: v["arch"] for k, v in before.items()} == {k: after[k]["arch"] for k in before}
    assert sum(r["origin"] == "evolution" for r in after.values()) == 2 * 4
    fewer = {**TINY["evolution"], "iterations": 1}
    with pytest.raises(ConfigError, match="evolution"):
        build(CorpusConfig.from_yaml(_config(tmp_path, "extend", evolution=fewer)), progress=False)


def test_a_task_can_be_replaced_by_one_with_the_same_input_shape(tmp_path: Path, built: Path) -> None:
    """The swapped task's records go, the new task trains the same architectures, the rest stays."""
    import shutil

    out = tmp_path / "swap"
    shutil.copytree(built, out)
    before, _ = read_shards(out / "data", quarantine=False)
    budgets = {"tile-digits": {"epochs": 1}}
    cfg = CorpusConfig.from_yaml(_config(tmp_path, "swap", tasks=["digits", "tile-digits"], task_budgets=budgets))
    with pytest.raises(ConfigError, match="--replace-task tile-count=tile-digits"):
        build(cfg, progress=False)
    build(cfg, progress=False, replace={"tile-count": "tile-digits"})
    after, _ = read_shards(out / "data", quarantine=False)
    assert {k: v for k, v in before.items() if v["task"] == "digits"} == {k: v for k, v in after.items() if v["task"] == "digits"}
    assert not [r for r in after.values() if r["task"] == "tile-count"]
    new = {k: r for k, r in after.items() if r["task"] == "tile-digits"}
    static = {k: r for k, r in before.items() if r["task"] == "tile-count" and r["origin"] != "evolution"}
    assert {k.replace("tile-count", "tile-digits"): r["arch"] for k, r in static.items()} == {
        k: r["arch"] for k, r in new.items() if r["origin"] != "evolution"}
    assert sum(r["origin"] == "evolution" for r in new.values()) == 2
    assert all(r["epochs"] == 1 and r["input_shape"] == [1, 16, 16] for r in new.values())
    resolved = yaml.safe_load((out / "config.resolved.yaml").read_text())
    assert resolved["replaced_tasks"][0]["old"] == "tile-count" and resolved["replaced_tasks"][0]["dropped_records"] == len(
        [r for r in before.values() if r["task"] == "tile-count"])
    files = sorted(p.name for p in (out / "data").iterdir())
    build(cfg, progress=False, replace={"tile-count": "tile-digits"})  # done: a no-op
    assert sorted(p.name for p in (out / "data").iterdir()) == files
    assert CorpusConfig.from_corpus(out).tasks == cfg.tasks
    from surrogate_hub.corpus.card import render_card

    card = render_card(out)
    assert "`tile-count` was swapped for `tile-digits`" in card and "| `tile-digits` |" in card


def test_two_tasks_can_be_replaced_in_one_run(tmp_path: Path) -> None:
    first = CorpusConfig.from_yaml(_config(tmp_path, "two", tasks=["sum-digits", "tile-count"], task_budgets={},
                                           evolution={**TINY["evolution"], "iterations": 0}))
    build(first, progress=False)
    swapped = CorpusConfig.from_yaml(_config(tmp_path, "two", tasks=["mult-digits", "tile-digits"], task_budgets={},
                                             evolution={**TINY["evolution"], "iterations": 0}))
    build(swapped, progress=False, replace={"sum-digits": "mult-digits", "tile-count": "tile-digits"})
    records, _ = read_shards(tmp_path / "two" / "data", quarantine=False)
    assert {r["task"] for r in records.values()} == {"mult-digits", "tile-digits"}
    resolved = yaml.safe_load((tmp_path / "two" / "config.resolved.yaml").read_text())
    assert [(r["old"], r["new"]) for r in resolved["replaced_tasks"]] == [("sum-digits", "mult-digits"), ("tile-count", "tile-digits")]


@pytest.mark.parametrize("tasks, replace, message", [
    (["digits", "sum-digits"], {"tile-count": "sum-digits"}, "input shapes differ"),
    (["digits", "tile-digits"], {"chess-material": "tile-digits"}, "has no task 'chess-material'"),
    (["tile-digits", "digits"], {"tile-count": "tile-digits"}, "in the same place"),
])
def test_replacing_a_task_is_refused_clearly(tmp_path: Path, built: Path, tasks, replace, message: str) -> None:
    import shutil

    out = tmp_path / "swap"
    shutil.copytree(built, out)
    before = sorted(p.name for p in (out / "data").iterdir())
    cfg = CorpusConfig.from_yaml(_config(tmp_path, "swap", tasks=tasks, task_budgets={}))
    with pytest.raises(ConfigError, match=message):
        build(cfg, progress=False, replace=replace)
    assert sorted(p.name for p in (out / "data").iterdir()) == before


def test_replace_task_on_the_command_line_needs_old_equals_new(tmp_path: Path, capsys) -> None:
    from surrogate_hub.cli import main

    assert main(["corpus", "build", "--config", str(_config(tmp_path, "cli")), "--replace-task", "tile-count"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error:") and "OLD=NEW" in err[0]


def test_corpus_v2_is_committed_and_meets_its_size_and_signal_bars() -> None:
    """The committed corpus v2: at least 8 tasks, 600 successful records each, 40 % from evolution, a
    shared pool of 250 on every task, at most 40 % of random architectures near chance."""
    from collections import Counter

    from surrogate_hub.corpus import load

    root = Path(__file__).resolve().parents[1] / "corpus" / "einspace-offline-v2"
    ds = load(root)
    rows = ds.to_list()
    tasks = CorpusConfig.from_corpus(root).tasks
    assert len(tasks) >= 8 and {r["task"] for r in rows} == set(tasks)
    ok = Counter(r["task"] for r in rows if r["status"] == "ok")
    assert min(ok[t] for t in tasks) >= 600, ok
    evolution = Counter(r["task"] for r in rows if r["origin"] == "evolution")
    total = Counter(r["task"] for r in rows)
    assert all(evolution[t] / total[t] >= 0.4 for t in tasks)
    shared = {r["arch"] for r in rows if r["pool"] == "shared" and r["origin"] == "random"}
    assert len(shared) >= 250
    signal = task_signal(rows)
    assert all(signal[t]["near_chance_share"] <= 0.4 for t in tasks), {t: signal[t]["near_chance_share"] for t in tasks}
    assert all(signal[t]["noise_pairs"] >= 40 and signal[t]["noise_ceiling"] >= 0.6 for t in tasks)


def test_card_shows_seeds_against_linear_baselines_when_measured(tmp_path: Path, built: Path) -> None:
    import json
    import shutil

    from surrogate_hub.corpus.card import render_card

    out = tmp_path / "card"
    shutil.copytree(built, out)
    assert "Scaled seed networks against linear baselines" not in render_card(out)  # not measured: no section
    (out / "report").mkdir(exist_ok=True)
    rows = {"digits": {"best_linear": 0.9, "best_seed": 0.95, "best_seed_name": "vit_d2*0.125", "seed_beats_linear": True},
            "tile-count": {"best_linear": 0.5, "best_seed": None, "best_seed_name": None, "seed_beats_linear": None}}
    (out / "report" / "baselines.json").write_text(json.dumps({"tasks": rows}))
    card = render_card(out)
    assert "| `digits` | 0.900 | 0.950 | `vit_d2*0.125` | yes |" in card
    assert "| `tile-count` | 0.500 | – | – | – |" in card
