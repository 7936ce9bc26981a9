"""The method registry: every surrogate and baseline that evaluation can score.

A method is a function ``fn(train: Rows, test: Rows, seed: int) -> np.ndarray`` registered with
:func:`method`; see the package docstring for the contract. The registry is open: any module can
register more methods (``surrogate-hub evaluate --import MODULE`` imports one first), and requested
names are checked only once everything, including the per-corpus ``zcp:<name>`` baselines, is
registered (:func:`resolve`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["MethodSpec", "UnknownMethodError", "get_methods", "method", "resolve", "unregister"]

MethodFn = Callable[..., np.ndarray]


@dataclass(frozen=True)
class MethodSpec:
    name: str
    fn: MethodFn
    fitted: bool  #: learns from ``train`` (gets within-task CV); False: a baseline that ignores it
    needs: tuple[str, ...] = ()  #: corpus columns it needs, e.g. ``("zcp_snip",)``
    description: str = ""
    default: bool = True  #: part of the default method set


class UnknownMethodError(ValueError):
    """A requested method is not registered (the message names it and the known ones)."""


_METHODS: dict[str, MethodSpec] = {}


def method(
    name: str,
    *,
    fitted: bool = True,
    needs: Sequence[str] = (),
    description: str = "",
    default: bool = True,
    replace: bool = False,
) -> Callable[[MethodFn], MethodFn]:
    """Register ``fn(train, test, seed) -> scores`` as method ``name`` (decorator).

    ``fitted`` (default): the method learns from ``train`` and also gets within-task
    cross-validation; ``fitted=False`` marks a baseline that ignores ``train``; ``needs`` lists corpus columns without which the method cannot run;
    ``default=False`` keeps it out of the default set (run it with ``--methods NAME``).
    Registering a name twice is an error unless ``replace``.
    """
    if not isinstance(name, str) or not name or any(c.isspace() for c in name):
        raise ValueError(f"a method name is a non-empty string without spaces, got {name!r}")

    def register(fn: MethodFn) -> MethodFn:
        if name in _METHODS and not replace and _METHODS[name].fn is not fn:
            raise ValueError(f"method {name!r} is already registered (pass replace=True to override it)")
        _METHODS[name] = MethodSpec(name, fn, fitted, tuple(needs), description or (fn.__doc__ or "").strip().split("\n")[0], default)
        return fn

    return register


def unregister(name: str) -> None:
    """Remove a registered method (tests, plugins replacing a family)."""
    _METHODS.pop(name, None)


def get_methods() -> dict[str, MethodSpec]:
    """The registered methods, by name (a copy), built-ins included."""
    from . import methods  # noqa: F401  (registers the built-ins)

    return dict(_METHODS)


def resolve(requested: Sequence[str] | None, columns: Sequence[str]) -> tuple[list[MethodSpec], dict[str, str]]:
    """The methods to run and the default ones skipped (name -> reason).

    ``requested=None`` runs every default method whose ``needs`` the corpus ``columns`` meet (the
    others are returned as skipped). Requested names are checked after all registrations: an
    unknown name or a requested method whose columns are missing raises
    :class:`UnknownMethodError` / :class:`ValueError` naming the problem and the known methods.
    """
    known = get_methods()
    have = set(columns)
    if requested is None:
        run, skipped = [], {}
        for spec in known.values():
            if not spec.default:
                continue
            lacking = [c for c in spec.needs if c not in have]
            if lacking:
                skipped[spec.name] = f"the corpus has no {', '.join(lacking)}"
            else:
                run.append(spec)
        return run, skipped
    seen: set[str] = set()
    names = [m for m in requested if not (m in seen or seen.add(m))]
    unknown = [m for m in names if m not in known]
    if unknown:
        raise UnknownMethodError(
            f"unknown method(s) {', '.join(unknown)}; known: {', '.join(sorted(known))} "
            "(zcp:<proxy> exists for each proxy column of the corpus)"
        )
    for m in names:
        lacking = [c for c in known[m].needs if c not in have]
        if lacking:
            raise ValueError(
                f"method {m} needs the corpus column(s) {', '.join(lacking)}, which this corpus lacks "
                "(zero-cost proxies: run training/compute_zcp.py on the corpus folder)"
            )
    return [known[m] for m in names], {}
