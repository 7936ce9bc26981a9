"""``BertSurrogateConfig``: everything that defines a :class:`~.model.BertSurrogate` except the
weights and the tokenizer; written as ``config.json``. Format version 2 added ``pooling`` (the
regression head); version 1 files are read with ``pooling="cls"``, the only head they had."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from ...space.ops import grammar_hash
from ..artifact import CONFIG_FILE
from ..config import (
    LINEAGE_KEY,
    ConfigReaders,
    CorpusRef,
    Lineage,
    TargetConfig,
    check_keys,
    check_shared_fields,
    read_shared_sections,
    typed,
)
from .augment import AUGMENTATIONS
from .text import ENCODINGS

__all__ = ["FORMAT_VERSION", "KIND", "BertSurrogateConfig", "TrainingConfig", "config_readers"]

KIND: Final = "bert"
FORMAT_VERSION: Final = 2
#: ``base`` of a model initialised randomly with the einspace-native sizes (no MLM pretraining)
NATIVE: Final = "einspace-native"
TOKENIZERS: Final = ("einspace", "pretrained")
#: regression heads (:mod:`.pooling`; listed here so that reading a config needs no torch)
POOLINGS: Final = ("cls", "mean-max")


@dataclass(frozen=True)
class TrainingConfig:
    """Fine-tuning settings; the defaults are the paper's recipe (lr 1e-5, weight decay 0.01, 6 %
    warmup, cosine schedule) with early stopping on a validation split of the training rows."""

    learning_rate: float = 1e-5
    weight_decay: float = 0.01
    warmup_ratio: float = 0.06
    scheduler: str = "cosine"
    epochs: float = 10.0
    batch_size: int = 16
    val_fraction: float = 0.1  #: of the training rows, for early stopping (never the reported test split)
    patience: int = 3  #: epochs without a better validation Kendall tau before stopping
    augmentations: tuple[str, ...] = ()  #: any of ``reorder``, ``swap``, ``identity``, ``width``
    augment_p: float = 0.5  #: probability that a training example is augmented (per epoch)
    label_noise: float = 0.0  #: sd of Gaussian noise on normalised targets (the paper: 0.005)
    seed: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "augmentations", tuple(self.augmentations))
        bad = [a for a in self.augmentations if a not in AUGMENTATIONS]
        if bad:
            raise ValueError(f"unknown augmentations {bad}; expected some of {sorted(AUGMENTATIONS)}")
        if not 0 <= self.val_fraction < 1:
            raise ValueError(f"val_fraction must be in [0, 1), got {self.val_fraction}")
        if self.epochs <= 0 or self.batch_size < 1 or self.learning_rate <= 0:
            raise ValueError("epochs, batch_size and learning_rate must be positive")


@dataclass(frozen=True)
class BertSurrogateConfig:
    """``config.json`` of a BERT surrogate. ``base`` records what the weights started from (a Hub
    id, a local path, or ``einspace-native``); ``tokenizer`` is ``einspace`` (one token per grammar
    symbol) or ``pretrained`` (the base's own WordPiece); ``max_length`` counts ``[CLS]``/``[SEP]``:
    longer inputs are cut and counted (:attr:`~.model.BertSurrogate.last_token_stats`); ``pooling``
    is the regression head (:mod:`.pooling`)."""

    surrogate: str = KIND
    format_version: int = FORMAT_VERSION
    grammar_hash: str = field(default_factory=grammar_hash)
    encoding: str = "long"
    base: str = NATIVE
    tokenizer: str = "einspace"
    max_length: int = 512
    pooling: str = "mean-max"
    target: TargetConfig = field(default_factory=TargetConfig)
    training: TrainingConfig = field(default_factory=TrainingConfig)
    default_input_shape: tuple[int, int, int] = (3, 32, 32)
    default_num_classes: int = 10
    corpus: CorpusRef = field(default_factory=CorpusRef)
    metrics: dict[str, Any] = field(default_factory=dict)
    lineage: Lineage | None = None  #: set on fine-tuned surrogates only (:mod:`..finetune`)

    def __post_init__(self) -> None:
        if self.encoding not in ENCODINGS:
            raise ValueError(f"encoding must be one of {ENCODINGS}, got {self.encoding!r}")
        if self.tokenizer not in TOKENIZERS:
            raise ValueError(f"tokenizer must be one of {TOKENIZERS}, got {self.tokenizer!r}")
        if self.pooling not in POOLINGS:
            raise ValueError(f"pooling must be one of {POOLINGS}, got {self.pooling!r}")
        if not isinstance(self.max_length, int) or self.max_length < 8:
            raise ValueError(f"max_length must be an int >= 8, got {self.max_length!r}")
        check_shared_fields(self)

    @classmethod
    def make(
        cls,
        *,
        encoding: str = "long",
        base: str = NATIVE,
        tokenizer: str | None = None,
        max_length: int | None = None,
        pooling: str = "mean-max",
        normalisation: str = "percentile",
        drop_zero: bool = True,
        default_input_shape: Sequence[int] = (3, 32, 32),
        default_num_classes: int = 10,
        **training: Any,
    ) -> BertSurrogateConfig:
        """A config from flat settings; ``training`` keywords are :class:`TrainingConfig` fields.
        ``tokenizer`` defaults to ``einspace`` for the native base and ``pretrained`` otherwise."""
        unknown = sorted(set(training) - {f.name for f in dataclasses.fields(TrainingConfig)})
        if unknown:
            raise TypeError(f"unknown BertSurrogate settings {unknown}")
        from pathlib import Path

        native = base == NATIVE or (Path(base) / "einspace_mlm.json").is_file()  # written by .pretrain
        tok = tokenizer or ("einspace" if native else "pretrained")
        return cls(
            encoding=encoding,
            base=base,
            tokenizer=tok,
            max_length=max_length or (1024 if tok == "einspace" else 512),
            pooling=pooling,
            target=TargetConfig(normalisation=normalisation, drop_zero=drop_zero),
            training=TrainingConfig(**training),
            default_input_shape=tuple(default_input_shape),  # type: ignore[arg-type]
            default_num_classes=default_num_classes,
        )

    def to_dict(self) -> dict[str, Any]:
        """The ``config.json`` layout (tuples as lists); ``lineage`` only on a fine-tuned surrogate."""
        d = json.loads(json.dumps(dataclasses.asdict(self)))
        if d.get(LINEAGE_KEY) is None:
            d.pop(LINEAGE_KEY, None)
        return d

    @classmethod
    def from_dict(cls, raw: Any, source: str = CONFIG_FILE) -> BertSurrogateConfig:
        """Read a ``config.json`` dict with the reader for its ``format_version``."""
        return _READERS.read(raw, source)


_READERS: ConfigReaders[BertSurrogateConfig] = ConfigReaders(KIND, "BertSurrogate")


def config_readers() -> dict:
    """The config readers by format version (a copy)."""
    return _READERS.versions()


@_READERS.register(1)
def _read_v1(raw: dict, source: str) -> BertSurrogateConfig:
    """Version 1: no ``pooling`` key; every such model has the ``cls`` head."""
    check_keys(raw, [f.name for f in dataclasses.fields(BertSurrogateConfig) if f.name not in (LINEAGE_KEY, "pooling")], "config", source)
    return _read(raw, source, pooling="cls")


@_READERS.register(2)
def _read_v2(raw: dict, source: str) -> BertSurrogateConfig:
    check_keys(raw, [f.name for f in dataclasses.fields(BertSurrogateConfig) if f.name != LINEAGE_KEY], "config", source)
    return _read(raw, source, pooling=typed(raw["pooling"], str, "pooling", source))


def _read(raw: dict, source: str, *, pooling: str) -> BertSurrogateConfig:
    """The config of ``raw`` in the current format (an older file is upgraded in memory)."""
    tr = check_keys(raw["training"], [f.name for f in dataclasses.fields(TrainingConfig)], "training", source)
    number = (int, float)
    augs = typed(tr["augmentations"], list, "training.augmentations", source)
    for a in augs:
        typed(a, str, "training.augmentations[]", source)
    return BertSurrogateConfig(
        pooling=pooling,
        encoding=typed(raw["encoding"], str, "encoding", source),
        base=typed(raw["base"], str, "base", source),
        tokenizer=typed(raw["tokenizer"], str, "tokenizer", source),
        max_length=typed(raw["max_length"], int, "max_length", source),
        training=TrainingConfig(
            learning_rate=typed(tr["learning_rate"], number, "training.learning_rate", source),
            weight_decay=typed(tr["weight_decay"], number, "training.weight_decay", source),
            warmup_ratio=typed(tr["warmup_ratio"], number, "training.warmup_ratio", source),
            scheduler=typed(tr["scheduler"], str, "training.scheduler", source),
            epochs=typed(tr["epochs"], number, "training.epochs", source),
            batch_size=typed(tr["batch_size"], int, "training.batch_size", source),
            val_fraction=typed(tr["val_fraction"], number, "training.val_fraction", source),
            patience=typed(tr["patience"], int, "training.patience", source),
            augmentations=tuple(augs),
            augment_p=typed(tr["augment_p"], number, "training.augment_p", source),
            label_noise=typed(tr["label_noise"], number, "training.label_noise", source),
            seed=typed(tr["seed"], int, "training.seed", source),
        ),
        **read_shared_sections(raw, source),
    )
