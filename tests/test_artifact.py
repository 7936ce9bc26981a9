"""The shared artifact layer: file resolution, versioned config readers, cards from packaged
templates, and the Hub mixin's keyword and card-name rules (exercised through GrafSurrogate)."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from surrogate_hub.space import n_params, parse, sample_many, to_string
from surrogate_hub.surrogates import SurrogateLoadError, load_surrogate
from surrogate_hub.surrogates.artifact import read_config_file, resolve_file
from surrogate_hub.surrogates.card import eval_table, template_path
from surrogate_hub.surrogates.config import ConfigReaders, check_keys, typed
from surrogate_hub.surrogates.graf_xgb import GrafSurrogate

SHAPE = (1, 8, 8)


@pytest.fixture(scope="module")
def fitted() -> GrafSurrogate:
    archs = [to_string(a) for a in sample_many(40, SHAPE, seed=3)]
    targets = np.log([n_params(parse(a), SHAPE, 10) for a in archs])
    return GrafSurrogate(xgb_params={"n_estimators": 5}, default_input_shape=SHAPE).fit(archs, targets)


def test_card_names_the_folder_or_the_given_repo_id(fitted, tmp_path):
    from huggingface_hub import ModelCard

    fitted.save_pretrained(tmp_path / "my-graf")
    card = ModelCard.load(tmp_path / "my-graf" / "README.md")
    assert card.data.model_name == "my-graf" and 'load_surrogate("my-graf")' in card.text
    fitted.save_pretrained(tmp_path / "other", repo_id="lab/graf-v2")
    card = ModelCard.load(tmp_path / "other" / "README.md")
    assert card.data.model_name == "lab/graf-v2" and "einspace-graf-xgb" not in card.text


def test_push_keywords_without_push_are_errors_and_write_nothing(fitted, tmp_path):
    with pytest.raises(TypeError, match="only apply with push_to_hub=True"):
        fitted.save_pretrained(tmp_path / "graf", private=True)
    assert not (tmp_path / "graf").exists()


def test_unknown_from_pretrained_keywords_are_errors(fitted, tmp_path):
    fitted.save_pretrained(tmp_path / "m")
    with pytest.raises(TypeError, match=r"unknown keyword argument\(s\) \['n_job'\].*'n_jobs'"):
        GrafSurrogate.from_pretrained(tmp_path / "m", n_job=2)
    with pytest.raises(TypeError, match=r"\['device'\]"):
        load_surrogate(str(tmp_path / "m"), device="cpu")
    assert GrafSurrogate.from_pretrained(tmp_path / "m", n_jobs=2).n_jobs == 2


def test_config_readers_dispatch_by_version_and_kind():
    readers: ConfigReaders[dict] = ConfigReaders("demo", "Demo")

    @readers.register(1)
    def _v1(raw, source):
        check_keys(raw, ["surrogate", "format_version", "x"], "config", source)
        return {"x": typed(raw["x"], int, "x", source)}

    assert readers.read({"surrogate": "demo", "format_version": 1, "x": 3}) == {"x": 3}
    with pytest.raises(SurrogateLoadError, match=r"unknown format_version 2 .* reads \[1\]"):
        readers.read({"surrogate": "demo", "format_version": 2}, "f.json")
    with pytest.raises(SurrogateLoadError, match=r"kind 'graf-xgb' is not 'demo'; Demo cannot load it"):
        readers.read({"surrogate": "graf-xgb", "format_version": 1})
    with pytest.raises(SurrogateLoadError, match=r"x has the wrong type \(bool"):
        readers.read({"surrogate": "demo", "format_version": 1, "x": True})
    with pytest.raises(SurrogateLoadError, match=r"unexpected \['y'\]"):
        readers.read({"surrogate": "demo", "format_version": 1, "x": 1, "y": 2})


def test_file_resolution_and_config_reading(tmp_path):
    with pytest.raises(SurrogateLoadError, match="model.bin: not found"):
        resolve_file(tmp_path, "model.bin")
    (tmp_path / "config.json").write_text("[1]")
    with pytest.raises(SurrogateLoadError, match="expected a JSON object, got list"):
        read_config_file(tmp_path / "config.json")
    (tmp_path / "config.json").write_text(json.dumps({"surrogate": "x"}))
    assert read_config_file(resolve_file(tmp_path, "config.json")) == {"surrogate": "x"}


def test_card_templates_are_package_data():
    assert template_path("graf-xgb").is_file() and template_path("bert").is_file()
    assert "| digits | 0.500 |" in eval_table({"tau": {"digits": 0.5, "bad": float("nan")}})


def test_artifact_layer_imports_no_model_family():
    code = (
        "import sys, surrogate_hub.surrogates.artifact, surrogate_hub.surrogates.card, "
        "surrogate_hub.surrogates.config, surrogate_hub.surrogates.registry as r\n"
        "r.resolve_source('einspace-graf-xgb')\n"
        "bad = [m for m in ('xgboost', 'torch', 'transformers', 'surrogate_hub.surrogates.graf_xgb') if m in sys.modules]\n"
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
