"""The reference architectures produced by the paper's code (``spec/einspace.md``, "Reference data").

Every record is checked through every text form, shape inference, tree statistics and the compiled
torch network. The records are read from ``tests/data`` (a copy of the shared reference file, so the
suite runs without the shared folder); a separate test keeps the copy identical to the original.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from surrogate_hub.space import (
    n_params,
    output_shape,
    parse,
    parse_long,
    to_long_string,
    to_string,
    tree_stats,
)

DATA = Path(__file__).parent / "data" / "einspace_reference.jsonl"
SHARED = Path(__file__).resolve().parents[2] / "shared" / "reference" / "einspace_reference.jsonl"


def _load(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


RECORDS = _load(DATA)
BY_ID = {r["id"]: r for r in RECORDS}
IDS = list(BY_ID)


def test_reference_file_has_all_records():
    assert len(RECORDS) == 33
    assert len(BY_ID) == len(RECORDS)  # ids are unique
    sources = {r["source"] for r in RECORDS}
    assert sources == {"seed_architecture", "seed_architecture_patched", "random"}
    assert {tuple(r["input_shape"]) for r in RECORDS} == {(3, 28, 28), (3, 32, 32), (1, 8, 8)}


@pytest.mark.skipif(not SHARED.exists(), reason="shared reference folder not present")
def test_copy_matches_shared_reference():
    assert DATA.read_bytes() == SHARED.read_bytes()


@pytest.fixture(params=IDS)
def record(request) -> dict:
    return BY_ID[request.param]


def test_compact_string_round_trips_exactly(record):
    arch = parse(record["short_string"])
    assert to_string(arch) == record["short_string"]


def test_long_string_matches_reference(record):
    arch = parse(record["short_string"])
    assert to_long_string(arch, record["input_shape"]) == record["long_string"]


def test_parse_long_gives_the_compact_value(record):
    assert parse_long(record["long_string"]) == parse(record["short_string"])


def test_n_params_matches_reference(record):
    arch = parse(record["short_string"])
    assert n_params(arch, record["input_shape"], record["num_classes"]) == record["n_params"]


def test_tree_stats_match_reference(record):
    stats = tree_stats(parse(record["short_string"]))
    assert (stats.depth, stats.n_nodes, stats.n_terminals) == (
        record["depth"],
        record["n_nodes"],
        record["n_terminals"],
    )




def test_compiled_network_matches_reference(record, torch1):
    torch = torch1
    from surrogate_hub.space.compile import compile_architecture

    arch = parse(record["short_string"])
    shape = tuple(record["input_shape"])
    net = compile_architecture(arch, shape, record["num_classes"])
    assert sum(p.numel() for p in net.parameters()) == record["n_params"]
    x = torch.randn(2, *shape)
    with torch.no_grad():
        features = net.backbone(x)
        out = net(x)
    assert tuple(features.shape) == (2, *output_shape(arch, shape))
    assert list(out.shape) == record["output_shape"]
    assert torch.isfinite(out).all()
