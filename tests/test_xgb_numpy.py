"""The numpy evaluator of saved XGBoost trees against xgboost itself, and the cold-start import set."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from surrogate_hub.space import sample_many
from surrogate_hub.surrogates import SurrogateLoadError, list_surrogates, load_surrogate
from surrogate_hub.surrogates.registry import get_pretrained
from surrogate_hub.surrogates.xgb_numpy import (
    NumpyForest,
    UnsupportedModelError,
    load_forest,
)

xgb = pytest.importorskip("xgboost")

SHIPPED = [n for n in list_surrogates() if get_pretrained(n).kind == "graf-xgb" and load_surrogate(n)._forest is not None]


def _inputs(sur, archs, shape, classes, rng) -> np.ndarray:
    """The model's real input matrix, with proxies (when it takes them) drawn around its split
    thresholds, some values exactly on a threshold and some missing (NaN)."""
    n_base = len(sur.feature_names) - len(sur.zcp_names)
    X = sur.features(archs, input_shapes=shape, num_classes=classes,
                     zcp=np.zeros((len(archs), len(sur.zcp_names))) if sur.zcp_names else None, errors="nan")
    forest = sur._forest
    inner = forest.left >= 0
    for j in range(X.shape[1]):
        thresholds = forest.threshold[inner & (forest.feature == j)]
        if j >= n_base and len(thresholds):  # proxies: around the thresholds, both sides
            X[:, j] = rng.choice(thresholds, len(X)) * rng.choice([0.5, 0.999, 1.0, 1.001, 2.0], len(X))
        if len(thresholds):  # exact threshold values exercise `value < threshold` in float32
            on = rng.random(len(X)) < 0.05
            X[on, j] = rng.choice(thresholds, int(on.sum()))
    X[rng.random(X.shape) < 0.02] = np.nan  # missing values follow default_left
    return X


def _check(sur, archs, rng) -> None:
    for shape, classes in (((3, 32, 32), 10), ((1, 28, 28), 100)):
        X = _inputs(sur, archs, shape, classes, rng)
        ours = sur._forest.predict(X)
        theirs = np.asarray(sur.booster.inplace_predict(X), dtype=np.float64)
        np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-6)


@pytest.mark.parametrize("name", SHIPPED)
def test_numpy_matches_xgboost_for_shipped_models(name) -> None:
    assert {"einspace-graf-xgb", "einspace-graf-zcp-xgb"} <= set(SHIPPED)
    _check(load_surrogate(name), sample_many(1000, (3, 32, 32), seed=3), np.random.default_rng(0))


@pytest.mark.slow
@pytest.mark.parametrize("name", SHIPPED)
def test_numpy_matches_xgboost_on_10000_architectures(name) -> None:
    _check(load_surrogate(name), sample_many(10_000, (3, 32, 32), seed=4), np.random.default_rng(1))


@pytest.mark.parametrize(
    "objective",
    ["reg:squarederror", "reg:absoluteerror", "reg:pseudohubererror", "reg:logistic", "binary:logistic",
     "count:poisson", "reg:gamma", "reg:tweedie"],
)
def test_numpy_matches_xgboost_for_each_supported_objective(objective, tmp_path) -> None:
    rng = np.random.default_rng(5)
    X = rng.normal(size=(400, 6))
    X[rng.random(X.shape) < 0.1] = np.nan
    y = rng.random(400) if objective in ("reg:logistic", "binary:logistic") else rng.gamma(2.0, size=400) + 0.1
    if objective == "binary:logistic":
        y = (y > 0.5).astype(float)
    booster = xgb.train({"objective": objective, "max_depth": 5, "nthread": 1, "verbosity": 0},
                        xgb.DMatrix(X, label=y, missing=np.nan), num_boost_round=30)
    booster.save_model(str(tmp_path / "m.json"))
    forest = load_forest(tmp_path / "m.json")
    X_test = rng.normal(size=(2000, 6))
    X_test[rng.random(X_test.shape) < 0.1] = np.nan
    np.testing.assert_allclose(forest.predict(X_test), booster.inplace_predict(X_test), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize(
    ("params", "why"),
    [({"booster": "dart", "objective": "reg:squarederror"}, "booster 'dart'"),
     ({"booster": "gblinear", "objective": "reg:squarederror"}, "booster 'gblinear'"),
     ({"objective": "multi:softprob", "num_class": 3}, "num_class"),
     ({"objective": "rank:pairwise"}, "objective 'rank:pairwise'")],
)
def test_unsupported_models_are_recognised(params, why, tmp_path) -> None:
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(60, 3)), rng.integers(0, 3, 60).astype(float)
    booster = xgb.train({**params, "verbosity": 0}, xgb.DMatrix(X, label=y), num_boost_round=3)
    booster.save_model(str(tmp_path / "m.json"))
    with pytest.raises(UnsupportedModelError, match=why):
        load_forest(tmp_path / "m.json")


def test_a_surrogate_the_evaluator_cannot_run_falls_back_to_xgboost(tmp_path) -> None:
    from surrogate_hub.surrogates.graf_xgb import GrafSurrogate

    shape = (1, 8, 8)
    archs = sample_many(40, shape, seed=2)
    sur = GrafSurrogate(xgb_params={"booster": "dart", "n_estimators": 5}, default_input_shape=shape)
    sur.fit(archs, np.linspace(0.1, 0.9, len(archs)), input_shapes=shape, num_classes=10)
    sur.save_pretrained(tmp_path / "dart")
    loaded = load_surrogate(str(tmp_path / "dart"))
    assert loaded._forest is None and loaded._booster is not None
    np.testing.assert_array_equal(loaded.predict(archs), sur.predict(archs))


@pytest.mark.parametrize(
    ("tamper", "message"),
    [
        (lambda m: "", "empty file"),
        (lambda m: json.dumps(m)[:5000], "not valid JSON"),
        (lambda m: json.dumps({"learner": {"gradient_booster": 1}}), "no 'learner_model_param'"),
        (lambda m: (m["learner"]["gradient_booster"]["model"]["trees"][3]["left_children"].__setitem__(0, 10**6), json.dumps(m))[1],
         "tree 3: child index out of range"),
        (lambda m: (m["learner"]["gradient_booster"]["model"]["trees"][0]["split_indices"].pop(), json.dumps(m))[1],
         "tree 0: split_indices has the wrong length"),
        (lambda m: (m["learner"]["learner_model_param"].__setitem__("num_feature", "7"), json.dumps(m))[1],
         "split feature index out of range"),
    ],
)
def test_damaged_model_files_give_our_error(tamper, message, tmp_path) -> None:
    sur = load_surrogate("einspace-graf-xgb")
    raw = json.loads(sur._model_path.read_text())
    path = tmp_path / "model.json"
    path.write_text(tamper(raw))
    with pytest.raises(SurrogateLoadError, match=message):
        load_forest(path, sur.feature_names)


def test_forest_checks_its_input_width() -> None:
    forest: NumpyForest = load_surrogate("einspace-graf-xgb")._forest
    with pytest.raises(ValueError, match=r"shape \(n, 394\)"):
        forest.predict(np.zeros((2, 3)))


COLD = """
import sys
from surrogate_hub.surrogates import load_surrogate
from surrogate_hub.space import sample_many
sur = load_surrogate("einspace-graf-xgb")
ranking = sur.rank(sample_many(20, (3, 32, 32), seed=0), input_shape=(3, 32, 32), num_classes=10)
assert len(ranking) == 20
from surrogate_hub.cli import main
import io, os
sys.stdin = io.TextIOWrapper(io.BytesIO(b"computation<linear(16)>\\nsequential(computation<norm>, computation<relu>)\\n"))
assert main(["rank", "--input-shape", "3,32,32"]) == 0
heavy = sorted(m for m in ("xgboost", "sklearn", "scipy", "pandas", "torch", "transformers",
                           "huggingface_hub", "surrogate_hub.search", "surrogate_hub.surrogates.finetune")
          if m in sys.modules)
print("HEAVY", heavy)
"""


def test_ranking_with_the_shipped_model_imports_no_heavy_library() -> None:
    out = subprocess.run([sys.executable, "-c", COLD], capture_output=True, text=True, check=True).stdout
    assert "HEAVY []" in out, out
