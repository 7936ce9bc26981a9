"""Seed architectures by name (``surrogate_hub.space.seeds``), checked against the reference data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from surrogate_hub.space import ShapeError, n_params, parse, to_string
from surrogate_hub.space.seeds import get_seed, list_seeds, seed_description, seed_string

DATA = Path(__file__).parent / "data" / "einspace_reference.jsonl"
SEED_RECORDS = [
    r
    for r in (json.loads(line) for line in DATA.read_text(encoding="utf-8").splitlines() if line.strip())
    if r["source"].startswith("seed_architecture")
]
NAMES = [
    "resnet18_no_maxpool",
    "wideresnet16_4",
    "vit_d2",
    "vit_d4",
    "vit_d8",
    "mlpmixer_d2",
    "mlpmixer_d4",
    "mlpmixer_d8",
]


def test_list_seeds():
    assert list_seeds() == NAMES


@pytest.mark.parametrize("name", NAMES)
def test_each_seed_parses_to_its_canonical_string(name):
    text = seed_string(name)
    assert to_string(parse(text)) == text
    assert get_seed(name) == parse(text)
    assert seed_description(name)


@pytest.mark.parametrize("record", SEED_RECORDS, ids=[r["id"] for r in SEED_RECORDS])
def test_seed_matches_reference_record(record):
    name = record["seed_arch_name"]
    assert seed_string(name) == record["short_string"]
    assert n_params(get_seed(name), record["input_shape"], record["num_classes"]) == record["n_params"]


def test_every_seed_has_a_reference_record():
    assert {r["seed_arch_name"] for r in SEED_RECORDS} == set(NAMES)


@pytest.mark.parametrize(
    "name, expected",
    [
        # spec: ResNet-18 ~11.2M, WRN-16-4 ~2.75M, ViT 2/4/8 ~5.3M / 10.6M / 21.1M at 3x28x28 with 20 classes
        ("resnet18_no_maxpool", 11_220_820),
        ("wideresnet16_4", 2_753_716),
        ("vit_d2", 5_302_128),
        ("vit_d4", 10_553_080),
        ("vit_d8", 21_054_984),
    ],
)
def test_seed_params_at_3x28x28_with_20_classes(name, expected):
    assert n_params(get_seed(name), (3, 28, 28), 20) == expected


@pytest.mark.parametrize("name", ["mlpmixer_d2", "mlpmixer_d4", "mlpmixer_d8"])
def test_mixers_are_built_for_64_tokens(name):
    """The corrected Mixer strings fix linear(256)/linear(64) token-mixing widths for 8x8 patch grids
    (32x32 inputs, patch 4), so they are valid at 3x32x32 and not at 3x28x28 (7x7 = 49 tokens)."""
    assert n_params(get_seed(name), (3, 32, 32), 10) > 0
    with pytest.raises(ShapeError, match="add needs identical shapes"):
        n_params(get_seed(name), (3, 28, 28), 20)


@pytest.mark.parametrize("func", [get_seed, seed_string, seed_description])
@pytest.mark.parametrize("bad", ["resnet50", "", "ViT_D2"])
def test_unknown_seed_is_a_key_error_listing_the_names(func, bad):
    with pytest.raises(KeyError) as info:
        func(bad)
    message = str(info.value)
    assert repr(bad) in message
    for name in NAMES:
        assert name in message
