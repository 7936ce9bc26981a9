"""Mutation: resample one uniformly chosen node (``surrogate_hub.space.mutate``)."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from surrogate_hub.space import (
    Computation,
    Limits,
    Op,
    Role,
    ShapeError,
    infer,
    iter_nodes,
    options,
    parse,
    sample,
    sample_many,
    to_string,
    tree_stats,
)
from surrogate_hub.space.mutate import mutate
from surrogate_hub.space.seeds import get_seed
from surrogate_hub.space.tree import get_at

SHAPE = (3, 28, 28)


def _diff_paths(a, b) -> list:
    """Paths of ``a`` whose node (or subtree) is different or missing in ``b``."""
    out = []
    nodes_b = dict(iter_nodes(b))
    for path, node in iter_nodes(a):
        other = nodes_b.get(path)
        if other != node:
            out.append(path)
    return out


@pytest.fixture(scope="module")
def parents():
    return sample_many(120, SHAPE, seed=11)


def test_mutants_are_valid_and_differ_from_the_parent(parents):
    lim = Limits()
    for i, parent in enumerate(parents):
        child = mutate(parent, SHAPE, rng=i)
        infer(child, SHAPE)
        assert child != parent, to_string(parent)
        assert tree_stats(child).depth <= lim.max_depth


def test_mutation_is_deterministic_for_a_seed(parents):
    for i, parent in enumerate(parents[:40]):
        assert mutate(parent, SHAPE, rng=i) == mutate(parent, SHAPE, rng=random.Random(i))
    children = [mutate(parents[0], SHAPE, rng=i) for i in range(30)]
    assert len(set(children)) > 10  # different seeds give different mutants


def test_mutation_does_not_modify_the_parent(parents):
    parent = parents[3]
    before = to_string(parent)
    for i in range(20):
        mutate(parent, SHAPE, rng=i)
    assert to_string(parent) == before


@pytest.mark.parametrize(
    "text",
    [
        "computation<relu>",
        "routing[identity, computation<relu>, identity]",
        "sequential(computation<relu>, computation<relu>)",
        "branching(4){clone(4), computation<relu>, add(4)}",
        "branching(2){clone(2), computation<identity>, computation<identity>, add(2)}",
    ],
)
def test_small_trees_always_change(text):
    parent = parse(text)
    children = [mutate(parent, SHAPE, rng=seed) for seed in range(150)]
    assert all(c != parent for c in children)
    for c in children:
        infer(c, SHAPE)


def test_terminal_mutations_change_the_op_to_a_valid_option():
    """Children with the parent's structure differ in one terminal only, replaced by another option
    of the same role (``routing[perm..., computation<op>, perm...]`` keeps every choice visible)."""
    parent = parse("routing[perm(0,1,3,2), computation<relu>, perm(0,3,2,1)]")
    roles = {("pre",): Role.PRE_ROUTING, ("inner", "op"): Role.COMPUTATION, ("post",): Role.POST_ROUTING}
    changed = Counter()
    for seed in range(400):
        child = mutate(parent, SHAPE, rng=seed)
        assert child != parent
        diff = [p for p in _diff_paths(parent, child) if p in roles]
        same_structure = [p for p, _ in iter_nodes(child)] == [p for p, _ in iter_nodes(parent)]
        if same_structure and len(diff) == 1:
            (path,) = diff
            old, new = get_at(parent, path), get_at(child, path)
            assert new != old
            assert new in options(roles[path])
            changed[path] += 1
    assert set(changed) == set(roles)  # every terminal was mutated for some seed


def test_a_single_computation_mutates_to_another_op_or_a_new_module():
    parent = Computation(Op("relu"))
    ops = set()
    for seed in range(200):
        child = mutate(parent, SHAPE, rng=seed)
        assert child != parent
        if isinstance(child, Computation):
            assert child.op != Op("relu")
            ops.add(child.op)
    assert len(ops) >= 5


def test_later_layers_resize_after_a_mutation():
    """Mutating the first linear changes the second's input width (it comes from shapes)."""
    parent = parse("sequential(computation<linear(16)>, computation<linear(32)>)")
    widths = set()
    for seed in range(200):
        child = mutate(parent, SHAPE, rng=seed)
        root = infer(child, SHAPE)
        for o in root.iter_ops():
            if str(o.op) == "linear(32)" and o.path[-2:] == ("second", "op"):
                widths.add(o.inputs[0].shape[-1])
    assert len(widths) > 2


def test_mutating_an_invalid_parent_is_a_shape_error():
    with pytest.raises(ShapeError):
        mutate(parse("routing[identity, computation<relu>, col2im]"), SHAPE, rng=0)


@pytest.mark.parametrize("name", ["resnet18_no_maxpool", "wideresnet16_4", "vit_d2"])
def test_seed_architectures_mutate(name):
    parent = get_seed(name)
    for seed in range(10):
        child = mutate(parent, SHAPE, rng=seed)
        infer(child, SHAPE)
        assert child != parent


@pytest.mark.parametrize("shape", [(1, 8, 8), (3, 32, 32)])
def test_mutation_chains_stay_valid(shape):
    """A short evolution run: every generation is valid and within the depth limit."""
    lim = Limits(max_depth=10)
    arch = sample_many(1, shape, seed=2, limits=lim)[0]
    rng = random.Random(0)
    for _ in range(60):
        child = mutate(arch, shape, rng=rng, limits=lim)
        infer(child, shape)
        assert child != arch
        assert tree_stats(child).depth <= lim.max_depth
        arch = child


def test_compiled_mutants_run():
    torch = pytest.importorskip("torch")
    from surrogate_hub.space.compile import compile_architecture

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        parent = parse("sequential(routing[im2col(4,4,0), computation<linear(32)>, identity], computation<norm>)")
        x = torch.randn(2, 1, 8, 8)
        for seed in range(15):
            child = mutate(parent, (1, 8, 8), rng=seed)
            with torch.no_grad():
                assert tuple(compile_architecture(child, (1, 8, 8), 5)(x).shape) == (2, 5)
    finally:
        torch.set_num_threads(threads)


def test_falls_back_to_a_fresh_sample_when_tries_run_out():
    parent = parse("sequential(computation<relu>, computation<norm>)")
    for seed in range(5):
        assert mutate(parent, SHAPE, rng=seed, max_tries=0) == sample(SHAPE, rng=seed)
    assert mutate(parent, SHAPE, rng=0, max_tries=20) != sample(SHAPE, rng=0)
