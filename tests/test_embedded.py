"""The pretrained GRAF-XGBoost surrogate that ships inside the package works with no network."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from surrogate_hub.space import grammar_hash, sample_many, to_string
from surrogate_hub.surrogates.registry import list_surrogates, load_surrogate

ROOT = Path(__file__).resolve().parents[1]
FILES = ("config.json", "model.json", "README.md")


def test_default_surrogate_loads_offline_and_ranks() -> None:
    assert "einspace-graf-xgb" in list_surrogates()
    sur = load_surrogate("einspace-graf-xgb")  # the conftest keeps the HF clients offline
    assert sur.config.grammar_hash == grammar_hash()
    assert sur.config.metrics.get("kendall_tau_loo_mean") is not None
    archs = [to_string(a) for a in sample_many(200, (3, 32, 32), seed=1)]
    ranking = sur.rank(archs, input_shape=(3, 32, 32), num_classes=10)
    scores = np.asarray([s for _, _, s in ranking])
    assert len(scores) == 200 and np.all(np.diff(scores) <= 0) and np.isfinite(scores).all()
    assert np.unique(scores).size > 20  # not a constant predictor


@pytest.mark.parametrize("name", ["einspace-graf-xgb", "einspace-graf-zcp-xgb"])
def test_the_v1_revision_stays_loadable_offline(name: str) -> None:
    from surrogate_hub.surrogates.registry import get_pretrained

    v1 = load_surrogate(name, revision="v1")  # embedded: no network (the conftest keeps the clients offline)
    assert v1.config.corpus.repo_or_path == "corpus/einspace-offline-v1"
    assert get_pretrained(name).embedded_revision("v1") is not None
    assert get_pretrained(name).embedded_revision("v9") is None


@pytest.mark.parametrize("name", ["einspace-graf-xgb", "einspace-graf-zcp-xgb"])
def test_the_current_default_can_be_pinned_as_v2(name: str) -> None:
    """Pinning ``revision="v2"`` keeps giving the corpus-v2 model offline, after a later default too."""
    v2, default = load_surrogate(name, revision="v2"), load_surrogate(name)
    assert v2.config.corpus.repo_or_path == "corpus/einspace-offline-v2" and v2.config == default.config


def test_default_surrogate_ships_in_the_wheel(tmp_path: Path) -> None:
    import shutil

    pytest.importorskip("setuptools")
    src = tmp_path / "src"  # build from a copy: setuptools writes build/ and *.egg-info beside the sources
    shutil.copytree(ROOT / "surrogate_hub", src / "surrogate_hub", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, src / name)
    before = sorted(p.name for p in ROOT.iterdir())
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp_path / "dist"), str(src)],
        check=True, capture_output=True,
    )
    assert sorted(p.name for p in ROOT.iterdir()) == before  # nothing written into the working tree
    (wheel,) = (tmp_path / "dist").glob("surrogate_hub-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for f in FILES:
        assert f"surrogate_hub/pretrained/einspace-graf-xgb/{f}" in names
        assert f"surrogate_hub/pretrained/einspace-graf-zcp-xgb/{f}" in names
        assert f"surrogate_hub/pretrained/einspace-graf-xgb-v1/{f}" in names
    for f in ("config.json", "model_config.json", "model.safetensors", "tokenizer.json", "README.md"):
        assert f"surrogate_hub/pretrained/einspace-bert/{f}" in names
    assert "surrogate_hub/space/einspace.lark" in names and "surrogate_hub/space/seeds.json" in names


def test_default_prefers_scaled_real_world_networks_to_a_near_linear_one() -> None:
    """Corpus v1's model ranked the near-linear network first (0.88, above every seed); the
    corpus-v2 default, which saw scaled seeds and their mutations, ranks every seed above it."""
    from surrogate_hub.space.seeds import scaled_seed

    shape = (3, 32, 32)
    near_linear = "routing[im2col(1,1,0), computation<norm>, identity]"
    seeds = [to_string(scaled_seed(f"{name}*0.125", shape)) for name in
             ("resnet18_no_maxpool", "wideresnet16_4", "vit_d4", "mlpmixer_d4")]
    v1, v2 = (load_surrogate("einspace-graf-xgb", revision=r).predict([near_linear, *seeds], input_shape=shape, num_classes=10)
              for r in ("v1", "v2"))
    assert v1[0] > v1[1:].max()  # the pathology this guards against
    assert v2[0] < v2[1:].min()


def test_embedded_bert_loads_offline_and_ranks() -> None:
    """The shipped einspace-native BERT (compact form, mean-max head) loads with no network, is
    small, and ranks sampled architectures with scores that differ."""
    pytest.importorskip("transformers")
    from surrogate_hub.surrogates.registry import get_pretrained

    folder = get_pretrained("einspace-bert").embedded_revision("v2")
    assert folder is not None and (folder / "model.safetensors").stat().st_size < 20_000_000
    sur = load_surrogate("einspace-bert", device="cpu")
    assert type(sur).__name__ == "BertSurrogate" and sur.config.pooling == "mean-max"
    assert sur.config.grammar_hash == grammar_hash() and sur.config.metrics.get("kendall_tau_loo_mean") is not None
    archs = [to_string(a) for a in sample_many(100, (3, 32, 32), seed=2)]
    scores = np.asarray([s for _, _, s in sur.rank(archs, input_shape=(3, 32, 32), num_classes=10)])
    assert np.all(np.diff(scores) <= 0) and np.isfinite(scores).all() and np.unique(scores).size > 20
    assert 'load_surrogate("einspace-bert")' in (folder / "README.md").read_text()


def test_loading_bert_without_transformers_is_a_clear_error() -> None:
    """Without the bert extra, loading the shipped BERT says what to install (no traceback from deep inside)."""
    code = (
        "import sys; sys.modules['transformers'] = None\n"
        "from surrogate_hub.surrogates import SurrogateLoadError, load_surrogate\n"
        "try:\n    load_surrogate('einspace-bert')\n"
        "except SurrogateLoadError as err:\n    print(err)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert "needs torch and transformers" in out.stdout and "pip install 'surrogate-hub[bert]'" in out.stdout, out.stderr[-2000:]
