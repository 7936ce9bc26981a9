"""Seed architectures (ResNet-18, WRN-16-4, ViT, MLP-Mixer) written in einspace, available by name.

The strings are the paper code's seed architectures; two of them needed corrections to build
(noted per entry in ``seeds.json``).
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources

from .parse import parse
from .tree import Architecture

__all__ = ["list_seeds", "get_seed", "seed_string", "seed_description"]


@lru_cache(maxsize=1)
def _table() -> dict[str, dict]:
    text = resources.files(__package__).joinpath("seeds.json").read_text(encoding="utf-8")
    return json.loads(text)


def list_seeds() -> list[str]:
    """Names of the seed architectures."""
    return list(_table())


def _entry(name: str) -> dict:
    try:
        return _table()[name]
    except KeyError:
        raise KeyError(f"unknown seed architecture {name!r}; known: {', '.join(list_seeds())}") from None


def seed_string(name: str) -> str:
    """The compact string of a seed architecture."""
    return _entry(name)["arch"]


def seed_description(name: str) -> str:
    return _entry(name)["description"]


def get_seed(name: str) -> Architecture:
    """The seed architecture ``name`` as a value."""
    return parse(seed_string(name))


# -- scaled seeds -------------------------------------------------------------------------------
#: patch embeddings that cover every pixel once (kernel = stride), largest patches first
_PATCHES = ((16, 16, 0), (8, 8, 0), (4, 4, 0), (1, 1, 0))


def parse_seed_spec(spec: str) -> tuple[str, float]:
    """``"vit_d2*0.25"`` → ``("vit_d2", 0.25)``; a plain name means scale 1."""
    name, _, scale = spec.partition("*")
    _entry(name)
    try:
        value = float(scale) if scale else 1.0
    except ValueError:
        raise ValueError(f"seed {spec!r}: the scale after '*' must be a number, e.g. {name}*0.25") from None
    if not 0 < value <= 1:
        raise ValueError(f"seed {spec!r}: the width scale must be in (0, 1], got {value}")
    return name, value


def scaled_seed(spec: str, input_shape) -> Architecture:
    """A seed architecture (``NAME`` or ``NAME*SCALE``) fitted to ``input_shape``.

    Every linear width is multiplied by the scale and rounded to the nearest width the grammar
    offers (at least 16), so ResNet/WRN/ViT/MLP-Mixer-like networks fit a CPU budget. Patch-embedding
    ViT and MLP-Mixer seeds (those starting with ``im2col(4,4,0)``) get the largest non-overlapping
    non-overlapping patch whose token count is nearest 16 (for MLP-Mixers: among the counts the
    grammar can express as a linear width, since token-mixing layers map tokens to tokens), and the
    Mixer's token-mixing output width is set to that count.
    Raises `ShapeError` when no such patch exists for ``input_shape``; the result is shape-checked.
    """
    import dataclasses
    import math

    from .ops import LINEAR_WIDTHS, Op
    from .shapes import infer
    from .tree import Branching, Computation, Routing, Sequential

    name, scale = parse_seed_spec(spec)
    arch = get_seed(name)
    original_tokens = 64  # the seeds' patch embeddings produce 64 tokens at 32×32
    tokens = None
    first = arch
    while isinstance(first, Sequential):
        first = first.first
    patch_embedding = isinstance(first, Routing) and first.pre == Op("im2col", (4, 4, 0))
    if patch_embedding:
        _, h, w = (int(s) for s in input_shape)
        choices = []  # (token count, patch) of the patches that fit
        for k, s, p in _PATCHES:
            n = ((h + 2 * p - k) // s + 1) * ((w + 2 * p - k) // s + 1) if h >= k and w >= k else 0
            if n in LINEAR_WIDTHS or (n >= 1 and not name.startswith("mlpmixer")):
                choices.append((n, Op("im2col", (k, s, p))))
        if choices:  # about 16 tokens: cheap attention / token mixing, yet a real sequence
            tokens, patch = min(choices, key=lambda c: abs(math.log(c[0] / 16)))
        else:
            from .errors import ShapeError

            raise ShapeError(
                f"seed {name}: no patch size gives a token count the grammar can mix "
                f"({', '.join(map(str, LINEAR_WIDTHS))}) for input {tuple(input_shape)}",
                path=(), op="im2col", shapes=(tuple(input_shape),),
            )

    def width(w: int) -> int:
        target = max(16, w * scale)
        return min(LINEAR_WIDTHS, key=lambda c: abs(math.log(c / target)))

    def token_mixing_back(node) -> bool:
        return (
            name.startswith("mlpmixer")
            and isinstance(node, Routing)
            and node.pre == Op("identity")
            and node.post == Op("perm", (0, 2, 1))
            and isinstance(node.inner, Computation)
            and node.inner.op == Op("linear", (original_tokens,))
        )

    def walk(node, top: bool = False):
        if isinstance(node, Computation):
            if node.op.name == "linear":
                return Computation(Op("linear", (width(node.op.args[0]),)))
            return node
        if isinstance(node, Sequential):
            return Sequential(walk(node.first, top), walk(node.second))
        if isinstance(node, Branching):
            return dataclasses.replace(node, branches=tuple(walk(b) for b in node.branches))
        if token_mixing_back(node):
            return dataclasses.replace(node, inner=Computation(Op("linear", (tokens,))))
        if top and patch_embedding and node.pre == Op("im2col", (4, 4, 0)):
            return dataclasses.replace(node, pre=patch, inner=walk(node.inner))
        return dataclasses.replace(node, inner=walk(node.inner))

    scaled = walk(arch, top=True)
    infer(scaled, input_shape)
    return scaled
