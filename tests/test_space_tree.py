"""The architecture value and its tree statistics (``surrogate_hub.space.tree``)."""

from __future__ import annotations

import dataclasses

import pytest

from surrogate_hub.space import Computation, Op, Sequential, iter_nodes, parse, to_string, tree_stats
from surrogate_hub.space.tree import get_at, replace_at


@pytest.mark.parametrize(
    "text, depth, n_nodes, n_terminals",
    [
        ("computation<relu>", 1, 2, 1),
        ("sequential(computation<norm>, computation<relu>)", 2, 5, 2),
        ("routing[identity, computation<relu>, identity]", 2, 5, 3),
        ("routing[im2col(3,1,1), computation<linear(64)>, col2im]", 2, 5, 3),
        ("branching(2){clone(2), computation<relu>, computation<norm>, add(2)}", 2, 7, 4),
        # branching(4/8): the inner module counts once, as written
        ("branching(4){clone(4), computation<relu>, add(4)}", 2, 5, 3),
        ("branching(8){group(8,1), sequential(computation<relu>, computation<norm>), cat(8,1)}", 3, 8, 4),
        (
            "sequential(sequential(routing[im2col(3,1,1), computation<linear(64)>, col2im], computation<norm>), computation<relu>)",
            4, 11, 5,
        ),
        (
            "sequential(routing[im2col(4,4,0), computation<linear(128)>, identity], computation<pos_enc>)",
            3, 8, 4,
        ),
    ],
)
def test_tree_stats(text, depth, n_nodes, n_terminals):
    arch = parse(text)
    stats = tree_stats(arch)
    assert (stats.depth, stats.n_nodes, stats.n_terminals) == (depth, n_nodes, n_terminals)
    nodes = list(iter_nodes(arch))
    assert len(nodes) == n_nodes
    assert sum(isinstance(node, Op) for _, node in nodes) == n_terminals


def test_iter_nodes_is_pre_order_with_paths():
    arch = parse("sequential(routing[identity, computation<relu>, perm(0,1,3,2)], branching(2){clone(2), computation<norm>, computation<identity>, add(2)})")
    paths = [p for p, _ in iter_nodes(arch)]
    assert paths == [
        (),
        ("first",), ("first", "pre"), ("first", "inner"), ("first", "inner", "op"), ("first", "post"),
        ("second",), ("second", "fn"),
        ("second", "branches", 0), ("second", "branches", 0, "op"),
        ("second", "branches", 1), ("second", "branches", 1, "op"),
        ("second", "agg"),
    ]
    for path, node in iter_nodes(arch):
        assert get_at(arch, path) is node


@pytest.mark.parametrize(
    "path, new, expected",
    [
        ((), Computation(Op("relu")), "computation<relu>"),
        (("first", "pre"), Op("perm", (0, 2, 1, 3)), "sequential(routing[perm(0,2,1,3), computation<relu>, identity], branching(2){clone(2), computation<norm>, computation<identity>, add(2)})"),
        (("first", "inner", "op"), Op("softmax"), "sequential(routing[identity, computation<softmax>, identity], branching(2){clone(2), computation<norm>, computation<identity>, add(2)})"),
        (("second", "branches", 1), Computation(Op("pos_enc")), "sequential(routing[identity, computation<relu>, identity], branching(2){clone(2), computation<norm>, computation<pos_enc>, add(2)})"),
        (("second", "agg"), Op("cat", (2, 1)), "sequential(routing[identity, computation<relu>, identity], branching(2){clone(2), computation<norm>, computation<identity>, cat(2,1)})"),
    ],
)
def test_replace_at(path, new, expected):
    arch = parse("sequential(routing[identity, computation<relu>, identity], branching(2){clone(2), computation<norm>, computation<identity>, add(2)})")
    before = to_string(arch)
    changed = replace_at(arch, path, new)
    assert to_string(changed) == expected
    assert get_at(changed, path) == new
    assert to_string(arch) == before  # the original value is untouched


def test_architectures_are_immutable_hashable_values():
    a = parse("sequential(computation<norm>, computation<relu>)")
    b = parse("sequential(computation<norm>,computation<relu>)")
    assert a == b and hash(a) == hash(b) and a is not b
    assert len({a, b, parse("computation<relu>")}) == 2
    with pytest.raises(dataclasses.FrozenInstanceError):
        a.first = Computation(Op("relu"))  # type: ignore[misc]


def test_deep_trees_print_and_count_without_recursion_limits():
    arch = Computation(Op("relu"))
    for _ in range(5000):
        arch = Sequential(arch, Computation(Op("norm")))
    stats = tree_stats(arch)
    assert (stats.depth, stats.n_nodes, stats.n_terminals) == (5001, 5000 + 2 * 5001, 5001)
    text = to_string(arch)
    assert text.startswith("sequential(" * 5000 + "computation<relu>, computation<norm>)")
    assert len(list(iter_nodes(arch))) == stats.n_nodes
