"""GRAF: neural graph features of an einspace architecture (``spec/features.md``, "GRAF").

The 385 features are 7 families × 55 labels, family-major, in the fixed order of
:data:`GRAF_FEATURE_NAMES` (``cnt_sequential_module``, ``cnt_branching_module``, ...,
``min_nodes_path_learnable_positional_encoding``). The order and meaning are a versioned contract:
bump :data:`GRAF_VERSION` whenever either changes.

Labels
    :func:`op_label` maps a terminal op to its GRAF label; :data:`GRAF_LABELS` is derived from the
    grammar's option table (:func:`surrogate_hub.space.ops.options`): the four module kinds, then the
    ops of every role in the order branching fns (k = 2, 4, 8), aggregations (k = 2, 4, 8),
    pre-routing, post-routing, computation, each label at its first occurrence. Adding an op to the
    table adds its label here (and moves later labels: bump :data:`GRAF_VERSION`).

Graph (:func:`surrogate_hub.features.graph.to_graph`)
    Vertices are the op instances (a branching(4)/(8) inner module is built 4/8 times, multiplied
    through nesting) plus reserved ``input`` and ``output`` vertices; edges follow data flow. In this
    grammar every module has exactly one entry op and one exit op, so every op vertex has one
    successor except a branching fn (k) and one predecessor except an aggregation (k).

Families, for label ``l`` (module labels are never vertices, so only ``cnt`` can be non-zero for them)
    ``cnt_l``             occurrences of l in the tree, modules included, branching(4/8) copies counted
    ``in_l``              successors of ``input`` labelled l (0 or 1: the network's first op)
    ``out_l``             predecessors of ``output`` labelled l (0 or 1: the network's last op)
    ``in_deg_l``          (edges whose *source* is labelled l) / (vertices, input and output included)
    ``out_deg_l``         (edges whose *target* is labelled l) / (vertices)
    ``max_nodes_path_l``  max over input → output paths of the number of l-labelled vertices on it
    ``min_nodes_path_l``  the same, min

(``in_deg``/``out_deg`` are named as in the paper; note that ``in_deg`` counts the edges *leaving*
l-vertices.)

Computation
    :func:`graf_vector` computes all families in one pass over the tree without building the graph:
    counts carry the multiplicity of branching copies; the path families are computed
    compositionally (per module, the max/min number of l-vertices between its entry and exit:
    sequential and routing add, branching takes the max/min over its branches — the k copies of a
    branching(4/8) are identical — plus its fn and aggregation), so nested branching(8) costs nothing
    extra. :func:`graf_from_graph` computes the same vector from :func:`~.graph.to_graph` with plain
    graph algorithms (a topological-order dynamic programme for paths); the tests check that both
    agree exactly. Both are pure functions of immutable values.

Extras (:func:`graf_extras`, :data:`EXTRA_FEATURE_NAMES`) need an input shape and a class count:
terminals and non-terminals of the tree as written (``spec/einspace.md``, "Sampling, limits,
mutation"), tree depth, the backbone output's rank (batch axis included: 4 = image, 3 = tokens) and
dims (without batch, 0 when absent), parameters and FLOPs of the compiled network (head included).

NaN policy: :func:`graf_matrix` with ``errors="nan"`` gives an all-NaN row for an architecture that
does not parse or (with extras) is invalid at the input shape; ``errors="raise"`` (default) raises
the :class:`~surrogate_hub.space.ArchitectureError` with a note naming the row.
"""

from __future__ import annotations

import functools
import hashlib
import math
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, Final

import numpy as np

from ..space.errors import ArchitectureError
from ..space.ops import BRANCH_FACTORS, MODULE_KINDS, Op, Role, options
from ..space.parse import parse
from ..space.shapes import head_shape, infer, op_flops, op_params
from ..space.tree import Architecture, Branching, Computation, Routing, Sequential, tree_stats

if TYPE_CHECKING:  # pragma: no cover
    import networkx as nx

__all__ = [
    "GRAF_VERSION",
    "GRAF_FAMILIES",
    "GRAF_LABELS",
    "GRAF_FEATURE_NAMES",
    "EXTRA_FEATURE_NAMES",
    "op_label",
    "checked_label",
    "is_graf_label",
    "graf",
    "graf_vector",
    "graf_from_graph",
    "graf_extras",
    "graf_matrix",
    "feature_names",
    "names_hash",
]

#: Version of the feature contract (names, order, semantics). Saved surrogates record it.
GRAF_VERSION: Final = "1.0"

GRAF_FAMILIES: Final = ("cnt", "in", "out", "in_deg", "out_deg", "max_nodes_path", "min_nodes_path")

# ------------------------------------------------------------------------------------------ labels
_LABELLERS: Final[dict[str, Callable[[tuple[Any, ...]], str]]] = {
    "clone": lambda a: f"clone_tensor{a[0]}",
    "group": lambda a: f"group_dim{a[0]}s{a[1]}d",
    "add": lambda a: "add_tensors",
    "cat": lambda a: f"cat_tensors{a[1]}d{a[0]}t",  # axis before branch count: the reverse of group
    "dot_product": lambda a: "scaled_dot_product" if a == ("scaled",) else "dot_product",
    "identity": lambda a: "identity",
    "perm": lambda a: "permute" + "".join(str(x) for x in a[1:]),
    "im2col": lambda a: f"im2col{a[0]}k{a[1]}s{a[2]}p",
    "col2im": lambda a: "col2im",
    "linear": lambda a: f"linear{a[0]}",
    "norm": lambda a: "norm",
    "relu": lambda a: "leakyrelu",  # the paper's name (einspace's original code used LeakyReLU)
    "softmax": lambda a: "softmax",
    "pos_enc": lambda a: "learnable_positional_encoding",
}


@functools.lru_cache(maxsize=1024)
def op_label(op: Op) -> str:
    """The GRAF label of a terminal op, e.g. ``cat(4,2)`` → ``cat_tensors2d4t``.

    Ops without an entry in the paper's naming get their name followed by their arguments (a new
    grammar op needs no change here); :func:`is_graf_label` says whether a label is a feature."""
    labeller = _LABELLERS.get(op.name)
    if labeller is None:
        return op.name + "".join(str(a) for a in op.args)
    try:
        return labeller(op.args)
    except IndexError:
        raise ArchitectureError(f"op {op} has too few arguments for a GRAF label") from None


def _derive_labels() -> tuple[str, ...]:
    roles = (
        [(Role.BRANCH_FN, k) for k in BRANCH_FACTORS]
        + [(Role.AGGREGATION, k) for k in BRANCH_FACTORS]
        + [(Role.PRE_ROUTING, 0), (Role.POST_ROUTING, 0), (Role.COMPUTATION, 0)]
    )
    labels = [f"{kind}_module" for kind in MODULE_KINDS]
    for role, k in roles:
        labels += [op_label(op) for op in options(role, k)]
    return tuple(dict.fromkeys(labels))  # first occurrence wins, order kept


#: The 55 labels, in the feature order.
GRAF_LABELS: Final = _derive_labels()
#: The 385 GRAF feature names, family-major: ``f"{family}_{label}"``.
GRAF_FEATURE_NAMES: Final = tuple(f"{f}_{l}" for f in GRAF_FAMILIES for l in GRAF_LABELS)
#: Names of :func:`graf_extras`, in order.
EXTRA_FEATURE_NAMES: Final = (
    "n_terminals",
    "n_nonterminals",
    "depth",
    "out_rank",
    "out_dim1",
    "out_dim2",
    "out_dim3",
    "n_params",
    "flops",
)

_L: Final = len(GRAF_LABELS)
_LABEL_INDEX: Final = {label: i for i, label in enumerate(GRAF_LABELS)}
_MODULE_INDEX: Final = {
    cls: _LABEL_INDEX[f"{kind}_module"]
    for cls, kind in zip((Sequential, Branching, Routing, Computation), MODULE_KINDS)
}
_CNT, _IN, _OUT, _SRC, _DST, _MAX, _MIN = (i * _L for i in range(len(GRAF_FAMILIES)))
_ONE_HOT: Final = np.eye(_L, dtype=np.int64)
_ONE_HOT.setflags(write=False)
_OP_INDEX: dict[Op, int] = {}  # cache: Op values are hashable and immutable


def is_graf_label(label: str) -> bool:
    """Whether ``label`` is one of :data:`GRAF_LABELS`."""
    return label in _LABEL_INDEX


def checked_label(op: Op) -> str:
    """:func:`op_label`, raising :class:`~surrogate_hub.space.ArchitectureError` for an op outside
    the grammar (whose label is not a GRAF label)."""
    if not isinstance(op, Op):
        raise TypeError(f"expected an Op terminal, got {type(op).__name__}")
    label = op_label(op)
    if label not in _LABEL_INDEX:
        raise ArchitectureError(f"op {op} is not in the grammar: no GRAF label {label!r}")
    return label


def _index(op: Op) -> int:
    try:
        return _OP_INDEX[op]
    except KeyError:
        pass
    _OP_INDEX[op] = _LABEL_INDEX[checked_label(op)]
    return _OP_INDEX[op]


def names_hash(names: Iterable[str] = GRAF_FEATURE_NAMES) -> str:
    """A short hash of a feature-name list, to check that saved features match this code."""
    return hashlib.sha256("\n".join(names).encode()).hexdigest()[:16]


def feature_names(extras: bool = False) -> tuple[str, ...]:
    """Column names of :func:`graf_matrix`."""
    return GRAF_FEATURE_NAMES + (EXTRA_FEATURE_NAMES if extras else ())


# ------------------------------------------------------------------------------------ fast path
class _Acc:
    """Running totals of one pass: per-label counts and degree sums (with multiplicity)."""

    __slots__ = ("cnt", "src", "dst", "n_ops")

    def __init__(self) -> None:
        self.cnt = [0] * _L
        self.src = [0] * _L  # edges leaving vertices of each label
        self.dst = [0] * _L  # edges entering vertices of each label
        self.n_ops = 0


def _op(acc: _Acc, op: Op, mult: int, fan_out: int = 1, fan_in: int = 1) -> int:
    i = _index(op)
    acc.cnt[i] += mult
    acc.src[i] += mult * fan_out
    acc.dst[i] += mult * fan_in
    acc.n_ops += mult
    return i


def _walk(m: Architecture, mult: int, acc: _Acc) -> tuple[int, int, np.ndarray, np.ndarray]:
    """Visit ``m`` (instantiated ``mult`` times); return its entry and exit label indices and the
    max/min number of vertices of each label on a path from its entry to its exit (inclusive)."""
    kind = type(m)
    try:
        acc.cnt[_MODULE_INDEX[kind]] += mult
    except KeyError:
        raise TypeError(f"expected an einspace module, got {kind.__name__}") from None
    if kind is Computation:
        i = _op(acc, m.op, mult)
        return i, i, _ONE_HOT[i], _ONE_HOT[i]
    if kind is Sequential:
        entry, _, mx1, mn1 = _walk(m.first, mult, acc)
        _, exit_, mx2, mn2 = _walk(m.second, mult, acc)
        mx = mx1 + mx2
        return entry, exit_, mx, (mx if mn1 is mx1 and mn2 is mx2 else mn1 + mn2)
    if kind is Routing:
        entry = _op(acc, m.pre, mult)
        _, _, mx, mn = _walk(m.inner, mult, acc)
        exit_ = _op(acc, m.post, mult)
        ends = _ONE_HOT[entry] + _ONE_HOT[exit_]
        mx_out = mx + ends
        return entry, exit_, mx_out, (mx_out if mn is mx else mn + ends)
    k = m.k
    if k not in BRANCH_FACTORS or len(m.branches) != (2 if k == 2 else 1):
        raise ArchitectureError(f"branching({k}) with {len(m.branches)} branch modules")
    entry = _op(acc, m.fn, mult, fan_out=k)
    inner_mult = mult if k == 2 else mult * k
    paths = [_walk(b, inner_mult, acc)[2:] for b in m.branches]
    exit_ = _op(acc, m.agg, mult, fan_in=k)
    ends = _ONE_HOT[entry] + _ONE_HOT[exit_]
    if len(paths) == 1:
        mx, mn = paths[0]
        mx_out = mx + ends
        return entry, exit_, mx_out, (mx_out if mn is mx else mn + ends)
    (mx1, mn1), (mx2, mn2) = paths
    return entry, exit_, np.maximum(mx1, mx2) + ends, np.minimum(mn1, mn2) + ends


def _as_arch(arch: Architecture | str) -> Architecture:
    return parse(arch) if isinstance(arch, str) else arch


def graf_vector(arch: Architecture | str, *, dtype: Any = np.float64) -> np.ndarray:
    """The 385 GRAF features of ``arch`` (a value or compact string) in :data:`GRAF_FEATURE_NAMES`
    order. Pure: computed from the tree in one pass, no graph is built."""
    acc = _Acc()
    entry, exit_, mx, mn = _walk(_as_arch(arch), 1, acc)
    out = np.zeros(len(GRAF_FEATURE_NAMES), dtype=np.float64)
    n_vertices = acc.n_ops + 2
    out[_CNT:_IN] = acc.cnt
    out[_IN + entry] = 1.0
    out[_OUT + exit_] = 1.0
    out[_SRC:_DST] = np.asarray(acc.src, dtype=np.float64) / n_vertices
    out[_DST:_MAX] = np.asarray(acc.dst, dtype=np.float64) / n_vertices
    out[_MAX:_MIN] = mx
    out[_MIN:] = mn
    return out if dtype is np.float64 else out.astype(dtype)


def graf(arch: Architecture | str) -> dict[str, float]:
    """The 385 GRAF features of ``arch`` as an ordered ``{name: value}`` dict."""
    return dict(zip(GRAF_FEATURE_NAMES, graf_vector(arch).tolist()))


# ------------------------------------------------------------------------- reference (networkx)
def graf_from_graph(graph: nx.DiGraph) -> np.ndarray:
    """GRAF features computed directly from a :func:`~.graph.to_graph` graph.

    The plain-graph definition (successors of ``input``, edge sources/targets, a topological-order
    dynamic programme over paths), kept as the executable reference for :func:`graf_vector`. Module
    counts, which are not vertices, come from ``graph.graph["module_counts"]``.
    """
    import networkx as nx

    from .graph import INPUT, OUTPUT

    labels = nx.get_node_attributes(graph, "label")
    idx = {v: _LABEL_INDEX.get(lab) for v, lab in labels.items()}
    n_vertices = graph.number_of_nodes()
    out = np.zeros(len(GRAF_FEATURE_NAMES), dtype=np.float64)
    for label, count in graph.graph.get("module_counts", {}).items():
        out[_CNT + _LABEL_INDEX[label]] = count
    for v, i in idx.items():
        if i is not None:
            out[_CNT + i] += 1
    for v in graph.successors(INPUT):
        if idx[v] is not None:
            out[_IN + idx[v]] += 1
    for v in graph.predecessors(OUTPUT):
        if idx[v] is not None:
            out[_OUT + idx[v]] += 1
    for u, v in graph.edges:
        if idx[u] is not None:
            out[_SRC + idx[u]] += 1
        if idx[v] is not None:
            out[_DST + idx[v]] += 1
    out[_SRC:_MAX] /= n_vertices
    # best[v] = max/min label counts over input → v paths, v included
    zero = np.zeros(_L, dtype=np.int64)
    best_max: dict[Any, np.ndarray] = {}
    best_min: dict[Any, np.ndarray] = {}
    for v in nx.topological_sort(graph):
        own = zero if idx[v] is None else _ONE_HOT[idx[v]]
        preds = list(graph.predecessors(v))
        if not preds:
            best_max[v] = best_min[v] = own
        elif len(preds) == 1:
            best_max[v] = best_max[preds[0]] + own
            best_min[v] = best_min[preds[0]] + own
        else:
            best_max[v] = np.max([best_max[p] for p in preds], axis=0) + own
            best_min[v] = np.min([best_min[p] for p in preds], axis=0) + own
    out[_MAX:_MIN] = best_max[OUTPUT]
    out[_MIN:] = best_min[OUTPUT]
    return out


# ---------------------------------------------------------------------------------------- extras
def graf_extras(arch: Architecture | str, input_shape, num_classes: int) -> dict[str, float]:
    """Cheap extras beside GRAF (:data:`EXTRA_FEATURE_NAMES`) for (C, H, W) inputs and
    ``num_classes`` classes. Raises :class:`~surrogate_hub.space.ShapeError` if ``arch`` is
    invalid at ``input_shape``."""
    arch = _as_arch(arch)
    stats = tree_stats(arch)
    root = infer(arch, input_shape)
    shape = root.output.shape
    params = flops = 0
    for o in root.iter_ops():
        params += op_params(o.op, o.inputs) * o.mult
        flops += op_flops(o.op, o.inputs) * o.mult
    head_in = head_shape(shape)
    dims = tuple(shape) + (0,) * (3 - len(shape))
    values = (
        stats.n_terminals,
        stats.n_nodes - stats.n_terminals,
        stats.depth,
        len(shape) + 1,
        *dims,
        params + (head_in + 1) * num_classes,
        flops + head_in * num_classes,
    )
    return {name: float(v) for name, v in zip(EXTRA_FEATURE_NAMES, values)}


# ----------------------------------------------------------------------------------------- batch
def graf_matrix(
    archs: Iterable[Architecture | str],
    input_shape=None,
    num_classes: int | None = None,
    *,
    extras: bool = False,
    errors: str = "raise",
    dtype: Any = np.float64,
    progress: bool = False,
) -> tuple[np.ndarray, tuple[str, ...]]:
    """Features of many architectures (compact strings or values): ``(matrix [n, d], names)``.

    ``d`` is 385, or 394 with ``extras=True`` (which needs ``input_shape`` and ``num_classes``;
    GRAF alone ignores them). ``errors="raise"`` re-raises the first
    :class:`~surrogate_hub.space.ArchitectureError` (a string that does not parse, or with extras an
    architecture invalid at ``input_shape``) with a note naming the row; ``errors="nan"`` fills that
    row with NaN instead. Other exceptions (e.g. a TypeError for a non-architecture) always raise.
    ``progress`` shows a tqdm bar.
    """
    if errors not in ("raise", "nan"):
        raise ValueError(f"errors must be 'raise' or 'nan', got {errors!r}")
    if extras and (input_shape is None or num_classes is None):
        raise ValueError("extras=True needs input_shape and num_classes")
    names = feature_names(extras)
    items = archs if isinstance(archs, (list, tuple)) else list(archs)
    if progress:
        from tqdm.auto import tqdm

        items = tqdm(items, desc="GRAF", unit="arch")
    rows = np.empty((len(items), len(names)), dtype=np.float64)
    n_graf = len(GRAF_FEATURE_NAMES)
    for r, item in enumerate(items):
        try:
            arch = _as_arch(item)
            rows[r, :n_graf] = graf_vector(arch)
            if extras:
                rows[r, n_graf:] = list(graf_extras(arch, input_shape, num_classes).values())
        except ArchitectureError as err:
            if errors == "raise":
                err.add_note(f"while computing features of architecture #{r}")
                raise
            rows[r] = math.nan
    return (rows if dtype is np.float64 else rows.astype(dtype)), names

