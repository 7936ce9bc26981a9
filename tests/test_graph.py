"""The GRAF data-flow graph (surrogate_hub.features.graph)."""

from __future__ import annotations

import copy
from collections import Counter

import networkx as nx
import pytest

from surrogate_hub.features.graph import INPUT, OUTPUT, to_graph
from surrogate_hub.space import Op, Role, Routing, infer, parse, sample_many
from surrogate_hub.space.errors import ArchitectureError
from surrogate_hub.space.tree import Branching, Computation, get_at

CONV_RELU = "sequential(routing[im2col(3,1,1), computation<linear(64)>, col2im], computation<relu>)"
RESIDUAL = (
    "branching(2){clone(2), sequential(computation<linear(16)>, computation<relu>), "
    "computation<identity>, add(2)}"
)
NESTED_8_IN_ROUTING = (
    "routing[perm(0,2,1,3), branching(8){clone(8), branching(2){clone(2), computation<norm>, "
    "computation<softmax>, add(2)}, add(8)}, identity]"
)
NESTED_8_IN_4 = "branching(4){clone(4), branching(8){group(8,3), computation<pos_enc>, cat(8,3)}, cat(4,2)}"


def _labelled_edges(g: nx.DiGraph) -> Counter:
    return Counter((g.nodes[u]["label"], g.nodes[v]["label"]) for u, v in g.edges)


def test_chain_vertices_edges_and_attributes():
    g = to_graph(CONV_RELU)
    assert set(g.nodes) == {INPUT, OUTPUT, 0, 1, 2, 3}
    assert [g.nodes[v]["label"] for v in range(4)] == ["im2col3k1s1p", "linear64", "col2im", "leakyrelu"]
    assert [g.nodes[v]["op"] for v in range(4)] == ["im2col(3,1,1)", "linear(64)", "col2im", "relu"]
    assert g.nodes[0]["path"] == ("first", "pre")
    assert set(g.edges) == {(INPUT, 0), (0, 1), (1, 2), (2, 3), (3, OUTPUT)}
    assert g.graph["module_counts"] == {"sequential_module": 1, "routing_module": 1, "computation_module": 2}


def test_branching_2_edges():
    g = to_graph(RESIDUAL)
    assert _labelled_edges(g) == Counter(
        {
            ("input", "clone_tensor2"): 1,
            ("clone_tensor2", "linear16"): 1,
            ("linear16", "leakyrelu"): 1,
            ("leakyrelu", "add_tensors"): 1,
            ("clone_tensor2", "identity"): 1,
            ("identity", "add_tensors"): 1,
            ("add_tensors", "output"): 1,
        }
    )


def test_branching_copies_multiply_through_nesting():
    # routing[perm, branching(8){clone(8), branching(2){clone(2), norm, softmax, add(2)}, add(8)}, identity]
    # ops: perm 1, clone(8) 1, then 8 copies of {clone(2), norm, softmax, add(2)}, add(8) 1, identity 1
    g = to_graph(NESTED_8_IN_ROUTING)
    labels = Counter(d["label"] for _, d in g.nodes(data=True))
    assert labels == Counter(
        {"input": 1, "output": 1, "permute213": 1, "clone_tensor8": 1, "clone_tensor2": 8, "norm": 8,
         "softmax": 8, "add_tensors": 9, "identity": 1}
    )  # fmt: skip
    # edges = sum of out-degrees: input 1, perm 1, clone(8) 8, clone(2) 8·2, norm 8, softmax 8, add(2) 8,
    # add(8) 1, identity 1
    assert g.number_of_edges() == 52
    agg8 = next(v for v, d in g.nodes(data=True) if d["op"] == "add(8)")
    assert g.in_degree(agg8) == 8
    assert g.graph["module_counts"] == {"routing_module": 1, "branching_module": 9, "computation_module": 16}

    # branching(8) inside branching(4): 32 copies of the innermost op
    g = to_graph(NESTED_8_IN_4)
    labels = Counter(d["label"] for _, d in g.nodes(data=True))
    assert labels["learnable_positional_encoding"] == 32
    assert labels["group_dim8s3d"] == labels["cat_tensors3d8t"] == 4
    assert g.number_of_edges() == 1 + 4 + 32 + 32 + 4 + 1


@pytest.mark.parametrize("text", [CONV_RELU, RESIDUAL, NESTED_8_IN_ROUTING, NESTED_8_IN_4])
def test_string_and_value_give_the_same_graph(text):
    a, b = to_graph(text), to_graph(parse(text))
    assert dict(a.nodes(data=True)) == dict(b.nodes(data=True))
    assert set(a.edges) == set(b.edges)


def test_pure_and_deterministic():
    arch = parse(NESTED_8_IN_ROUTING)
    before, h = copy.deepcopy(arch), hash(arch)
    g1, g2 = to_graph(arch), to_graph(arch)
    assert arch == before and hash(arch) == h
    assert list(g1.nodes(data=True)) == list(g2.nodes(data=True))
    assert list(g1.edges) == list(g2.edges)


@pytest.mark.parametrize(("shape", "seed"), [((3, 28, 28), 0), ((1, 8, 8), 2)])
def test_sampled_graphs_are_well_formed(shape, seed):
    """Reserved ids never collide (defect A); one source, one sink, a DAG where every vertex lies on an
    input → output path; op vertices have one successor except branching fns, one predecessor except
    aggregations."""
    for arch in sample_many(60, shape, seed=seed):
        root = infer(arch, shape)
        g = to_graph(arch)
        ops = [v for v in g.nodes if v not in (INPUT, OUTPUT)]
        assert all(isinstance(v, int) for v in ops)
        assert sorted(ops) == list(range(len(ops)))
        assert len(ops) == sum(o.mult for o in root.iter_ops())
        assert nx.is_directed_acyclic_graph(g)
        assert [v for v in g if g.in_degree(v) == 0] == [INPUT]
        assert [v for v in g if g.out_degree(v) == 0] == [OUTPUT]
        assert g.out_degree(INPUT) == 1 and g.in_degree(OUTPUT) == 1
        for v in ops:
            role, path = g.nodes[v]["role"], g.nodes[v]["path"]
            k = get_at(arch, path[:-1]).k if role in (Role.BRANCH_FN, Role.AGGREGATION) else 1
            assert g.out_degree(v) == (k if role == Role.BRANCH_FN else 1)
            assert g.in_degree(v) == (k if role == Role.AGGREGATION else 1)

def test_malformed_values_are_refused():
    with pytest.raises(TypeError):
        to_graph(Routing(Op("identity"), "not a module", Op("identity")))  # type: ignore[arg-type]
    bad = Branching(4, Op("clone", (4,)), (Computation(Op("relu")), Computation(Op("relu"))), Op("add", (4,)))
    with pytest.raises(ArchitectureError):
        to_graph(bad)
    with pytest.raises(ArchitectureError, match="not in the grammar"):
        to_graph(Computation(Op("conv", (3,))))
