"""finetune(): adapting a surrogate to a task from architectures trained on it (strategy "refit")."""

from __future__ import annotations

import numpy as np
import pytest

from surrogate_hub.space import sample, to_string
from surrogate_hub.surrogates import GrafSurrogate, load_surrogate
from surrogate_hub.surrogates.finetune import finetune
from surrogate_hub.surrogates.targets import TrainingRows

SHAPE = (1, 8, 8)
FAST = {"n_estimators": 40}


def _archs(n: int, start: int = 0, shape=SHAPE) -> list:
    return [sample(shape, rng=start + i) for i in range(n)]


def test_refit_fits_a_copy_and_leaves_the_base_alone() -> None:
    base = load_surrogate("einspace-graf-xgb")
    archs = _archs(12)
    before = base.predict(archs, input_shape=SHAPE, num_classes=10)
    accs = [0.1 * (i % 6) + 0.05 for i in range(12)]
    tuned = finetune(base, archs, accs, input_shape=SHAPE, num_classes=10)
    assert (base.predict(archs, input_shape=SHAPE, num_classes=10) == before).all()
    after = tuned.predict(archs, input_shape=SHAPE, num_classes=10)
    assert np.corrcoef(after, accs)[0, 1] > 0.8  # fitted to the new task's accuracies
    with pytest.raises(ValueError, match="unknown fine-tuning strategy 'magic'"):
        finetune(base, archs, accs, input_shape=SHAPE, num_classes=10, strategy="magic")
    with pytest.raises(ValueError, match="12 architectures but 3 accuracies"):
        finetune(base, archs, accs[:3], input_shape=SHAPE, num_classes=10)


def _transfer(n: int, accs) -> TrainingRows:
    return TrainingRows(
        archs=tuple(to_string(a) for a in _archs(n, 100, (3, 8, 8))),
        targets=np.asarray(accs, dtype=np.float64), tasks=("other",) * n, input_shapes=((3, 8, 8),) * n,
        num_classes=(20,) * n,
    )


def test_transfer_rows_are_weighted() -> None:
    base = GrafSurrogate(xgb_params=FAST)
    archs = _archs(10)
    accs = np.linspace(0.1, 0.9, 10)
    transfer = _transfer(30, np.linspace(0.9, 0.1, 30))  # the opposite trend on another task
    light = finetune(base, archs, accs, input_shape=SHAPE, num_classes=10, transfer=transfer, weight=0.01)
    heavy = finetune(base, archs, accs, input_shape=SHAPE, num_classes=10, transfer=transfer, weight=100.0)
    p_light, p_heavy = (s.predict(archs, input_shape=SHAPE, num_classes=10) for s in (light, heavy))
    assert not np.allclose(p_light, p_heavy)
    assert np.corrcoef(p_light, accs)[0, 1] > np.corrcoef(p_heavy, accs)[0, 1]
    with pytest.raises(ValueError, match="weight must be >= 0"):
        finetune(base, archs, accs, input_shape=SHAPE, num_classes=10, transfer=transfer, weight=-1)


def test_graf_fit_checks_weights() -> None:
    with pytest.raises(ValueError, match="weights must be 3 finite non-negative values"):
        GrafSurrogate(xgb_params=FAST).fit(_archs(3), [0.1, 0.2, 0.3], weights=[1.0, -1.0, 1.0], input_shapes=SHAPE)


def test_a_proxy_surrogate_needs_the_task_proxies() -> None:
    base = GrafSurrogate(zcp=("synflow",), xgb_params=FAST)
    archs, accs = _archs(6), np.linspace(0.1, 0.6, 6)
    with pytest.raises(ValueError, match=r"uses the zero-cost proxies \['synflow'\]"):
        finetune(base, archs, accs, input_shape=SHAPE, num_classes=10)
    tuned = finetune(base, archs, accs, input_shape=SHAPE, num_classes=10, zcp=np.arange(6.0).reshape(6, 1))
    assert tuned.predict(archs, input_shape=SHAPE, num_classes=10, zcp=np.arange(6.0).reshape(6, 1)).shape == (6,)
