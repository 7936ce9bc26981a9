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
