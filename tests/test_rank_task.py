"""Ranking with proxies computed on the user's data (``task=`` / ``rank --task``), and the grammar hash."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from surrogate_hub.cli import main
from surrogate_hub.space import grammar_hash
from surrogate_hub.space import ops as space_ops
from surrogate_hub.surrogates import load_surrogate

ARCHS = [
    "sequential(computation<linear(16)>, computation<relu>)",
    "routing[im2col(3,1,1), computation<linear(16)>, col2im]",
    "sequential(computation<norm>, sequential(computation<linear(32)>, computation<relu>))",
]
INVALID = "routing[perm(0,2,1), computation<relu>, identity]"  # invalid at 1x8x8


@pytest.fixture(scope="module")
def zcp_model():
    return load_surrogate("einspace-graf-zcp-xgb")


def test_task_proxies_are_the_corpus_proxies(zcp_model, torch1) -> None:
    from surrogate_hub.features.zero_cost import zero_cost
    from surrogate_hub.tasks import get_task

    task = get_task("digits")
    ranking = zcp_model.rank(ARCHS + [INVALID], task="digits", errors="nan")
    expected = np.array([[zero_cost(a, task, batch_size=64, seed=0)[n] for n in zcp_model.zcp_names] for a in ARCHS])
    scores = zcp_model.predict(ARCHS, input_shape=(1, 8, 8), num_classes=10, zcp=expected)
    np.testing.assert_array_equal(ranking.scores[:3], scores)  # the task's shape, classes and proxies
    assert np.isnan(ranking.scores[3]) and "ShapeError" in ranking.reasons[3]
    assert ranking.failures == {3: ranking.reasons[3]}


def test_a_zcp_surrogate_needs_a_task(zcp_model) -> None:
    with pytest.raises(ValueError, match="pass task="):
        zcp_model.predict(ARCHS, input_shape=(1, 8, 8), num_classes=10)
    with pytest.raises(ValueError, match="differs from the task's"):
        zcp_model.predict(ARCHS, input_shape=(3, 8, 8), task="digits")
    from surrogate_hub.space import ArchitectureError

    with pytest.raises(ArchitectureError, match="architecture #1 .*cannot be scored at input shape \\(1, 8, 8\\)"):
        zcp_model.predict([ARCHS[0], INVALID], task="digits")  # before any proxy is computed


@pytest.mark.slow
def test_process_pool_gives_the_same_proxies(zcp_model, torch1) -> None:
    one = zcp_model.predict(ARCHS * 2, task="digits", workers=1)
    two = zcp_model.predict(ARCHS * 2, task="digits", workers=2)
    np.testing.assert_array_equal(one, two)


def test_cli_rank_with_a_task_folder(tmp_path, capsys, torch1) -> None:
    from surrogate_hub.tasks import get_task
    from surrogate_hub.tasks.base import save_npy_layout

    data = get_task("digits").load()
    splits = {s: (x[:80], y[:80]) for s, (x, y) in ((s, data.split(s)) for s in ("train", "valid", "test"))}
    folder = save_npy_layout(splits, tmp_path / "mine")
    path = tmp_path / "in.txt"
    path.write_text("\n".join(ARCHS) + "\n")
    assert main(["rank", str(path), "--task", str(folder), "--json", "--no-progress"]) == 0
    out, err = capsys.readouterr()
    rows = [json.loads(r) for r in out.splitlines()]
    assert sorted(r["arch"] for r in rows) == sorted(ARCHS) and rows[0]["score"] >= rows[-1]["score"]
    assert "classes: 10 (task mine)" in err and "note:" not in err  # the GRAF+ZCP default, no GRAF-only note


def test_grammar_hash_covers_the_language_not_sampling(monkeypatch) -> None:
    current = grammar_hash()
    legacy = set(space_ops.legacy_grammar_hashes())
    monkeypatch.setitem(space_ops.MODULE_PROBS, "sequential", space_ops.MODULE_PROBS["sequential"] * 2)
    assert grammar_hash() == current and set(space_ops.legacy_grammar_hashes()) != legacy
    monkeypatch.setattr(space_ops, "SHAPE_RULES_VERSION", space_ops.SHAPE_RULES_VERSION + 1)
    assert grammar_hash() != current
    monkeypatch.undo()
    key = min(space_ops._OPTIONS)
    monkeypatch.setitem(space_ops._OPTIONS, key, space_ops._OPTIONS[key][:-1])  # one op fewer
    assert grammar_hash() != current


def test_artifacts_with_the_old_grammar_hash_still_load(tmp_path, caplog) -> None:
    from surrogate_hub.surrogates import get_pretrained

    folder = tmp_path / "old"
    shutil.copytree(get_pretrained("einspace-graf-xgb").local_path, folder)
    config = json.loads((folder / "config.json").read_text())
    (old,) = space_ops.legacy_grammar_hashes()
    assert old == "b67f97368d860968"  # what the first shipped model recorded
    config["grammar_hash"] = old
    (folder / "config.json").write_text(json.dumps(config))
    sur = load_surrogate(str(folder))
    assert sur.is_fitted and "grammar" not in caplog.text
