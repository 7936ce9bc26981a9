"""The forest evaluation methods and the spread calibration, on the evaluation tests' fixture corpus."""

from __future__ import annotations

import numpy as np
import pytest

from surrogate_hub.evaluation import evaluate, method, unregister
from surrogate_hub.evaluation.calibration import calibrate
from surrogate_hub.evaluation.methods import forest

pytest.importorskip("sklearn")
pytest.importorskip("pyarrow")
from test_evaluation import data, small_corpus  # noqa: F401  (the fixtures)


def test_the_forest_method_equals_an_uncached_forest_surrogate(data):  # noqa: F811
    """Fitting ForestSurrogate directly (features computed, not cached) gives the built-in figures."""
    from surrogate_hub.surrogates import ForestSurrogate

    @method("test-forest-direct")
    def _direct(train, test, seed):
        sur = ForestSurrogate(forest_params={"random_state": seed})
        sur.fit(train["arch"], train["val_acc"], train["task"], input_shapes=train["input_shape"],
                num_classes=train["num_classes"])
        return sur.predict(test["arch"], input_shape=test["input_shape"][0], num_classes=test["num_classes"][0])

    try:
        res = evaluate(data, ["test-forest-direct", "forest"], within=False, seed=1)
    finally:
        unregister("test-forest-direct")
    direct, builtin = res["methods"]["test-forest-direct"], res["methods"]["forest"]
    assert builtin["fitted"] and direct["loo"]["tau"] == builtin["loo"]["tau"]
    assert all(v is not None for v in builtin["loo"]["tau"]["by_task"].values())


def test_calibration_of_the_forest_spread(data):  # noqa: F811
    res = calibrate(data, lambda tr, te, seed: forest(tr, te, seed, return_std=True), seed=0)
    assert set(res["by_task"]) == set(data.tasks)
    for m in [*res["by_task"].values(), res["pooled"]]:
        assert 0 <= m["within_1"] <= m["within_2"] <= 1 and m["mean_spread"] > 0 and m["rmse"] > 0
    assert res["pooled"]["n"] == len(data.rows) == len(res["rows"]["score"])
    truth = np.array(res["rows"]["truth"], dtype=float)
    assert np.nanmin(truth) >= 0 and np.nanmax(truth) <= 1  # percentile-normalised within each task
