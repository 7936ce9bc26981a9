"""The Ray backend on a real local Ray cluster (127.0.0.1, 2 CPUs): the same records as the local
backend for a search and a corpus build, and a worker killed mid-run loses nothing."""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
import threading
import time
from pathlib import Path

import pytest
import yaml

from surrogate_hub.cli import main
from surrogate_hub.evaluators import Job, JobRunner, LocalEvaluator, run_job
from tests_support_corpus import records as _records

CONV = "sequential(routing[im2col(3,1,1), computation<linear(16)>, col2im], computation<relu>)"
TRAIN = {"epochs": 2, "batch_size": 64, "max_forward_seconds": None}


@pytest.fixture(scope="module")
def ray_cluster():
    ray = pytest.importorskip("ray")
    from surrogate_hub.evaluators.ray_backend import LOCAL_AGENT_TIMEOUT_MS

    options = {"num_cpus": 2, "include_dashboard": False, "logging_level": logging.WARNING,
               "_system_config": {"agent_register_timeout_ms": LOCAL_AGENT_TIMEOUT_MS}}
    try:
        ray.init(**options)
    except Exception:  # noqa: BLE001 - a loaded machine can miss Ray's fixed 30 s raylet start window
        ray.shutdown()
        ray.init(**options)
    yield ray
    ray.shutdown()


def _ray_evaluator(**kw):
    from surrogate_hub.evaluators.ray_backend import RayEvaluator

    return RayEvaluator(**{"workers": 2, **kw})


# -- search ----------------------------------------------------------------------------------------
def _search_events(path: Path) -> dict[str, dict]:
    from surrogate_hub.search.rundir import RunDir

    keep = ("arch", "status", "val_acc", "test_acc", "n_params", "flops", "origin", "parent", "trained_index")
    return {e["id"]: {k: e.get(k) for k in keep} for e in RunDir(path).read_log() if e.get("event") != "refit"}


@pytest.mark.slow
def test_search_on_ray_logs_the_same_candidates_as_local(ray_cluster, torch1, tmp_path: Path) -> None:
    from surrogate_hub.search import SearchConfig, run_search

    cfg = SearchConfig.make(
        profile="cpu", task="digits", strategy="evolution", budget=6, population=3, proposals=4, train_per_round=2,
        train=TRAIN, final_train=TRAIN, seed=1,
    )
    local = run_search(cfg, tmp_path / "local", progress=False)
    with _ray_evaluator() as ev:
        remote = run_search(cfg, tmp_path / "ray", evaluator=ev, progress=False)
    a, b = _search_events(tmp_path / "local"), _search_events(tmp_path / "ray")
    accs = [e["val_acc"] for e in a.values() if e["val_acc"] is not None]
    assert len(accs) >= 4 and len(set(accs)) > 1, "the comparison needs candidates that train to different scores"
    assert a == b
    assert remote["best"] == local["best"] and remote["test_acc"] == local["test_acc"]
    events = [json.loads(line) for line in (tmp_path / "ray" / "log.jsonl").read_text().splitlines()]
    workers = {e["worker"] for e in events if e.get("worker")}
    assert workers and all(w.split(":")[1] != str(os.getpid()) for w in workers), "trained outside this process"


# -- corpus ------------------------------------------------------------------------------------------
TINY = {
    "name": "tiny",
    "tasks": ["digits"],
    "shared": {"random": 4},
    "per_task": {"random": 3},
    "evolution": {"iterations": 2, "population": 4, "tournament": 2, "batch": 2},
    "budget": {"epochs": 1, "batch_size": 128, "max_forward_seconds": None},
    "limits": {"max_params": 20_000, "max_total_activation": 20_000, "max_depth": 8},
    "shard_size": 3,
    "seed": 3,
}


@pytest.mark.slow
def test_corpus_build_on_ray_gives_the_same_records_as_local(ray_cluster, tmp_path: Path) -> None:
    from surrogate_hub.corpus import CorpusConfig
    from surrogate_hub.corpus.build import build

    for name in ("local", "ray"):
        (tmp_path / f"{name}.yaml").write_text(yaml.safe_dump({**TINY, "output": str(tmp_path / name)}))
    build(CorpusConfig.from_yaml(tmp_path / "local.yaml"), progress=False)
    # through the command line, as a user would (it joins the cluster this process started)
    assert main(["corpus", "build", "--config", str(tmp_path / "ray.yaml"), "--backend", "ray", "--workers", "2",
                 "--no-progress"]) == 0
    local, remote = _records(tmp_path / "local"), _records(tmp_path / "ray")
    assert len(local) == 4 + 3 + 2 and sum(r["status"] == "ok" for r in local.values()) >= 5
    assert remote == local
    shards = {name: sorted(p.name for p in (tmp_path / name / "data").iterdir()) for name in ("local", "ray")}
    assert shards["ray"] == shards["local"] == [f"shard-{i:05d}.parquet" for i in range(4)]  # 3+3+1 static, 2 evolved


# -- a worker killed mid-run -------------------------------------------------------------------------
class _Marking(JobRunner):
    """The default runner, plus a marker file per attempt (``{job}.{attempt}`` holding the worker's
    pid and whether its task came from the object store) and, for the jobs in ``hold``, a pause on
    their first ``hold[job]`` attempts so the test can kill the worker mid-job."""

    def __init__(self, folder: Path, hold: dict[str, int]) -> None:
        self.folder, self.hold = folder, hold

    def __call__(self, job: Job, task=None):
        attempt = len(list(self.folder.glob(f"{job.job_id}.*"))) + 1
        shipped = task is not None and not task.load().x_train.flags.writeable  # zero-copy from the object store
        marker = self.folder / f"{job.job_id}.{attempt}"
        marker.with_suffix(".tmp").write_text(json.dumps({"pid": os.getpid(), "shipped": shipped}))
        os.replace(marker.with_suffix(".tmp"), marker)
        if attempt <= self.hold.get(job.job_id, 0):
            time.sleep(600)  # killed long before this ends
        return super().__call__(job, task)


@pytest.mark.slow
def test_a_killed_worker_is_retried_once_then_reported_and_nothing_is_lost(ray_cluster, torch1, tmp_path: Path) -> None:
    jobs = [Job(f"j{i}", CONV, "digits", budget=TRAIN, seed=i) for i in range(2)]
    jobs += [Job("once", CONV, "digits", budget=TRAIN, seed=7), Job("twice", CONV, "digits", budget=TRAIN, seed=8)]
    runner = _Marking(tmp_path, {"once": 1, "twice": 2})
    killed: list[int] = []
    stop = threading.Event()

    def killer() -> None:
        targets = {"once.1", "twice.1", "twice.2"}
        while targets and not stop.is_set():
            for name in sorted(targets):
                marker = tmp_path / name
                if marker.exists():
                    pid = json.loads(marker.read_text())["pid"]
                    time.sleep(0.2)
                    os.kill(pid, signal.SIGKILL)
                    killed.append(pid)
                    targets.discard(name)
            time.sleep(0.1)

    thread = threading.Thread(target=killer, daemon=True)
    thread.start()
    module = sys.modules[__name__]  # the workers cannot import this test module: ship its runner by value
    ray_cluster.cloudpickle.register_pickle_by_value(module)
    try:
        with _ray_evaluator() as ev:
            results = list(ev.evaluate(jobs, runner))
    finally:
        ray_cluster.cloudpickle.unregister_pickle_by_value(module)
        stop.set()
        thread.join(timeout=5)
    assert len(killed) == 3
    ids = [r.job_id for r in results]
    assert sorted(ids) == sorted(j.job_id for j in jobs)  # one result per job: none lost, none twice
    by_id = {r.job_id: r for r in results}
    lost = by_id.pop("twice")
    assert lost.status == "error" and "died on all 2 attempt(s)" in lost.reason and lost.val_acc is None
    for job in jobs[:3]:  # the retried job and the others: exactly what an in-process run gives
        expected = run_job(job)
        assert by_id[job.job_id].ok and by_id[job.job_id].val_acc == expected.val_acc
    assert (tmp_path / "once.2").exists() and not (tmp_path / "once.3").exists()  # retried exactly once
    assert not (tmp_path / "twice.3").exists()
    markers = [json.loads(p.read_text()) for p in tmp_path.iterdir() if p.suffix != ".tmp"]
    assert all(m["shipped"] for m in markers), "task data should come from the object store"


def test_ray_options_need_the_ray_backend(capsys) -> None:
    assert main(["corpus", "build", "--config", "x.yaml", "--ray-address", "10.0.0.1:6379"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["error: --ray-address needs --backend ray"]
    with pytest.raises(SystemExit) as exc:
        main(["search", "--task", "digits", "--out", "x", "--backend", "ray", "--ray-num-gpus", "1.5"])
    assert exc.value.code == 2
    assert "fraction in [0, 1] or a whole number" in capsys.readouterr().err


def test_an_unreachable_cluster_is_one_error_line(capsys, tmp_path: Path) -> None:
    pytest.importorskip("ray")
    import socket

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    argv = ["search", "--task", "digits", "--strategy", "random", "--profile", "cpu", "--out", str(tmp_path / "run"),
            "--no-progress", "--backend", "ray", "--ray-address", f"127.0.0.1:{port}"]
    assert main(argv) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"error: cannot reach the Ray cluster at 127.0.0.1:{port}")


def test_local_evaluator_runs_a_custom_runner(torch1) -> None:
    jobs = [Job(f"j{i}", CONV, "digits", budget=TRAIN, seed=i) for i in range(2)]
    with LocalEvaluator(workers=1) as ev:
        out = list(ev.evaluate(jobs, JobRunner()))
    assert [r.job_id for r in out] == ["j0", "j1"] and all(r.ok for r in out)
    failed = JobRunner().failed(jobs[0], "error", "worker died")
    assert failed.status == "error" and failed.reason == "worker died" and failed.val_acc is None


def test_a_lost_corpus_job_becomes_a_failed_record_of_the_schema(tmp_path: Path) -> None:
    from surrogate_hub.corpus import COLUMNS, CorpusConfig
    from surrogate_hub.corpus.build import CorpusRunner, plan_jobs
    from surrogate_hub.corpus.schema import normalise_record

    cfg = CorpusConfig.from_dict({**TINY, "output": str(tmp_path / "o"), "zcp": ["params"]})
    job = plan_jobs(cfg)[0]
    record = CorpusRunner(cfg).failed(job, "error", "worker process died on all 2 attempt(s): WorkerCrashedError")
    assert set(record) == set(COLUMNS) | {"zcp_params"}
    assert record["status"] == "error" and "died" in record["reason"] and record["val_acc"] is None
    assert record["job_id"] == job.job_id and record["arch"] == job.arch and record["zcp_params"] is None
    normalise_record(record, cfg.zcp)  # writable to a shard
