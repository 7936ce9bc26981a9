"""Compile an architecture into a ``torch.nn.Module`` (imports torch; the rest of the space does not).

Widths that the string leaves implicit (linear inputs, norm widths, positional-encoding shapes, the
patch grid of ``col2im``) come from :func:`~.shapes.infer`. The pattern
``routing[im2col(k,s,p), computation<linear(d)>, col2im]`` is compiled to an identical ``nn.Conv2d``
(same function and parameter count, less memory).
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

from .parse import parse
from .printing import to_string
from .shapes import ModuleNode, OpNode, head_shape, infer
from .tree import Architecture, Branching, Computation, Routing, Sequential

__all__ = ["compile_architecture", "Network"]


class _Perm(nn.Module):
    def __init__(self, dims: tuple[int, ...]) -> None:
        super().__init__()
        self.dims = dims

    def forward(self, x):
        return x.permute(*self.dims)


class _Softmax(nn.Module):
    def forward(self, x):
        return torch.softmax(x, dim=-1)


class _PosEnc(nn.Module):
    def __init__(self, shape: tuple[int, ...]) -> None:
        super().__init__()
        self.pos = nn.Parameter(torch.randn(shape) * 0.02)

    def forward(self, x):
        return x + self.pos


class _Im2col(nn.Module):
    def __init__(self, k: int, s: int, p: int) -> None:
        super().__init__()
        self.k, self.s, self.p = k, s, p

    def forward(self, x):  # [B, C, H, W] -> [B, H'W', C k k], channel-major patches
        return F.unfold(x, self.k, padding=self.p, stride=self.s).transpose(1, 2)


class _Col2im(nn.Module):
    def __init__(self, grid: tuple[int, int]) -> None:
        super().__init__()
        self.grid = grid

    def forward(self, x):  # [B, S, D] -> [B, D, H', W']
        return x.transpose(1, 2).reshape(x.shape[0], x.shape[2], *self.grid)


class _Clone(nn.Module):
    def __init__(self, k: int) -> None:
        super().__init__()
        self.k = k

    def forward(self, x):
        return [x] * self.k


class _Group(nn.Module):
    def __init__(self, k: int, dim: int) -> None:
        super().__init__()
        self.k, self.dim = k, dim

    def forward(self, x):
        return list(torch.chunk(x, self.k, dim=self.dim))


class _Add(nn.Module):
    def forward(self, xs):
        out = xs[0]
        for x in xs[1:]:
            out = out + x
        return out


class _Cat(nn.Module):
    def __init__(self, dim: int) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, xs):
        return torch.cat(xs, dim=self.dim)


class _Dot(nn.Module):
    def __init__(self, scaled: bool) -> None:
        super().__init__()
        self.scaled = scaled

    def forward(self, xs):
        a, b = xs
        out = torch.matmul(a, b)
        return out / math.sqrt(a.shape[-1]) if self.scaled else out


class _Sequential(nn.Module):
    def __init__(self, first: nn.Module, second: nn.Module) -> None:
        super().__init__()
        self.first, self.second = first, second

    def forward(self, x):
        return self.second(self.first(x))


class _Routing(nn.Module):
    def __init__(self, pre: nn.Module, inner: nn.Module, post: nn.Module) -> None:
        super().__init__()
        self.pre, self.inner, self.post = pre, inner, post

    def forward(self, x):
        return self.post(self.inner(self.pre(x)))


class _Branching(nn.Module):
    def __init__(self, fn: nn.Module, branches: list[nn.Module], agg: nn.Module) -> None:
        super().__init__()
        self.fn, self.branches, self.agg = fn, nn.ModuleList(branches), agg

    def forward(self, x):
        return self.agg([b(t) for b, t in zip(self.branches, self.fn(x))])


def _op_module(n: OpNode) -> nn.Module:
    op, shape = n.op, n.inputs[0].shape
    name = op.name
    if name in ("identity",):
        return nn.Identity()
    if name == "relu":
        return nn.ReLU()
    if name == "softmax":
        return _Softmax()
    if name == "linear":
        return nn.Linear(shape[-1], op.args[0])
    if name == "norm":
        return nn.BatchNorm2d(shape[0]) if len(shape) == 3 else nn.BatchNorm1d(shape[0])
    if name == "pos_enc":
        return _PosEnc(shape)
    if name == "perm":
        return _Perm(tuple(op.args))
    if name == "im2col":
        return _Im2col(*op.args)
    if name == "col2im":
        return _Col2im(n.output.grid)
    if name == "clone":
        return _Clone(op.args[0])
    if name == "group":
        return _Group(op.args[0], op.args[1])
    if name == "add":
        return _Add()
    if name == "cat":
        return _Cat(op.args[1])
    if name == "dot_product":
        return _Dot(scaled=bool(op.args))
    raise ValueError(f"cannot compile op {op}")  # pragma: no cover - guarded by the option table


def _is_conv(m: Routing) -> bool:
    return (
        m.pre.name == "im2col"
        and m.post.name == "col2im"
        and isinstance(m.inner, Computation)
        and m.inner.op.name == "linear"
    )


def _build(n: ModuleNode) -> nn.Module:
    m = n.module
    if isinstance(m, Computation):
        return _op_module(n.ops[0])
    if isinstance(m, Sequential):
        return _Sequential(_build(n.children[0]), _build(n.children[1]))
    if isinstance(m, Routing):
        if _is_conv(m):
            k, s, p = m.pre.args
            return nn.Conv2d(n.input.shape[0], m.inner.op.args[0], k, stride=s, padding=p)
        return _Routing(_op_module(n.ops[0]), _build(n.children[0]), _op_module(n.ops[1]))
    assert isinstance(m, Branching)
    if m.k == 2:
        branches = [_build(c) for c in n.children]
    else:  # one structure, k independently initialised copies
        branches = [_build(n.children[0]) for _ in range(m.k)]
    return _Branching(_op_module(n.ops[0]), branches, _op_module(n.ops[1]))


class Network(nn.Module):
    """Backbone compiled from an architecture plus the classifier head of ``spec/einspace.md``.

    Rank-4 backbone outputs are averaged over H, W; rank-3 outputs over the last axis (per-token
    averages); then a biased ``Linear`` maps axis 1 to the classes.
    """

    def __init__(self, root: ModuleNode, num_classes: int, arch: str, input_shape: tuple[int, ...]) -> None:
        super().__init__()
        self.arch = arch
        self.input_shape = input_shape
        self.backbone = _build(root)
        self._pool_dims = (2, 3) if len(root.output.shape) == 3 else (2,)
        self.head = nn.Linear(head_shape(root.output.shape), num_classes)

    def forward(self, x):
        return self.head(self.backbone(x).mean(dim=self._pool_dims))


def compile_architecture(
    arch: Architecture | str,
    input_shape,
    num_classes: int,
    *,
    device: str | torch.device | None = None,
    dtype: torch.dtype | None = None,
) -> Network:
    """Build the network for ``arch`` on (C, H, W) inputs with ``num_classes`` outputs.

    Raises :class:`ParseError`/:class:`ShapeError` for invalid architectures before allocating
    anything. ``device`` and ``dtype`` are passed to ``Module.to``.
    """
    if isinstance(arch, str):
        arch = parse(arch)
    if num_classes < 1:
        raise ValueError(f"num_classes must be positive, got {num_classes}")
    root = infer(arch, input_shape)
    net = Network(root, num_classes, to_string(arch), tuple(int(s) for s in input_shape))
    if device is not None or dtype is not None:
        net = net.to(device=device, dtype=dtype)
    return net
