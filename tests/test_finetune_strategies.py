"""finetune(): every strategy on a small fixture, the held-out report and the lineage in config and card."""

from __future__ import annotations

import json

import numpy as np
import pytest

from surrogate_hub.features.graf import graf_extras
from surrogate_hub.space import sample, to_string
from surrogate_hub.surrogates import GrafSurrogate, SurrogateLoadError, load_surrogate
from surrogate_hub.surrogates.config import Lineage
from surrogate_hub.surrogates.finetune import (
    finetune,
    finetune_with_report,
    recommended_strategy,
    rows_hash,
)
from surrogate_hub.surrogates.targets import TrainingRows

SHAPE = (1, 8, 8)
OTHER = (3, 8, 8)
FAST = {"n_estimators": 40}


def _archs(n: int, start: int, shape=SHAPE) -> list[str]:
    return [to_string(sample(shape, rng=start + i)) for i in range(n)]



def _params(archs, shape) -> np.ndarray:
    return np.log1p([graf_extras(a, shape, 10)["n_params"] for a in archs])


@pytest.fixture(scope="module")
def task():
    """A base fitted on another task where bigger is better; the new task rewards the opposite."""
    rng = np.random.default_rng(0)
    corpus_archs = _archs(120, 1000, OTHER)
    corpus_acc = _params(corpus_archs, OTHER) + 0.01 * rng.random(120)
    transfer = TrainingRows(archs=tuple(corpus_archs), targets=corpus_acc, tasks=("other",) * 120,
                            input_shapes=(OTHER,) * 120, num_classes=(10,) * 120)
    base = GrafSurrogate(xgb_params=FAST).fit(corpus_archs, corpus_acc, input_shapes=OTHER)
    archs = _archs(60, 0)
    acc = -_params(archs, SHAPE) + 0.01 * rng.random(60)
    return base, transfer, archs, acc


def _corr(sur, archs, acc) -> float:
    return float(np.corrcoef(sur.predict(archs, input_shape=SHAPE, num_classes=10), acc)[0, 1])


@pytest.mark.parametrize("strategy", ["refit", "corpus", "boost", "residual"])
def test_each_graf_strategy_adapts_a_copy(task, strategy, tmp_path) -> None:
    base, transfer, archs, acc = task
    train, test = slice(0, 40), slice(40, 60)
    before = base.predict(archs, input_shape=SHAPE, num_classes=10)
    # the corpus rows here rank the opposite way: the new rows must carry most of the weight
    # (boost's default 10 trees are a gentle correction: reversing a ranking takes more)
    extra = {"corpus": {"transfer": transfer, "share": 0.99}, "boost": {"rounds": 100}}.get(strategy, {})
    tuned = finetune(base, archs[train], acc[train], input_shape=SHAPE, num_classes=10, strategy=strategy, **extra)
    assert tuned is not base
    np.testing.assert_array_equal(base.predict(archs, input_shape=SHAPE, num_classes=10), before)
    assert _corr(base, archs[test], acc[test]) < 0  # the base ranks the new task backwards
    assert _corr(tuned, archs[test], acc[test]) > 0.3  # every strategy learns the new trend
    tuned.save_pretrained(tmp_path / strategy)  # one ordinary artifact, whatever the strategy
    again = load_surrogate(tmp_path / strategy)
    np.testing.assert_allclose(again.predict(archs, input_shape=SHAPE, num_classes=10),
                               tuned.predict(archs, input_shape=SHAPE, num_classes=10), rtol=1e-5, atol=1e-6)


def test_boost_and_residual_add_trees_to_the_base(task) -> None:
    base, _, archs, acc = task
    n_base = base.booster.num_boosted_rounds()
    boosted = finetune(base, archs[:30], acc[:30], input_shape=SHAPE, num_classes=10, strategy="boost", rounds=7)
    residual = finetune(base, archs[:30], acc[:30], input_shape=SHAPE, num_classes=10, strategy="residual", rounds=9)
    assert boosted.booster.num_boosted_rounds() == n_base + 7
    assert residual.booster.num_boosted_rounds() == n_base + 9
    assert base.booster.num_boosted_rounds() == n_base
    trees = json.loads(residual.booster.save_raw("json"))["learner"]["gradient_booster"]["model"]["trees"]
    assert all(int(t["tree_param"]["num_nodes"]) <= 7 for t in trees[n_base:])  # depth-2 residual trees


def test_corpus_share_weights_the_new_rows(task) -> None:
    base, transfer, archs, acc = task
    low = finetune(base, archs[:20], acc[:20], input_shape=SHAPE, num_classes=10, strategy="corpus", transfer=transfer, share=0.02)
    high = finetune(base, archs[:20], acc[:20], input_shape=SHAPE, num_classes=10, strategy="corpus", transfer=transfer, share=0.9)
    assert _corr(high, archs[20:], acc[20:]) > _corr(low, archs[20:], acc[20:])
    with pytest.raises(ValueError, match="share must be in"):
        finetune(base, archs, acc, input_shape=SHAPE, num_classes=10, strategy="corpus", transfer=transfer, share=1.0)
    with pytest.raises(ValueError, match="give share="):
        finetune(base, archs, acc, input_shape=SHAPE, num_classes=10, strategy="corpus", transfer=transfer, weight=2.0)
    with pytest.raises(ValueError, match="records no training corpus"):
        finetune(base, archs, acc, input_shape=SHAPE, num_classes=10, strategy="corpus")
    with pytest.raises(ValueError, match="is not available here"):
        finetune(base, archs, acc, input_shape=SHAPE, num_classes=10, strategy="corpus", corpus="/nonexistent/corpus")


def test_strategy_errors(task) -> None:
    base, _, archs, acc = task
    with pytest.raises(ValueError, match=r"has no option\(s\) \['depth'\]; it accepts \['rounds', 'learning_rate'\]"):
        finetune(base, archs, acc, input_shape=SHAPE, num_classes=10, strategy="boost", depth=3)
    with pytest.raises(ValueError, match="needs a BERT surrogate.*use 'boost'"):
        finetune(base, archs, acc, input_shape=SHAPE, num_classes=10, strategy="continue")
    with pytest.raises(ValueError, match="base surrogate is not fitted"):
        finetune(GrafSurrogate(), archs, acc, input_shape=SHAPE, num_classes=10, strategy="boost")
    with pytest.raises(ValueError, match="at least 2 new rows"):
        finetune(base, archs[:3], [np.nan, 0.0, 0.5], input_shape=SHAPE, num_classes=10, strategy="residual")
    with pytest.raises(ValueError, match="rounds must be a positive int"):
        finetune(base, archs, acc, input_shape=SHAPE, num_classes=10, strategy="boost", rounds=0)
    assert recommended_strategy(base) == "corpus"


def test_report_lineage_config_and_card(task, tmp_path) -> None:
    base, _, archs, acc = task
    base.save_pretrained(tmp_path / "base")
    loaded = load_surrogate(tmp_path / "base")
    tuned, lineage = finetune_with_report(
        loaded, archs, acc, input_shape=SHAPE, num_classes=10, base_name=str(tmp_path / "base"), strategy="boost",
        holdout=0.25, seed=3, data_file="my.jsonl", rounds=20,
    )
    assert lineage.n_heldout == 15 and lineage.n_rows == 60
    assert lineage.tau_before < 0 < lineage.tau_after  # measured on the held-out rows
    assert lineage.base_revision.startswith("folder:") and lineage.options == {"rounds": 20, "learning_rate": None}
    assert lineage.data_sha256 == rows_hash(archs, acc) != rows_hash(archs[::-1], acc[::-1])
    assert tuned.config.lineage == lineage and loaded.config.lineage is None
    tuned.save_pretrained(tmp_path / "tuned")
    raw = json.loads((tmp_path / "tuned" / "config.json").read_text())
    assert raw["lineage"]["strategy"] == "boost" and raw["lineage"]["n_heldout"] == 15
    again = load_surrogate(tmp_path / "tuned")
    assert again.config.lineage == lineage
    card = (tmp_path / "tuned" / "README.md").read_text()
    assert "## Fine-tuning lineage" in card and lineage.data_sha256 in card and "my.jsonl" in card
    assert f"{lineage.tau_before:.3f}" in card and f"{lineage.tau_after:.3f}" in card
    assert "Fine-tuning lineage" not in (tmp_path / "base" / "README.md").read_text()
    # a second fine-tune keeps the first one's lineage as its parent
    _, second = finetune_with_report(again, archs[:8], acc[:8], input_shape=SHAPE, num_classes=10,
                                     base_name=str(tmp_path / "tuned"), strategy="refit")
    assert second.parent["strategy"] == "boost" and second.n_heldout == 0 and second.tau_after is None


def test_old_artifacts_load_and_lineage_is_checked(tmp_path) -> None:
    embedded = load_surrogate("einspace-graf-xgb")
    assert embedded.config.lineage is None and "lineage" not in embedded.config.to_dict()
    folder = tmp_path / "bad"
    embedded.save_pretrained(folder)
    raw = json.loads((folder / "config.json").read_text())
    assert "lineage" not in raw  # a pretrained artifact is written exactly as before
    raw["lineage"] = {"base": "x"}
    (folder / "config.json").write_text(json.dumps(raw))
    with pytest.raises(SurrogateLoadError, match=r"lineage: missing \['base_revision'"):
        load_surrogate(folder)
    good = Lineage(base="b", base_revision=None, strategy="refit", options={}, data_sha256="0" * 64, data_file=None,
                   n_rows=3, n_heldout=0, tau_before=None, tau_after=None, input_shape=(1, 8, 8), num_classes=10)
    raw["lineage"] = {**good.to_dict(), "n_rows": "three"}
    (folder / "config.json").write_text(json.dumps(raw))
    with pytest.raises(SurrogateLoadError, match="lineage.n_rows has the wrong type"):
        load_surrogate(folder)


@pytest.mark.slow
def test_continue_trains_a_bert_surrogate_further(tmp_path) -> None:
    pytest.importorskip("transformers")
    import torch

    from surrogate_hub.surrogates.bert import BertSurrogate

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        archs = _archs(24, 0)
        y = _params(archs, SHAPE)
        base = BertSurrogate(default_input_shape=SHAPE, device="cpu", epochs=2.0, learning_rate=3e-3, batch_size=16,
                             warmup_ratio=0.0, val_fraction=0.0)
        base.init_model(sizes={"hidden_size": 32, "num_hidden_layers": 1, "num_attention_heads": 2, "intermediate_size": 64})
        base.fit(archs, y, progress=False)
        weights = {k: v.clone() for k, v in base.model.state_dict().items()}
        tuned, lineage = finetune_with_report(base, archs[:16], -y[:16], input_shape=SHAPE, num_classes=10,
                                              base_name="tiny-bert", holdout=0, epochs=2.0, learning_rate=3e-3)
        assert lineage.strategy == "continue" and tuned.config.training.epochs == 2.0
        assert lineage.base_revision is None  # an in-memory base: nothing to resolve
        assert all(torch.equal(weights[k], v) for k, v in base.model.state_dict().items())  # base untouched
        assert any(not torch.equal(weights[k], v) for k, v in tuned.model.state_dict().items())
        assert tuned.config.base == base.config.base and tuned.config.lineage == lineage
        tuned.save_pretrained(tmp_path / "bert")
        assert load_surrogate(tmp_path / "bert").config.lineage == lineage
        assert "## Fine-tuning lineage" in (tmp_path / "bert" / "README.md").read_text()
        with pytest.raises(ValueError, match="needs a GRAF-XGBoost surrogate"):
            finetune(base, archs, y, input_shape=SHAPE, num_classes=10, strategy="boost")
    finally:
        torch.set_num_threads(threads)
