"""benchmarks/search.py end to end at a tiny size: a real corpus built by the real builder, the
held-out surrogate fitted on it, real trainings under the corpus's budget, a shared training cache,
resuming, summaries of unfinished benchmarks, and the clear errors."""

from __future__ import annotations

import importlib.util
import json
import shutil
import sys
from pathlib import Path

import pytest

from surrogate_hub.corpus import CorpusConfig
from surrogate_hub.corpus.build import build

ROOT = Path(__file__).resolve().parents[1]
CORPUS = {
    "name": "tiny-search", "tasks": ["digits", "sum-digits"], "profile": "cpu-small-v2",
    "shared": {"random": 6}, "per_task": {"random": 0},
    "budget": {"epochs": 1, "batch_size": 256, "max_params": 100_000, "max_train_seconds": 60},
    "task_budgets": {"digits": {"epochs": 2}},
    "limits": {"max_params": 20_000, "max_total_activation": 20_000, "max_depth": 8}, "shard_size": 20,
}


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_search", ROOT / "benchmarks" / "search.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)  # it puts benchmarks/ on sys.path for its _common module
    return module


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("corpus") / "tiny-search"
    build(CorpusConfig.from_dict({**CORPUS, "output": str(out)}), progress=False)
    return out


def argv(corpus: Path, tmp: Path, *extra: str, strategies=("evolution", "surrogate-filter:graf")) -> list[str]:
    return [
        "--corpus", str(corpus), "--tasks", "digits", "--seeds", "0", "--population", "4", "--budget", "8",
        "--proposals", "4", "--train-per-round", "2", "--refit-every", "4", "--final-epochs", "1", "--workers", "1",
        "--runs", str(tmp / "runs"), "--results", str(tmp / "search.json"), "--label", "smoke",
        "--strategies", *strategies, *extra,
    ]


def test_tiny_benchmark_end_to_end(bench, corpus: Path, tmp_path: Path, torch1, capsys) -> None:
    assert bench.main(argv(corpus, tmp_path)) == 0
    out = json.loads((tmp_path / "search.json").read_text())
    res = out["results"]["digits"]
    assert set(res) == {"evolution", "surrogate-filter:graf"} and out["runs_finished"] == out["runs_planned"] == 2
    assert res["evolution"]["n_cached"] == [0] and res["surrogate-filter:graf"]["n_trained"] == [8]
    assert res["surrogate-filter:graf"]["n_cached"][0] >= 4  # at least the shared initial population
    assert (tmp_path / "search.png").stat().st_size > 1000
    runs = tmp_path / "runs"
    cfg = json.loads((runs / "digits" / "surrogate-filter-graf" / "seed0" / "config.json").read_text())["config"]
    assert cfg["train"]["epochs"] == 2 and cfg["train"]["max_flops"] is None  # the corpus's digits budget
    assert cfg["train"]["max_train_seconds"] is None and cfg["train"]["max_forward_seconds"] is None
    assert cfg["limits"]["min_head_features"] == 8 and cfg["limits"]["max_params"] == 20_000  # its profile
    assert cfg["final_train"]["epochs"] == 1 and cfg["transfer_exclude"] == ["digits"]
    assert (runs / "surrogates" / "graf-without-digits" / "config.json").is_file()
    assert json.loads((runs / "corpus.json").read_text())["records"] == 12
    logs = {p: p.read_text() for p in runs.rglob("log.jsonl")}
    cached_files = sorted(p.name for p in (runs / "cache").rglob("*.json"))

    assert bench.main(argv(corpus, tmp_path)) == 0  # finished runs are read back: nothing trains again
    assert {p: p.read_text() for p in runs.rglob("log.jsonl")} == logs
    assert sorted(p.name for p in (runs / "cache").rglob("*.json")) == cached_files
    capsys.readouterr()

    more = argv(corpus, tmp_path, "--aggregate-only", strategies=("evolution", "surrogate-filter:graf", "random"))
    more[more.index("--seeds") + 1: more.index("--seeds") + 2] = ["0", "1"]
    assert bench.main(more) == 0  # seed 1 and random never ran: reported with the n that did
    table = capsys.readouterr().out
    assert "surrogate-filter:graf" in table and "random" not in table
    summary = json.loads((tmp_path / "search.json").read_text())
    assert summary["runs_finished"] == 2 and summary["runs_planned"] == 6
    assert summary["results"]["digits"]["evolution"]["n"] == 1


def test_a_changed_corpus_needs_new_runs(bench, corpus: Path, tmp_path: Path) -> None:
    (tmp_path / "runs").mkdir()
    (tmp_path / "runs" / "corpus.json").write_text(json.dumps(
        {"path": str(corpus), "name": "tiny-search", "records": 6, "fingerprint": "0" * 16}))
    with pytest.raises(SystemExit, match="made with 6 records.*new --runs"):
        bench.main(argv(corpus, tmp_path))


def test_graf_zcp_without_the_corpus_proxies_names_the_script(bench, corpus: Path, tmp_path: Path, torch1) -> None:
    with pytest.raises(SystemExit, match=r"has none: run `python training/compute_zcp.py"):
        bench.main(argv(corpus, tmp_path, strategies=("surrogate-filter:graf-zcp",)))
    from tests_support_scripts import run_script

    partial = tmp_path / "partial"
    shutil.copytree(corpus, partial)
    run_script("compute_zcp", [str(partial), "--chunk", "4", "--batch-size", "16"])
    import pyarrow as pa
    import pyarrow.parquet as pq

    files = sorted((partial / "zcp").glob("zcp-*.parquet"))
    rows = [r for f in files for r in pq.read_table(f).to_pylist()]
    for f in files:
        f.unlink()
    kept = [r for r in rows if not r["job_id"].startswith("sum-digits/")][:1]  # the sum-digits records lack proxies
    pq.write_table(pa.Table.from_pylist(kept), partial / "zcp" / "zcp-00000.parquet")
    with pytest.raises(SystemExit, match=r"of the \d+ ok records of \['sum-digits'\] have no zero-cost proxies.*compute_zcp"):
        bench.main(argv(partial, tmp_path, strategies=("surrogate-filter:graf-zcp",)))
    assert not (tmp_path / "runs" / "surrogates").exists()  # refused before anything was fitted or run


def test_the_full_benchmark_plan(bench) -> None:
    p, args = bench.parse_args([])
    variants = bench.variants_of(p, args.strategies)
    assert args.corpus.name == "einspace-offline-v2" and args.tasks == ["tile-count", "synth-textures", "text-language"]
    assert (args.population, args.budget, args.seeds) == (30, 120, [0, 1, 2])
    assert set(variants) == {
        "evolution", "random", "surrogate-filter:graf", "surrogate-filter:graf-zcp", "surrogate-filter:forest",
        "surrogate-filter:forest+ucb", "surrogate-filter:forest+ei", "surrogate-objective:graf",
    }
    order = bench.plan(args.tasks, variants, args.seeds)
    assert len(order) == 72 and order[0] == ("tile-count", "evolution", 0)
    assert {s for _, _, s in order[:24]} == {0} and {(t, v) for t, v, _ in order[:24]} == {(t, v) for t in args.tasks for v in variants}
    assert bench.variants_of(p, ["forest"]) == bench.FOREST_STRATEGIES


def test_a_run_whose_final_retraining_diverged_is_finished_again(bench, corpus: Path, tmp_path: Path, torch1) -> None:
    """Runs finished before the candidate-budget fallback existed: rerunning the benchmark redoes only
    their final retraining."""
    args = argv(corpus, tmp_path, strategies=("evolution",))
    assert bench.main(args) == 0
    folder = tmp_path / "runs" / "digits" / "evolution" / "seed0"
    events = [json.loads(line) for line in (folder / "log.jsonl").read_text().splitlines()]
    for e in events:
        if e["event"] == "final":  # as an older run logged a diverged final retraining
            e.update(status="nan_loss", reason="non-finite training loss", test_acc=None)
            del e["budget"]
    (folder / "log.jsonl").write_text("".join(json.dumps(e) + "\n" for e in events))
    summary = json.loads((folder / "summary.json").read_text())
    summary["final"] = {"status": "nan_loss", "test_acc": None}
    (folder / "summary.json").write_text(json.dumps(summary))
    assert bench.final_diverged(summary)
    assert bench.main(args) == 0
    after = json.loads((folder / "summary.json").read_text())
    assert after["final"]["budget"] == "train" and after["final"]["status"] == "ok" and after["test_acc"] is not None
    assert not bench.final_diverged(after)
    trained = [e for e in (json.loads(line) for line in (folder / "log.jsonl").read_text().splitlines()) if e.get("trained")]
    assert len(trained) == 8  # no candidate trained again
