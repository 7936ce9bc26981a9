"""training/fit_bert.py (fit on a corpus folder, fp16 save) and training/publish.py with a BERT
surrogate, through the real clients against the local Hub."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from surrogate_hub.corpus import load
from tests_support_corpus import build_small_corpus
from tests_support_scripts import load_script as _script

pytest.importorskip("transformers")
pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore:Use 'content=<...>':DeprecationWarning")]


@pytest.fixture(scope="module")
def small_corpus(tmp_path_factory) -> Path:
    return build_small_corpus(tmp_path_factory.mktemp("corpus") / "c", "bert-test")


def test_fit_bert_then_publish_and_load_back(hub, small_corpus: Path, tmp_path: Path, torch1) -> None:
    from surrogate_hub.surrogates.registry import load_surrogate

    fit_bert, publish = _script("fit_bert"), _script("publish")
    folder, ckpt = tmp_path / "einspace-bert-test", tmp_path / "ckpt"
    argv = [
        "fit", str(small_corpus), "--out", str(folder), "--epochs", "2", "--lr", "1e-3", "--input-shape", "1,8,8",
        "--checkpoints", str(ckpt), "--half", "--device", "cpu",
    ]
    assert fit_bert.main(argv) == 0
    assert list(ckpt.glob("checkpoint-*")), "Trainer checkpoints are kept in --checkpoints"
    config = json.loads((folder / "config.json").read_text())
    assert config["surrogate"] == "bert" and config["corpus"]["repo_or_path"] == str(small_corpus)
    archs = load(small_corpus)["arch"][:10]
    local = load_surrogate(str(folder)).predict(archs, input_shape=(1, 8, 8))
    assert np.isfinite(local).all()

    repo = hub.new_repo_id("bert")
    assert publish.main(["model", str(folder), "--repo-id", repo]) == 0
    np.testing.assert_array_equal(load_surrogate(repo).predict(archs, input_shape=(1, 8, 8)), local)
    assert fit_bert.main(argv + ["--resume"]) == 0  # resumes from the last checkpoint (nothing left to train)



def test_evaluate_bert_in_two_shards_then_merge(small_corpus: Path, tmp_path: Path) -> None:
    """training/evaluate.py --methods bert: two shard processes share the folds through --fold-cache,
    and a last run assembles them and merges the bert entry into an existing results file."""
    import subprocess
    import sys

    script = Path(__file__).resolve().parents[1] / "training" / "evaluate.py"
    out, folds = tmp_path / "results", tmp_path / "folds"
    settings = ["--methods", "bert", "bert-compact", "--bert-base", "einspace-native", "--bert-epochs", "1", "--bert-batch-size", "8"]
    where = ["--fold-cache", str(folds), "--out", str(out)]

    def run(*argv: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, str(script), str(small_corpus), *argv], capture_output=True, text=True, timeout=600)

    assert run("--methods", "params", "--out", str(out)).returncode == 0  # the existing document
    shards = [subprocess.Popen([sys.executable, str(script), str(small_corpus), *settings, "--bert-lr", "1e-3", *where,
                                "--shard", f"{i}/2"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
              for i in range(2)]
    for proc in shards:
        output = proc.communicate(timeout=600)[0]
        assert proc.returncode == 0 and "rerun without --shard" in output, output[-2000:]
    for name in ("bert", "bert-compact"):  # both tasks' leave-one-task-out folds and 5 within-task folds each
        assert len(list((folds / name).glob("*.json"))) == 2 + 2 * 5
    done = run(*settings, "--bert-lr", "1e-3", *where, "--merge")
    assert done.returncode == 0, done.stderr[-2000:]
    assert "0 computed, 24 read back" in done.stderr
    res = json.loads((out / "surrogates.json").read_text())
    assert set(res["methods"]) == {"params", "bert", "bert-compact"} and res["methods"]["bert"]["within"]["folds"] == 5
    assert res["methods"]["bert"]["settings"]["encoding"] == "long" and res["methods"]["bert-compact"]["settings"]["encoding"] == "compact"
    assert res["methods"]["bert"]["loo"]["tau"] != res["methods"]["bert-compact"]["loo"]["tau"]  # another input text
    assert set(res["loo"]["bert"]) == {"add-digits", "digits", "mean"}
    other = run(*settings, "--bert-lr", "1e-2", *where, "--merge")  # other settings, the same fold folder
    assert other.returncode == 2 and "stored with other settings" in other.stderr
    bad = run(*settings, *where, "--shard", "2/2")
    assert bad.returncode == 2 and "--shard must be I/N" in bad.stderr


def test_bert_benchmark_reports_token_lengths_and_both_bases(small_corpus: Path, tmp_path: Path, torch1) -> None:
    bench = _script("bert", folder="benchmarks")
    out = tmp_path / "bert.json"
    assert bench.main([str(small_corpus), "--n", "4", "--out", str(out)]) == 0
    res = json.loads(out.read_text())
    rows = {(r["encoding"], r["tokenizer"]): r for r in res["tokens"]}
    assert set(rows) == {(e, t) for e in ("long", "compact") for t in ("einspace", "minilm-wordpiece")}
    n = len(load(small_corpus, ok_only=True))
    assert all(r["texts"] == n and 3 <= r["mean"] <= r["max"] for r in rows.values())
    assert rows[("long", "einspace")]["unknown tokens"] == 0  # the closed vocabulary covers every string
    assert rows[("long", "einspace")]["mean"] > rows[("compact", "einspace")]["mean"]  # shapes cost tokens
    assert {(b["base"], b["encoding"]) for b in res["bases"]} == {(b, e) for b in ("einspace-native", "minilm") for e in ("long", "compact")}
    assert all(b["archs/s"] > 0 for b in res["bases"])
