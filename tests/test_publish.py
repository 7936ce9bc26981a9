"""training/publish.py and training/fit_graf.py through the real clients against the local Hub."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from surrogate_hub.corpus import load
from tests_support_corpus import build_small_corpus
from tests_support_scripts import load_script as _script


@pytest.fixture(scope="module")
def small_corpus(tmp_path_factory) -> Path:
    return build_small_corpus(tmp_path_factory.mktemp("corpus") / "c", "publish-test")


def test_fit_publish_and_load_back_model_and_corpus(hub, small_corpus: Path, tmp_path: Path) -> None:
    from surrogate_hub.surrogates.registry import load_surrogate

    fit_graf, publish = _script("fit_graf"), _script("publish")
    folder = tmp_path / "sur"
    assert fit_graf.main([str(small_corpus), "--out", str(folder), "--input-shape", "1,8,8"]) == 0
    archs = load(small_corpus)["arch"][:10]
    local = load_surrogate(str(folder)).predict(archs, input_shape=(1, 8, 8), num_classes=10)

    hub_env = hub
    model_repo = hub_env.new_repo_id("graf")
    assert publish.main(["model", str(folder), "--repo-id", model_repo]) == 0
    remote = load_surrogate(model_repo).predict(archs, input_shape=(1, 8, 8), num_classes=10)
    np.testing.assert_array_equal(local, remote)

    data_repo = hub_env.new_repo_id("corpus")
    assert publish.main(["corpus", str(small_corpus), "--repo-id", data_repo]) == 0
    assert (small_corpus / "README.md").read_text().startswith("---\n")
    back = load(data_repo)
    mine = load(small_corpus)
    assert sorted(back["job_id"]) == sorted(mine["job_id"]) and len(back) == 2 * 16
    assert hub_env.state.unknown == []


def test_publish_refuses_a_folder_that_does_not_load(hub_env, tmp_path: Path) -> None:
    from surrogate_hub.surrogates.errors import SurrogateLoadError

    publish = _script("publish")
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "config.json").write_text('{"surrogate": "graf-xgb", "format_version": 99}')
    with pytest.raises(SurrogateLoadError):
        publish.main(["model", str(bad), "--repo-id", hub_env.new_repo_id("bad")])


def test_read_metrics_carries_unseen_tau_and_the_noise_ceiling(tmp_path: Path) -> None:
    """The card's figures come with their caveats: tau on unseen architectures and the noise ceiling."""
    import json

    fitting = _script("_fitting")
    block = lambda a, b: {"mean": (a + b) / 2, "by_task": {"t1": a, "t2": b}}  # noqa: E731
    doc = {
        "loo": {"m": {"t1": {"tau": 0.5, "rho": 0.6}, "t2": {"tau": 0.3, "rho": 0.4}, "mean": {"tau": 0.4, "rho": 0.5}}},
        "within": {},
        "ceiling": {"mean": 0.8, "by_task": {"t1": 0.9, "t2": None}},
        "methods": {"m": {"loo": {"tau_unseen": block(0.55, 0.25), "tau_over_ceiling": {"mean": None, "by_task": {}}}}},
    }
    path = tmp_path / "eval.json"
    path.write_text(json.dumps(doc))
    m = fitting.read_metrics(path, "m", digits=3)
    assert m["kendall_tau_loo"] == {"t1": 0.5, "t2": 0.3} and m["kendall_tau_loo_mean"] == 0.4
    assert m["kendall_tau_loo_unseen"] == {"t1": 0.55, "t2": 0.25} and m["kendall_tau_loo_unseen_mean"] == 0.4
    assert m["noise_ceiling_tau"] == {"t1": 0.9} and m["noise_ceiling_tau_mean"] == 0.8
    assert "kendall_tau_loo_over_ceiling" not in m and "kendall_tau_within_task" not in m
