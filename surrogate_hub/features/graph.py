"""The computational graph of an einspace architecture, as GRAF sees it (``spec/features.md``).

Vertices are the *instances* of terminal ops — a branching(4)/(8) inner module is built 4 or 8
times, multiplied through nesting — numbered 0, 1, 2, ... in data-flow pre-order, plus the reserved
vertices :data:`INPUT` (``"input"``) and :data:`OUTPUT` (``"output"``), which can never collide with
an op vertex. Modules are structure, not vertices; their instance counts are kept in
``graph.graph["module_counts"]`` (GRAF label → count) so that the graph alone determines every GRAF
feature.

Edges follow data flow. Every module has a single entry op and a single exit op (computation: its op;
sequential: the first child's entry and the second child's exit; routing: pre and post; branching: fn
and aggregation), and

* sequential(A, B): exit(A) → entry(B)
* routing[pre, M, post]: pre → entry(M), exit(M) → post
* branching: fn → entry of each branch instance, exit of each branch instance → aggregation
* input → entry(root), exit(root) → output

Vertex attributes: ``label`` (the GRAF label; ``"input"``/``"output"`` for the reserved vertices),
``op`` (compact text of the op, ``""`` for the reserved vertices), ``role``
(:class:`~surrogate_hub.space.ops.Role` value) and ``path`` (the op's address in the tree as written;
the copies of a branching(4/8) inner op share it).

:func:`to_graph` is a pure function: the architecture is an immutable value and is never changed.
"""

from __future__ import annotations

import functools
import itertools
from collections import Counter

import networkx as nx

from ..space.errors import ArchitectureError
from ..space.ops import BRANCH_FACTORS, Op, Role
from ..space.parse import parse
from ..space.tree import Architecture, Branching, Computation, Path, Routing, Sequential
from .graf import checked_label

__all__ = ["INPUT", "OUTPUT", "to_graph"]

#: Reserved vertex ids; op vertices are non-negative integers.
INPUT = "input"
OUTPUT = "output"

_KINDS = {Sequential: "sequential", Branching: "branching", Routing: "routing", Computation: "computation"}


@functools.lru_cache(maxsize=1024)
def _op_text(op: Op) -> tuple[str, str]:
    return checked_label(op), str(op)


class _Builder:
    """Collects vertices and edges first (adding them one by one to networkx is slow)."""

    def __init__(self) -> None:
        self.nodes: list[tuple[int | str, dict]] = [(INPUT, {"label": "input", "op": "", "role": "", "path": ()})]
        self.edges: list[tuple[int | str, int | str]] = []
        self.ids = itertools.count()
        self.modules: Counter[str] = Counter()

    def op(self, op: Op, role: str, path: Path) -> int:
        v = next(self.ids)
        label, text = _op_text(op)
        self.nodes.append((v, {"label": label, "op": text, "role": role, "path": path}))
        return v

    def module(self, m: Architecture, path: Path) -> tuple[int, int]:
        """Add one instance of ``m``; return its entry and exit vertices."""
        kind = _KINDS.get(type(m))
        if kind is None:
            raise TypeError(f"expected an einspace module, got {type(m).__name__}")
        self.modules[f"{kind}_module"] += 1
        edges = self.edges
        if isinstance(m, Computation):
            v = self.op(m.op, Role.COMPUTATION, path + ("op",))
            return v, v
        if isinstance(m, Sequential):
            entry, a_exit = self.module(m.first, path + ("first",))
            b_entry, exit_ = self.module(m.second, path + ("second",))
            edges.append((a_exit, b_entry))
            return entry, exit_
        if isinstance(m, Routing):
            pre = self.op(m.pre, Role.PRE_ROUTING, path + ("pre",))
            inner_entry, inner_exit = self.module(m.inner, path + ("inner",))
            post = self.op(m.post, Role.POST_ROUTING, path + ("post",))
            edges.append((pre, inner_entry))
            edges.append((inner_exit, post))
            return pre, post
        if m.k not in BRANCH_FACTORS or len(m.branches) != (2 if m.k == 2 else 1):
            raise ArchitectureError(f"branching({m.k}) with {len(m.branches)} branch modules")
        fn = self.op(m.fn, Role.BRANCH_FN, path + ("fn",))
        instances = (
            [(b, path + ("branches", i)) for i, b in enumerate(m.branches)]
            if m.k == 2
            else [(m.branches[0], path + ("branches", 0))] * m.k
        )
        ends = [self.module(b, p) for b, p in instances]
        agg = self.op(m.agg, Role.AGGREGATION, path + ("agg",))
        for entry, exit_ in ends:
            edges.append((fn, entry))
            edges.append((exit_, agg))
        return fn, agg


def to_graph(arch: Architecture | str) -> nx.DiGraph:
    """The data-flow graph of ``arch`` (a value or compact string); see the module docstring."""
    if isinstance(arch, str):
        arch = parse(arch)
    b = _Builder()
    entry, exit_ = b.module(arch, ())
    b.nodes.append((OUTPUT, {"label": "output", "op": "", "role": "", "path": ()}))
    g = nx.DiGraph(module_counts=dict(b.modules))
    g.add_nodes_from(b.nodes)
    g.add_edges_from([(INPUT, entry), *b.edges, (exit_, OUTPUT)])
    return g
