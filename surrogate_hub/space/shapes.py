"""Analytic shape inference: exact output shapes, parameter counts and FLOPs without torch.

Shapes omit the batch axis. Each op has a *transfer rule* that returns the output
:class:`TensorState` or a string saying why the op is invalid for its input; the sampler filters
options with the same rules, so whatever it accepts, inference accepts, and the compiled network
produces exactly the inferred shapes (``spec/einspace.md``, "Validity").
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Union

from .errors import ShapeError
from .ops import Op, Role
from .tree import Architecture, Branching, Computation, Module, Path, Routing, Sequential

__all__ = [
    "TensorState",
    "OpNode",
    "ModuleNode",
    "unary_rule",
    "branch_rule",
    "aggregate_rule",
    "infer",
    "output_shape",
    "n_params",
    "flops",
    "op_params",
    "op_flops",
    "head_shape",
]

Shape = tuple[int, ...]


@dataclass(frozen=True, slots=True)
class TensorState:
    """A tensor flowing between ops: its shape (no batch axis) and the patch grid of the newest
    ``im2col`` on its data path (``col2im`` folds tokens back onto it)."""

    shape: Shape
    grid: tuple[int, int] | None = None


Rule = Union[TensorState, str]


def unary_rule(op: Op, st: TensorState) -> Rule:
    """Computation, pre-routing and post-routing ops."""
    name, shape = op.name, st.shape
    if name in ("identity", "relu", "softmax", "norm", "pos_enc"):
        return st
    if name == "linear":
        return TensorState(shape[:-1] + (op.args[0],), st.grid)
    if name == "perm":
        if len(op.args) - 1 != len(shape):
            return f"a {len(op.args)}-way permutation needs a rank-{len(op.args)} tensor (with batch)"
        return TensorState(tuple(shape[a - 1] for a in op.args[1:]), st.grid)
    if name == "im2col":
        k, s, p = op.args
        if len(shape) != 3:
            return "im2col needs an image-mode (rank-4) tensor"
        c, h, w = shape
        if h + 2 * p < k or w + 2 * p < k:
            return f"a {k}x{k} patch with padding {p} does not fit a {h}x{w} map"
        gh, gw = (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1
        return TensorState((gh * gw, c * k * k), (gh, gw))
    if name == "col2im":
        if len(shape) != 2:
            return "col2im needs a token-mode (rank-3) tensor"
        if st.grid is None:
            return "col2im needs an earlier im2col on its data path to give the patch grid"
        gh, gw = st.grid
        if shape[0] != gh * gw:
            return f"{shape[0]} tokens do not fill the {gh}x{gw} patch grid of the last im2col"
        return TensorState((shape[1], gh, gw), st.grid)
    raise ValueError(f"no shape rule for op {op}")  # pragma: no cover - guarded by the option table


def branch_rule(op: Op, st: TensorState) -> Rule:
    """Branching functions: the state that *each* branch receives."""
    if op.name == "clone":
        return st
    k, d = op.args
    shape = st.shape
    if d > len(shape):
        return f"axis {d} does not exist in a rank-{len(shape) + 1} tensor"
    size = shape[d - 1]
    if size < k or size % k:
        return f"axis {d} of size {size} cannot be split into {k} equal chunks"
    return TensorState(shape[: d - 1] + (size // k,) + shape[d:], st.grid)


def aggregate_rule(op: Op, states: tuple[TensorState, ...]) -> Rule:
    """Aggregation functions; the result keeps branch 0's patch grid."""
    first = states[0]
    shapes = [s.shape for s in states]
    if op.name == "add":
        if any(s != shapes[0] for s in shapes):
            return "add needs identical shapes"
        return first
    if op.name == "cat":
        d = op.args[1]
        rank = len(shapes[0])
        if d > rank or any(len(s) != rank for s in shapes):
            return f"cat on axis {d} needs tensors of equal rank with that axis"
        ax = d - 1
        if any(s[:ax] + s[ax + 1 :] != shapes[0][:ax] + shapes[0][ax + 1 :] for s in shapes):
            return f"cat on axis {d} needs all other axes equal"
        total = sum(s[ax] for s in shapes)
        return TensorState(shapes[0][:ax] + (total,) + shapes[0][ax + 1 :], first.grid)
    # dot_product, dot_product(scaled): batched matmul branch0 @ branch1
    a, b = shapes
    if len(a) != len(b) or a[:-2] != b[:-2]:
        return "dot_product needs equal leading axes"
    if a[-1] != b[-2]:
        return f"dot_product needs branch0's last axis ({a[-1]}) to equal branch1's second-to-last ({b[-2]})"
    return TensorState(a[:-1] + (b[-1],), first.grid)


def op_params(op: Op, inputs: tuple[TensorState, ...]) -> int:
    """Trainable parameters of one instance of ``op``."""
    shape = inputs[0].shape
    if op.name == "linear":
        return shape[-1] * op.args[0] + op.args[0]
    if op.name == "norm":
        return 2 * shape[0]
    if op.name == "pos_enc":
        return math.prod(shape)
    return 0


def op_flops(op: Op, inputs: tuple[TensorState, ...]) -> int:
    """Multiply-accumulates of one instance of ``op`` for one example (linear layers and matmuls)."""
    if op.name == "linear":
        return math.prod(inputs[0].shape) * op.args[0]
    if op.name == "dot_product":
        return math.prod(inputs[0].shape) * inputs[1].shape[-1]
    return 0


@dataclass(frozen=True, slots=True)
class OpNode:
    """A terminal with its inferred input and output states; ``mult`` counts its instances."""

    op: Op
    role: str
    path: Path
    inputs: tuple[TensorState, ...]
    output: TensorState
    mult: int


@dataclass(frozen=True, slots=True)
class ModuleNode:
    """A module with its inferred states, annotated children and terminals (in written order)."""

    module: Module
    path: Path
    input: TensorState
    output: TensorState
    children: tuple[ModuleNode, ...]
    ops: tuple[OpNode, ...]
    mult: int

    def iter_ops(self):
        """All terminals below this module, in written order."""
        if isinstance(self.module, Branching):
            yield self.ops[0]
            for c in self.children:
                yield from c.iter_ops()
            yield self.ops[1]
        elif isinstance(self.module, Routing):
            yield self.ops[0]
            yield from self.children[0].iter_ops()
            yield self.ops[1]
        elif isinstance(self.module, Computation):
            yield self.ops[0]
        else:
            for c in self.children:
                yield from c.iter_ops()


def _fail(op: Op, path: Path, states: tuple[TensorState, ...], reason: str) -> ShapeError:
    return ShapeError(reason, path=path, op=str(op), shapes=tuple(s.shape for s in states))


def _apply(rule, op: Op, role: str, path: Path, arg, states, mult: int) -> OpNode:
    out = rule(op, arg)
    if isinstance(out, str):
        raise _fail(op, path, states, out)
    return OpNode(op, role, path, states, out, mult)


def _infer(m: Module, st: TensorState, path: Path, mult: int) -> ModuleNode:
    if isinstance(m, Computation):
        o = _apply(unary_rule, m.op, Role.COMPUTATION, path + ("op",), st, (st,), mult)
        return ModuleNode(m, path, st, o.output, (), (o,), mult)
    if isinstance(m, Sequential):
        a = _infer(m.first, st, path + ("first",), mult)
        b = _infer(m.second, a.output, path + ("second",), mult)
        return ModuleNode(m, path, st, b.output, (a, b), (), mult)
    if isinstance(m, Routing):
        pre = _apply(unary_rule, m.pre, Role.PRE_ROUTING, path + ("pre",), st, (st,), mult)
        inner = _infer(m.inner, pre.output, path + ("inner",), mult)
        post = _apply(unary_rule, m.post, Role.POST_ROUTING, path + ("post",), inner.output, (inner.output,), mult)
        return ModuleNode(m, path, st, post.output, (inner,), (pre, post), mult)
    # Branching: k = 2 has two branches; k = 4, 8 one structure instantiated k times
    fn = _apply(branch_rule, m.fn, Role.BRANCH_FN, path + ("fn",), st, (st,), mult)
    inner_mult = mult if m.k == 2 else mult * m.k
    kids = tuple(
        _infer(b, fn.output, path + ("branches", i), inner_mult) for i, b in enumerate(m.branches)
    )
    outs = tuple(c.output for c in kids) if m.k == 2 else (kids[0].output,) * m.k
    agg = _apply(aggregate_rule, m.agg, Role.AGGREGATION, path + ("agg",), outs, outs, mult)
    return ModuleNode(m, path, st, agg.output, kids, (fn, agg), mult)


def _as_state(input_shape) -> TensorState:
    shape = tuple(int(x) for x in input_shape)
    if len(shape) != 3 or min(shape) < 1:
        raise ValueError(f"input_shape must be (C, H, W) with positive sizes, got {tuple(input_shape)}")
    return TensorState(shape)


def infer(arch: Architecture, input_shape) -> ModuleNode:
    """Annotate every node of ``arch`` with its shapes for a (C, H, W) input.

    Raises :class:`ShapeError` naming the first offending node (its path and op) and its input shapes.
    """
    return _infer(arch, _as_state(input_shape), (), 1)


def head_shape(backbone_out: Shape) -> int:
    """Features entering the classifier: axis 1 after pooling (spec: "Network and head")."""
    return backbone_out[0]


def output_shape(arch: Architecture, input_shape) -> Shape:
    """The backbone's output shape (without batch)."""
    return infer(arch, input_shape).output.shape


def n_params(arch: Architecture, input_shape, num_classes: int) -> int:
    """Trainable parameters of the compiled network, classifier head included."""
    root = infer(arch, input_shape)
    total = sum(op_params(o.op, o.inputs) * o.mult for o in root.iter_ops())
    return total + (head_shape(root.output.shape) + 1) * num_classes


def activations(arch: Architecture, input_shape) -> int:
    """Elements, per example, of every op's output summed over the network (all branch copies):
    an analytic estimate of the memory and the element-wise compute of one forward pass."""
    root = infer(arch, input_shape)
    return sum(math.prod(o.output.shape) * o.mult for o in root.iter_ops())


def flops(arch: Architecture, input_shape, num_classes: int) -> int:
    """Forward multiply-accumulates per example (linear layers, matmuls and the head)."""
    root = infer(arch, input_shape)
    total = sum(op_flops(o.op, o.inputs) * o.mult for o in root.iter_ops())
    return total + head_shape(root.output.shape) * num_classes
