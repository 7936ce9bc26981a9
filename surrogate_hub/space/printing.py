"""Text forms of an architecture: the compact notation and the long LM encoding."""

from __future__ import annotations

from .shapes import ModuleNode, infer
from .tree import Architecture, Branching, Computation, Routing, Sequential

__all__ = ["to_string", "to_long_string"]


def to_string(arch: Architecture) -> str:
    """The canonical compact notation, e.g. ``sequential(computation<norm>, computation<relu>)``."""
    parts: list[str] = []
    stack: list[object] = [arch]
    while stack:  # iterative, so very deep trees print too
        node = stack.pop()
        if isinstance(node, str):
            parts.append(node)
        elif isinstance(node, Computation):
            parts.append(f"computation<{node.op}>")
        elif isinstance(node, Sequential):
            parts.append("sequential(")
            stack.extend([")", node.second, ", ", node.first])
        elif isinstance(node, Routing):
            parts.append(f"routing[{node.pre}, ")
            stack.extend([f", {node.post}]", node.inner])
        else:
            parts.append(f"branching({node.k}){{{node.fn}, ")
            stack.append(f", {node.agg}}}")
            for i, b in enumerate(reversed(node.branches)):
                if i:
                    stack.append(", ")
                stack.append(b)
    return "".join(parts)


def _note(shape) -> str:
    return "{'out_feature_shape': " + str(list(shape)) + "}"


def _long(n: ModuleNode, out: list[str]) -> None:
    m = n.module
    if isinstance(m, Computation):
        out.append(f"computation[{m.op}{_note(n.output.shape)}]")
    elif isinstance(m, Sequential):
        out.append("sequential[")
        _long(n.children[0], out)
        out.append(", ")
        _long(n.children[1], out)
        out.append("]")
    elif isinstance(m, Routing):
        pre, post = n.ops
        out.append(f"routing[{m.pre}{_note(pre.output.shape)}, ")
        _long(n.children[0], out)
        out.append(f", {m.post}{_note(post.output.shape)}]")
    else:
        assert isinstance(m, Branching)
        fn, agg = n.ops
        out.append(f"branching({m.k})[{m.fn}{_note(fn.output.shape)}, ")
        for i, c in enumerate(n.children):
            if i:
                out.append(", ")
            _long(c, out)
        out.append(f", {m.agg}{_note(agg.output.shape)}]")


def to_long_string(arch: Architecture, input_shape) -> str:
    """The paper's LM encoding (``arch_long``): ``[]`` brackets and every terminal's output shape.

    Raises :class:`ShapeError` when ``arch`` is invalid for ``input_shape``.
    """
    out: list[str] = []
    _long(infer(arch, input_shape), out)
    return "".join(out)
