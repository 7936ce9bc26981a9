"""The paper's four training augmentations of architecture trees (Qin et al. 2025, section 4).

``reorder``   re-associate nested sequential modules: ``(A, (B, C))`` ↔ ``((A, B), C)``.
``swap``      swap the two branches of a ``branching(2)`` whose aggregation is order-free in shape
              (``add(2)``, ``cat(2,d)``; dot products are not).
``identity``  insert an identity-equivalent component around a module: ``sequential(M, identity)``,
              ``sequential(identity, M)`` or ``routing[identity, M, identity]``.
``width``     move one ``linear(d)`` to a neighbouring width of the grammar (16 ↔ 32 ↔ ... ↔ 2048).

The first three denote the same network: every result is checked to have the original's parameter
count and output shape at the given input (candidates that fail, e.g. a swap that would change the
patch grid a later ``col2im`` needs, are skipped). ``width`` changes the network on purpose (a
label-preserving perturbation in the paper); its result is checked to be valid at the input.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator, Sequence
from typing import Final

from ...space.errors import ArchitectureError
from ...space.ops import LINEAR_WIDTHS, Op
from ...space.shapes import n_params, output_shape
from ...space.tree import Architecture, Branching, Computation, Routing, Sequential, iter_nodes, replace_at

__all__ = ["AUGMENTATIONS", "PRESERVING", "augment", "candidates"]

_IDENTITY: Final = Op("identity")


def _reorder(arch: Architecture) -> Iterator[Architecture]:
    for path, node in iter_nodes(arch):
        if isinstance(node, Sequential):
            if isinstance(node.second, Sequential):
                a, (b, c) = node.first, (node.second.first, node.second.second)
                yield replace_at(arch, path, Sequential(Sequential(a, b), c))
            if isinstance(node.first, Sequential):
                (a, b), c = (node.first.first, node.first.second), node.second
                yield replace_at(arch, path, Sequential(a, Sequential(b, c)))


def _swap(arch: Architecture) -> Iterator[Architecture]:
    for path, node in iter_nodes(arch):
        if isinstance(node, Branching) and node.k == 2 and node.agg.name in ("add", "cat"):
            yield replace_at(arch, path, Branching(2, node.fn, node.branches[::-1], node.agg))


def _identity(arch: Architecture) -> Iterator[Architecture]:
    ident = Computation(_IDENTITY)
    for path, node in iter_nodes(arch):
        if isinstance(node, Op):
            continue
        yield replace_at(arch, path, Sequential(node, ident))
        yield replace_at(arch, path, Sequential(ident, node))
        yield replace_at(arch, path, Routing(_IDENTITY, node, _IDENTITY))


def _width(arch: Architecture) -> Iterator[Architecture]:
    for path, node in iter_nodes(arch):
        if isinstance(node, Computation) and node.op.name == "linear":
            i = LINEAR_WIDTHS.index(node.op.args[0]) if node.op.args[0] in LINEAR_WIDTHS else None
            if i is None:
                continue
            for j in (i - 1, i + 1):
                if 0 <= j < len(LINEAR_WIDTHS):
                    yield replace_at(arch, path, Computation(Op("linear", (LINEAR_WIDTHS[j],))))


#: name -> generator of all single-step candidates
AUGMENTATIONS: Final[dict[str, Callable[[Architecture], Iterator[Architecture]]]] = {
    "reorder": _reorder,
    "swap": _swap,
    "identity": _identity,
    "width": _width,
}
#: the augmentations that keep the network (parameter count, output shape) unchanged
PRESERVING: Final = ("reorder", "swap", "identity")


def _signature(arch: Architecture, input_shape: Sequence[int], num_classes: int) -> tuple | None:
    try:
        return n_params(arch, tuple(input_shape), num_classes), tuple(output_shape(arch, tuple(input_shape)))
    except ArchitectureError:
        return None


def candidates(
    arch: Architecture, kind: str, input_shape: Sequence[int], num_classes: int = 10
) -> list[Architecture]:
    """Every valid one-step ``kind`` augmentation of ``arch`` at ``input_shape`` (checked as the module
    docstring says), in tree order."""
    if kind not in AUGMENTATIONS:
        raise ValueError(f"unknown augmentation {kind!r}; expected one of {sorted(AUGMENTATIONS)}")
    original = _signature(arch, input_shape, num_classes)
    if original is None:
        raise ArchitectureError(f"cannot augment an architecture that is invalid at input shape {tuple(input_shape)}")
    out = []
    for new in AUGMENTATIONS[kind](arch):
        sig = _signature(new, input_shape, num_classes)
        if sig is None or (kind in PRESERVING and sig != original):
            continue
        out.append(new)
    return out


def augment(
    arch: Architecture,
    kinds: Sequence[str],
    input_shape: Sequence[int],
    rng: random.Random,
    num_classes: int = 10,
) -> Architecture:
    """One random augmentation of ``arch``: a kind drawn from ``kinds``, then a random valid site;
    ``arch`` unchanged when the kind has no valid site."""
    if not kinds:
        return arch
    kind = rng.choice(list(kinds))
    if kind not in AUGMENTATIONS:
        raise ValueError(f"unknown augmentation {kind!r}; expected one of {sorted(AUGMENTATIONS)}")
    original = _signature(arch, input_shape, num_classes)
    if original is None:
        return arch
    proposals = list(AUGMENTATIONS[kind](arch))
    rng.shuffle(proposals)
    for new in proposals:  # the first valid one: checking is the costly part
        sig = _signature(new, input_shape, num_classes)
        if sig is not None and (kind not in PRESERVING or sig == original):
            return new
    return arch
