"""The surrogate protocol, rankings, and fitting a surrogate on a corpus.

Every surrogate (GRAF-XGBoost, BERT, ...) offers the same three calls on architectures given as
compact strings or :class:`~surrogate_hub.space.Architecture` values:

``fit(archs, targets, tasks=None, *, input_shapes=None, num_classes=None) -> self``
    ``targets`` are raw accuracies; the surrogate drops unusable rows and normalises them per task
    as its config says (:mod:`.targets`). ``input_shapes``/``num_classes``: one value for all rows
    or one per row (the corpus has them per task).
``predict(archs, *, input_shape=None, num_classes=None, errors="raise") -> np.ndarray``
    a score per architecture, higher = predicted better. Scores are normalised-rank estimates,
    comparable between the architectures of one call, not accuracies.
``rank(archs, ...) -> Ranking``
    the same scores, sorted best first.

Invalid architectures (unparsable, or invalid at the input shape): ``errors="raise"`` (default)
raises an :class:`~surrogate_hub.space.ArchitectureError` naming the row; ``errors="nan"`` gives
them a NaN score, and :class:`Ranking` puts NaN scores last.

:class:`SurrogateBase` implements ``rank`` on top of ``predict``; concrete surrogates subclass it.
"""

from __future__ import annotations

import dataclasses
import logging
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol, Self, runtime_checkable

import numpy as np

from ..space.errors import ArchitectureError
from ..space.printing import to_string
from ..space.tree import Architecture
from .errors import NotFittedError
from .targets import training_rows

__all__ = [
    "FitRows",
    "RankedArch",
    "Ranking",
    "Surrogate",
    "SurrogateBase",
    "arch_texts",
    "check_archs",
    "check_errors",
    "check_shape_and_classes",
    "config_or_settings",
    "fit_corpus",
    "fit_rows",
    "invalid_reason",
    "is_count",
    "is_shape",
    "per_row",
    "unscorable",
]

log = logging.getLogger(__name__)

def arch_texts(archs: Iterable[str | Architecture]) -> tuple[str, ...]:
    """Compact strings of ``archs``: strings are kept as given, values are printed."""
    out = []
    for a in archs:
        if isinstance(a, str):
            out.append(a)
        elif isinstance(a, Architecture):
            out.append(to_string(a))
        else:
            raise TypeError(f"expected an architecture string or Architecture, got {type(a).__name__}")
    return tuple(out)


def check_archs(archs: Any) -> list:
    """``archs`` as a list, refusing a single string (which would be ranked letter by letter) and
    a single :class:`Architecture`."""
    if isinstance(archs, (str, bytes)):
        raise TypeError(
            "archs must be a list of architectures, got a single string; pass [arch] to score one "
            f"architecture ({archs[:60]!r})"
        )
    if isinstance(archs, Architecture):
        raise TypeError("archs must be a list of architectures, got a single Architecture; pass [arch]")
    return list(archs)


def check_shape_and_classes(input_shape: Any, num_classes: Any) -> None:
    """Refuse an input shape that is not three positive integers and a class count that is not a
    positive integer (``None`` means the surrogate's default and passes)."""
    if input_shape is not None:
        dims = list(input_shape) if isinstance(input_shape, (tuple, list, np.ndarray)) else None
        if dims is None or len(dims) != 3 or not all(
            isinstance(d, (int, np.integer)) and not isinstance(d, bool) and d > 0 for d in dims
        ):
            raise ValueError(f"input_shape must be three positive integers (C, H, W), got {input_shape!r}")
    if num_classes is not None and (
        not isinstance(num_classes, (int, np.integer)) or isinstance(num_classes, bool) or num_classes < 1
    ):
        raise ValueError(f"num_classes must be a positive integer, got {num_classes!r}")


def invalid_reason(arch: str | Architecture, input_shape: Sequence[int] | None) -> str:
    """Why ``arch`` cannot be scored: the parse or shape error at ``input_shape``, as one line."""
    from ..space import infer, parse

    try:
        value = parse(arch) if isinstance(arch, str) else arch
        if input_shape is not None:
            infer(value, tuple(input_shape))
    except ArchitectureError as err:
        return f"{type(err).__name__}: {err}"
    return "could not be scored (non-finite features)"


def check_errors(errors: str) -> None:
    """Refuse an ``errors`` policy other than ``"raise"`` and ``"nan"``."""
    if errors not in ("raise", "nan"):
        raise ValueError(f"errors must be 'raise' or 'nan', got {errors!r}")


def unscorable(index: int, arch: str | Architecture, err: Exception, input_shape: Sequence[int] | None = None) -> ArchitectureError:
    """The error for input row ``index`` that cannot be scored (at ``input_shape``, when it matters)."""
    text = arch_texts([arch])[0]
    short = text if len(text) <= 120 else text[:117] + "..."
    at = f" at input shape {tuple(input_shape)}" if input_shape is not None else ""
    return ArchitectureError(
        f"architecture #{index} {short!r} cannot be scored{at}: {err} "
        "(pass errors='nan' to give invalid architectures a NaN score)"
    )


def config_or_settings(config_class: Any, config: Any, settings: dict[str, Any]) -> Any:
    """A surrogate's config: ``config``, or ``config_class.make(**settings)``; both is a ``TypeError``."""
    if config is not None and settings:
        raise TypeError("pass either a config or settings, not both")
    return config if config is not None else config_class.make(**settings)


# ------------------------------------------------------------------------------------ fit inputs
def is_shape(value: Any) -> bool:
    """Whether ``value`` is one input shape (a non-empty sequence of integers), not one per row."""
    return isinstance(value, (tuple, list, np.ndarray)) and len(value) > 0 and all(
        isinstance(d, (int, np.integer)) for d in value
    )


def is_count(value: Any) -> bool:
    """Whether ``value`` is one class count, not one per row."""
    return isinstance(value, (int, np.integer))


def per_row(value: Any, n: int, default: Any, single: Callable[[Any], bool], what: str) -> list:
    """``value`` for each of ``n`` rows: ``default`` when ``None``, repeated when ``single(value)``,
    else the ``n`` values given."""
    if value is None:
        return [default] * n
    if single(value):
        return [value] * n
    rows = list(value)
    if len(rows) != n:
        raise ValueError(f"{what}: got {len(rows)} values for {n} architectures")
    return rows


class FitRows(NamedTuple):
    """The checked inputs of ``fit``, one entry per row (:func:`fit_rows`)."""

    archs: list
    targets: np.ndarray
    tasks: list | None
    input_shapes: list
    num_classes: list


def fit_rows(
    archs: Iterable[str | Architecture],
    targets: Sequence[float] | np.ndarray,
    tasks: Sequence[str] | None,
    input_shapes: Any,
    num_classes: Any,
    config: Any,
) -> FitRows:
    """``fit``'s arguments as rows: targets as float64, one task label, input shape and class count
    per row (defaults: ``config.default_input_shape`` / ``config.default_num_classes``)."""
    items = list(archs)
    n = len(items)
    y = np.asarray(targets, dtype=np.float64).reshape(-1)
    if len(y) != n:
        raise ValueError(f"got {n} architectures but {len(y)} targets")
    task_list = None if tasks is None else list(tasks)
    if task_list is not None and len(task_list) != n:
        raise ValueError(f"got {n} architectures but {len(task_list)} task labels")
    shapes = per_row(input_shapes, n, config.default_input_shape, is_shape, "input_shapes")
    classes = per_row(num_classes, n, config.default_num_classes, is_count, "num_classes")
    return FitRows(items, y, task_list, shapes, classes)


class RankedArch(NamedTuple):
    """One entry of a :class:`Ranking`: 1-based ``position``, compact ``arch`` string, ``score``."""

    position: int
    arch: str
    score: float


@dataclass(frozen=True, eq=False)
class Ranking:
    """Architectures with their scores, and the order that sorts them best first.

    ``archs`` and ``scores`` are in input order; ``order`` holds the input indices sorted by
    descending score, ties kept in input order and NaN scores (invalid architectures) last.
    ``reasons`` (input order) says why each NaN-scored architecture could not be scored (``None``
    for the others). ``spread`` (input order, or ``None``) is the surrogate's uncertainty of each
    score (``rank(..., return_std=True)``: the standard deviation across trees or ensemble members).
    Iterating yields :class:`RankedArch` ``(position, arch, score)`` best first, positions 1-based.
    """

    archs: tuple[str, ...]
    scores: np.ndarray
    order: np.ndarray
    reasons: tuple[str | None, ...] = ()
    spread: np.ndarray | None = None

    def __post_init__(self) -> None:
        if not self.reasons:
            object.__setattr__(self, "reasons", (None,) * len(self.archs))
        elif len(self.reasons) != len(self.archs):
            raise ValueError(f"got {len(self.archs)} architectures but {len(self.reasons)} reasons")
        if self.spread is not None and len(self.spread) != len(self.archs):
            raise ValueError(f"got {len(self.archs)} architectures but {len(self.spread)} spread values")

    @classmethod
    def from_scores(
        cls,
        archs: Sequence[str | Architecture],
        scores: Sequence[float] | np.ndarray,
        reasons: Sequence[str | None] | None = None,
        spread: Sequence[float] | np.ndarray | None = None,
    ) -> Ranking:
        texts = arch_texts(archs)
        s = np.asarray(scores, dtype=np.float64).reshape(-1)
        if len(s) != len(texts):
            raise ValueError(f"got {len(texts)} architectures but {len(s)} scores")
        key = np.where(np.isnan(s), np.inf, -s)  # NaN last
        order = np.lexsort((np.arange(len(s)), key))
        s.setflags(write=False)
        order.setflags(write=False)
        sd = None
        if spread is not None:
            sd = np.array(spread, dtype=np.float64).reshape(-1)
            sd.setflags(write=False)
        return cls(texts, s, order, tuple(reasons) if reasons is not None else (), sd)

    @property
    def failures(self) -> dict[int, str]:
        """``{input index: reason}`` of the architectures that could not be scored."""
        return {i: r for i, r in enumerate(self.reasons) if r is not None}

    def __len__(self) -> int:
        return len(self.archs)

    def __iter__(self) -> Iterator[RankedArch]:
        for position, i in enumerate(self.order.tolist(), 1):
            yield RankedArch(position, self.archs[i], float(self.scores[i]))

    def top(self, k: int) -> list[RankedArch]:
        """The ``k`` best entries (fewer if there are fewer architectures)."""
        if k < 0:
            raise ValueError(f"k must be >= 0, got {k}")
        return [entry for entry, _ in zip(self, range(k))]

    def to_records(self) -> list[dict[str, Any]]:
        """JSON-ready rows, best first: ``{"rank", "arch", "score", "index", "reason"}``; ``index``
        is the position in the input; ``score`` is ``None`` for an invalid architecture (NaN) and
        ``reason`` then says why (else ``None``). A ranking with a ``spread`` adds ``"spread"``."""
        rows = [
            {
                "rank": position,
                "arch": self.archs[i],
                "score": None if np.isnan(self.scores[i]) else float(self.scores[i]),
                "index": i,
                "reason": self.reasons[i],
            }
            for position, i in enumerate(self.order.tolist(), 1)
        ]
        if self.spread is not None:
            for row in rows:
                v = self.spread[row["index"]]
                row["spread"] = None if np.isnan(v) else float(v)
        return rows


@runtime_checkable
class Surrogate(Protocol):
    """What every surrogate offers (see the module docstring)."""

    def fit(
        self,
        archs: Sequence[str | Architecture],
        targets: Sequence[float] | np.ndarray,
        tasks: Sequence[str] | None = None,
        *,
        input_shapes: Any = None,
        num_classes: Any = None,
    ) -> Self: ...

    def predict(
        self,
        archs: Sequence[str | Architecture],
        *,
        input_shape: Sequence[int] | None = None,
        num_classes: int | None = None,
        errors: str = "raise",
    ) -> np.ndarray: ...

    def rank(
        self,
        archs: Sequence[str | Architecture],
        *,
        input_shape: Sequence[int] | None = None,
        num_classes: int | None = None,
        errors: str = "raise",
    ) -> Ranking: ...


class SurrogateBase:
    """Shared behaviour: ``rank`` from ``predict``. Subclasses implement ``fit``, ``predict`` and an
    ``is_fitted`` property (read by :meth:`_check_fitted`).

    Optional attributes read by :func:`fit_corpus`: ``zcp_names`` (the zero-cost proxies the
    surrogate consumes, passed to ``fit`` as ``zcp=``) and ``config`` (a dataclass with a
    ``corpus`` field, where the training corpus is recorded).
    """

    zcp_names: tuple[str, ...] = ()

    def predict(self, archs, **kwargs) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def _check_fitted(self) -> None:
        """Raise :class:`NotFittedError` unless ``self.is_fitted``."""
        if not self.is_fitted:  # type: ignore[attr-defined]
            name = type(self).__name__
            raise NotFittedError(f"this {name} is not fitted: call fit() or load one with from_pretrained()")

    def rank(self, archs: Iterable[str | Architecture], **kwargs: Any) -> Ranking:
        """Score ``archs`` with :meth:`predict` (same keyword arguments) and sort best first; with
        ``errors="nan"`` the ranking's ``reasons`` say why each NaN-scored architecture failed.
        ``return_std=True`` (surrogates with a spread) gives a ranking that carries it (``spread``)."""
        items = check_archs(archs)
        spread = None
        if kwargs.pop("return_std", False):
            scores, spread = self.predict(items, return_std=True, **kwargs)
        else:
            scores = self.predict(items, **kwargs)
        reasons = None
        bad = np.flatnonzero(np.isnan(np.asarray(scores, dtype=np.float64)))
        if len(bad):
            shape = kwargs.get("input_shape") or getattr(getattr(self, "config", None), "default_input_shape", None)
            task = kwargs.get("task")
            if kwargs.get("input_shape") is None and task is not None and not isinstance(task, str):
                shape = task.input_shape
            elif kwargs.get("input_shape") is None and isinstance(task, str):
                from .task_inputs import resolve_task

                shape = resolve_task(task).input_shape
            reasons = [None] * len(items)
            for i in bad.tolist():
                reasons[i] = invalid_reason(items[i], shape)
        return Ranking.from_scores(items, scores, reasons, spread)


def fit_corpus(
    surrogate: Surrogate,
    dataset_or_path: Any,
    tasks: Iterable[str] | None = None,
    *,
    revision: str | None = None,
    fit_kwargs: dict[str, Any] | None = None,
) -> Surrogate:
    """Fit ``surrogate`` on a corpus: a ``datasets.Dataset`` of corpus records, a local corpus
    folder, or a Hub dataset repo id (at ``revision``).

    Keeps the ``ok`` rows of ``tasks`` (all tasks when ``None``) with an accuracy, then calls
    ``surrogate.fit`` with the raw accuracies, the task of each row (targets are normalised per task
    by the surrogate) and each row's input shape and class count; zero-accuracy rows are dropped by
    the surrogate as its config says. When the surrogate has a ``config.corpus`` field, the corpus
    location and revision are recorded there. ``fit_kwargs`` go to ``surrogate.fit`` (e.g. a BERT
    surrogate's ``output_dir``). Returns the fitted surrogate.
    """
    source = None
    zcp = tuple(getattr(surrogate, "zcp_names", ()))
    if isinstance(dataset_or_path, (str, os.PathLike)):
        from ..corpus import load

        source = (str(dataset_or_path), revision)
        dataset = load(dataset_or_path, revision=revision, **({"zcp": True} if zcp else {}))
    else:
        dataset = dataset_or_path
    rows = training_rows(dataset, tasks=tasks, drop_zero=False, zcp=zcp)
    if not len(rows):
        raise ValueError(f"no usable training rows (dropped: {dict(rows.dropped or {})})")
    log.info("fitting on %d corpus rows of %d tasks (dropped %s)", len(rows), len(set(rows.tasks)), rows.dropped)
    kwargs: dict[str, Any] = {**(fit_kwargs or {}), **({"zcp": rows.zcp} if zcp else {})}
    surrogate.fit(
        rows.archs, rows.targets, rows.tasks, input_shapes=rows.input_shapes, num_classes=rows.num_classes, **kwargs
    )
    config = getattr(surrogate, "config", None)
    if source is not None and dataclasses.is_dataclass(config) and hasattr(config, "corpus"):
        corpus_type = type(config.corpus)
        surrogate.config = dataclasses.replace(config, corpus=corpus_type(*source))  # type: ignore[attr-defined]
    return surrogate
