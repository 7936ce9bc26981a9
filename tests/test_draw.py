"""Architecture pictures: layout invariants and a real PNG render."""

from __future__ import annotations

import networkx as nx
import pytest

from surrogate_hub.features.draw import draw_architecture, figure_png, graph_layout
from surrogate_hub.features.graph import INPUT, OUTPUT, to_graph
from surrogate_hub.space import ParseError, sample_many
from surrogate_hub.space.seeds import get_seed

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("rows", [1, 5, 36])
@pytest.mark.parametrize("name", ["resnet18_no_maxpool", "vit_d2", "mlpmixer_d2"])
def test_layout_places_every_vertex_once_and_edges_point_down_within_a_column(name, rows):
    graph = to_graph(get_seed(name))
    pos = graph_layout(graph, rows_per_column=rows)
    assert set(pos) == set(graph.nodes)
    assert len(set(pos.values())) == len(pos), "two vertices share a position"
    assert pos[INPUT][1] == 0.0
    for u, v in graph.edges:
        (xu, yu), (xv, yv) = pos[u], pos[v]
        # down one or more rows in the same column, or folded into a column further right
        assert yv < yu or xv > xu
    assert min(y for _, y in pos.values()) >= -(rows - 1)


def test_layout_layers_are_longest_paths():
    graph = to_graph("sequential(branching(2){clone(2), computation<relu>, sequential(computation<relu>, computation<relu>), add(2)}, computation<norm>)")
    pos = graph_layout(graph)
    depth = {n: 0 for n in graph}
    for n in nx.topological_sort(graph):
        for m in graph.successors(n):
            depth[m] = max(depth[m], depth[n] + 1)
    assert all(pos[n][1] == -depth[n] for n in graph)
    assert pos[OUTPUT][1] == -max(depth.values())


@pytest.mark.parametrize("arch", [get_seed("mlpmixer_d2"), *sample_many(3, (3, 16, 16), seed=4), get_seed("vit_d8")])
def test_draw_renders_a_png(arch):
    fig = draw_architecture(arch, title="t")
    png = figure_png(fig, max_pixels=1200)
    assert png.startswith(PNG_MAGIC)
    import io

    from PIL import Image

    w, h = Image.open(io.BytesIO(png)).size
    assert max(w, h) <= 1200 and min(w, h) > 100
    title = fig.get_suptitle()
    assert f"{to_graph(arch).number_of_nodes() - 2} op instances" in title


def test_labels_only_when_small():
    small = draw_architecture(get_seed("mlpmixer_d2"))
    large = draw_architecture(get_seed("vit_d8"))
    assert "linear(512)" in {t.get_text() for t in small.axes[0].texts}
    assert not [t for t in large.axes[0].texts if t.get_text()] and "too many to label" in large.get_suptitle()


def test_draw_refuses_bad_input():
    with pytest.raises(ParseError):
        draw_architecture("sequential(")
    with pytest.raises(ValueError, match="rows_per_column"):
        graph_layout(to_graph("computation<relu>"), rows_per_column=0)


@pytest.mark.parametrize("aspect", [0.5, 1.7, 3.0])
def test_aspect_chooses_the_rows(aspect):
    fig = draw_architecture(get_seed("resnet18_no_maxpool"), aspect=aspect)
    w, h = fig.get_size_inches()
    others = [draw_architecture(get_seed("resnet18_no_maxpool"), rows_per_column=r).get_size_inches() for r in (8, 36, 66)]
    import math

    assert all(abs(math.log(w / h / aspect)) <= abs(math.log(ow / oh / aspect)) + 1e-9 for ow, oh in others)
