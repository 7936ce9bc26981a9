"""Analytic shape inference, parameter counts and FLOPs (``surrogate_hub.space.shapes``)."""

from __future__ import annotations

import pytest

from surrogate_hub.space import ShapeError, flops, infer, n_params, output_shape, parse
from surrogate_hub.space.errors import ArchitectureError

# --- valid architectures ------------------------------------------------------------------------

@pytest.mark.parametrize(
    "text, input_shape, expected",
    [
        ("computation<relu>", (3, 28, 28), (3, 28, 28)),
        ("computation<linear(16)>", (3, 28, 28), (3, 28, 16)),
        ("routing[perm(0,3,1,2), computation<identity>, identity]", (2, 5, 7), (7, 2, 5)),  # spec example
        ("routing[perm(0,1,3,2), computation<identity>, identity]", (2, 5, 7), (2, 7, 5)),
        ("routing[perm(0,3,2,1), computation<identity>, identity]", (2, 5, 7), (7, 5, 2)),
        ("routing[perm(0,2,1,3), computation<identity>, identity]", (2, 5, 7), (5, 2, 7)),
        ("routing[perm(0,2,3,1), computation<identity>, identity]", (2, 5, 7), (5, 7, 2)),
        ("routing[im2col(4,4,0), computation<identity>, identity]", (3, 28, 28), (49, 48)),
        ("routing[im2col(4,4,0), routing[perm(0,2,1), computation<identity>, identity], identity]", (3, 28, 28), (48, 49)),
        ("routing[im2col(3,1,1), computation<linear(64)>, col2im]", (3, 28, 28), (64, 28, 28)),
        ("routing[im2col(3,2,1), computation<linear(64)>, col2im]", (3, 28, 28), (64, 14, 14)),
        ("routing[im2col(3,2,1), computation<linear(64)>, col2im]", (3, 5, 9), (64, 3, 5)),
        ("routing[im2col(1,2,0), computation<identity>, col2im]", (3, 7, 7), (3, 4, 4)),
        ("routing[im2col(8,8,0), computation<identity>, col2im]", (1, 17, 8), (64, 2, 1)),
        ("routing[im2col(16,16,0), computation<identity>, identity]", (3, 16, 16), (1, 768)),
        # the looser parse-time rule: H + 2p >= k (seed architectures do this on 2x2 maps)
        ("routing[im2col(3,1,1), computation<identity>, identity]", (3, 2, 2), (4, 27)),
        ("routing[im2col(3,1,1), computation<identity>, col2im]", (3, 1, 1), (27, 1, 1)),
        ("branching(2){clone(2), computation<linear(16)>, computation<identity>, cat(2,3)}", (3, 28, 28), (3, 28, 44)),
        ("branching(4){group(4,3), computation<linear(16)>, cat(4,3)}", (3, 28, 28), (3, 28, 64)),
        ("branching(8){group(8,2), computation<relu>, cat(8,1)}", (3, 32, 32), (24, 4, 32)),
        ("branching(2){group(2,1), computation<relu>, computation<relu>, add(2)}", (4, 6, 6), (2, 6, 6)),
        ("branching(2){clone(2), computation<linear(16)>, computation<linear(16)>, cat(2,2)}", (3, 28, 28), (3, 56, 16)),
        (
            "branching(2){clone(2), computation<identity>, computation<linear(16)>, dot_product}",
            (3, 28, 28),
            (3, 28, 16),
        ),
        (
            "routing[im2col(4,4,0), branching(2){clone(2), computation<linear(64)>, "
            "routing[identity, computation<linear(64)>, perm(0,2,1)], dot_product(scaled)}, identity]",
            (3, 28, 28),
            (49, 49),
        ),
        # the patch grid travels with the state to later siblings
        (
            "sequential(routing[im2col(4,4,0), computation<linear(16)>, identity], routing[identity, computation<relu>, col2im])",
            (3, 28, 28),
            (16, 7, 7),
        ),
        # ... and through branching functions and aggregations
        (
            "routing[im2col(4,4,0), branching(2){group(2,2), computation<identity>, computation<relu>, cat(2,2)}, col2im]",
            (3, 28, 28),
            (48, 7, 7),
        ),
        (
            "routing[im2col(4,4,0), branching(4){clone(4), computation<linear(16)>, cat(4,2)}, col2im]",
            (3, 28, 28),
            (64, 7, 7),
        ),
        # and the newest im2col wins
        (
            "sequential(routing[im2col(4,4,0), computation<identity>, col2im], routing[im2col(1,2,0), computation<identity>, col2im])",
            (3, 28, 28),
            (48, 4, 4),
        ),
    ],
)
def test_output_shape(text, input_shape, expected):
    assert output_shape(parse(text), input_shape) == expected


@pytest.mark.parametrize(
    "text, grid",
    [
        ("computation<relu>", None),
        ("routing[im2col(4,4,0), computation<identity>, identity]", (7, 7)),
        ("routing[im2col(4,4,0), computation<identity>, col2im]", (7, 7)),  # col2im does not clear it
        ("routing[im2col(3,2,1), computation<identity>, col2im]", (14, 14)),
        # an aggregation passes on branch 0's grid
        ("branching(2){clone(2), routing[im2col(1,1,0), computation<identity>, col2im], computation<identity>, add(2)}", (28, 28)),
        ("branching(2){clone(2), computation<identity>, routing[im2col(1,1,0), computation<identity>, col2im], add(2)}", None),
    ],
)
def test_patch_grid_travels_with_the_state(text, grid):
    assert infer(parse(text), (3, 28, 28)).output.grid == grid


# --- shape errors -------------------------------------------------------------------------------

SHAPE_ERRORS = [
    # (architecture, input shape, path, op, input shapes, substring of the message)
    ("routing[identity, computation<relu>, col2im]", (3, 28, 28), ("post",), "col2im", ((3, 28, 28),), "token-mode"),
    (
        "sequential(routing[perm(0,3,1,2), computation<relu>, identity], routing[identity, computation<relu>, col2im])",
        (3, 28, 28), ("second", "post"), "col2im", ((28, 3, 28),), "col2im needs a token-mode",
    ),
    (
        "routing[im2col(4,4,0), routing[perm(0,2,1), computation<relu>, identity], col2im]",
        (3, 28, 28), ("post",), "col2im", ((48, 49),), "48 tokens do not fill the 7x7 patch grid",
    ),
    (
        "branching(2){clone(2), computation<linear(16)>, computation<identity>, add(2)}",
        (3, 28, 28), ("agg",), "add(2)", ((3, 28, 16), (3, 28, 28)), "add needs identical shapes",
    ),
    (
        "branching(2){clone(2), computation<linear(16)>, computation<identity>, cat(2,1)}",
        (3, 28, 28), ("agg",), "cat(2,1)", ((3, 28, 16), (3, 28, 28)), "cat on axis 1 needs all other axes equal",
    ),
    (
        "branching(2){clone(2), routing[im2col(4,4,0), computation<identity>, identity], computation<identity>, cat(2,3)}",
        (3, 28, 28), ("agg",), "cat(2,3)", ((49, 48), (3, 28, 28)), "equal rank",
    ),
    (
        "branching(2){clone(2), computation<linear(16)>, computation<identity>, dot_product}",
        (3, 28, 28), ("agg",), "dot_product", ((3, 28, 16), (3, 28, 28)), "last axis (16) to equal branch1's second-to-last (28)",
    ),
    (
        "branching(2){clone(2), computation<linear(16)>, routing[im2col(4,4,0), computation<identity>, identity], dot_product(scaled)}",
        (3, 28, 28), ("agg",), "dot_product(scaled)", ((3, 28, 16), (49, 48)), "equal leading axes",
    ),
    ("routing[perm(0,2,1), computation<relu>, identity]", (3, 28, 28), ("pre",), "perm(0,2,1)", ((3, 28, 28),), "rank-3"),
    (
        "routing[im2col(4,4,0), routing[perm(0,1,3,2), computation<relu>, identity], identity]",
        (3, 28, 28), ("inner", "pre"), "perm(0,1,3,2)", ((49, 48),), "4-way permutation needs a rank-4",
    ),
    ("branching(2){group(2,1), computation<relu>, computation<relu>, add(2)}", (3, 28, 28), ("fn",), "group(2,1)", ((3, 28, 28),), "axis 1 of size 3 cannot be split into 2"),
    ("branching(4){group(4,2), computation<relu>, add(4)}", (3, 30, 30), ("fn",), "group(4,2)", ((3, 30, 30),), "cannot be split into 4 equal chunks"),
    ("branching(8){group(8,1), computation<relu>, add(8)}", (4, 8, 8), ("fn",), "group(8,1)", ((4, 8, 8),), "size 4 cannot be split into 8"),
    (
        "routing[im2col(4,4,0), branching(2){group(2,3), computation<relu>, computation<relu>, add(2)}, identity]",
        (3, 28, 28), ("inner", "fn"), "group(2,3)", ((49, 48),), "axis 3 does not exist",
    ),
    ("routing[im2col(16,16,0), computation<relu>, identity]", (3, 8, 8), ("pre",), "im2col(16,16,0)", ((3, 8, 8),), "16x16 patch with padding 0 does not fit a 8x8 map"),
    # an image too small even with padding on one axis: H + 2p < k
    ("routing[im2col(8,8,0), computation<relu>, identity]", (3, 16, 7), ("pre",), "im2col(8,8,0)", ((3, 16, 7),), "does not fit a 16x7 map"),
    (
        "routing[im2col(1,1,0), routing[im2col(1,1,0), computation<relu>, identity], identity]",
        (3, 8, 8), ("inner", "pre"), "im2col(1,1,0)", ((64, 3),), "image-mode (rank-4)",
    ),
    (
        "sequential(computation<relu>, branching(4){clone(4), sequential(computation<norm>, routing[identity, computation<relu>, col2im]), add(4)})",
        (3, 28, 28), ("second", "branches", 0, "second", "post"), "col2im", ((3, 28, 28),), "token-mode",
    ),
]


@pytest.mark.parametrize(
    "text, input_shape, path, op, shapes, message",
    SHAPE_ERRORS,
    ids=[f"{i}:{t[0][:50]}" for i, t in enumerate(SHAPE_ERRORS)],
)
def test_shape_error_names_the_offending_node(text, input_shape, path, op, shapes, message):
    arch = parse(text)
    with pytest.raises(ShapeError) as info:
        infer(arch, input_shape)
    err = info.value
    assert err.path == path
    assert err.op == op
    assert err.shapes == shapes
    assert message in err.message
    text_of_error = str(err)
    assert op in text_of_error
    assert ("/".join(map(str, path)) or "<root>") in text_of_error
    for s in shapes:
        assert str(list(s)) in text_of_error
    assert isinstance(err, ArchitectureError)
    # every public function that needs shapes raises the same error
    for func in (output_shape, lambda a, s: n_params(a, s, 10), lambda a, s: flops(a, s, 10)):
        with pytest.raises(ShapeError):
            func(arch, input_shape)


@pytest.mark.parametrize("bad", [(3, 28), (3, 28, 28, 1), (0, 28, 28), (3, -1, 28), ()])
def test_bad_input_shape_is_a_value_error(bad):
    with pytest.raises(ValueError, match="input_shape"):
        infer(parse("computation<relu>"), bad)


def test_same_string_is_valid_or_not_depending_on_input():
    arch = parse("routing[im2col(16,16,0), computation<linear(16)>, col2im]")
    assert output_shape(arch, (3, 32, 32)) == (16, 2, 2)
    with pytest.raises(ShapeError):
        output_shape(arch, (1, 8, 8))
    # ... and its parameter count depends on the channels
    assert n_params(arch, (3, 32, 32), 10) - n_params(arch, (1, 32, 32), 10) == 2 * 256 * 16


# --- parameters and FLOPs ---------------------------------------------------------------------

@pytest.mark.parametrize(
    "text, input_shape, classes, expected",
    [
        ("computation<relu>", (3, 28, 28), 10, (3 + 1) * 10),
        ("computation<linear(16)>", (3, 28, 28), 10, 28 * 16 + 16 + 40),
        ("computation<linear(16)>", (3, 28, 28), 1, 28 * 16 + 16 + 4),
        ("computation<norm>", (3, 28, 28), 10, 2 * 3 + 40),
        # BatchNorm1d over the tokens in col mode
        ("routing[im2col(4,4,0), computation<norm>, identity]", (3, 28, 28), 10, 2 * 49 + (49 + 1) * 10),
        # BatchNorm2d over whatever axis 1 holds after a permutation
        ("routing[perm(0,3,1,2), computation<norm>, identity]", (3, 28, 28), 10, 2 * 28 + (28 + 1) * 10),
        ("computation<pos_enc>", (3, 28, 28), 10, 3 * 28 * 28 + 40),
        ("routing[im2col(4,4,0), computation<pos_enc>, identity]", (3, 28, 28), 10, 49 * 48 + 500),
        ("routing[im2col(3,1,1), computation<linear(64)>, col2im]", (3, 28, 28), 10, 27 * 64 + 64 + 65 * 10),
        ("branching(4){clone(4), computation<linear(16)>, cat(4,1)}", (3, 28, 28), 10, 4 * (28 * 16 + 16) + 13 * 10),
        ("branching(4){group(4,3), computation<linear(16)>, cat(4,3)}", (3, 28, 28), 10, 4 * (7 * 16 + 16) + 40),
        ("branching(2){group(2,2), computation<linear(16)>, computation<linear(32)>, cat(2,2)}", (3, 28, 28), 10, None),
        (
            "branching(2){clone(2), branching(4){clone(4), computation<linear(16)>, add(4)}, computation<linear(16)>, add(2)}",
            (3, 28, 28), 10, 5 * (28 * 16 + 16) + 40,
        ),
        ("branching(8){clone(8), branching(4){clone(4), computation<norm>, add(4)}, add(8)}", (3, 28, 28), 10, 32 * 6 + 40),
        (
            "branching(2){clone(2), computation<identity>, routing[perm(0,1,3,2), computation<identity>, identity], dot_product}",
            (3, 28, 28), 10, 40,
        ),
        # linear input widths follow the inferred shapes
        ("sequential(computation<linear(16)>, computation<linear(32)>)", (3, 28, 28), 10, (28 * 16 + 16) + (16 * 32 + 32) + 40),
    ],
)
def test_n_params(text, input_shape, classes, expected):
    arch = parse(text)
    if expected is None:  # different-width branches: cat on axis 2 needs equal last axes
        with pytest.raises(ShapeError):
            n_params(arch, input_shape, classes)
    else:
        assert n_params(arch, input_shape, classes) == expected


@pytest.mark.parametrize(
    "text, input_shape, classes, expected",
    [
        ("computation<relu>", (3, 28, 28), 10, 3 * 10),
        ("computation<linear(16)>", (3, 28, 28), 10, 3 * 28 * 28 * 16 + 3 * 10),
        ("branching(4){clone(4), computation<linear(16)>, add(4)}", (3, 28, 28), 10, 4 * 3 * 28 * 28 * 16 + 30),
        (
            "branching(2){clone(2), computation<identity>, routing[perm(0,1,3,2), computation<identity>, identity], dot_product}",
            (3, 28, 28), 10, 3 * 28 * 28 * 28 + 30,
        ),
        ("routing[im2col(3,1,1), computation<linear(64)>, col2im]", (3, 28, 28), 20, 28 * 28 * 27 * 64 + 64 * 20),
    ],
)
def test_flops(text, input_shape, classes, expected):
    assert flops(parse(text), input_shape, classes) == expected


def test_infer_annotates_every_terminal_in_written_order():
    arch = parse(
        "sequential(routing[im2col(4,4,0), computation<linear(16)>, identity], "
        "branching(4){clone(4), computation<relu>, cat(4,1)})"
    )
    root = infer(arch, (3, 28, 28))
    ops = list(root.iter_ops())
    assert [str(o.op) for o in ops] == ["im2col(4,4,0)", "linear(16)", "identity", "clone(4)", "relu", "cat(4,1)"]
    assert [o.mult for o in ops] == [1, 1, 1, 1, 4, 1]
    assert [o.output.shape for o in ops] == [(49, 48), (49, 16), (49, 16), (49, 16), (49, 16), (196, 16)]
    assert ops[-1].inputs == (ops[-2].output,) * 4
