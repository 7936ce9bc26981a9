"""The BERT surrogate family: architecture text → transformers sequence regression.

Modules: :mod:`.text` (encodings), :mod:`.tokenizer` (the einspace-native tokenizer),
:mod:`.augment` (the paper's four augmentations), :mod:`.config` (``config.json``),
:mod:`.training` (HF ``Trainer`` fine-tuning), :mod:`.pretrain` (MLM pretraining of the native
body), :mod:`.model` (:class:`BertSurrogate`). Importing this package imports neither torch nor
transformers; they are imported when a model is built, trained or loaded.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .config import BertSurrogateConfig, TrainingConfig

if TYPE_CHECKING:  # pragma: no cover
    from .model import BertSurrogate

__all__ = ["BertSurrogate", "BertSurrogateConfig", "TrainingConfig"]


def __getattr__(name: str) -> Any:
    if name == "BertSurrogate":
        from .model import BertSurrogate

        return BertSurrogate
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
