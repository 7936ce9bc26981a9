"""Pictures of an architecture's data-flow graph (:func:`~surrogate_hub.features.graph.to_graph`).

:func:`draw_architecture` lays the graph out in layers (a vertex sits one layer below the last of
its inputs, so every edge points down) and, when there are more layers than fit one column, folds
them into side-by-side columns read left to right ("snake" layout), so a 100-layer ResNet stays
legible. Vertices are boxes with the op's text, coloured by role; with more than ``max_labels``
vertices they become unlabelled dots. :func:`figure_png` renders any figure to PNG bytes.

matplotlib is imported inside the functions, through ``matplotlib.figure.Figure`` (no pyplot, no
global state), so drawing is safe from several threads at once.
"""

from __future__ import annotations

import io
import math
from typing import TYPE_CHECKING

import networkx as nx

from ..space.ops import Role
from ..space.tree import Architecture
from .graph import INPUT, OUTPUT, to_graph

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

__all__ = ["ROLE_COLOURS", "draw_architecture", "figure_png", "graph_layout"]

#: Fill colour of each vertex role (input/output are grey).
ROLE_COLOURS: dict[str, str] = {
    Role.PRE_ROUTING: "#8ecae6",
    Role.POST_ROUTING: "#219ebc",
    Role.BRANCH_FN: "#ffb703",
    Role.AGGREGATION: "#fb8500",
    Role.COMPUTATION: "#90be6d",
    "": "#d9d9d9",
}


def graph_layout(graph: nx.DiGraph, *, rows_per_column: int = 36) -> dict[object, tuple[float, float]]:
    """Positions ``{vertex: (x, y)}`` of a DAG: layer ``i`` (longest path from the sources) is row
    ``i % rows`` of column ``i // rows``, where the number of rows balances the columns and is at
    most ``rows_per_column``; vertices of one layer are spread horizontally within their column."""
    if rows_per_column < 1:
        raise ValueError(f"rows_per_column must be positive, got {rows_per_column}")
    layers = [sorted(layer, key=_order_key) for layer in nx.topological_generations(graph)]
    n_columns = max(1, math.ceil(len(layers) / rows_per_column))
    rows = max(1, math.ceil(len(layers) / n_columns))
    widths = [max((len(layers[i]) for i in range(c * rows, min(len(layers), (c + 1) * rows))), default=1)
              for c in range(n_columns)]
    offsets = [sum(widths[:c]) + 1.5 * c for c in range(n_columns)]
    pos: dict[object, tuple[float, float]] = {}
    for i, layer in enumerate(layers):
        column, row = divmod(i, rows)
        centre = offsets[column] + (widths[column] - 1) / 2
        for k, vertex in enumerate(layer):
            pos[vertex] = (centre + k - (len(layer) - 1) / 2, -float(row))
    return pos


def _order_key(vertex: object) -> tuple[int, int]:
    # input first, output last, op vertices in their data-flow pre-order
    if vertex == INPUT:
        return (0, 0)
    if vertex == OUTPUT:
        return (2, 0)
    return (1, int(vertex))  # type: ignore[call-overload]


def draw_architecture(
    arch: Architecture | str,
    *,
    title: str | None = None,
    max_labels: int = 160,
    rows_per_column: int | None = 36,
    aspect: float | None = None,
    dpi: int = 100,
) -> Figure:
    """A matplotlib ``Figure`` of the data-flow graph of ``arch`` (value or compact string): one box
    per op instance (branching copies included) with the op's text, coloured by role, edges in the
    direction of data flow (a graph of more than ``max_labels`` vertices: dots and plain lines, data
    flowing down each column), and a legend of the roles. ``aspect`` (width / height), when given,
    chooses the number of rows per column whose picture comes closest to it (instead of
    ``rows_per_column``). Raises ``ArchitectureError`` for an unparsable string."""
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    graph = to_graph(arch)
    labelled = graph.number_of_nodes() <= max_labels
    unit_x = 1.45 if labelled else 0.3  # inches per column slot
    unit_y = 0.42 if labelled else 0.16

    def size(pos: dict) -> tuple[float, float]:
        xs = [x for x, _ in pos.values()]
        ys = [y for _, y in pos.values()]
        width = min(max(6.0, (max(xs) - min(xs) + 1) * unit_x), 30.0)
        height = min(max(3.5, (max(ys) - min(ys) + 1) * unit_y + 1.0), 24.0)
        return width, height

    if aspect is not None:
        n_layers = sum(1 for _ in nx.topological_generations(graph))
        candidates = sorted({min(n_layers, r) for r in (8, 10, 12, 15, 18, 22, 26, 30, 36, 44, 54, 66)})
        layouts = [graph_layout(graph, rows_per_column=r) for r in candidates]
        pos = min(layouts, key=lambda p: abs(math.log(size(p)[0] / size(p)[1] / aspect)))
    else:
        pos = graph_layout(graph, rows_per_column=rows_per_column or 36)
    xs = [x for x, _ in pos.values()]
    ys = [y for _, y in pos.values()]
    width, height = size(pos)
    fig = Figure(figsize=(width, height), dpi=dpi)  # no layout engine: it would draw everything twice
    ax = fig.add_axes((0.01, 0.01, 0.98, 1 - 0.55 / height))
    ax.set_axis_off()
    ax.set_xlim(min(xs) - 0.7, max(xs) + 0.7)
    ax.set_ylim(min(ys) - 0.7, max(ys) + 0.7)
    if labelled:
        _draw_labelled(ax, graph, pos)
    else:
        _draw_dots(ax, graph, pos)
    roles = {data["role"] for _, data in graph.nodes(data=True) if data["role"]}
    handles = [Patch(fc=ROLE_COLOURS[r], ec="#333333", label=r.replace(" function", "")) for r in ROLE_COLOURS if r in roles]
    if handles:  # one row above the graph, so it never hides a vertex
        fig.legend(handles=handles, loc="upper right", ncol=len(handles), fontsize=7, frameon=False,
                   bbox_to_anchor=(0.995, 1.0))
    n_ops = graph.number_of_nodes() - 2
    head = title if title is not None else "data-flow graph"
    fig.suptitle(f"{head}: {n_ops} op instances" + ("" if labelled else " (too many to label)"), fontsize=9,
                 x=0.01, y=1 - 0.08 / height, ha="left", va="top")
    return fig


def _draw_labelled(ax, graph: nx.DiGraph, pos: dict) -> None:
    """Boxes with the op text, arrows between them (dashed, without head, into the next column)."""
    for u, v in graph.edges:
        (x0, y0), (x1, y1) = pos[u], pos[v]
        folded = y1 > y0
        ax.annotate(
            "", xy=(x1, y1), xytext=(x0, y0), zorder=1,
            arrowprops=dict(arrowstyle="-" if folded else "-|>", color="#9a9a9a" if folded else "#555555",
                            lw=0.6 if folded else 0.8, ls="--" if folded else "-", shrinkA=6, shrinkB=6,
                            mutation_scale=7),
        )
    for vertex, data in graph.nodes(data=True):
        x, y = pos[vertex]
        ax.text(x, y, data["op"] or str(vertex), ha="center", va="center", fontsize=7, zorder=2,
                bbox={"boxstyle": "round,pad=0.25", "fc": ROLE_COLOURS.get(data["role"], ROLE_COLOURS[""]),
                      "ec": "#333333", "lw": 0.5})


def _draw_dots(ax, graph: nx.DiGraph, pos: dict) -> None:
    """Large graphs: one line collection for the edges and one scatter for the vertices."""
    from matplotlib.collections import LineCollection

    down = [(pos[u], pos[v]) for u, v in graph.edges if pos[v][1] <= pos[u][1]]
    folded = [(pos[u], pos[v]) for u, v in graph.edges if pos[v][1] > pos[u][1]]
    ax.add_collection(LineCollection(down, colors="#555555", linewidths=0.6, zorder=1))
    ax.add_collection(LineCollection(folded, colors="#9a9a9a", linewidths=0.5, linestyles="--", zorder=1))
    vertices = list(graph.nodes(data="role"))
    ax.scatter([pos[v][0] for v, _ in vertices], [pos[v][1] for v, _ in vertices], s=18, zorder=2,
               c=[ROLE_COLOURS.get(role, ROLE_COLOURS[""]) for _, role in vertices], edgecolors="#333333",
               linewidths=0.4)


def figure_png(fig: Figure, *, dpi: int | None = None, max_pixels: int = 4000) -> bytes:
    """The figure as PNG bytes; ``dpi`` is lowered when needed so neither side exceeds ``max_pixels``."""
    w, h = fig.get_size_inches()
    dpi = dpi or fig.get_dpi()
    dpi = min(dpi, max_pixels / max(w, h))
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()
