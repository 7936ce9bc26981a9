"""Text forms: the compact notation and the long LM encoding (``surrogate_hub.space.printing``)."""

from __future__ import annotations

import pytest

from surrogate_hub.space import ShapeError, parse, parse_long, to_long_string, to_string


@pytest.mark.parametrize(
    "text, input_shape, long",
    [
        (  # the spec's example
            "sequential(computation<linear(16)>, computation<relu>)",
            (3, 28, 28),
            "sequential[computation[linear(16){'out_feature_shape': [3, 28, 16]}], "
            "computation[relu{'out_feature_shape': [3, 28, 16]}]]",
        ),
        (
            "routing[im2col(4,4,0), computation<linear(128)>, identity]",
            (3, 28, 28),
            "routing[im2col(4,4,0){'out_feature_shape': [49, 48]}, computation[linear(128){'out_feature_shape': [49, 128]}], "
            "identity{'out_feature_shape': [49, 128]}]",
        ),
        (  # clone/group print one branch's shape; aggregations the combined shape
            "branching(2){group(2,3), computation<identity>, computation<linear(32)>, cat(2,3)}",
            (1, 8, 8),
            "branching(2)[group(2,3){'out_feature_shape': [1, 8, 4]}, computation[identity{'out_feature_shape': [1, 8, 4]}], "
            "computation[linear(32){'out_feature_shape': [1, 8, 32]}], cat(2,3){'out_feature_shape': [1, 8, 36]}]",
        ),
        (  # branching(4/8) print their inner module once
            "branching(4){clone(4), computation<norm>, cat(4,1)}",
            (1, 8, 8),
            "branching(4)[clone(4){'out_feature_shape': [1, 8, 8]}, computation[norm{'out_feature_shape': [1, 8, 8]}], "
            "cat(4,1){'out_feature_shape': [4, 8, 8]}]",
        ),
        (
            "branching(2){clone(2), computation<identity>, computation<identity>, dot_product(scaled)}",
            (2, 3, 3),
            "branching(2)[clone(2){'out_feature_shape': [2, 3, 3]}, computation[identity{'out_feature_shape': [2, 3, 3]}], "
            "computation[identity{'out_feature_shape': [2, 3, 3]}], dot_product(scaled){'out_feature_shape': [2, 3, 3]}]",
        ),
        (
            "routing[im2col(3,2,1), computation<linear(16)>, col2im]",
            (1, 8, 8),
            "routing[im2col(3,2,1){'out_feature_shape': [16, 9]}, computation[linear(16){'out_feature_shape': [16, 16]}], "
            "col2im{'out_feature_shape': [16, 4, 4]}]",
        ),
    ],
)
def test_to_long_string(text, input_shape, long):
    arch = parse(text)
    assert to_long_string(arch, input_shape) == long
    assert parse_long(long) == arch
    assert to_string(parse_long(long)) == text


def test_to_long_string_of_an_invalid_architecture_is_a_shape_error():
    with pytest.raises(ShapeError) as info:
        to_long_string(parse("routing[identity, computation<relu>, col2im]"), (3, 28, 28))
    assert info.value.path == ("post",)


def test_canonical_spacing():
    text = "  sequential(\n routing[ im2col( 3 ,1,1 ) ,computation< linear( 64 ) >,col2im ] ,computation<norm>)"
    assert to_string(parse(text)) == "sequential(routing[im2col(3,1,1), computation<linear(64)>, col2im], computation<norm>)"
