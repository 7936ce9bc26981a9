"""GRAF features (surrogate_hub.features.graf): names, labels, hand-worked values, the paper's counts,
purity, and agreement of the one-pass tree computation with the plain networkx definition."""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path

import networkx as nx
import numpy as np
import pytest

from surrogate_hub.features.graf import (
    EXTRA_FEATURE_NAMES,
    GRAF_FAMILIES,
    GRAF_FEATURE_NAMES,
    GRAF_LABELS,
    GRAF_VERSION,
    checked_label,
    graf,
    graf_extras,
    graf_from_graph,
    graf_matrix,
    graf_vector,
    is_graf_label,
    names_hash,
    op_label,
)
from surrogate_hub.features.graph import INPUT, OUTPUT, to_graph
from surrogate_hub.space import (
    ArchitectureError,
    Computation,
    Op,
    ParseError,
    Role,
    ShapeError,
    flops,
    infer,
    n_params,
    options,
    output_shape,
    parse,
    sample_many,
    to_string,
    tree_stats,
)
from surrogate_hub.space.ops import BRANCH_FACTORS

_REFERENCE_NAME = "einspace_reference.jsonl"
_REFERENCE_CANDIDATES = (
    Path(__file__).parent / "data" / _REFERENCE_NAME,
    Path(__file__).resolve().parents[2] / "shared" / "reference" / _REFERENCE_NAME,  # shared checkout
)

# The paper's 55 labels in the reference file's key order.
PAPER_LABELS = (
    "sequential_module branching_module routing_module computation_module "
    "clone_tensor2 group_dim2s1d group_dim2s2d group_dim2s3d "
    "clone_tensor4 group_dim4s1d group_dim4s2d group_dim4s3d "
    "clone_tensor8 group_dim8s1d group_dim8s2d group_dim8s3d "
    "add_tensors cat_tensors1d2t cat_tensors2d2t cat_tensors3d2t dot_product scaled_dot_product "
    "cat_tensors1d4t cat_tensors2d4t cat_tensors3d4t cat_tensors1d8t cat_tensors2d8t cat_tensors3d8t "
    "identity permute21 permute132 permute312 permute321 permute213 permute231 "
    "im2col1k1s0p im2col1k2s0p im2col3k1s1p im2col3k2s1p im2col4k4s0p im2col8k8s0p im2col16k16s0p col2im "
    "linear16 linear32 linear64 linear128 linear256 linear512 linear1024 linear2048 "
    "norm leakyrelu softmax learnable_positional_encoding"
).split()


def _reference_records() -> list[dict]:
    for path in _REFERENCE_CANDIDATES:
        if path.is_file():
            return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    pytest.skip(f"{_REFERENCE_NAME} not found in {[str(p) for p in _REFERENCE_CANDIDATES]}")


# ------------------------------------------------------------------------------------ names/labels
def test_labels_derive_from_the_option_table_in_the_paper_order():
    assert GRAF_LABELS == tuple(PAPER_LABELS)
    assert len(GRAF_LABELS) == len(set(GRAF_LABELS)) == 55


@pytest.mark.parametrize(
    ("op", "label"),
    [
        (Op("clone", (4,)), "clone_tensor4"),
        (Op("group", (8, 3)), "group_dim8s3d"),
        (Op("add", (8,)), "add_tensors"),
        (Op("cat", (4, 2)), "cat_tensors2d4t"),
        (Op("dot_product"), "dot_product"),
        (Op("dot_product", ("scaled",)), "scaled_dot_product"),
        (Op("perm", (0, 2, 1)), "permute21"),
        (Op("perm", (0, 1, 3, 2)), "permute132"),
        (Op("perm", (0, 3, 1, 2)), "permute312"),
        (Op("im2col", (16, 16, 0)), "im2col16k16s0p"),
        (Op("col2im"), "col2im"),
        (Op("linear", (2048,)), "linear2048"),
        (Op("relu"), "leakyrelu"),
        (Op("pos_enc"), "learnable_positional_encoding"),
        (Op("identity"), "identity"),
    ],
)
def test_op_label(op, label):
    assert op_label(op) == label


def test_every_grammar_option_has_a_label():
    roles = [(Role.BRANCH_FN, k) for k in BRANCH_FACTORS] + [(Role.AGGREGATION, k) for k in BRANCH_FACTORS]
    roles += [(Role.PRE_ROUTING, 0), (Role.POST_ROUTING, 0), (Role.COMPUTATION, 0)]
    assert {op_label(op) for role, k in roles for op in options(role, k)} == set(GRAF_LABELS[4:])
    # an op outside the paper's naming is named by its name and arguments, but is not a feature
    assert op_label(Op("conv", (3, 1))) == "conv31" and not is_graf_label("conv31")
    with pytest.raises(ArchitectureError, match="not in the grammar"):
        checked_label(Op("conv", (3, 1)))
    with pytest.raises(ArchitectureError, match="not in the grammar"):
        graf(Computation(Op("conv", (3, 1))))
    with pytest.raises(ArchitectureError, match="too few arguments"):
        op_label(Op("linear"))


def test_feature_names_are_stable():
    assert len(GRAF_FEATURE_NAMES) == len(set(GRAF_FEATURE_NAMES)) == 385
    assert GRAF_FAMILIES == ("cnt", "in", "out", "in_deg", "out_deg", "max_nodes_path", "min_nodes_path")
    assert GRAF_FEATURE_NAMES[:3] == ("cnt_sequential_module", "cnt_branching_module", "cnt_routing_module")
    assert GRAF_FEATURE_NAMES[55:57] == ("in_sequential_module", "in_branching_module")
    assert "in_deg_norm" in GRAF_FEATURE_NAMES and "cnt_linear16" in GRAF_FEATURE_NAMES
    assert GRAF_FEATURE_NAMES[-2:] == ("min_nodes_path_softmax", "min_nodes_path_learnable_positional_encoding")
    # Changing names or order changes this hash: bump GRAF_VERSION and update it together.
    assert (GRAF_VERSION, names_hash()) == ("1.0", "2f853b2f5cee719b")
    assert EXTRA_FEATURE_NAMES == (
        "n_terminals", "n_nonterminals", "depth", "out_rank", "out_dim1", "out_dim2", "out_dim3", "n_params", "flops"
    )  # fmt: skip


# ------------------------------------------------------------------------------------ hand-worked
# Each case: the architecture, an input shape at which it is valid, and every non-zero feature, per
# family, worked out by hand (V = number of vertices incl. input and output). All others must be 0.
HAND_WORKED = [
    pytest.param(
        # input → im2col → linear64 → col2im → relu → output; V = 4 + 2 = 6
        "sequential(routing[im2col(3,1,1), computation<linear(64)>, col2im], computation<relu>)",
        (3, 28, 28),
        {
            "cnt": {"sequential_module": 1, "routing_module": 1, "computation_module": 2,
                    "im2col3k1s1p": 1, "linear64": 1, "col2im": 1, "leakyrelu": 1},
            "in": {"im2col3k1s1p": 1},
            "out": {"leakyrelu": 1},
            # every op has one out-edge and one in-edge
            "in_deg": {"im2col3k1s1p": 1 / 6, "linear64": 1 / 6, "col2im": 1 / 6, "leakyrelu": 1 / 6},
            "out_deg": {"im2col3k1s1p": 1 / 6, "linear64": 1 / 6, "col2im": 1 / 6, "leakyrelu": 1 / 6},
            # a single path through all four ops
            "max_nodes_path": {"im2col3k1s1p": 1, "linear64": 1, "col2im": 1, "leakyrelu": 1},
            "min_nodes_path": {"im2col3k1s1p": 1, "linear64": 1, "col2im": 1, "leakyrelu": 1},
        },
        id="sequential-routing",
    ),
    pytest.param(
        # clone(2) → [linear16 → relu | identity] → add(2); V = 5 + 2 = 7
        "branching(2){clone(2), sequential(computation<linear(16)>, computation<relu>), "
        "computation<identity>, add(2)}",
        (1, 8, 16),
        {
            "cnt": {"branching_module": 1, "sequential_module": 1, "computation_module": 3,
                    "clone_tensor2": 1, "linear16": 1, "leakyrelu": 1, "identity": 1, "add_tensors": 1},
            "in": {"clone_tensor2": 1},
            "out": {"add_tensors": 1},
            # clone(2) has 2 out-edges, add(2) has 2 in-edges
            "in_deg": {"clone_tensor2": 2 / 7, "linear16": 1 / 7, "leakyrelu": 1 / 7, "identity": 1 / 7,
                       "add_tensors": 1 / 7},
            "out_deg": {"clone_tensor2": 1 / 7, "linear16": 1 / 7, "leakyrelu": 1 / 7, "identity": 1 / 7,
                        "add_tensors": 2 / 7},
            # paths: clone-linear16-relu-add and clone-identity-add
            "max_nodes_path": {"clone_tensor2": 1, "linear16": 1, "leakyrelu": 1, "identity": 1,
                               "add_tensors": 1},
            "min_nodes_path": {"clone_tensor2": 1, "add_tensors": 1},
        },
        id="branching2-add",
    ),
    pytest.param(
        # group(4,1) → 4 × linear32 → cat(4,1); V = 6 + 2 = 8
        "branching(4){group(4,1), computation<linear(32)>, cat(4,1)}",
        (4, 8, 8),
        {
            "cnt": {"branching_module": 1, "computation_module": 4,
                    "group_dim4s1d": 1, "linear32": 4, "cat_tensors1d4t": 1},
            "in": {"group_dim4s1d": 1},
            "out": {"cat_tensors1d4t": 1},
            "in_deg": {"group_dim4s1d": 4 / 8, "linear32": 4 / 8, "cat_tensors1d4t": 1 / 8},
            "out_deg": {"group_dim4s1d": 1 / 8, "linear32": 4 / 8, "cat_tensors1d4t": 4 / 8},
            # 4 identical paths group-linear32-cat
            "max_nodes_path": {"group_dim4s1d": 1, "linear32": 1, "cat_tensors1d4t": 1},
            "min_nodes_path": {"group_dim4s1d": 1, "linear32": 1, "cat_tensors1d4t": 1},
        },
        id="branching4-cat",
    ),
    pytest.param(
        # perm → clone(8) → 8 × {clone(2) → [norm | softmax] → add(2)} → add(8) → identity
        # ops: 1 + 1 + 8·4 + 1 + 1 = 36, V = 38; edges: input 1, perm 1, clone(8) 8, clone(2) 8·2,
        # norm 8, softmax 8, add(2) 8, add(8) 1, identity 1 (= 52)
        "routing[perm(0,2,1,3), branching(8){clone(8), branching(2){clone(2), computation<norm>, "
        "computation<softmax>, add(2)}, add(8)}, identity]",
        (3, 8, 8),
        {
            "cnt": {"routing_module": 1, "branching_module": 1 + 8, "computation_module": 16,
                    "permute213": 1, "clone_tensor8": 1, "clone_tensor2": 8, "norm": 8, "softmax": 8,
                    "add_tensors": 8 + 1, "identity": 1},
            "in": {"permute213": 1},
            "out": {"identity": 1},
            # sources: add_tensors = 8 add(2) + 1 add(8), one out-edge each
            "in_deg": {"permute213": 1 / 38, "clone_tensor8": 8 / 38, "clone_tensor2": 16 / 38,
                       "norm": 8 / 38, "softmax": 8 / 38, "add_tensors": 9 / 38, "identity": 1 / 38},
            # targets: add_tensors = 8 add(2) × 2 in-edges + add(8) × 8 in-edges = 24
            "out_deg": {"permute213": 1 / 38, "clone_tensor8": 1 / 38, "clone_tensor2": 8 / 38,
                        "norm": 8 / 38, "softmax": 8 / 38, "add_tensors": 24 / 38, "identity": 1 / 38},
            # every path: perm, clone(8), clone(2), norm or softmax, add(2), add(8), identity
            "max_nodes_path": {"permute213": 1, "clone_tensor8": 1, "clone_tensor2": 1, "norm": 1,
                               "softmax": 1, "add_tensors": 2, "identity": 1},
            "min_nodes_path": {"permute213": 1, "clone_tensor8": 1, "clone_tensor2": 1,
                               "add_tensors": 2, "identity": 1},
        },
        id="routing-branching8-nested-branching2",
    ),
    pytest.param(
        # clone(2) → [linear16 | identity → linear16 → perm(0,1,3,2)] → dot_product(scaled); V = 6 + 2 = 8
        "branching(2){clone(2), computation<linear(16)>, routing[identity, computation<linear(16)>, "
        "perm(0,1,3,2)], dot_product(scaled)}",
        (1, 16, 16),
        {
            "cnt": {"branching_module": 1, "routing_module": 1, "computation_module": 2,
                    "clone_tensor2": 1, "linear16": 2, "identity": 1, "permute132": 1,
                    "scaled_dot_product": 1},
            "in": {"clone_tensor2": 1},
            "out": {"scaled_dot_product": 1},
            "in_deg": {"clone_tensor2": 2 / 8, "linear16": 2 / 8, "identity": 1 / 8, "permute132": 1 / 8,
                       "scaled_dot_product": 1 / 8},
            "out_deg": {"clone_tensor2": 1 / 8, "linear16": 2 / 8, "identity": 1 / 8, "permute132": 1 / 8,
                        "scaled_dot_product": 2 / 8},
            # paths: clone-linear16-dot and clone-identity-linear16-perm-dot
            "max_nodes_path": {"clone_tensor2": 1, "linear16": 1, "identity": 1, "permute132": 1,
                               "scaled_dot_product": 1},
            "min_nodes_path": {"clone_tensor2": 1, "linear16": 1, "scaled_dot_product": 1},
        },
        id="branching2-scaled-dot",
    ),
    pytest.param(
        # clone(4) → 4 × {group(8,3) → 8 × pos_enc → cat(8,3)} → cat(4,2)
        # ops: 1 + 4·(1 + 8 + 1) + 1 = 42, V = 44
        "branching(4){clone(4), branching(8){group(8,3), computation<pos_enc>, cat(8,3)}, cat(4,2)}",
        (1, 8, 16),
        {
            "cnt": {"branching_module": 1 + 4, "computation_module": 32, "clone_tensor4": 1,
                    "group_dim8s3d": 4, "learnable_positional_encoding": 32, "cat_tensors3d8t": 4,
                    "cat_tensors2d4t": 1},
            "in": {"clone_tensor4": 1},
            "out": {"cat_tensors2d4t": 1},
            "in_deg": {"clone_tensor4": 4 / 44, "group_dim8s3d": 32 / 44,
                       "learnable_positional_encoding": 32 / 44, "cat_tensors3d8t": 4 / 44,
                       "cat_tensors2d4t": 1 / 44},
            "out_deg": {"clone_tensor4": 1 / 44, "group_dim8s3d": 4 / 44,
                        "learnable_positional_encoding": 32 / 44, "cat_tensors3d8t": 32 / 44,
                        "cat_tensors2d4t": 4 / 44},
            "max_nodes_path": {"clone_tensor4": 1, "group_dim8s3d": 1, "learnable_positional_encoding": 1,
                               "cat_tensors3d8t": 1, "cat_tensors2d4t": 1},
            "min_nodes_path": {"clone_tensor4": 1, "group_dim8s3d": 1, "learnable_positional_encoding": 1,
                               "cat_tensors3d8t": 1, "cat_tensors2d4t": 1},
        },
        id="branching4-nested-branching8-cat",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("text", "shape", "expected"), HAND_WORKED)
def test_hand_worked(text, shape, expected):
    infer(parse(text), shape)  # a valid architecture
    want = {f"{family}_{label}": value for family, per in expected.items() for label, value in per.items()}
    assert set(want) <= set(GRAF_FEATURE_NAMES)
    for features in (graf(text), dict(zip(GRAF_FEATURE_NAMES, graf_from_graph(to_graph(text))))):
        nonzero = {name: value for name, value in features.items() if value != 0}
        assert nonzero == pytest.approx(want, rel=1e-12, abs=0)


# -------------------------------------------------------------------------------------- reference
def test_counts_match_the_papers_graf_counts():
    for record in _reference_records():
        features = graf(record["short_string"])
        assert list(record["graf_counts"]) == list(GRAF_FEATURE_NAMES[:55])
        got = {name: features[name] for name in record["graf_counts"]}
        assert got == record["graf_counts"], record["id"]


def test_extras_match_the_reference_records():
    for record in _reference_records():
        extras = graf_extras(record["short_string"], record["input_shape"], record["num_classes"])
        out = list(output_shape(parse(record["short_string"]), record["input_shape"]))
        assert extras["n_params"] == record["n_params"], record["id"]
        assert extras["n_terminals"] == record["n_terminals"]
        assert extras["n_nonterminals"] == record["n_nodes"] - record["n_terminals"]
        assert extras["depth"] == record["depth"]
        assert extras["out_rank"] == len(out) + 1
        assert [extras[f"out_dim{i}"] for i in (1, 2, 3)] == out + [0] * (3 - len(out))


def test_extras_hand_worked():
    text = "sequential(routing[im2col(3,1,1), computation<linear(64)>, col2im], computation<relu>)"
    # im2col(3,1,1) on 3×28×28: 784 tokens × 27 → linear(64): 27·64 + 64 params, 784·27·64 MACs
    # → col2im [64, 28, 28]; head: (64 + 1)·10 params, 64·10 MACs
    assert graf_extras(text, (3, 28, 28), 10) == {
        "n_terminals": 4.0,  # im2col, linear, col2im, relu
        "n_nonterminals": 4.0,  # sequential, routing, 2 × computation
        "depth": 3.0,  # sequential → computation (in routing) → linear: root 0, routing 1, computation 2
        "out_rank": 4.0,
        "out_dim1": 64.0,
        "out_dim2": 28.0,
        "out_dim3": 28.0,
        "n_params": float(27 * 64 + 64 + 65 * 10),
        "flops": float(784 * 27 * 64 + 64 * 10),
    }
    vit = "sequential(routing[im2col(4,4,0), computation<linear(128)>, identity], computation<pos_enc>)"
    extras = graf_extras(parse(vit), (3, 28, 28), 20)
    assert (extras["out_rank"], extras["out_dim1"], extras["out_dim2"], extras["out_dim3"]) == (3, 49, 128, 0)


def test_extras_agree_with_shape_inference():
    shape = (3, 32, 32)
    for arch in sample_many(40, shape, seed=5):
        extras = graf_extras(arch, shape, 10)
        stats = tree_stats(arch)
        assert extras["n_params"] == n_params(arch, shape, 10)
        assert extras["flops"] == flops(arch, shape, 10)
        assert extras["depth"] == stats.depth
        assert extras["out_rank"] == len(output_shape(arch, shape)) + 1


# ------------------------------------------------------------------------------------------ purity
def test_pure():
    """Defect B: features never change the caller's architecture, and repeat exactly."""
    record = _reference_records()[0]
    arch = parse(record["short_string"])
    before, h = copy.deepcopy(arch), hash(arch)
    first = graf_vector(arch)
    graf_from_graph(to_graph(arch))
    graf_extras(arch, record["input_shape"], record["num_classes"])
    assert arch == before and hash(arch) == h and to_string(arch) == record["short_string"]
    assert np.array_equal(first, graf_vector(arch))
    assert np.array_equal(first, graf_vector(record["short_string"]))


# ----------------------------------------------------------------------------- fast == networkx
def _check_equivalent(archs) -> None:
    for arch in archs:
        fast, reference = graf_vector(arch), graf_from_graph(to_graph(arch))
        if not np.array_equal(fast, reference):
            diff = {n: (a, b) for n, a, b in zip(GRAF_FEATURE_NAMES, fast, reference) if a != b}
            pytest.fail(f"{to_string(arch)}: {diff}")


def test_fast_path_equals_networkx_on_reference_and_samples():
    _check_equivalent([parse(r["short_string"]) for r in _reference_records()])
    _check_equivalent(sample_many(300, (3, 28, 28), seed=0))


@pytest.mark.slow
@pytest.mark.parametrize(("shape", "seed"), [((3, 32, 32), 1), ((1, 8, 8), 2)])
def test_fast_path_equals_networkx_more_samples(shape, seed):
    _check_equivalent(sample_many(300, shape, seed=seed))


def _count_paths(g: nx.DiGraph) -> int:
    paths = {}
    for v in nx.topological_sort(g):
        paths[v] = sum(paths[p] for p in g.predecessors(v)) or 1
    return paths[OUTPUT]


def test_path_families_by_enumerating_paths():
    """The path DP against brute force on graphs with few paths."""
    checked = 0
    for arch in sample_many(120, (3, 28, 28), seed=3):
        g = to_graph(arch)
        if _count_paths(g) > 2000:
            continue
        labels = nx.get_node_attributes(g, "label")
        counts = [
            [sum(labels[v] == label for v in path) for label in GRAF_LABELS]
            for path in nx.all_simple_paths(g, INPUT, OUTPUT)
        ]
        features = graf_vector(arch)
        np.testing.assert_array_equal(features[5 * 55 : 6 * 55], np.max(counts, axis=0))
        np.testing.assert_array_equal(features[6 * 55 :], np.min(counts, axis=0))
        checked += 1
    assert checked > 90


# ------------------------------------------------------------------------------------------- batch
def test_graf_matrix():
    archs = sample_many(10, (3, 28, 28), seed=7)
    texts = [to_string(a) for a in archs]
    x, names = graf_matrix(texts)
    assert names == GRAF_FEATURE_NAMES and x.shape == (10, 385) and x.dtype == np.float64
    np.testing.assert_array_equal(x, np.stack([graf_vector(a) for a in archs]))
    x32, _ = graf_matrix(iter(archs), dtype=np.float32)
    assert x32.dtype == np.float32
    np.testing.assert_array_equal(x32, x.astype(np.float32))

    xe, names = graf_matrix(archs, (3, 28, 28), 20, extras=True)
    assert names == GRAF_FEATURE_NAMES + EXTRA_FEATURE_NAMES and xe.shape == (10, 394)
    np.testing.assert_array_equal(xe[:, :385], x)
    assert list(xe[3, 385:]) == list(graf_extras(archs[3], (3, 28, 28), 20).values())
    assert graf_matrix([])[0].shape == (0, 385)


def test_graf_matrix_errors():
    good = "sequential(computation<linear(16)>, computation<relu>)"
    with pytest.raises(ParseError) as info:
        graf_matrix([good, "sequential(computation<linear(16)>"])
    assert "architecture #1" in "".join(getattr(info.value, "__notes__", []))

    x, _ = graf_matrix([good, "nonsense", good], errors="nan")
    assert not np.isnan(x[0]).any() and np.isnan(x[1]).all() and np.array_equal(x[0], x[2])

    # im2col(16,16,0) does not fit an 8×8 input: invalid only when extras need the shape
    big_patch = "sequential(routing[im2col(16,16,0), computation<linear(16)>, identity], computation<relu>)"
    assert not np.isnan(graf_matrix([big_patch])[0]).any()
    with pytest.raises(ShapeError):
        graf_matrix([big_patch], (1, 8, 8), 10, extras=True)
    x, _ = graf_matrix([big_patch, good], (1, 8, 8), 10, extras=True, errors="nan")
    assert np.isnan(x[0]).all() and not np.isnan(x[1]).any()

    with pytest.raises(ValueError, match="input_shape"):
        graf_matrix([good], extras=True)
    with pytest.raises(ValueError, match="errors"):
        graf_matrix([good], errors="ignore")
    with pytest.raises(TypeError):
        graf_matrix([None])  # type: ignore[list-item]


def test_values_are_finite_and_consistent():
    """Invariants on samples: in/out one-hot, degrees sum to edges / vertices, min ≤ max ≤ cnt."""
    for arch in sample_many(100, (1, 8, 8), seed=11):
        f = graf_vector(arch).reshape(7, 55)
        cnt, in_, out, src, dst, mx, mn = f
        assert np.isfinite(f).all()
        assert in_.sum() == out.sum() == 1 and not in_[:4].any()
        # every edge but input → first op has a labelled source, every edge but last op → output a
        # labelled target
        assert math.isclose(src.sum(), dst.sum())
        assert (mn <= mx).all() and (mx <= cnt).all() and not mx[:4].any()
