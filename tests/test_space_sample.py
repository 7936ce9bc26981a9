"""Sampling from the einspace PCFG (``surrogate_hub.space.sample``)."""

from __future__ import annotations

import math
import random
import statistics
from functools import lru_cache

import pytest

from surrogate_hub.space import (
    Branching,
    Computation,
    Limits,
    Role,
    Routing,
    Sequential,
    infer,
    n_params,
    options,
    output_shape,
    parse,
    parse_long,
    sample,
    sample_many,
    to_long_string,
    to_string,
    tree_stats,
)
from surrogate_hub.space.ops import BRANCH_FACTORS
from surrogate_hub.space.shapes import head_shape, op_params

SHAPES = [(3, 28, 28), (1, 8, 8), (3, 32, 32)]
N = 1000


@lru_cache(maxsize=None)
def _samples(shape: tuple[int, int, int]) -> tuple:
    return tuple(sample_many(N, shape, seed=0))


def _backbone_params(arch, shape) -> int:
    """Parameters without the classifier head (which has (features + 1) x classes)."""
    return n_params(arch, shape, 1) - (head_shape(output_shape(arch, shape)) + 1)


@pytest.mark.parametrize("shape", SHAPES)
def test_samples_are_valid_and_round_trip(shape):
    archs = _samples(shape)
    assert len(archs) == N
    for arch in archs:
        assert not isinstance(arch, Computation)  # no computation at the root
        infer(arch, shape)  # raises if the sampler accepted something inference rejects
        text = to_string(arch)
        assert parse(text) == arch
        assert parse_long(to_long_string(arch, shape)) == arch


@pytest.mark.parametrize("shape", SHAPES)
def test_samples_respect_default_limits(shape):
    lim = Limits()
    for arch in _samples(shape):
        stats = tree_stats(arch)
        assert stats.depth <= lim.max_depth
        assert stats.n_nodes <= _node_bound(lim)
        assert _backbone_params(arch, shape) <= lim.max_params


@pytest.mark.parametrize("shape", SHAPES)
def test_sample_distribution_matches_the_spec(shape):
    """Spec: most samples are tiny (median ~11 nodes, depth 4); root kinds 1/3, 1/3, 1/9 x 3."""
    archs = _samples(shape)
    stats = [tree_stats(a) for a in archs]
    assert 8 <= statistics.median(s.n_nodes for s in stats) <= 14
    assert 3 <= statistics.median(s.depth for s in stats) <= 5
    assert 100 <= statistics.median(len(to_string(a)) for a in archs) <= 170
    share = {
        "sequential": sum(isinstance(a, Sequential) for a in archs) / N,
        "routing": sum(isinstance(a, Routing) for a in archs) / N,
        **{f"branching({k})": sum(isinstance(a, Branching) and a.k == k for a in archs) / N for k in BRANCH_FACTORS},
    }
    for kind, p in share.items():
        want = 1 / 3 if kind in ("sequential", "routing") else 1 / 9
        assert abs(p - want) < 0.06, (kind, p)


def test_samples_use_every_option_and_stack_convolutions():
    seen: set[tuple[str, str]] = set()
    stacked = 0
    for shape in SHAPES:
        for arch in _samples(shape):
            for o in infer(arch, shape).iter_ops():
                seen.add((o.role, str(o.op)))
                if o.op.name == "im2col":
                    # the paper's stricter sampling filter: patches fit without padding
                    assert min(o.inputs[0].shape[1:]) >= o.op.args[0]
                    # the col2im fix: an im2col after a col2im (stacked convolutions) can be sampled
                    stacked += o.inputs[0].grid is not None
    expected = {(r, str(op)) for r in (Role.COMPUTATION, Role.PRE_ROUTING, Role.POST_ROUTING) for op in options(r)}
    for k in BRANCH_FACTORS:
        expected |= {(Role.BRANCH_FN, str(op)) for op in options(Role.BRANCH_FN, k)}
        expected |= {(Role.AGGREGATION, str(op)) for op in options(Role.AGGREGATION, k)}
    assert expected - seen == set()
    assert stacked > 0


# --- determinism --------------------------------------------------------------------------------

def test_same_seed_same_samples_different_seed_different_samples():
    a = sample_many(40, (3, 28, 28), seed=7)
    b = sample_many(40, (3, 28, 28), seed=7)
    c = sample_many(40, (3, 28, 28), seed=8)
    assert a == b
    assert [to_string(x) for x in a] == [to_string(x) for x in b]
    assert a != c
    assert sum(x != y for x, y in zip(a, c)) > 30
    assert len(set(a)) > 30  # a stream, not one sample repeated


def test_rng_argument_accepts_a_seed_or_a_random_instance():
    shape = (1, 8, 8)
    assert sample(shape, rng=5) == sample(shape, rng=5)
    assert sample(shape, rng=5) == sample(shape, rng=random.Random(5))
    rng = random.Random(5)
    first, second = sample(shape, rng=rng), sample(shape, rng=rng)
    assert first == sample(shape, rng=5)
    assert sample_many(2, shape, seed=5) == [first, second]


def test_sample_does_not_touch_the_global_random_state():
    random.seed(123)
    before = random.getstate()
    sample_many(5, (3, 28, 28), seed=1)
    assert random.getstate() == before


# --- limits -------------------------------------------------------------------------------------

def _node_bound(lim: Limits) -> int:
    """Past ``max_nodes`` only ``computation`` (2 nodes) closes the open slots. When the last
    non-computation module is drawn, the count is below max_nodes; that module adds at most 3 nodes
    and 2 new slots, and at most one slot is pending per ancestor (depth <= max_depth - 2). All
    remaining slots close with 2 nodes each: max_nodes + 3 + 2 * max_depth."""
    return lim.max_nodes + 3 + 2 * lim.max_depth


LIMITS = [
    Limits(max_depth=2),
    Limits(max_depth=5),
    Limits(max_nodes=1),
    Limits(max_nodes=15),
    Limits(max_params=1),
    Limits(max_params=5_000),
    Limits(max_activation=20_000),
    Limits(max_total_activation=60_000),
    Limits(max_depth=8, max_nodes=40, max_params=100_000),
    Limits(max_work=3),
]


@pytest.mark.parametrize("lim", LIMITS, ids=lambda lim: ",".join(
    f"{k}={getattr(lim, k)}" for k in lim.__dataclass_fields__ if getattr(lim, k) != getattr(Limits(), k)
))
@pytest.mark.parametrize("shape", [(3, 28, 28), (1, 8, 8)])
def test_limits_are_respected(lim, shape):
    archs = sample_many(150, shape, seed=3, limits=lim)
    for arch in archs:
        stats = tree_stats(arch)
        assert stats.depth <= lim.max_depth
        assert stats.n_nodes <= _node_bound(lim)
        assert _backbone_params(arch, shape) <= lim.max_params
        total = 0
        for o in infer(arch, shape).iter_ops():
            copies = o.mult * (o.op.args[0] if o.role == Role.BRANCH_FN else 1)
            size = math.prod(o.output.shape) * copies
            assert size <= lim.max_activation, (to_string(arch), str(o.op))
            total += size
        assert total <= lim.max_total_activation
    if lim.max_depth == 2:  # only routing[pre, computation<op>, post] and branching of computations
        assert all(tree_stats(a).depth == 2 for a in archs)


def test_tight_limits_make_smaller_samples():
    loose = [tree_stats(a).n_nodes for a in sample_many(200, (3, 28, 28), seed=1)]
    tight = [tree_stats(a).n_nodes for a in sample_many(200, (3, 28, 28), seed=1, limits=Limits(max_depth=4))]
    assert max(tight) < max(loose)
    assert statistics.mean(tight) < statistics.mean(loose)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"max_depth": 1},
        {"max_depth": 0},
        {"max_depth": -3},
        {"max_nodes": 0},
        {"max_params": 0},
        {"max_params": -1},
        {"max_activation": 0},
        {"max_total_activation": 0},
        {"branch_retries": 0},
        {"max_work": 0},
    ],
)
def test_bad_limits_are_value_errors(kwargs):
    (name,) = kwargs
    with pytest.raises(ValueError, match=f"Limits.{name}"):
        Limits(**kwargs)


@pytest.mark.parametrize("bad", [(3, 28), (0, 8, 8), (3, 8, 8, 8), (1, -8, 8)])
def test_bad_input_shape_is_a_value_error(bad):
    with pytest.raises(ValueError, match="input_shape"):
        sample(bad, rng=0)
    with pytest.raises(ValueError, match="input_shape"):
        sample_many(1, bad)


# --- compiled samples ---------------------------------------------------------------------------



def _compile_subset(shape, n_small: int = 32, n_random: int = 8) -> list:
    """The smallest samples by parameters plus a few random ones, all of bounded compile cost."""
    cost = {}
    for a in _samples(shape):
        root = infer(a, shape)
        instances = sum(o.mult for o in root.iter_ops())
        params = sum(op_params(o.op, o.inputs) * o.mult for o in root.iter_ops())
        if instances <= 2_000:
            cost[a] = params
    by_size = sorted(cost, key=lambda a: (cost[a], to_string(a)))
    rest = [a for a in by_size[n_small:] if cost[a] <= 2_000_000]
    return by_size[:n_small] + random.Random(0).sample(rest, n_random)


@pytest.mark.parametrize("shape", SHAPES)
def test_sampled_architectures_compile_with_the_inferred_shapes(shape, torch1):
    torch = torch1
    from surrogate_hub.space.compile import compile_architecture

    x = torch.randn(2, *shape)
    for arch in _compile_subset(shape):
        net = compile_architecture(arch, shape, 10)
        assert sum(p.numel() for p in net.parameters()) == n_params(arch, shape, 10)
        with torch.no_grad():
            features = net.backbone(x)
            out = net(x)
        assert tuple(features.shape) == (2, *output_shape(arch, shape)), to_string(arch)
        assert tuple(out.shape) == (2, 10)
