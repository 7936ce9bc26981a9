"""Mutation as in the paper: resample one uniformly chosen node of the tree.

A module node is replaced by a freshly sampled subtree for its input; a terminal is replaced by a
different option of its role valid for its inputs (a leaf mutation always changes the op). The
whole tree is then re-inferred, so later layers resize (linear input widths come from shapes);
a child that became invalid, or breaks the sampler's parameter/activation limits, is retried, up to ``max_tries``, before falling back to a fresh sample.
"""

from __future__ import annotations

import math
import random

from .errors import ShapeError
from .ops import Op, Role, options
from .sample import Limits, _rng, sample, sample_state
from .shapes import ModuleNode, OpNode, aggregate_rule, branch_rule, infer, op_params, unary_rule
from .tree import Architecture, Path, iter_nodes, replace_at, tree_stats

__all__ = ["MutationError", "mutate"]


class MutationError(RuntimeError):
    """No valid mutant was found (raised by :func:`mutate` with ``fallback=False``)."""


def _index(root: ModuleNode) -> dict[Path, ModuleNode | OpNode]:
    """Annotated node for every path of the tree."""
    out: dict[Path, ModuleNode | OpNode] = {}
    stack = [root]
    while stack:
        n = stack.pop()
        out[n.path] = n
        out.update((o.path, o) for o in n.ops)
        stack.extend(n.children)
    return out


def within_limits(root: ModuleNode, limits: Limits) -> bool:
    """Whether an inferred tree respects the sampler's parameter and activation limits."""
    params = acts = 0
    for o in root.iter_ops():
        size = math.prod(o.output.shape) * o.mult
        if size > limits.max_activation:
            return False
        params += op_params(o.op, o.inputs) * o.mult
        acts += size
    return params <= limits.max_params and acts <= limits.max_total_activation


def _depth(path: Path) -> int:
    return len(path) - path.count("branches")


def _rule(o: OpNode):
    if o.role == Role.BRANCH_FN:
        return lambda op: branch_rule(op, o.inputs[0])
    if o.role == Role.AGGREGATION:
        return lambda op: aggregate_rule(op, o.inputs)
    return lambda op: unary_rule(op, o.inputs[0])


def _new_op(o: OpNode, rng: random.Random) -> Op | None:
    k = o.op.args[0] if o.role == Role.BRANCH_FN else len(o.inputs)
    rule = _rule(o)
    valid = [op for op in options(o.role, k) if op != o.op and not isinstance(rule(op), str)]
    return rng.choice(valid) if valid else None


def mutate(
    arch: Architecture,
    input_shape,
    *,
    rng: random.Random | int | None = None,
    limits: Limits | None = None,
    max_tries: int = 20,
    fallback: bool = True,
) -> Architecture:
    """A shape-valid mutant of ``arch`` (which must itself be valid for ``input_shape``).

    When ``max_tries`` mutations all fail (invalid shapes, or outside ``limits``), the result is a
    fresh sample with ``fallback=True`` (the default), else a :class:`MutationError` so that the
    caller can tell a fresh sample from a child (as :class:`~surrogate_hub.search.RegularizedEvolution`
    does).
    """
    rng = _rng(rng)
    limits = limits or Limits()
    annotated = _index(infer(arch, input_shape))
    paths = [p for p, _ in iter_nodes(arch)]
    for _ in range(max_tries):
        path = paths[int(rng.random() * len(paths))]
        node = annotated[path]
        if isinstance(node, OpNode):
            new = _new_op(node, rng)
            if new is None:
                continue
        else:
            try:
                new, _ = sample_state(node.input, _depth(path), node.mult, rng, limits, root=not path)
            except RuntimeError:  # nothing fits the limits at this node's input
                continue
            if new == node.module:
                continue
        child = replace_at(arch, path, new)
        try:
            root = infer(child, input_shape)
        except ShapeError:
            continue
        if tree_stats(child).depth <= limits.max_depth and within_limits(root, limits):
            return child
    if not fallback:
        raise MutationError(f"no valid mutation found in {max_tries} tries (shape errors or limits)")
    return sample(input_shape, rng=rng, limits=limits)
