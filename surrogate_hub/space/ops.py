"""Terminal operations of the einspace grammar and the option table that drives everything else.

This table is the one place that defines the grammar's options and their sampling probabilities
(``spec/einspace.md``, "Option lists and probabilities"): the parser validates ops against it, the
sampler draws from it, and GRAF derives its labels from it. Adding an operation means adding it here
(plus its shape rule in :mod:`.shapes` and its torch layer in :mod:`.compile`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from importlib import resources
from typing import Final

__all__ = [
    "Op",
    "Role",
    "BRANCH_FACTORS",
    "MODULE_KINDS",
    "ROOT_PROBS",
    "MODULE_PROBS",
    "COMPUTATION_P",
    "options",
    "grammar_hash",
    "legacy_grammar_hashes",
]


@dataclass(frozen=True, slots=True)
class Op:
    """One terminal operation, e.g. ``Op("linear", (64,))`` or ``Op("dot_product", ("scaled",))``."""

    name: str
    args: tuple[int | str, ...] = ()

    def __str__(self) -> str:
        if not self.args:
            return self.name
        return f"{self.name}({','.join(str(a) for a in self.args)})"


class Role:
    """Where a terminal stands in the tree; each role has its own option list."""

    BRANCH_FN: Final = "branching function"
    AGGREGATION: Final = "aggregation function"
    PRE_ROUTING: Final = "pre-routing function"
    POST_ROUTING: Final = "post-routing function"
    COMPUTATION: Final = "computation function"


BRANCH_FACTORS: Final = (2, 4, 8)
MODULE_KINDS: Final = ("sequential", "branching", "routing", "computation")

#: Probabilities of module kinds at the root and at inner module slots. Keys are
#: ``"sequential"``, ``"routing"``, ``"computation"`` and ``"branching(k)"``.
COMPUTATION_P: Final = 0.32
ROOT_PROBS: Final[dict[str, float]] = {
    "sequential": 1 / 3,
    "branching(2)": 1 / 9,
    "branching(4)": 1 / 9,
    "branching(8)": 1 / 9,
    "routing": 1 / 3,
}
MODULE_PROBS: Final[dict[str, float]] = {
    "computation": COMPUTATION_P,
    "sequential": (1 - COMPUTATION_P) / 3,
    "routing": (1 - COMPUTATION_P) / 3,
    "branching(2)": (1 - COMPUTATION_P) / 9,
    "branching(4)": (1 - COMPUTATION_P) / 9,
    "branching(8)": (1 - COMPUTATION_P) / 9,
}

_PERM3: Final = (Op("perm", (0, 2, 1)),)
_PERM4: Final = tuple(
    Op("perm", p) for p in [(0, 1, 3, 2), (0, 3, 1, 2), (0, 3, 2, 1), (0, 2, 1, 3), (0, 2, 3, 1)]
)
_IM2COL: Final = tuple(
    Op("im2col", a)
    for a in [(1, 1, 0), (1, 2, 0), (3, 1, 1), (3, 2, 1), (4, 4, 0), (8, 8, 0), (16, 16, 0)]
)
LINEAR_WIDTHS: Final = (16, 32, 64, 128, 256, 512, 1024, 2048)


def _branch_fns(k: int) -> tuple[Op, ...]:
    return (Op("clone", (k,)),) + tuple(Op("group", (k, d)) for d in (1, 2, 3))


def _aggregations(k: int) -> tuple[Op, ...]:
    ops = (Op("add", (k,)),) + tuple(Op("cat", (k, d)) for d in (1, 2, 3))
    if k == 2:
        ops += (Op("dot_product"), Op("dot_product", ("scaled",)))
    return ops


_OPTIONS: Final[dict[tuple[str, int], tuple[Op, ...]]] = {
    **{(Role.BRANCH_FN, k): _branch_fns(k) for k in BRANCH_FACTORS},
    **{(Role.AGGREGATION, k): _aggregations(k) for k in BRANCH_FACTORS},
    (Role.PRE_ROUTING, 0): (Op("identity"),) + _PERM3 + _PERM4 + _IM2COL,
    (Role.POST_ROUTING, 0): (Op("identity"),) + _PERM3 + _PERM4 + (Op("col2im"),),
    (Role.COMPUTATION, 0): (Op("identity"),)
    + tuple(Op("linear", (d,)) for d in LINEAR_WIDTHS)
    + (Op("norm"), Op("relu"), Op("softmax"), Op("pos_enc")),
}


def options(role: str, k: int = 0) -> tuple[Op, ...]:
    """The grammar's options (uniformly weighted) for a terminal in ``role``.

    ``k`` is the branching factor for branching and aggregation functions, ignored otherwise.
    """
    key = (role, k if role in (Role.BRANCH_FN, Role.AGGREGATION) else 0)
    return _OPTIONS[key]


def grammar_text() -> str:
    """The compact-notation grammar (``einspace.lark``) shipped as package data."""
    return resources.files(__package__).joinpath("einspace.lark").read_text(encoding="utf-8")


#: Version of the shape rules (``shapes.py``): bump it when a rule changes which architectures are
#: valid or the shapes they produce, so that saved artifacts notice.
SHAPE_RULES_VERSION: Final = 1


def _language_digest() -> hashlib._Hash:
    h = hashlib.sha256(grammar_text().encode())
    for key, ops in sorted(_OPTIONS.items()):  # every op with its arguments, by (role, arity)
        h.update(repr((key, [str(o) for o in ops])).encode())
    return h


def grammar_hash() -> str:
    """A short hash of the einspace *language*: the grammar file, the option table (ops, their
    arguments and arities) and :data:`SHAPE_RULES_VERSION`. Saved artifacts record it; sampling
    probabilities are not part of it (changing them changes no architecture's meaning)."""
    h = _language_digest()
    h.update(f"shape-rules:{SHAPE_RULES_VERSION}".encode())
    return h.hexdigest()[:16]


def legacy_grammar_hashes() -> frozenset[str]:
    """Hashes that earlier versions wrote for this same language, accepted when reading old artifacts:
    version 0 hashed the grammar, the option table and the sampling probabilities."""
    h = _language_digest()
    h.update(repr(sorted(MODULE_PROBS.items())).encode())
    h.update(repr(sorted(ROOT_PROBS.items())).encode())
    return frozenset({h.hexdigest()[:16]})
