"""ForestSurrogate: skops persistence with the trusted-type check, return_std, the GRAF-XGB ensemble's
spread, Ranking.spread, and the calibration figures."""

from __future__ import annotations

import json
import os
import shutil

import numpy as np
import pytest

from surrogate_hub.space import n_params, parse, sample_many, to_string
from surrogate_hub.surrogates import (
    ForestSurrogate,
    GrafSurrogate,
    NotFittedError,
    SurrogateLoadError,
    load_surrogate,
)

pytest.importorskip("sklearn")
sio = pytest.importorskip("skops.io")

SHAPE = (1, 8, 8)


@pytest.fixture(scope="module")
def archs() -> list[str]:
    return [to_string(a) for a in sample_many(90, SHAPE, seed=5)]


@pytest.fixture(scope="module")
def targets(archs) -> np.ndarray:
    return np.log([n_params(parse(a), SHAPE, 10) for a in archs])


@pytest.fixture(scope="module")
def fitted(archs, targets) -> ForestSurrogate:
    return ForestSurrogate(default_input_shape=SHAPE, forest_params={"n_estimators": 25}).fit(archs[:70], targets[:70])


@pytest.fixture
def saved(fitted, tmp_path):
    folder = tmp_path / "forest"
    fitted.save_pretrained(folder)
    return folder


def test_skops_round_trip_gives_identical_predictions_and_spread(fitted, saved, archs):
    assert sorted(os.listdir(saved)) == ["README.md", "config.json", "model.skops"]
    loaded = load_surrogate(saved)
    assert isinstance(loaded, ForestSurrogate)
    mean, std = fitted.predict(archs, return_std=True)
    lmean, lstd = loaded.predict(archs, return_std=True)
    np.testing.assert_array_equal(lmean, mean)
    np.testing.assert_array_equal(lstd, std)
    assert loaded.config == fitted.config and loaded.config.sklearn_version
    card = (saved / "README.md").read_text()
    assert "model.skops" in card and "random forest" in card and "xgboost" not in card.split("---")[1]


def test_extra_trees_round_trip(archs, targets, tmp_path):
    sur = ForestSurrogate(algorithm="extra-trees", default_input_shape=SHAPE, forest_params={"n_estimators": 10})
    sur.fit(archs[:60], targets[:60])
    sur.save_pretrained(tmp_path / "et")
    loaded = ForestSurrogate.from_pretrained(tmp_path / "et")
    assert type(loaded.estimator).__name__ == "ExtraTreesRegressor"
    np.testing.assert_array_equal(loaded.predict(archs), sur.predict(archs))


def test_mean_score_equals_sklearn_forest_prediction(fitted, archs):
    X = fitted.features(archs)
    np.testing.assert_allclose(fitted.predict(archs), fitted.estimator.predict(X.astype(np.float32)), rtol=1e-12, atol=1e-12)


def _replace_model(folder, obj) -> None:
    (folder / "model.skops").unlink()
    sio.dump(obj, folder / "model.skops")


def test_a_file_with_an_untrusted_type_is_refused(saved):
    from sklearn.preprocessing import FunctionTransformer

    _replace_model(saved, FunctionTransformer(func=os.system))
    with pytest.raises(SurrogateLoadError, match=r"refusing to load.*system"):
        load_surrogate(saved)


def test_a_scikit_learn_type_outside_the_trusted_list_is_refused(saved, archs, targets):
    # skops trusts many scikit-learn types by default; the forest's own list is stricter
    from sklearn.ensemble import GradientBoostingRegressor

    X = np.random.default_rng(0).random((20, 3))
    _replace_model(saved, GradientBoostingRegressor(n_estimators=2).fit(X, X[:, 0]))
    with pytest.raises(SurrogateLoadError, match=r"GradientBoostingRegressor"):
        load_surrogate(saved)


def test_damaged_or_mismatched_model_files_are_refused(saved, archs, targets):
    other = saved.parent / "other"
    shutil.copytree(saved, other)
    (other / "model.skops").write_bytes(b"not a zip archive")
    with pytest.raises(SurrogateLoadError, match="not a readable skops file"):
        load_surrogate(other)
    cfg = json.loads((saved / "config.json").read_text())
    cfg["algorithm"] = "extra-trees"
    (saved / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(SurrogateLoadError, match="holds a RandomForestRegressor, the config says extra-trees"):
        load_surrogate(saved)
    cfg["algorithm"] = "gradient-boosting"
    (saved / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(SurrogateLoadError, match="algorithm must be one of"):
        load_surrogate(saved)
    del cfg["forest_params"]
    (saved / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(SurrogateLoadError, match=r"missing \['forest_params'\]"):
        load_surrogate(saved)


def test_not_fitted_and_bad_settings():
    with pytest.raises(NotFittedError):
        ForestSurrogate().predict(["computation<identity>"])
    with pytest.raises(ValueError, match="algorithm must be one of"):
        ForestSurrogate(algorithm="boosting")
    with pytest.raises(ValueError, match="runtime setting"):
        ForestSurrogate(forest_params={"n_jobs": 4})


def test_return_std_shapes_and_invalid_rows(fitted, archs):
    mean, std = fitted.predict(archs[:7] + ["not an architecture"], return_std=True, errors="nan")
    assert mean.shape == std.shape == (8,)
    assert np.isnan(mean[7]) and np.isnan(std[7])
    assert np.all(std[:7] >= 0) and np.all(np.isfinite(std[:7]))
    empty = fitted.predict([], return_std=True)
    assert isinstance(empty, tuple) and empty[0].shape == empty[1].shape == (0,)


def test_spread_grows_with_label_noise(archs, targets):
    """Monotonicity on toy data: the noisier the targets, the more the trees disagree."""
    rng = np.random.default_rng(0)
    noise = rng.standard_normal(70)
    spreads = []
    for level in (0.0, 0.5, 2.0):
        y = targets[:70] + level * noise * targets[:70].std()
        sur = ForestSurrogate(default_input_shape=SHAPE, normalisation="none",
                              forest_params={"n_estimators": 40, "min_samples_leaf": 1})
        spreads.append(float(np.mean(sur.fit(archs[:70], y).predict(archs[70:], return_std=True)[1])))
    assert spreads[0] < spreads[1] < spreads[2], spreads


def test_ranking_carries_the_spread(fitted, archs):
    ranking = fitted.rank(archs[:10], return_std=True)
    _, std = fitted.predict(archs[:10], return_std=True)
    np.testing.assert_array_equal(ranking.spread, std)
    records = ranking.to_records()
    assert [r["spread"] for r in records] == [float(std[r["index"]]) for r in records]
    plain = fitted.rank(archs[:10])
    assert plain.spread is None and "spread" not in plain.to_records()[0]
    np.testing.assert_array_equal(plain.order, ranking.order)


def test_graf_xgb_ensemble_spread_and_round_trip(archs, targets, tmp_path):
    single = GrafSurrogate(default_input_shape=SHAPE, xgb_params={"n_estimators": 15}).fit(archs[:60], targets[:60])
    with pytest.raises(ValueError, match="single booster and has no spread"):
        single.predict(archs, return_std=True)
    single.save_pretrained(tmp_path / "one")
    assert "ensemble" not in json.loads((tmp_path / "one" / "config.json").read_text())  # v1 layout unchanged
    ens = GrafSurrogate(default_input_shape=SHAPE, xgb_params={"n_estimators": 15}, ensemble=3).fit(archs[:60], targets[:60])
    mean, std = ens.predict(archs, return_std=True)
    assert mean.shape == std.shape == (len(archs),) and np.all(std >= 0) and std.max() > 0
    np.testing.assert_allclose(ens.predict(archs), mean)
    ens.save_pretrained(tmp_path / "ens")
    assert {"model.json", "model-1.json", "model-2.json"} <= set(os.listdir(tmp_path / "ens"))
    loaded = load_surrogate(tmp_path / "ens")
    lmean, lstd = loaded.predict(archs, return_std=True)
    np.testing.assert_allclose(lmean, mean, atol=1e-6)
    np.testing.assert_allclose(lstd, std, atol=1e-6)
    (tmp_path / "ens" / "model-2.json").unlink()
    with pytest.raises(SurrogateLoadError, match="model-2.json"):
        load_surrogate(tmp_path / "ens")


def test_spread_metrics_on_a_calibrated_normal():
    from surrogate_hub.evaluation.calibration import spread_metrics

    rng = np.random.default_rng(1)
    mu = rng.random(4000)
    sd = rng.uniform(0.01, 0.3, 4000)
    truth = mu + sd * rng.standard_normal(4000)
    m = spread_metrics(mu, sd, truth)
    assert abs(m["within_1"] - 0.683) < 0.03 and abs(m["within_2"] - 0.954) < 0.02
    assert m["tau_abs_error_spread"] > 0.2
    shuffled = spread_metrics(mu, rng.permutation(sd), truth)
    assert abs(shuffled["tau_abs_error_spread"]) < 0.05
    with pytest.raises(ValueError, match="differ in length"):
        spread_metrics(mu, sd[:3], truth)


@pytest.mark.filterwarnings("ignore:Use 'content=<...>':DeprecationWarning")  # huggingface_hub's upload, not ours
def test_hub_round_trip_through_the_local_hub(hub, fitted, archs):
    pytest.importorskip("fastapi")
    repo_id = hub.new_repo_id("forest")
    fitted.push_to_hub(repo_id)
    loaded = load_surrogate(repo_id)
    assert isinstance(loaded, ForestSurrogate)
    mean, std = fitted.predict(archs, return_std=True)
    lmean, lstd = loaded.predict(archs, return_std=True)
    np.testing.assert_array_equal(lmean, mean)
    np.testing.assert_array_equal(lstd, std)
    from huggingface_hub import ModelCard

    card = ModelCard.load(repo_id)
    assert card.data.model_name == repo_id and "skops" in card.data.tags and "model.skops" in card.text
