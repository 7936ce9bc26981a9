"""GrafSurrogate through the local test Hub with the real huggingface_hub client: push, load, revisions,
cache, cards, damaged repos."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from surrogate_hub.space import n_params, parse, sample_many, to_string
from surrogate_hub.surrogates import SurrogateLoadError, load_surrogate, register_pretrained, registry
from surrogate_hub.surrogates.graf_xgb import GrafSurrogate

pytest.importorskip("fastapi")
# huggingface_hub's basic LFS upload passes `data=<file>` to httpx, which warns; not ours to fix
pytestmark = pytest.mark.filterwarnings("ignore:Use 'content=<...>':DeprecationWarning")

SHAPE = (1, 8, 8)


@pytest.fixture(scope="module")
def archs() -> list[str]:
    return [to_string(a) for a in sample_many(80, SHAPE, seed=21)]


def _fit(archs: list[str], rounds: int, metrics: dict | None = None) -> GrafSurrogate:
    targets = np.log([n_params(parse(a), SHAPE, 10) for a in archs])
    sur = GrafSurrogate(xgb_params={"n_estimators": rounds}, default_input_shape=SHAPE)
    sur.fit(archs[:60], targets[:60])
    if metrics:
        sur.config = dataclasses.replace(sur.config, metrics=metrics)
    return sur


@pytest.fixture(scope="module")
def first(archs) -> GrafSurrogate:
    return _fit(archs, 30, metrics={"kendall_tau_loo": {"digits": 0.6, "mean": 0.6}})


@pytest.fixture(scope="module")
def second(archs) -> GrafSurrogate:
    return _fit(archs, 5)




def test_push_and_load_give_identical_predictions(hub, first, archs):
    repo_id = hub.new_repo_id("graf-xgb")
    first.push_to_hub(repo_id)
    expected = first.predict(archs)
    loaded = GrafSurrogate.from_pretrained(repo_id)
    np.testing.assert_array_equal(loaded.predict(archs), expected)
    assert loaded.config == first.config
    via_registry = load_surrogate(repo_id)
    assert isinstance(via_registry, GrafSurrogate)
    np.testing.assert_array_equal(via_registry.predict(archs), expected)


def test_revisions_cache_and_offline_loading(hub, first, second, archs, tmp_path):
    repo_id = hub.new_repo_id("history")
    old = first.push_to_hub(repo_id, commit_message="first").oid
    second.push_to_hub(repo_id, commit_message="second")
    np.testing.assert_array_equal(GrafSurrogate.from_pretrained(repo_id).predict(archs), second.predict(archs))
    np.testing.assert_array_equal(
        GrafSurrogate.from_pretrained(repo_id, revision=old).predict(archs), first.predict(archs)
    )
    np.testing.assert_array_equal(load_surrogate(repo_id, revision=old).predict(archs), first.predict(archs))

    cache = tmp_path / "cache"
    GrafSurrogate.from_pretrained(repo_id, cache_dir=cache)
    n_requests = len(hub.state.requests)
    offline = GrafSurrogate.from_pretrained(repo_id, cache_dir=cache, local_files_only=True)
    np.testing.assert_array_equal(offline.predict(archs), second.predict(archs))
    assert len(hub.state.requests) == n_requests  # served from the cache, no HTTP
    again = load_surrogate(repo_id, cache_dir=cache, local_files_only=True, force_download=False)
    np.testing.assert_array_equal(again.predict(archs), second.predict(archs))


def test_pushed_card_has_metadata(hub, first):
    from huggingface_hub import ModelCard

    repo_id = hub.new_repo_id("card")
    first.push_to_hub(repo_id)
    card = ModelCard.load(repo_id)
    assert card.data.library_name == "surrogate-hub" and card.data.license == "apache-2.0"
    assert {"surrogate-hub", "einspace", "graf", "xgboost"} <= set(card.data.tags)
    assert card.data.model_name == repo_id
    assert {(r.dataset_name, r.metric_type, r.metric_value) for r in card.data.eval_results} == {
        ("digits", "kendall_tau_loo", 0.6),
        ("mean", "kendall_tau_loo", 0.6),
    }
    assert f'load_surrogate("{repo_id}")' in card.text and "| digits | 0.600 |" in card.text


def test_registered_name_loads_from_its_hub_repo(hub, first, archs, monkeypatch, tmp_path):
    monkeypatch.setattr(registry, "_PRETRAINED", dict(registry._PRETRAINED))
    repo_id = hub.new_repo_id("registered")
    first.push_to_hub(repo_id)
    register_pretrained("test-remote", kind="graf-xgb", repo_id=repo_id, local_path=tmp_path / "not-embedded")
    np.testing.assert_array_equal(load_surrogate("test-remote").predict(archs), first.predict(archs))


def test_repo_without_model_file_is_refused(hub, first, tmp_path):
    from huggingface_hub import HfApi

    first.save_pretrained(tmp_path / "m")
    repo_id = hub.new_repo_id("broken")
    api = HfApi()
    api.create_repo(repo_id)
    api.upload_file(path_or_fileobj=tmp_path / "m" / "config.json", path_in_repo="config.json", repo_id=repo_id)
    with pytest.raises(SurrogateLoadError, match=rf"{repo_id}: the repo has no model\.json"):
        GrafSurrogate.from_pretrained(repo_id)
    with pytest.raises(SurrogateLoadError, match=r"model\.json"):
        load_surrogate(repo_id)


def test_missing_repo_is_the_clients_error(hub):
    from huggingface_hub.errors import RepositoryNotFoundError

    with pytest.raises(RepositoryNotFoundError):
        load_surrogate(hub.new_repo_id("absent"))
