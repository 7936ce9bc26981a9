"""Parsing the compact notation and the long LM encoding (``surrogate_hub.space.parse``)."""

from __future__ import annotations

import re

import pytest

from surrogate_hub.space import (
    Branching,
    Computation,
    Op,
    ParseError,
    Role,
    Routing,
    Sequential,
    options,
    parse,
    parse_long,
    to_long_string,
    to_string,
)
from surrogate_hub.space.errors import ArchitectureError
from surrogate_hub.space.ops import BRANCH_FACTORS
from surrogate_hub.space.parse import MAX_CHARS, MAX_NESTING

RELU = "computation<relu>"
CONV = "routing[im2col(3,1,1), computation<linear(64)>, col2im]"
RESIDUAL = (
    "sequential(routing[im2col(3,1,1), computation<linear(64)>, col2im], branching(2){clone(2), "
    "sequential(routing[im2col(3,1,1), computation<linear(64)>, col2im], computation<relu>), "
    "computation<identity>, add(2)})"
)


# --- values -------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    "text, expected",
    [
        ("computation<relu>", Computation(Op("relu"))),
        ("computation<linear(64)>", Computation(Op("linear", (64,)))),
        (
            "sequential(computation<norm>, computation<relu>)",
            Sequential(Computation(Op("norm")), Computation(Op("relu"))),
        ),
        (CONV, Routing(Op("im2col", (3, 1, 1)), Computation(Op("linear", (64,))), Op("col2im"))),
        (
            "branching(2){group(2,3), computation<identity>, computation<softmax>, dot_product(scaled)}",
            Branching(
                2,
                Op("group", (2, 3)),
                (Computation(Op("identity")), Computation(Op("softmax"))),
                Op("dot_product", ("scaled",)),
            ),
        ),
        (
            "branching(8){clone(8), computation<pos_enc>, cat(8,1)}",
            Branching(8, Op("clone", (8,)), (Computation(Op("pos_enc")),), Op("cat", (8, 1))),
        ),
    ],
)
def test_parse_builds_the_expected_value(text, expected):
    assert parse(text) == expected
    assert to_string(expected) == text


def _all_option_strings() -> list[str]:
    """One string per option of every role in the option table: the grammar must accept them all."""
    out = [f"computation<{op}>" for op in options(Role.COMPUTATION)]
    out += [f"routing[{op}, computation<identity>, identity]" for op in options(Role.PRE_ROUTING)]
    out += [f"routing[identity, computation<identity>, {op}]" for op in options(Role.POST_ROUTING)]
    for k in BRANCH_FACTORS:
        inner = "computation<identity>, computation<identity>" if k == 2 else "computation<identity>"
        out += [f"branching({k}){{{fn}, {inner}, add({k})}}" for fn in options(Role.BRANCH_FN, k)]
        out += [f"branching({k}){{clone({k}), {inner}, {agg}}}" for agg in options(Role.AGGREGATION, k)]
    return out


@pytest.mark.parametrize("text", _all_option_strings())
def test_every_option_of_the_table_parses_and_prints_back(text):
    assert to_string(parse(text)) == text


def test_option_table_sizes_match_spec():
    assert len(options(Role.COMPUTATION)) == 13
    assert len(options(Role.PRE_ROUTING)) == 14
    assert len(options(Role.POST_ROUTING)) == 8
    assert [len(options(Role.AGGREGATION, k)) for k in (2, 4, 8)] == [6, 4, 4]
    assert [len(options(Role.BRANCH_FN, k)) for k in (2, 4, 8)] == [4, 4, 4]


# --- whitespace ---------------------------------------------------------------------------------

@pytest.mark.parametrize(
    "variant",
    [
        lambda s: s.replace(", ", ","),  # no spaces at all
        lambda s: s.replace(", ", ",\n"),  # newlines
        lambda s: s.replace(", ", ",\r\n\t\t"),  # CRLF and tabs
        lambda s: "\n  " + s + "  \n",  # leading / trailing whitespace
        lambda s: re.sub(r"([\(\)\[\]\{\}<>,])", r" \1 ", s),  # spaces around every bracket and comma
        lambda s: re.sub(r"([\(\)\[\]\{\}<>,])", "\t\\1\n", s),
    ],
    ids=["no-spaces", "newlines", "crlf-tabs", "padding", "spaced-brackets", "tabs-newlines"],
)
@pytest.mark.parametrize("text", [RELU, CONV, RESIDUAL])
def test_other_whitespace_parses_to_the_same_value(text, variant):
    changed = variant(text)
    assert changed != text or text == RELU
    assert parse(changed) == parse(text)
    assert to_string(parse(changed)) == text


def test_long_form_tolerates_other_whitespace():
    long = to_long_string(parse(RESIDUAL), (3, 28, 28))
    assert parse_long(long.replace(", ", ",")) == parse(RESIDUAL)
    assert parse_long(long.replace(", ", ",\n\t")) == parse(RESIDUAL)
    assert parse_long(long.replace(": ", ":   ")) == parse(RESIDUAL)


def test_long_form_ignores_shape_notes_and_accepts_missing_ones():
    wrong_shapes = "sequential[computation[linear(16){'out_feature_shape': [1, 2, 3]}], computation[relu{'out_feature_shape': []}]]"
    bare = "sequential[computation[linear(16)], computation[relu]]"
    expected = parse("sequential(computation<linear(16)>, computation<relu>)")
    assert parse_long(wrong_shapes) == expected
    assert parse_long(bare) == expected


def test_compact_and_long_forms_are_not_interchangeable():
    with pytest.raises(ParseError):
        parse("sequential[computation[relu], computation[relu]]")
    with pytest.raises(ParseError):
        parse_long("sequential(computation<relu>, computation<relu>)")


# --- errors -------------------------------------------------------------------------------------

DEEP = "sequential(" * (MAX_NESTING + 1)

PARSE_ERRORS = [
    # (input, line, column, substring of the message)
    ("sequential(computation<relu>, computation<norm>", 1, 48, "expected ')'"),
    ("sequential(computation<relu>, computation<norm>))", 1, 49, "expected end of input"),
    ("sequential(computation<relu> computation<norm>)", 1, 30, "expected ','"),
    ("routing[identity, computation<relu>, identity", 1, 46, "expected '(', ']'"),
    ("branching(2){clone(2), computation<relu>, computation<relu>, add(2)", 1, 68, "expected '}'"),
    ("computation<relu", 1, 17, "expected"),
    ("computation<foo>", 1, 13, "unknown computation function foo; expected one of: identity"),
    ("computation<linear(17)>", 1, 13, "bad parameters for computation function linear(17); expected one of"),
    ("computation<linear>", 1, 13, "bad parameters for computation function linear;"),
    ("computation<linear(16,16)>", 1, 13, "linear(16), linear(32)"),
    ("computation<linear(-16)>", 1, 13, "bad parameters"),
    ("computation<linear(a)>", 1, 13, "bad parameters"),
    ("branching(3){clone(3), computation<relu>, add(3)}", 1, 11, "branching(3) is not in the grammar"),
    ("branching(2){clone(2), computation<relu>, add(2)}", 1, 11, "expected 2 modules"),
    (
        "branching(4){clone(4), computation<relu>, computation<relu>, add(4)}",
        1, 11, "expected 1 module between its branching and aggregation functions, got 2",
    ),
    (
        "branching(2){clone(4), computation<relu>, computation<relu>, add(2)}",
        1, 14, "bad parameters for branching function clone(4); expected one of: clone(2), group(2,1)",
    ),
    (
        "branching(2){clone(2), computation<relu>, computation<relu>, add(4)}",
        1, 62, "bad parameters for aggregation function add(4)",
    ),
    ("branching(4){clone(4), computation<relu>, dot_product}", 1, 43, "aggregation function dot_product"),
    ("routing[col2im, computation<relu>, identity]", 1, 9, "unknown pre-routing function col2im"),
    ("routing[identity, computation<relu>, im2col(3,1,1)]", 1, 38, "unknown post-routing function im2col"),
    ("routing[perm(0,1,2), computation<relu>, identity]", 1, 9, "bad parameters for pre-routing function perm(0,1,2)"),
    ("routing[im2col(2,2,0), computation<relu>, identity]", 1, 9, "im2col(3,1,1)"),
    ("computation<dot_product(scaled)>", 1, 13, "unknown computation function"),
    ("foo(computation<relu>)", 1, 1, "expected branching, computation, routing, sequential"),
    ("Computation<relu>", 1, 1, "unexpected character 'C'"),
    ("computation<relu> extra", 1, 19, "expected end of input"),
    ("computation<relu>#", 1, 18, "unexpected character '#'"),
    ("", 1, 1, "empty architecture string; expected a module"),
    ("   \n\t  ", 1, 1, "empty architecture string"),
    ("sequential(computation<relu>,\n computation<nrm>)", 2, 14, "unknown computation function nrm"),
    ("sequential(computation<relu>,\n   computation<relu>]", 2, 21, "unexpected ']'"),
    ("sequential(\ncomputation<relu>,\ncomputation<relu>\n", 3, 18, "unexpected end of input"),
    ("x" * (MAX_CHARS + 1), 1, 1, f"exceeds the limit of {MAX_CHARS:,}"),
    (DEEP, 1, 11 * MAX_NESTING + 11, f"nested deeper than {MAX_NESTING} levels"),
    ("\n" + DEEP, 2, 11 * MAX_NESTING + 11, "nested deeper"),
]


@pytest.mark.parametrize(
    "text, line, column, message",
    PARSE_ERRORS,
    ids=[f"{i}:{t[:40]!r}" for i, (t, *_rest) in enumerate(PARSE_ERRORS)],
)
def test_parse_error_has_position_and_says_what_was_expected(text, line, column, message):
    with pytest.raises(ParseError) as info:
        parse(text)
    err = info.value
    assert (err.line, err.column) == (line, column)
    assert message in err.message
    assert str(err).startswith(f"line {line}, column {column}: ")
    assert isinstance(err, ArchitectureError) and isinstance(err, ValueError)


@pytest.mark.parametrize(
    "text, line, column, message",
    [
        ("sequential[computation[relu], computation[relu]", 1, 48, "expected ']'"),
        ("sequential[computation[relu{'out_feature_shape': [3, 28}], computation[relu]]", 1, 56, "unexpected '}'"),
        ("computation[relu{'shape': [3]}]", 1, 18, "expected \"'out_feature_shape'\""),
        ("computation[linear(17){'out_feature_shape': [3]}]", 1, 13, "bad parameters"),
        ("sequential[computation[relu],\ncomputation[gelu]]", 2, 13, "unknown computation function gelu"),
        ("", 1, 1, "empty"),
    ],
)
def test_parse_long_errors(text, line, column, message):
    with pytest.raises(ParseError) as info:
        parse_long(text)
    assert (info.value.line, info.value.column) == (line, column)
    assert message in info.value.message


def test_nesting_at_the_limit_still_parses():
    depth = MAX_NESTING - 1  # plus the computation's own '<'
    text = "sequential(" * depth + RELU + ", computation<norm>)" * depth
    arch = parse(text)
    assert to_string(arch) == text


@pytest.mark.parametrize("value", [None, 3, 2.5, b"computation<relu>", ["computation<relu>"], Computation(Op("relu"))])
@pytest.mark.parametrize("func", [parse, parse_long])
def test_non_string_input_is_a_type_error(func, value):
    with pytest.raises(TypeError, match="expected an architecture string"):
        func(value)


def test_fast_path_agrees_with_the_lark_parser():
    """`parse` tokenises well-formed strings itself; the lark grammar is the reference."""
    import random

    from surrogate_hub.space import ParseError, sample_many
    from surrogate_hub.space.parse import _parse

    rng = random.Random(0)
    texts = [to_string(a) for a in sample_many(300, (3, 28, 28), seed=11)]
    texts += [t.replace(", ", " ,\n  ").replace("(", " ( ") for t in texts[:50]]
    for t in texts[:150]:  # random single-character edits
        i = rng.randrange(len(t))
        texts.append(t[:i] + rng.choice("(){}[]<>, a1") + t[i + 1 :])
        texts.append(t[:i] + t[i + 1 :])
    for t in texts:
        try:
            expected = _parse(t, "compact")
        except ParseError:
            with pytest.raises(ParseError):
                parse(t)
        else:
            assert parse(t) == expected
