"""Spread calibration on held-out tasks (surrogate_hub.surrogates.spread) and its use by the forest
and GRAF-XGB ensemble surrogates."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from surrogate_hub.space import n_params, sample_many, to_string
from surrogate_hub.surrogates.errors import SurrogateLoadError
from surrogate_hub.surrogates.forest import ForestSurrogate
from surrogate_hub.surrogates.graf_xgb import GrafSurrogate
from surrogate_hub.surrogates.spread import COVERAGE, spread_folds, spread_scale

SHAPE = (1, 8, 8)


def test_folds_hold_out_whole_tasks() -> None:
    groups = ["a", "b", "c", "a", "d", "e", "f", "b"]
    folds = spread_folds(groups, max_folds=3)
    assert sorted(np.concatenate(folds).tolist()) == list(range(len(groups)))
    for fold in folds:  # a task is never split between a fold and the rest
        held = {groups[i] for i in fold}
        rest = {g for i, g in enumerate(groups) if i not in set(fold.tolist())}
        assert not held & rest
    one = spread_folds(["x"] * 23, max_folds=5)
    assert len(one) == 5 and sorted(np.concatenate(one).tolist()) == list(range(23))


def test_scale_puts_the_coverage_share_within_one_spread() -> None:
    rng = np.random.default_rng(0)
    y = rng.normal(0.0, 2.0, size=4000)  # truth twice as wide as the claimed unit spread
    groups = [f"t{i % 4}" for i in range(len(y))]
    scale = spread_scale(lambda train, test: (np.zeros(len(test)), np.ones(len(test))), y, groups)
    assert scale == pytest.approx(2.0, rel=0.05)
    assert np.mean(np.abs(y) <= scale) == pytest.approx(COVERAGE, abs=0.01)
    # too few usable rows (zero spread everywhere): no scaling
    assert spread_scale(lambda train, test: (np.zeros(len(test)), np.zeros(len(test))), y, groups) == 1.0


def _data(n: int, seed: int, noise: float, shift: float = 0.0) -> tuple[list[str], list[float]]:
    rng = np.random.default_rng(seed)
    archs = sample_many(n, SHAPE, seed=seed)
    y = [float(np.log1p(n_params(a, SHAPE, 10)) / 15 + shift + rng.normal(0, noise)) for a in archs]
    return [to_string(a) for a in archs], y


def test_forest_spread_is_calibrated_on_held_out_tasks(tmp_path: Path) -> None:
    # each task shifts the targets (as tasks do in transfer); the trees agree on what they saw, so
    # their raw spread is too narrow for a task none of them saw
    archs, y = _data(320, 0, 0.05)
    tasks = [f"t{i % 4}" for i in range(len(archs))]
    y = [v + 0.1 * (i % 4 - 1.5) for i, v in enumerate(y)]
    kw = dict(input_shapes=SHAPE, num_classes=10)
    raw = ForestSurrogate(normalisation="none").fit(archs, y, tasks, calibrate_spread=False, **kw)
    cal = ForestSurrogate(normalisation="none").fit(archs, y, tasks, **kw)
    assert raw.config.spread_scale == 1.0 and cal.config.spread_scale > 1.0  # the trees' spread is too narrow

    new, y_new = _data(300, 1, 0.05, shift=0.12)  # a new task: architectures and a shift neither model saw
    y_new = np.asarray(y_new)
    within = {}
    for name, sur in (("raw", raw), ("cal", cal)):
        mean, spread = sur.predict(new, input_shape=SHAPE, num_classes=10, return_std=True)
        within[name] = float(np.mean(np.abs(y_new - mean) <= spread))
    assert within["raw"] < COVERAGE - 0.05 < within["cal"]  # raw: too narrow on a new task; calibrated: wider

    cal.save_pretrained(tmp_path / "forest")
    saved = json.loads((tmp_path / "forest" / "config.json").read_text())
    assert saved["spread_scale"] == pytest.approx(cal.config.spread_scale)
    back = ForestSurrogate.from_pretrained(tmp_path / "forest")
    np.testing.assert_allclose(back.predict(new[:20], input_shape=SHAPE, num_classes=10, return_std=True)[1],
                               cal.predict(new[:20], input_shape=SHAPE, num_classes=10, return_std=True)[1])

    del saved["spread_scale"]  # a forest saved before calibration existed loads with the raw spread
    (tmp_path / "forest" / "config.json").write_text(json.dumps(saved))
    assert ForestSurrogate.from_pretrained(tmp_path / "forest").config.spread_scale == 1.0
    saved["spread_scale"] = -1
    (tmp_path / "forest" / "config.json").write_text(json.dumps(saved))
    with pytest.raises(SurrogateLoadError, match="spread_scale must be a positive"):
        ForestSurrogate.from_pretrained(tmp_path / "forest")


def test_graf_ensemble_is_calibrated_and_a_single_booster_keeps_its_layout(tmp_path: Path) -> None:
    archs, y = _data(200, 2, 0.15)
    tasks = [f"t{i % 3}" for i in range(len(archs))]
    kw = dict(input_shapes=SHAPE, num_classes=10)
    ens = GrafSurrogate(ensemble=3, xgb_params={"n_estimators": 40}).fit(archs, y, tasks, **kw)
    assert ens.config.spread_scale != 1.0
    raw = GrafSurrogate(ensemble=3, xgb_params={"n_estimators": 40}).fit(archs, y, tasks, calibrate_spread=False, **kw)
    scaled = ens.predict(archs[:10], input_shape=SHAPE, num_classes=10, return_std=True)[1]
    unscaled = raw.predict(archs[:10], input_shape=SHAPE, num_classes=10, return_std=True)[1]
    np.testing.assert_allclose(scaled, unscaled * ens.config.spread_scale)  # same boosters, scaled spread

    single = GrafSurrogate(xgb_params={"n_estimators": 20}).fit(archs, y, tasks, **kw)
    single.save_pretrained(tmp_path / "single")
    assert "spread_scale" not in json.loads((tmp_path / "single" / "config.json").read_text())
