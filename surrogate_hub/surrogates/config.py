"""Pieces of ``config.json`` that every surrogate family shares: the target and corpus sections,
strict key/type checks, and a registry of readers by ``format_version``.

Each family's config is a frozen dataclass with ``surrogate`` (its kind) and ``format_version``
fields; :class:`ConfigReaders` dispatches a raw ``config.json`` dict to the reader of its version,
so old artifacts stay loadable when the layout changes (one reader and one test per version).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Final, Generic, TypeVar

from .artifact import CONFIG_FILE
from .errors import SurrogateLoadError

__all__ = ["JSON_SCALARS", "ConfigReaders", "CorpusRef", "TargetConfig", "check_keys", "typed"]

C = TypeVar("C")
JSON_SCALARS: Final = (str, int, float, bool, type(None))


@dataclass(frozen=True)
class TargetConfig:
    normalisation: str = "percentile"  #: one of :data:`~.targets.NORMALISATIONS`, applied per task
    drop_zero: bool = True  #: drop zero-accuracy rows from training (the paper's protocol)


@dataclass(frozen=True)
class CorpusRef:
    repo_or_path: str | None = None  #: Hub dataset repo id or local folder of the training corpus
    revision: str | None = None


def check_keys(d: Any, required: Iterable[str], where: str, source: str) -> dict:
    """``d`` if it is a dict with exactly the keys ``required``, else a :class:`SurrogateLoadError`."""
    if not isinstance(d, dict):
        raise SurrogateLoadError(f"{source}: {where} must be a JSON object, got {type(d).__name__}")
    required = tuple(required)
    missing = [k for k in required if k not in d]
    unknown = sorted(set(d) - set(required))
    if missing or unknown:
        parts = ([f"missing {missing}"] if missing else []) + ([f"unexpected {unknown}"] if unknown else [])
        raise SurrogateLoadError(f"{source}: {where}: {'; '.join(parts)} (expected keys {list(required)})")
    return d


def typed(value: Any, types: type | tuple[type, ...], where: str, source: str) -> Any:
    """``value`` if it has one of ``types`` (a bool is not an int here), else a load error."""
    if isinstance(value, bool) and bool not in (types if isinstance(types, tuple) else (types,)):
        ok = False
    else:
        ok = isinstance(value, types)
    if not ok:
        raise SurrogateLoadError(f"{source}: {where} has the wrong type ({type(value).__name__}: {value!r:.80})")
    return value


class ConfigReaders(Generic[C]):
    """Readers of one kind's ``config.json``, by format version: ``@readers.register(1)``."""

    def __init__(self, kind: str, owner: str) -> None:
        self.kind = kind
        self.owner = owner  #: the class that loads this kind (for error messages)
        self._readers: dict[int, Callable[[dict, str], C]] = {}

    def register(self, version: int) -> Callable[[Callable[[dict, str], C]], Callable[[dict, str], C]]:
        def add(fn: Callable[[dict, str], C]) -> Callable[[dict, str], C]:
            self._readers[version] = fn
            return fn

        return add

    def versions(self) -> dict[int, Callable[[dict, str], C]]:
        """The readers by format version (a copy)."""
        return dict(self._readers)

    def read(self, raw: Any, source: str = CONFIG_FILE) -> C:
        """Check the kind and dispatch ``raw`` to the reader of its ``format_version``."""
        if not isinstance(raw, dict):
            raise SurrogateLoadError(f"{source}: expected a JSON object, got {type(raw).__name__}")
        kind = raw.get("surrogate")
        if kind != self.kind:
            raise SurrogateLoadError(
                f"{source}: surrogate kind {kind!r} is not {self.kind!r}; {self.owner} cannot load it "
                "(surrogate_hub.surrogates.load_surrogate picks the class from the config)"
            )
        version = raw.get("format_version")
        reader = self._readers.get(version) if isinstance(version, int) and not isinstance(version, bool) else None
        if reader is None:
            raise SurrogateLoadError(
                f"{source}: unknown format_version {version!r} for {self.kind!r}; this version of "
                f"surrogate-hub reads {sorted(self._readers)} (a newer surrogate-hub may read it)"
            )
        return reader(raw, source)
