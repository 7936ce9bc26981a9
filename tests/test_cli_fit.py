"""``surrogate-hub fit``: fit a surrogate of each kind on the fixture corpus of test_evaluation
(three tasks at 1x8x8) and load the saved folder back; a tiny BERT as a real subprocess; option
errors as one ``error:`` line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from surrogate_hub.cli import main
from surrogate_hub.surrogates import load_surrogate

pytest.importorskip("pyarrow")
pytest.importorskip("xgboost")
from test_evaluation import CLASSES, SHAPE, _archs, small_corpus  # noqa: F401  (small_corpus: the fixture)

TINY = {"hidden_size": 32, "num_hidden_layers": 1, "num_attention_heads": 2, "intermediate_size": 64}


def _cli(*argv: str) -> subprocess.CompletedProcess:
    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")])}
    return subprocess.run([sys.executable, "-m", "surrogate_hub.cli", *argv], capture_output=True, text=True,
                          check=False, env=env, timeout=600)


@pytest.fixture(scope="module")
def tiny_base(tmp_path_factory) -> Path:
    """A tiny einspace-native BERT body (one MLM step): the ``--base`` of a fast BERT fit."""
    pytest.importorskip("transformers")
    import torch

    from surrogate_hub.surrogates.bert.pretrain import pretrain_mlm

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        out = tmp_path_factory.mktemp("mlm") / "tiny"
        pretrain_mlm(out, n_texts=32, max_steps=1, batch_size=8, sizes=TINY, device="cpu", progress=False)
    finally:
        torch.set_num_threads(threads)
    return out


def test_fit_bert_in_a_subprocess_and_load_back(small_corpus, tiny_base, tmp_path):  # noqa: F811
    out = tmp_path / "bert"
    proc = _cli("fit", str(small_corpus), "--kind", "bert", "--output", str(out), "--base", str(tiny_base),
                "--epochs", "1", "--lr", "1e-3", "--batch-size", "8", "--input-shape", "1,8,8", "--classes", str(CLASSES),
                "--device", "cpu", "--threads", "1", "--no-progress", "--half", "--pooling", "cls")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.strip() == str(out) and "error:" not in proc.stderr
    config = json.loads((out / "config.json").read_text())
    assert config["surrogate"] == "bert" and config["base"] == str(tiny_base) and config["tokenizer"] == "einspace"
    assert config["training"]["batch_size"] == 8 and config["training"]["epochs"] == 1.0 and config["pooling"] == "cls"
    assert config["corpus"]["repo_or_path"] == str(small_corpus) and config["default_input_shape"] == list(SHAPE)
    sur = load_surrogate(str(out), device="cpu")
    assert sur.n_parameters < 200_000
    scores = sur.predict(_archs(8), input_shape=SHAPE)
    assert np.isfinite(scores).all() and np.ptp(scores) > 0


def test_fit_graf_zcp_uses_the_corpus_proxies(small_corpus, tmp_path, capsys):  # noqa: F811
    from surrogate_hub.evaluation.methods import PAPER_PROXIES

    out = tmp_path / "graf-zcp"
    assert main(["fit", str(small_corpus), "--kind", "graf-zcp", "--output", str(out), "--input-shape", "1,8,8",
                 "--tasks", "alpha", "beta", "--corpus-id", "someone/corpus"]) == 0
    assert capsys.readouterr().out.strip() == str(out)
    sur = load_surrogate(str(out))
    assert tuple(sur.zcp_names) == PAPER_PROXIES and sur.config.corpus.repo_or_path == "someone/corpus"
    assert sur.config.default_input_shape == SHAPE


def test_unknown_kind_is_one_error_line():
    proc = _cli("fit", "corpus", "--kind", "transformer", "--output", "out")
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2 and len(lines) == 1, proc.stderr
    assert lines[0].startswith("error: --kind: invalid choice: 'transformer'")


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--kind", "graf", "--epochs", "2"], "--epochs applies to --kind bert only, not 'graf'"),
        (["--kind", "forest", "--half"], "--half applies to --kind bert only, not 'forest'"),
        (["--kind", "graf", "--pooling", "cls"], "--pooling applies to --kind bert only, not 'graf'"),
        (["--kind", "bert", "--resume"], "--resume needs --checkpoints"),
        (["--kind", "graf", "--tasks", "nope"], "no usable training rows"),
    ],
)
def test_option_errors_are_one_line(small_corpus, tmp_path, capsys, extra, message):  # noqa: F811
    assert main(["fit", str(small_corpus), "--output", str(tmp_path / "o"), *extra]) != 0
    err = capsys.readouterr().err
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and message in errors[0], err
    assert not (tmp_path / "o").exists()


def test_a_non_empty_output_needs_force(small_corpus, tmp_path, capsys):  # noqa: F811
    out = tmp_path / "taken"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    assert main(["fit", str(small_corpus), "--kind", "graf", "--output", str(out)]) == 2
    assert "folder exists and is not empty" in capsys.readouterr().err and (out / "keep.txt").exists()
