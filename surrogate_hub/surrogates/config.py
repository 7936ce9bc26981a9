"""Pieces of ``config.json`` that every surrogate family shares: the target and corpus sections,
the checks and the reader of the fields every family has, strict key/type checks, and a registry
of readers by ``format_version``.

Each family's config is a frozen dataclass with ``surrogate`` (its kind) and ``format_version``
fields; :class:`ConfigReaders` dispatches a raw ``config.json`` dict to the reader of its version,
so old artifacts stay loadable when the layout changes (one reader and one test per version).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Final, Generic, TypeVar

from .artifact import CONFIG_FILE
from .errors import SurrogateLoadError
from .targets import NORMALISATIONS

__all__ = [
    "JSON_SCALARS",
    "LINEAGE_KEY",
    "ConfigReaders",
    "CorpusRef",
    "Lineage",
    "TargetConfig",
    "check_keys",
    "check_shared_fields",
    "check_spread_scale",
    "optional_spread_scale",
    "read_shared_sections",
    "typed",
]

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


#: The optional ``config.json`` key of a fine-tuned surrogate's :class:`Lineage` (absent otherwise).
LINEAGE_KEY: Final = "lineage"


@dataclass(frozen=True)
class Lineage:
    """Where a fine-tuned surrogate comes from (``config.json`` key ``lineage``; pretrained
    surrogates have none). Written by :func:`surrogate_hub.surrogates.finetune.finetune_with_report`.

    ``base``/``base_revision``: the base surrogate as given (registered name, Hub repo id or folder)
    and the exact version that was loaded (Hub commit, ``embedded:<package version>:<hash>`` or
    ``folder:<hash>``). ``data_sha256``: hash of the user's rows (canonical JSON of architecture and
    accuracy, see :func:`~.userdata.rows_hash`); ``data_file``: where they were read from, if from a
    file. ``n_rows``: rows the saved model was fitted on; ``n_heldout``/``tau_before``/``tau_after``:
    Kendall tau of the base and of a model fine-tuned on the other rows, on a held-out split of the
    user's rows (``None`` when too few rows to hold any out). ``parent``: the base's own lineage.
    """

    base: str
    base_revision: str | None
    strategy: str
    options: dict[str, Any]
    data_sha256: str
    data_file: str | None
    n_rows: int
    n_heldout: int
    tau_before: float | None
    tau_after: float | None
    input_shape: tuple[int, ...]
    num_classes: int
    split_seed: int = 0
    package_version: str = ""
    parent: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        import json

        return json.loads(json.dumps(dataclasses.asdict(self)))

    @classmethod
    def from_dict(cls, raw: Any, source: str = CONFIG_FILE) -> Lineage:
        """Read the ``lineage`` object of a ``config.json`` (strict keys and types)."""
        where = "lineage"
        names = [f.name for f in dataclasses.fields(cls)]
        if not isinstance(raw, dict):
            raise SurrogateLoadError(f"{source}: {where} must be a JSON object, got {type(raw).__name__}")
        required = [n for n in names if n not in ("split_seed", "package_version", "parent")]
        missing = [k for k in required if k not in raw]
        unknown = sorted(set(raw) - set(names))
        if missing or unknown:
            parts = ([f"missing {missing}"] if missing else []) + ([f"unexpected {unknown}"] if unknown else [])
            raise SurrogateLoadError(f"{source}: {where}: {'; '.join(parts)}")
        opt_num = (int, float, type(None))
        shape = typed(raw["input_shape"], list, f"{where}.input_shape", source)
        for d in shape:
            typed(d, int, f"{where}.input_shape[]", source)
        return cls(
            base=typed(raw["base"], str, f"{where}.base", source),
            base_revision=typed(raw["base_revision"], (str, type(None)), f"{where}.base_revision", source),
            strategy=typed(raw["strategy"], str, f"{where}.strategy", source),
            options=typed(raw["options"], dict, f"{where}.options", source),
            data_sha256=typed(raw["data_sha256"], str, f"{where}.data_sha256", source),
            data_file=typed(raw["data_file"], (str, type(None)), f"{where}.data_file", source),
            n_rows=typed(raw["n_rows"], int, f"{where}.n_rows", source),
            n_heldout=typed(raw["n_heldout"], int, f"{where}.n_heldout", source),
            tau_before=typed(raw["tau_before"], opt_num, f"{where}.tau_before", source),
            tau_after=typed(raw["tau_after"], opt_num, f"{where}.tau_after", source),
            input_shape=tuple(shape),
            num_classes=typed(raw["num_classes"], int, f"{where}.num_classes", source),
            split_seed=typed(raw.get("split_seed", 0), int, f"{where}.split_seed", source),
            package_version=typed(raw.get("package_version", ""), str, f"{where}.package_version", source),
            parent=typed(raw.get("parent"), (dict, type(None)), f"{where}.parent", source),
        )


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
        lineage = raw.get(LINEAGE_KEY)
        if LINEAGE_KEY in raw:  # optional in every version: the per-version readers never see it
            raw = {k: v for k, v in raw.items() if k != LINEAGE_KEY}
        try:
            config = reader(raw, source)
        except (ValueError, TypeError) as err:  # a value the config class refuses
            if isinstance(err, SurrogateLoadError):
                raise
            raise SurrogateLoadError(f"{source}: {err}") from None
        if lineage is not None:
            if not any(f.name == LINEAGE_KEY for f in dataclasses.fields(config)):  # type: ignore[arg-type]
                raise SurrogateLoadError(f"{source}: {self.kind!r} surrogates record no {LINEAGE_KEY!r}; remove the key")
            config = dataclasses.replace(config, lineage=Lineage.from_dict(lineage, source))  # type: ignore[type-var]
        return config


def check_shared_fields(config: Any) -> None:
    """Check the fields every family's config has (``target.normalisation``,
    ``default_input_shape``, ``default_num_classes``) and store the shape as a tuple; for a frozen
    dataclass's ``__post_init__``."""
    if config.target.normalisation not in NORMALISATIONS:
        raise ValueError(f"target.normalisation must be one of {NORMALISATIONS}, got {config.target.normalisation!r}")
    shape = tuple(config.default_input_shape)
    if len(shape) != 3 or not all(isinstance(d, int) and d > 0 for d in shape):
        raise ValueError(f"default_input_shape must be three positive ints (C, H, W), got {shape!r}")
    object.__setattr__(config, "default_input_shape", shape)
    if not isinstance(config.default_num_classes, int) or config.default_num_classes < 1:
        raise ValueError(f"default_num_classes must be a positive int, got {config.default_num_classes!r}")


def read_shared_sections(raw: dict, source: str) -> dict[str, Any]:
    """The ``config.json`` sections every family has, type-checked: ``grammar_hash``, ``target``,
    ``corpus``, ``default_input_shape``, ``default_num_classes`` and ``metrics``, as keyword
    arguments of the family's config class."""
    tg = check_keys(raw["target"], [f.name for f in dataclasses.fields(TargetConfig)], "target", source)
    co = check_keys(raw["corpus"], [f.name for f in dataclasses.fields(CorpusRef)], "corpus", source)
    shape = typed(raw["default_input_shape"], list, "default_input_shape", source)
    for d in shape:
        typed(d, int, "default_input_shape[]", source)
    return {
        "grammar_hash": typed(raw["grammar_hash"], str, "grammar_hash", source),
        "target": TargetConfig(
            normalisation=typed(tg["normalisation"], str, "target.normalisation", source),
            drop_zero=typed(tg["drop_zero"], bool, "target.drop_zero", source),
        ),
        "default_input_shape": tuple(shape),
        "default_num_classes": typed(raw["default_num_classes"], int, "default_num_classes", source),
        "corpus": CorpusRef(
            repo_or_path=typed(co["repo_or_path"], (str, type(None)), "corpus.repo_or_path", source),
            revision=typed(co["revision"], (str, type(None)), "corpus.revision", source),
        ),
        "metrics": typed(raw["metrics"], dict, "metrics", source),
    }


def check_spread_scale(value: Any) -> None:
    """A config's ``spread_scale``: a positive finite number (1.0: the raw spread)."""
    import math

    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        raise ValueError(f"spread_scale must be a positive finite number, got {value!r}")


def optional_spread_scale(raw: Any, source: str) -> tuple[Any, float]:
    """``(raw without "spread_scale", its value)``; absent (configs written before calibration) is 1.0."""
    if not isinstance(raw, dict) or "spread_scale" not in raw:
        return raw, 1.0
    raw = dict(raw)
    value = typed(raw.pop("spread_scale"), (int, float), "spread_scale", source)
    try:
        check_spread_scale(value)
    except ValueError as err:
        raise SurrogateLoadError(f"{source}: {err}") from None
    return raw, float(value)
