"""Surrogates: target normalisation, rankings, GrafSurrogate fit/predict/rank, artifacts, registry."""

from __future__ import annotations

import json
import math
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from surrogate_hub.space import ArchitectureError, n_params, parse, sample_many, to_string
from surrogate_hub.surrogates import (
    GrammarMismatchError,
    NotFittedError,
    Ranking,
    Surrogate,
    SurrogateLoadError,
    UnknownSurrogateError,
    fit_corpus,
    list_surrogates,
    load_surrogate,
    normalise_targets,
    register_pretrained,
    resolve_source,
    training_rows,
)
from surrogate_hub.surrogates import registry
from surrogate_hub.surrogates.graf_xgb import (
    GrafSurrogate,
    GrafSurrogateConfig,
    config_readers,
)

SHAPE_A, SHAPE_B = (1, 8, 8), (3, 8, 8)
#: parses, valid at (2, 8, 8), invalid at SHAPE_A (1 channel cannot be split in two)
GROUPED = "branching(2){group(2,1), computation<norm>, computation<norm>, cat(2,1)}"
FAST = {"n_estimators": 60}


# ------------------------------------------------------------------------------------ helpers
def kendall_tau(x, y) -> float:
    x, y = np.asarray(x, float), np.asarray(y, float)
    i, j = np.triu_indices(len(x), k=1)
    s = np.sign(x[i] - x[j]) * np.sign(y[i] - y[j])
    return float(s.sum() / len(s))


def _log_params(archs, shape, classes=10) -> np.ndarray:
    return np.log([n_params(a, shape, classes) for a in archs])


@pytest.fixture(scope="module")
def data():
    """Two synthetic tasks whose 'accuracy' is a monotone function of the parameter count."""
    a = sample_many(120, SHAPE_A, seed=11)
    b = sample_many(120, SHAPE_B, seed=12)
    held_out = sample_many(80, SHAPE_A, seed=13)
    acc_a = 0.2 + 0.05 * _log_params(a, SHAPE_A)
    acc_b = 0.5 * (0.1 + 0.03 * _log_params(b, SHAPE_B))  # another scale: normalisation matters
    return {
        "archs": [to_string(x) for x in a] + b,  # strings and values mixed
        "targets": np.r_[acc_a, acc_b],
        "tasks": ["a"] * len(a) + ["b"] * len(b),
        "shapes": [SHAPE_A] * len(a) + [SHAPE_B] * len(b),
        "held_out": [to_string(x) for x in held_out],
        "held_out_truth": _log_params(held_out, SHAPE_A),
    }


@pytest.fixture(scope="module")
def fitted(data) -> GrafSurrogate:
    sur = GrafSurrogate(xgb_params=FAST, default_input_shape=SHAPE_A)
    return sur.fit(data["archs"], data["targets"], data["tasks"], input_shapes=data["shapes"], num_classes=10)


@pytest.fixture(scope="module")
def saved(fitted, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("saved") / "model"
    fitted.save_pretrained(folder)
    return folder


def _copy_folder(src: Path, dst: Path) -> Path:
    dst.mkdir(parents=True)
    for f in src.iterdir():
        (dst / f.name).write_bytes(f.read_bytes())
    return dst


# ------------------------------------------------------------------------------------- targets
@pytest.mark.parametrize(
    ("values", "groups", "method", "expected"),
    [
        ([0.1, 0.3, 0.2], None, "percentile", [1 / 3, 1, 2 / 3]),
        ([0.5, 0.5, 0.1, 0.9], None, "percentile", [2.5 / 4, 2.5 / 4, 1 / 4, 1]),  # ties: average rank
        ([0.7], None, "percentile", [1.0]),
        ([7, 7, 7], None, "percentile", [2 / 3, 2 / 3, 2 / 3]),
        ([2.0, 4.0, 3.0], None, "minmax", [0.0, 1.0, 0.5]),
        ([0.3, 0.3], None, "minmax", [0.5, 0.5]),  # constant group
        ([1, 2, 10, 20], ["a", "a", "b", "b"], "percentile", [0.5, 1, 0.5, 1]),
        ([1, 2, 10, 20, 15], ["a", "a", "b", "b", "b"], "minmax", [0, 1, 0, 1, 0.5]),
        ([0.2, math.nan, 0.4], None, "percentile", [0.5, math.nan, 1.0]),  # NaN stays NaN, ignored
        ([0.2, math.nan, 0.4], None, "minmax", [0.0, math.nan, 1.0]),
        ([0.2, 0.4], ["x", "y"], "none", [0.2, 0.4]),
        ([], None, "percentile", []),
    ],
)
def test_normalise_targets(values, groups, method, expected):
    got = normalise_targets(values, groups, method)
    np.testing.assert_allclose(got, expected, equal_nan=True)
    if method == "percentile":
        ok = got[~np.isnan(got)]
        assert np.all((ok > 0) & (ok <= 1))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"values": [1, 2], "groups": ["a"]}, "2 values but 1 group labels"),
        ({"values": [1, 2], "method": "zscore"}, "unknown target normalisation 'zscore'"),
        ({"values": [[1, 2]]}, "one-dimensional"),
    ],
)
def test_normalise_targets_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        normalise_targets(**kwargs)


RECORDS = [
    {"arch": "computation<norm>", "task": "t1", "input_shape": [1, 8, 8], "num_classes": 10, "val_acc": 0.5, "status": "ok", "zcp_snip": 1.0},
    {"arch": "computation<norm>", "task": "t2", "input_shape": [3, 8, 8], "num_classes": 4, "val_acc": 0.0, "status": "ok", "zcp_snip": 2.0},
    {"arch": "computation<relu>", "task": "t1", "input_shape": [1, 8, 8], "num_classes": 10, "val_acc": None, "status": "too_large", "zcp_snip": None},
    {"arch": "computation<relu>", "task": "t2", "input_shape": [3, 8, 8], "num_classes": 4, "val_acc": math.nan, "status": "ok", "zcp_snip": None},
    {"arch": "computation<linear(16)>", "task": "t2", "input_shape": [3, 8, 8], "num_classes": 4, "val_acc": 0.25, "status": "ok", "zcp_snip": None},
]


@pytest.mark.parametrize(
    ("kwargs", "archs", "dropped"),
    [
        ({}, ("computation<norm>", "computation<linear(16)>"), {"zero": 1, "failed": 1, "missing": 1}),
        ({"drop_zero": False}, ("computation<norm>", "computation<norm>", "computation<linear(16)>"), {"failed": 1, "missing": 1}),
        ({"tasks": ["t2"]}, ("computation<linear(16)>",), {"task": 2, "zero": 1, "missing": 1}),
    ],
)
def test_training_rows_drops_unusable_rows(kwargs, archs, dropped):
    rows = training_rows(RECORDS, **kwargs)
    assert rows.archs == archs and dict(rows.dropped) == dropped
    assert len(rows.targets) == len(rows.tasks) == len(rows.input_shapes) == len(rows.num_classes) == len(archs)
    assert rows.zcp is None


def test_training_rows_columns_and_proxies():
    columns = {k: [r[k] for r in RECORDS] for k in RECORDS[0]}
    rows = training_rows(columns, zcp=("snip",))
    assert rows.input_shapes == ((1, 8, 8), (3, 8, 8)) and rows.num_classes == (10, 4)
    np.testing.assert_array_equal(rows.targets, [0.5, 0.25])
    np.testing.assert_array_equal(rows.zcp, [[1.0], [np.nan]])
    with pytest.raises(KeyError, match="zcp_synflow"):
        training_rows(columns, zcp=("synflow",))


# ------------------------------------------------------------------------------------- ranking
def test_ranking_orders_best_first_nan_last_ties_stable():
    r = Ranking.from_scores(["a", "b", "c", "d", "e"], [0.2, math.nan, 0.9, 0.2, 0.5])
    assert [x.arch for x in r] == ["c", "e", "a", "d", "b"]
    assert list(r.order) == [2, 4, 0, 3, 1]
    assert r.top(2) == [(1, "c", 0.9), (2, "e", 0.5)]
    assert r.top(0) == [] and len(r.top(99)) == 5 == len(r)
    position, arch, score = next(iter(r))
    assert (position, arch, score) == (1, "c", 0.9)
    records = r.to_records()
    assert records[0] == {"rank": 1, "arch": "c", "score": 0.9, "index": 2, "reason": None}
    assert records[-1] == {"rank": 5, "arch": "b", "score": None, "index": 1, "reason": None}
    json.dumps(records)  # JSON-ready: no NaN
    with pytest.raises(ValueError, match="3 architectures but 2 scores"):
        Ranking.from_scores(["a", "b", "c"], [1, 2])


# -------------------------------------------------------------------------------- GrafSurrogate
def test_fit_learns_a_known_function_of_the_features(fitted, data):
    assert isinstance(fitted, Surrogate)
    scores = fitted.predict(data["held_out"], input_shape=SHAPE_A, num_classes=10)
    assert scores.dtype == np.float64 and scores.shape == (len(data["held_out"]),)
    tau = kendall_tau(scores, data["held_out_truth"])
    assert tau > 0.5, tau


def test_predict_accepts_strings_or_values_and_uses_the_default_shape(fitted, data):
    strings = data["held_out"][:10]
    values = [parse(s) for s in strings]
    by_string = fitted.predict(strings, input_shape=SHAPE_A, num_classes=10)
    np.testing.assert_array_equal(by_string, fitted.predict(values, input_shape=SHAPE_A, num_classes=10))
    np.testing.assert_array_equal(by_string, fitted.predict(strings))  # config default is SHAPE_A, 10
    assert fitted.predict([]).shape == (0,)


def test_rank_matches_predict(fitted, data):
    archs = data["held_out"][:20]
    ranking = fitted.rank(archs, input_shape=SHAPE_A, num_classes=10)
    scores = fitted.predict(archs, input_shape=SHAPE_A, num_classes=10)
    assert [e.arch for e in ranking] == [archs[i] for i in np.argsort(-scores, kind="stable")]
    assert ranking.top(1)[0].score == pytest.approx(scores.max())


@pytest.mark.parametrize(("bad", "message"), [("sequential(", "unexpected"), (GROUPED, "cannot be split")])
def test_invalid_architectures_raise_or_score_nan(fitted, data, bad, message):
    archs = data["held_out"][:3] + [bad]
    with pytest.raises(ArchitectureError, match=rf"architecture #3 .*{message}.*errors='nan'"):
        fitted.predict(archs, input_shape=SHAPE_A)
    scores = fitted.predict(archs, input_shape=SHAPE_A, errors="nan")
    assert np.isnan(scores[3]) and not np.isnan(scores[:3]).any()
    ranking = fitted.rank(archs, input_shape=SHAPE_A, errors="nan")
    last = ranking.to_records()[-1]
    assert {k: last[k] for k in ("rank", "arch", "score", "index")} == {"rank": 4, "arch": bad, "score": None, "index": 3}
    assert message in last["reason"] and ranking.failures == {3: last["reason"]}  # errors="nan" keeps why
    assert ranking.reasons[:3] == (None, None, None)
    with pytest.raises(TypeError, match="expected an Op|expected an einspace module|int"):
        fitted.predict([42], input_shape=SHAPE_A, errors="nan")  # not an architecture at all: always raises


def test_unfitted_and_argument_errors(fitted, data, tmp_path):
    with pytest.raises(NotFittedError, match="not fitted"):
        GrafSurrogate().predict(["computation<norm>"])
    with pytest.raises(NotFittedError):
        GrafSurrogate().save_pretrained(tmp_path / "unused")
    assert not (tmp_path / "unused").exists()  # refused before the folder is made
    with pytest.raises(TypeError, match="single string"):
        fitted.rank("computation<norm>")  # not ranked letter by letter
    with pytest.raises(TypeError, match="single string"):
        fitted.predict("computation<norm>")
    for bad in (0, -3, 2.5, True):
        with pytest.raises(ValueError, match="num_classes must be a positive integer"):
            fitted.predict(["computation<norm>"], num_classes=bad)
    for bad in ((3, 32.5, 32), (3, 32), (0, 8, 8), "3,8,8"):
        with pytest.raises(ValueError, match="input_shape must be three positive integers"):
            fitted.predict(["computation<norm>"], input_shape=bad)
    with pytest.raises(ValueError, match="no zero-cost proxies"):
        fitted.predict(["computation<norm>"], zcp=[[1.0]])
    with pytest.raises(ValueError, match="3 architectures but 2 targets"):
        GrafSurrogate().fit(["computation<norm>"] * 3, [0.1, 0.2])
    with pytest.raises(ValueError, match="at least 2 training rows"):
        GrafSurrogate().fit(["computation<norm>", "computation<relu>"], [0.0, math.nan])
    with pytest.raises(ValueError, match="input_shapes: got 1 values for 2"):
        GrafSurrogate().fit(["computation<norm>"] * 2, [0.1, 0.2], input_shapes=[SHAPE_A])
    with pytest.raises(TypeError, match="either a config or settings"):
        GrafSurrogate(GrafSurrogateConfig(), zcp=("snip",))
    with pytest.raises(ValueError, match="normalisation"):
        GrafSurrogate(normalisation="zscore")


def test_zero_cost_proxy_columns(data, tmp_path):
    archs, n = data["archs"][:120], 120
    rng = np.random.default_rng(0)
    z = np.c_[data["targets"][:n] * 3 + rng.normal(0, 0.01, n), rng.normal(size=n)]
    z[0, 0], z[1, 1], z[2, 0] = np.nan, np.inf, -1e300  # missing, overflow: clipped, never an error
    sur = GrafSurrogate(zcp=("synflow", "snip"), xgb_params=FAST, default_input_shape=SHAPE_A)
    assert sur.feature_names[-2:] == ("zcp_synflow", "zcp_snip") and sur.zcp_names == ("synflow", "snip")
    with pytest.raises(ValueError, match=r"uses the zero-cost proxies \['synflow', 'snip'\]"):
        sur.fit(archs, data["targets"][:n])
    with pytest.raises(ValueError, match=r"shape \(120, 2\)"):
        sur.fit(archs, data["targets"][:n], zcp=z[:, :1])
    sur.fit(archs, data["targets"][:n], zcp=z)
    by_matrix = sur.predict(archs[:10], zcp=z[:10])
    by_mapping = sur.predict(archs[:10], zcp={"snip": z[:10, 1], "synflow": list(z[:10, 0])})
    np.testing.assert_array_equal(by_matrix, by_mapping)
    assert np.isfinite(by_matrix).all()
    with pytest.raises(ValueError, match=r"missing the proxies \['snip'\]"):
        sur.predict(archs[:10], zcp={"synflow": z[:10, 0]})
    sur.save_pretrained(tmp_path / "zcp")
    again = GrafSurrogate.from_pretrained(tmp_path / "zcp")
    assert again.zcp_names == ("synflow", "snip")
    np.testing.assert_array_equal(again.predict(archs[:10], zcp=z[:10]), by_matrix)


def test_minmax_and_no_extras(data):
    sur = GrafSurrogate(extras=False, normalisation="minmax", xgb_params=FAST)
    sur.fit(data["archs"], data["targets"], data["tasks"])  # GRAF alone needs no input shape
    assert len(sur.feature_names) == 385 and sur.config.feature_set.name == "graf"
    scores = sur.predict(data["held_out"] + [GROUPED])  # no shape check without extras: GROUPED scores
    assert np.isfinite(scores).all()


def _corpus_folder(folder: Path, rng: np.random.Generator) -> Path:
    """A corpus folder in the builder's layout with synthetic accuracies (no training)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from surrogate_hub.corpus.schema import arrow_schema, normalise_record

    records = []
    for task, shape, classes, seed in (("digits", SHAPE_A, 10, 1), ("add-digits", SHAPE_B, 19, 2)):
        for i, arch in enumerate(sample_many(30, shape, seed=seed)):
            ok = i % 10 != 3
            acc = None if not ok else (0.0 if i % 10 == 7 else 0.1 + 0.01 * math.log(n_params(arch, shape, classes)))
            records.append(normalise_record({
                "job_id": f"{task}/random/{i}", "arch": to_string(arch), "task": task, "input_shape": list(shape),
                "num_classes": classes, "seed": 0, "val_acc": acc, "status": "ok" if ok else "too_large",
                "zcp_synflow": float(rng.normal()) if ok else None,
            }, zcp_names=("synflow",)))
    (folder / "data").mkdir(parents=True)
    table = pa.Table.from_pylist(records, schema=arrow_schema(("synflow",)))
    pq.write_table(table.slice(0, 25), folder / "data" / "shard-00000.parquet")
    pq.write_table(table.slice(25), folder / "data" / "shard-00001.parquet")
    return folder


def test_fit_corpus_from_folder_and_dataset(tmp_path):
    from surrogate_hub.corpus import load

    folder = _corpus_folder(tmp_path / "corpus", np.random.default_rng(0))
    sur = fit_corpus(GrafSurrogate(xgb_params=FAST), folder)
    assert sur.is_fitted and sur.config.corpus.repo_or_path == str(folder)
    held = [to_string(a) for a in sample_many(20, SHAPE_A, seed=99)]
    assert kendall_tau(sur.predict(held, input_shape=SHAPE_A), _log_params([parse(s) for s in held], SHAPE_A)) > 0.3

    dataset = load(folder)
    with_zcp = fit_corpus(GrafSurrogate(zcp=("synflow",), xgb_params=FAST), dataset, tasks=["digits"])
    assert with_zcp.config.corpus.repo_or_path is None  # a Dataset has no recorded location
    assert with_zcp.booster.num_features() == 395
    with pytest.raises(ValueError, match="no usable training rows"):
        fit_corpus(GrafSurrogate(), dataset, tasks=["no-such-task"])


# ---------------------------------------------------------------------------------- artifacts
def test_save_and_load_round_trip(fitted, saved, data):
    assert sorted(p.name for p in saved.iterdir()) == ["README.md", "config.json", "model.json"]
    config = json.loads((saved / "config.json").read_text())
    assert list(config) == [
        "surrogate", "format_version", "grammar_hash", "feature_set", "target", "xgb_params",
        "default_input_shape", "default_num_classes", "corpus", "metrics",
    ]
    assert config["surrogate"] == "graf-xgb" and config["format_version"] == 1
    assert config["feature_set"]["extras"] is True and config["target"]["normalisation"] == "percentile"
    json.loads((saved / "model.json").read_text())  # XGBoost's JSON format, not a pickle
    loaded = GrafSurrogate.from_pretrained(saved)
    assert loaded.config == fitted.config
    archs = data["held_out"]
    np.testing.assert_array_equal(loaded.predict(archs), fitted.predict(archs))
    via_registry = load_surrogate(str(saved))
    assert isinstance(via_registry, GrafSurrogate)
    np.testing.assert_array_equal(via_registry.predict(archs), fitted.predict(archs))


def test_model_card_metadata_and_evaluation_table(fitted, tmp_path):
    import dataclasses

    from huggingface_hub import ModelCard

    sur = GrafSurrogate(fitted.config)
    sur._booster = fitted.booster
    sur.config = dataclasses.replace(
        fitted.config,
        metrics={"kendall_tau_loo": {"digits": 0.61, "add-digits": 0.55}, "kendall_tau_loo_mean": 0.58,
                 "noise_ceiling_tau": {"digits": 0.9}, "n_train": 240},
        corpus=dataclasses.replace(fitted.config.corpus, repo_or_path="surrogate-hub/einspace-corpus", revision="abc"),
    )
    sur.save_pretrained(tmp_path / "m")
    card = ModelCard.load(tmp_path / "m" / "README.md")
    assert card.data.library_name == "surrogate-hub" and card.data.license == "apache-2.0"
    assert {"surrogate-hub", "einspace", "neural-architecture-search"} <= set(card.data.tags)
    assert card.data.datasets == ["surrogate-hub/einspace-corpus"]
    results = {(r.dataset_name, r.metric_type): r.metric_value for r in card.data.eval_results}
    assert results[("digits", "kendall_tau_loo")] == 0.61 and results[("all", "n_train")] == 240
    assert "| digits | 0.610 |" in card.text and "surrogate-hub/einspace-corpus" in card.text
    assert results[("mean", "kendall_tau_loo")] == 0.58 and "| mean | 0.580 |" in card.text  # a mean is its column's row
    assert "`noise_ceiling_tau`: Kendall τ between two training seeds" in card.text  # the caveat is stated
    assert "`kendall_tau_loo_unseen`" not in card.text  # notes only for the columns present


def test_model_card_falls_back_to_the_builtin_template(fitted, tmp_path, monkeypatch):
    from huggingface_hub import ModelCard

    from surrogate_hub.surrogates import card

    monkeypatch.setattr(card, "template_path", lambda kind: tmp_path / "absent.md")
    fitted.save_pretrained(tmp_path / "m")
    card = ModelCard.load(tmp_path / "m" / "README.md")
    assert card.data.library_name == "surrogate-hub" and "No evaluation recorded yet." in card.text


def test_model_card_without_jinja2(fitted, tmp_path, monkeypatch):
    from huggingface_hub import ModelCard

    from surrogate_hub.surrogates import card

    monkeypatch.setattr(card, "has_jinja2", lambda: False)
    fitted.save_pretrained(tmp_path / "m")
    card = ModelCard.load(tmp_path / "m" / "README.md")
    assert card.data.library_name == "surrogate-hub" and "surrogate-hub" in card.data.tags
    assert "{{" not in card.text and 'load_surrogate("m")' in card.text  # named after its folder


def _tamper_config(folder: Path, change) -> None:
    path = folder / "config.json"
    config = json.loads(path.read_text())
    change(config)
    path.write_text(json.dumps(config))


@pytest.mark.parametrize(
    ("change", "error", "message"),
    [
        (lambda c: c.update(surrogate="bert"), SurrogateLoadError, "surrogate kind 'bert' is not 'graf-xgb'"),
        (lambda c: c.update(format_version=2), SurrogateLoadError, r"unknown format_version 2 .* reads \[1\]"),
        (lambda c: c.update(format_version="1"), SurrogateLoadError, "unknown format_version '1'"),
        (lambda c: c.pop("format_version"), SurrogateLoadError, "unknown format_version None"),
        (lambda c: c.update(grammar_hash="0" * 16), GrammarMismatchError, "allow_grammar_mismatch=True"),
        (lambda c: c["feature_set"].update(names_hash="f" * 16), SurrogateLoadError, "feature contract changed"),
        (lambda c: c["feature_set"].update(graf_version="0.9"), SurrogateLoadError, "GRAF features version 0.9"),
        (lambda c: c["feature_set"].update(extras=False), SurrogateLoadError, "names_hash"),
        (lambda c: c.update({"py/reduce": ["os.system", ["echo pwned"]]}), SurrogateLoadError, r"unexpected \['py/reduce'\]"),
        (lambda c: c.pop("target"), SurrogateLoadError, r"missing \['target'\]"),
        (lambda c: c["xgb_params"].update(booster={"__class__": "x"}), SurrogateLoadError, "xgb_params.booster has the wrong type"),
        (lambda c: c.update(default_input_shape=[3, 32]), SurrogateLoadError, "three positive ints"),
        (lambda c: c["target"].update(normalisation="zscore"), SurrogateLoadError, "normalisation must be one of"),
    ],
)
def test_tampered_config_is_refused(saved, tmp_path, change, error, message):
    folder = _copy_folder(saved, tmp_path / "m")
    _tamper_config(folder, change)
    with pytest.raises(error, match=message) as err:
        GrafSurrogate.from_pretrained(folder)
    assert "config.json" in str(err.value)


def test_grammar_mismatch_can_be_overridden(saved, tmp_path, caplog):
    folder = _copy_folder(saved, tmp_path / "m")
    _tamper_config(folder, lambda c: c.update(grammar_hash="0" * 16))
    sur = GrafSurrogate.from_pretrained(folder, allow_grammar_mismatch=True)
    assert sur.is_fitted and "einspace grammar 0000000000000000" in caplog.text
    assert load_surrogate(str(folder), allow_grammar_mismatch=True).is_fitted


@pytest.mark.parametrize(
    ("tamper", "message"),
    [
        (lambda f: (f / "model.json").write_bytes((f / "model.json").read_bytes()[:200]), r"model\.json: not a readable XGBoost JSON model"),
        (lambda f: (f / "model.json").write_bytes(b"\x80\x04garbage\x00\xff" * 50), r"model\.json: not a readable XGBoost JSON model"),
        (lambda f: (f / "model.json").write_text('{"learner": {"gradient_booster": 1}}'), r"model\.json: not a readable XGBoost JSON model \(no 'learner_model_param'"),
        (lambda f: (f / "model.json").write_text('{"trees": []}'), r"model\.json: not a readable XGBoost JSON model \(no 'learner'"),
        (lambda f: (f / "model.json").unlink(), r"model\.json: not found"),
        (lambda f: (f / "config.json").unlink(), r"config\.json: not found"),
        (lambda f: (f / "config.json").write_bytes(pickle.dumps({"surrogate": "graf-xgb"})), r"config\.json: not"),
        (lambda f: (f / "config.json").write_text("[1, 2, 3]"), r"config\.json: expected a JSON object"),
        (lambda f: (f / "config.json").write_text('{"surrogate": "graf-xgb", '), r"config\.json: not valid JSON"),
    ],
)
def test_damaged_artifacts_are_refused_naming_the_file(saved, tmp_path, tamper, message):
    folder = _copy_folder(saved, tmp_path / "m")
    tamper(folder)
    with pytest.raises(SurrogateLoadError, match=message):
        GrafSurrogate.from_pretrained(folder)
    with pytest.raises(SurrogateLoadError, match=message):
        load_surrogate(str(folder))


def test_model_with_other_features_is_refused(saved, tmp_path, data):
    other = GrafSurrogate(extras=False, xgb_params={"n_estimators": 2}).fit(data["archs"][:20], data["targets"][:20])
    other.save_pretrained(tmp_path / "other")
    folder = _copy_folder(saved, tmp_path / "m")
    (folder / "model.json").write_bytes((tmp_path / "other" / "model.json").read_bytes())
    with pytest.raises(SurrogateLoadError, match="model takes 385 features, the config's feature set has 394"):
        GrafSurrogate.from_pretrained(folder)


#: One config.json per format version ever written; a new version adds an entry (and a reader).
CONFIG_EXAMPLES = {
    1: {
        "surrogate": "graf-xgb",
        "format_version": 1,
        "grammar_hash": "<current>",
        "feature_set": {"name": "graf+extras+zcp", "graf_version": "1.0", "names_hash": "<current>", "extras": True, "zcp": ["synflow"]},
        "target": {"normalisation": "minmax", "drop_zero": False},
        "xgb_params": {"n_estimators": 7, "max_depth": 3, "objective": "reg:squarederror"},
        "default_input_shape": [1, 28, 28],
        "default_num_classes": 19,
        "corpus": {"repo_or_path": "surrogate-hub/einspace-corpus", "revision": "v1"},
        "metrics": {"kendall_tau_loo": {"mean": 0.6}},
    },
}


def test_every_format_version_has_a_reader_and_an_example():
    assert set(CONFIG_EXAMPLES) == set(config_readers())


@pytest.mark.parametrize("version", sorted(CONFIG_EXAMPLES))
def test_config_reader_per_version(version):
    from surrogate_hub.features.graf import names_hash
    from surrogate_hub.space import grammar_hash
    from surrogate_hub.surrogates.graf_xgb import FeatureSetConfig

    raw = json.loads(json.dumps(CONFIG_EXAMPLES[version]))
    raw["grammar_hash"] = grammar_hash()
    raw["feature_set"]["names_hash"] = names_hash(FeatureSetConfig(extras=True, zcp=("synflow",)).names())
    config = GrafSurrogateConfig.from_dict(raw)
    assert config.format_version == 1  # read into the current layout
    assert config.feature_set.zcp == ("synflow",) and config.target.normalisation == "minmax"
    assert config.default_input_shape == (1, 28, 28) and config.default_num_classes == 19
    assert config.corpus.revision == "v1" and config.xgb_params["n_estimators"] == 7
    assert GrafSurrogateConfig.from_dict(config.to_dict()) == config


# ----------------------------------------------------------------------------------- registry
@pytest.fixture
def isolated_registry(monkeypatch):
    monkeypatch.setattr(registry, "_PRETRAINED", dict(registry._PRETRAINED))
    monkeypatch.setattr(registry, "_KINDS", dict(registry._KINDS))
    return registry


def test_builtin_registrations():
    assert "einspace-graf-xgb" in list_surrogates()
    assert "graf-xgb" in list_surrogates(pretrained=False)  # other families (bert, ...) register too
    assert list_surrogates("no-such-family") == []
    entry = registry.get_pretrained("einspace-graf-xgb")
    assert entry.repo_id == "surrogate-hub/einspace-graf-xgb" and entry.kind == "graf-xgb"
    assert entry.local_path == Path(registry.__file__).resolve().parents[1] / "pretrained" / "einspace-graf-xgb"
    assert registry.get_kind("graf-xgb") is GrafSurrogate
    zcp = registry.get_pretrained("einspace-graf-zcp-xgb")
    assert zcp.embedded and zcp.kind == "graf-xgb"


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("einspace-graf", r"ambiguous: it matches \['einspace-graf-xgb', 'einspace-graf-xgb-small'\]"),
        ("einspace", r"ambiguous"),
        ("einspace-graf-xbg", r"did you mean one of \['einspace-graf-xgb', 'einspace-graf-xgb-small'\]\?"),
        ("einspace-graf-xgb-smal", r"did you mean 'einspace-graf-xgb-small'\?"),
        ("einspace-graf-xgb-v2", r"did you mean one of \['einspace-graf-xgb', "),
        ("EINSPACE-GRAF-XGB", r"case-sensitive\); did you mean 'einspace-graf-xgb'\?"),
        ("resnet50", r"not a registered surrogate name, a local folder or a Hub repo id"),
    ],
)
def test_inexact_names_are_refused_with_a_hint(isolated_registry, query, message):
    for other in ("einspace-graf-zcp-xgb", "einspace-bert"):  # the hints below are for these two names
        isolated_registry._PRETRAINED.pop(other)
    register_pretrained("einspace-graf-xgb-small", kind="graf-xgb", repo_id="surrogate-hub/einspace-graf-xgb-small")
    with pytest.raises(UnknownSurrogateError, match=message) as err:
        load_surrogate(query)
    assert "Registered: ['einspace-graf-xgb', 'einspace-graf-xgb-small']" in str(err.value)


def test_resolve_source(isolated_registry, saved, tmp_path):
    register_pretrained("embedded", kind="graf-xgb", repo_id="org/embedded", local_path=saved)
    register_pretrained("hub-only", kind="graf-xgb", repo_id="org/hub-only", local_path=tmp_path / "absent")
    register_pretrained("nowhere", kind="graf-xgb", local_path=tmp_path / "absent")
    assert resolve_source("embedded") == registry.Source("local", str(saved), "embedded", "graf-xgb")
    assert resolve_source("embedded", prefer_hub=True) == registry.Source("hub", "org/embedded", "embedded", "graf-xgb")
    assert resolve_source("hub-only") == registry.Source("hub", "org/hub-only", "hub-only", "graf-xgb")
    assert resolve_source(str(saved)) == registry.Source("local", str(saved))
    assert resolve_source("someone/some-model") == registry.Source("hub", "someone/some-model")
    with pytest.raises(SurrogateLoadError, match="embedded copy is missing"):
        resolve_source("nowhere")
    with pytest.raises(SurrogateLoadError, match="no such folder"):
        resolve_source(str(tmp_path / "missing"))
    with pytest.raises(SurrogateLoadError, match="no such folder"):
        resolve_source("./models/mine/")


def test_registered_names_load_their_embedded_copy(isolated_registry, saved, fitted, data):
    register_pretrained("mine", kind="graf-xgb", repo_id="org/mine", local_path=saved)
    sur = load_surrogate("mine")
    np.testing.assert_array_equal(sur.predict(data["held_out"]), fitted.predict(data["held_out"]))


def test_registered_name_without_embedded_copy_offline_is_a_clear_error(isolated_registry, tmp_path):
    # conftest sets HF_HUB_OFFLINE=1: nothing can be fetched
    register_pretrained("remote", kind="graf-xgb", repo_id="org/remote", local_path=tmp_path / "absent")
    with pytest.raises(SurrogateLoadError, match="'remote' is not embedded .* Hub repo 'org/remote'"):
        load_surrogate("remote")


def test_local_folder_of_unknown_kind(saved, tmp_path):
    folder = _copy_folder(saved, tmp_path / "m")
    _tamper_config(folder, lambda c: c.update(surrogate="tabpfn"))
    with pytest.raises(SurrogateLoadError, match=r"unknown surrogate kind 'tabpfn'; this installation loads \[.*'graf-xgb'.*\]"):
        load_surrogate(folder)


def test_registration_errors(isolated_registry):
    with pytest.raises(ValueError, match="already registered"):
        register_pretrained("einspace-graf-xgb", kind="graf-xgb", repo_id="a/b")
    with pytest.raises(ValueError, match="owner/name"):
        register_pretrained("x", kind="graf-xgb", repo_id="not a repo")
    with pytest.raises(ValueError, match="repo_id, a local_path or both"):
        register_pretrained("x", kind="graf-xgb")
    with pytest.raises(UnknownSurrogateError, match="unknown surrogate kind 'nope'"):
        registry.get_kind("nope")


# ------------------------------------------------------------------------------------- imports
def test_importing_the_package_is_light():
    code = (
        "import sys, surrogate_hub.surrogates as s; from surrogate_hub.surrogates import load_surrogate, Ranking;"
        "heavy = [m for m in ('xgboost', 'torch', 'transformers') if m in sys.modules];"
        "assert not heavy, heavy; s.GrafSurrogate; assert 'xgboost' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
