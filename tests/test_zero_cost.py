"""zero_cost(): proxies of einspace networks on a task; never raising on the seed architectures."""

from __future__ import annotations

import math

import pytest

from surrogate_hub.features.proxies import list_proxies
from surrogate_hub.features.zero_cost import zero_cost
from surrogate_hub.space import ShapeError, n_params, parse
from surrogate_hub.space.seeds import list_seeds, seed_string
from surrogate_hub.tasks import get_task

CONV = "sequential(routing[im2col(3,1,1), computation<linear(16)>, col2im], computation<relu>)"


@pytest.fixture(autouse=True)
def _one_thread(torch1):
    yield


def test_all_proxies_on_a_small_network_are_reproducible() -> None:
    task = get_task("digits")
    a = zero_cost(CONV, task, batch_size=16, seed=0)
    assert set(a) == set(list_proxies())
    assert a["params"] == n_params(parse(CONV), task.input_shape, task.num_classes)
    assert all(isinstance(v, float) for v in a.values())
    assert zero_cost(CONV, task, batch_size=16, seed=0) == a
    b = zero_cost(CONV, task, batch_size=16, seed=1)
    assert b["params"] == a["params"] and b["grad_norm"] != a["grad_norm"]


def test_subset_and_invalid_architecture() -> None:
    task = get_task("digits")
    assert set(zero_cost(CONV, task, batch_size=8, names=["snip", "params"])) == {"snip", "params"}
    with pytest.raises(ShapeError):
        zero_cost("routing[perm(0,2,1), computation<relu>, identity]", task)


@pytest.mark.parametrize("name", list_seeds())
def test_proxies_never_raise_on_seed_architectures(name: str) -> None:
    # the mixers mix 64 tokens, so they need 32x32 inputs; the others run on 8x8 digits
    task = get_task("synth-spectro" if name.startswith("mlpmixer") else "digits")
    scores = zero_cost(seed_string(name), task, batch_size=4, seed=0)
    assert set(scores) == set(list_proxies())
    assert scores["params"] == n_params(parse(seed_string(name)), task.input_shape, task.num_classes)
    for key, value in scores.items():
        assert isinstance(value, float), key
        assert not math.isinf(value), key  # NaN is allowed by the policy, inf never
