"""Character-level fuzzing of the text forms: malformed input only ever raises ParseError or ShapeError.

Valid strings (seed architectures, reference records and samples) are damaged by random deletions,
insertions, replacements, truncations and duplicated spans. Whatever parses is shape-checked for
3x28x28; whatever is valid must round-trip through the printer.
"""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import HealthCheck, event, given, settings
import pytest
from hypothesis import strategies as st

from surrogate_hub.space import (
    Op,
    ParseError,
    Role,
    ShapeError,
    infer,
    iter_nodes,
    n_params,
    options,
    parse,
    parse_long,
    sample_many,
    to_long_string,
    to_string,
    tree_stats,
)
from surrogate_hub.space.seeds import list_seeds, seed_string
from surrogate_hub.space.tree import get_at, replace_at

SHAPE = (3, 28, 28)
DATA = Path(__file__).parent / "data" / "einspace_reference.jsonl"
_RECORDS = [json.loads(line) for line in DATA.read_text(encoding="utf-8").splitlines() if line.strip()]

COMPACT = sorted(
    {seed_string(n) for n in list_seeds()}
    | {r["short_string"] for r in _RECORDS}
    | {to_string(a) for a in sample_many(60, SHAPE, seed=5)}
)
LONG = sorted({r["long_string"] for r in _RECORDS} | {to_long_string(a, SHAPE) for a in sample_many(30, SHAPE, seed=6)})

# characters of the notation (so that edits often stay close to valid), plus anything at all
ALPHABET = st.one_of(
    st.sampled_from(list("()[]{}<>,' :0123456789-_\n\t") + ["relu", "linear(", "im2col(3,1,1)", "col2im", "add(2)", "clone(2)"]),
    st.characters(),
)


@st.composite
def damaged(draw, pool):
    text = draw(st.sampled_from(pool))
    for _ in range(draw(st.integers(1, 4))):
        n = len(text)
        kind = draw(st.sampled_from(["delete", "insert", "replace", "truncate", "duplicate"]))
        i = draw(st.integers(0, n))
        j = draw(st.integers(i, min(n, i + 60)))
        if kind == "delete":
            text = text[:i] + text[j:]
        elif kind == "insert":
            text = text[:i] + draw(ALPHABET) + text[i:]
        elif kind == "replace":
            text = text[:i] + draw(ALPHABET) + text[i + 1:]
        elif kind == "truncate":
            text = text[:i]
        else:
            text = text[:j] + text[i:j] + text[j:]
    return text


def _check_position(err: ParseError, text: str) -> None:
    assert err.line >= 1 and err.column >= 1
    assert err.line <= max(text.count("\n"), len(text.splitlines())) + 1
    assert "expected" in err.message or "exceeds" in err.message or "nested" in err.message


FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None)


def _check_damaged(text: str, read) -> None:
    """``read(text)`` raises a ParseError at a sane position, or its value round-trips through the
    compact printer and, when valid at SHAPE, through the long one; a ShapeError names op, path and shapes."""
    try:
        arch = read(text)
    except ParseError as err:
        event("ParseError")
        _check_position(err, text)
        return
    assert parse(to_string(arch)) == arch
    try:
        long = to_long_string(arch, SHAPE)
    except ShapeError as err:
        event("ShapeError")
        assert err.op and isinstance(err.path, tuple) and err.shapes
        return
    event("valid")
    assert parse_long(long) == arch


@FUZZ
@given(damaged(COMPACT))
def test_damaged_compact_strings(text):
    _check_damaged(text, parse)


@settings(FUZZ, max_examples=100)
@given(damaged(LONG))
def test_damaged_long_strings(text):
    _check_damaged(text, parse_long)


# --- op-level fuzzing: swapped terminals reach corners the sampler never visits ----------------

SMALL = [a for a in sample_many(300, SHAPE, seed=9) if tree_stats(a).n_nodes <= 40]


def _role(arch, path) -> tuple[str, int]:
    parent = get_at(arch, path[:-1])
    field = path[-1]
    if field == "op":
        return Role.COMPUTATION, 0
    if field == "pre":
        return Role.PRE_ROUTING, 0
    if field == "post":
        return Role.POST_ROUTING, 0
    return (Role.BRANCH_FN if field == "fn" else Role.AGGREGATION), parent.k


@st.composite
def swapped(draw):
    arch = draw(st.sampled_from(SMALL))
    for _ in range(draw(st.integers(1, 3))):
        terminals = [p for p, node in iter_nodes(arch) if isinstance(node, Op)]
        path = draw(st.sampled_from(terminals))
        arch = replace_at(arch, path, draw(st.sampled_from(options(*_role(arch, path)))))
    return arch


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None)
@given(swapped())
def test_swapped_ops_are_rejected_or_compile_to_the_inferred_shape(arch):
    """Spec: shape inference is exact; whatever it accepts compiles and runs with the inferred shape."""
    text = to_string(arch)
    assert parse(text) == arch
    try:
        root = infer(arch, SHAPE)
    except ShapeError as err:
        event("ShapeError")
        assert err.op in text
        return
    event("valid")
    if sum(o.mult for o in root.iter_ops()) > 500 or n_params(arch, SHAPE, 5) > 2_000_000:
        return  # keep the suite fast; the sampled-architecture tests compile the bigger ones
    torch = pytest.importorskip("torch")
    from surrogate_hub.space.compile import compile_architecture

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        net = compile_architecture(arch, SHAPE, 5)
        assert sum(p.numel() for p in net.parameters()) == n_params(arch, SHAPE, 5)
        with torch.no_grad():
            x = torch.randn(2, *SHAPE)
            assert tuple(net.backbone(x).shape) == (2, *root.output.shape), text
            assert tuple(net(x).shape) == (2, 5)
    finally:
        torch.set_num_threads(threads)
