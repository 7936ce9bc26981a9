"""The architecture value: an immutable einspace derivation tree.

Four module kinds (``spec/einspace.md``): ``Sequential(first, second)``,
``Branching(k, fn, branches, agg)`` (two branches for k = 2, one shared-structure branch for k = 4, 8),
``Routing(pre, inner, post)`` and ``Computation(op)``. Terminals are :class:`~.ops.Op` values.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Union

from .ops import Op

__all__ = [
    "Sequential",
    "Branching",
    "Routing",
    "Computation",
    "Architecture",
    "Module",
    "Path",
    "iter_nodes",
    "get_at",
    "replace_at",
    "tree_stats",
    "TreeStats",
]


@dataclass(frozen=True, slots=True)
class Sequential:
    first: Module
    second: Module


@dataclass(frozen=True, slots=True)
class Branching:
    k: int
    fn: Op
    branches: tuple[Module, ...]
    agg: Op


@dataclass(frozen=True, slots=True)
class Routing:
    pre: Op
    inner: Module
    post: Op


@dataclass(frozen=True, slots=True)
class Computation:
    op: Op


Module = Union[Sequential, Branching, Routing, Computation]
#: A whole network's backbone is just its root module.
Architecture = Module

#: Address of a node: field names and branch indices from the root, e.g. ``("first", "branches", 1)``.
Path = tuple[Union[str, int], ...]


def _children(node: Module) -> Iterator[tuple[Path, Module | Op]]:
    """Direct children in written order, each with its one- or two-step relative path."""
    if isinstance(node, Sequential):
        yield ("first",), node.first
        yield ("second",), node.second
    elif isinstance(node, Branching):
        yield ("fn",), node.fn
        for i, b in enumerate(node.branches):
            yield ("branches", i), b
        yield ("agg",), node.agg
    elif isinstance(node, Routing):
        yield ("pre",), node.pre
        yield ("inner",), node.inner
        yield ("post",), node.post
    else:
        yield ("op",), node.op


def iter_nodes(arch: Architecture) -> Iterator[tuple[Path, Module | Op]]:
    """All nodes as written (modules and terminals) in pre-order, with their paths.

    A branching(4/8) inner module appears once, as in the string.
    """
    stack: list[tuple[Path, Module | Op]] = [((), arch)]
    while stack:
        path, node = stack.pop()
        yield path, node
        if not isinstance(node, Op):
            kids = [(path + rel, child) for rel, child in _children(node)]
            stack.extend(reversed(kids))


def get_at(arch: Architecture, path: Path) -> Module | Op:
    """The node at ``path``."""
    node: object = arch
    i = 0
    while i < len(path):
        step = path[i]
        if step == "branches":
            node = node.branches[path[i + 1]]  # type: ignore[attr-defined]
            i += 2
        else:
            node = getattr(node, step)  # type: ignore[arg-type]
            i += 1
    return node  # type: ignore[return-value]


def replace_at(arch: Architecture, path: Path, new: Module | Op) -> Architecture:
    """A copy of ``arch`` with the node at ``path`` replaced by ``new``."""
    if not path:
        return new  # type: ignore[return-value]
    step = path[0]
    if step == "branches":
        idx = path[1]
        branches = list(arch.branches)  # type: ignore[union-attr]
        branches[idx] = replace_at(branches[idx], path[2:], new)  # type: ignore[index]
        return replace(arch, branches=tuple(branches))
    child = getattr(arch, step)  # type: ignore[arg-type]
    sub = new if len(path) == 1 else replace_at(child, path[1:], new)
    return replace(arch, **{step: sub})  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class TreeStats:
    """Tree statistics as the reference data reports them (``spec/einspace.md``)."""

    depth: int  #: most edges from the root (depth 0) to a terminal
    n_nodes: int  #: module nodes + terminals as written (``computation<op>`` counts 2)
    n_terminals: int  #: terminals only, branching/aggregation/routing functions included


def tree_stats(arch: Architecture) -> TreeStats:
    depth = n_nodes = n_terminals = 0
    stack: list[tuple[Module | Op, int]] = [(arch, 0)]
    while stack:
        node, d = stack.pop()
        n_nodes += 1
        if isinstance(node, Op):
            n_terminals += 1
            depth = max(depth, d)
        else:
            stack.extend((child, d + 1) for _, child in _children(node))
    return TreeStats(depth=depth, n_nodes=n_nodes, n_terminals=n_terminals)
