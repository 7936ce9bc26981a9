"""Batched inference of a sequence-regression model on token ids: sort by length, cut into
token-budget batches, pad each batch to its own longest member, one forward pass per batch.

Where the time goes (300 architectures sampled as ``benchmarks/rank.py`` does, the einspace-native
model of :data:`~.model.NATIVE_SIZES`, ~690k parameters): text and tokens cost about 1 % of a
prediction; the forward pass the rest. Token lengths are very uneven (median ~56, p90 ~250, a few
near the 1,024 limit), so fixed batches of 64 sorted texts still padded 29k real tokens to 66k and
the attention work (length²) 7-fold, nearly all in the last batch. A budget of padded tokens per
batch (:data:`DEFAULT_MAX_TOKENS`) keeps the padding small: 3-4x fewer CPU seconds per
architecture, with the same scores (masked padding; float rounding only).

Nothing here changes torch's thread count or the model's device: inputs go to the device of the
model's weights.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

import numpy as np

__all__ = ["DEFAULT_BATCH_SIZE", "DEFAULT_MAX_TOKENS", "forward_scores", "length_batches", "model_device"]

#: at most this many sequences per batch
DEFAULT_BATCH_SIZE: Final = 64
#: at most this many padded tokens (sequences x longest length) per batch; one longer sequence
#: forms a batch of its own. 1,024-4,096 measured alike on a CPU; a GPU may like more.
DEFAULT_MAX_TOKENS: Final = 2048


def length_batches(lengths: Sequence[int], *, batch_size: int = DEFAULT_BATCH_SIZE, max_tokens: int = DEFAULT_MAX_TOKENS) -> list[list[int]]:
    """Indices into ``lengths``, sorted by length (ties in input order) and cut greedily into
    batches of at most ``batch_size`` indices whose count times longest length is at most
    ``max_tokens`` (a sequence longer than ``max_tokens`` is a batch of its own)."""
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
    if not isinstance(max_tokens, int) or max_tokens < 1:
        raise ValueError(f"max_tokens must be a positive int, got {max_tokens!r}")
    order = sorted(range(len(lengths)), key=lengths.__getitem__)
    batches: list[list[int]] = []
    current: list[int] = []
    for j in order:  # ascending: the newest index is the longest of its batch
        if current and (len(current) == batch_size or (len(current) + 1) * lengths[j] > max_tokens):
            batches.append(current)
            current = []
        current.append(j)
    if current:
        batches.append(current)
    return batches


def model_device(model: Any) -> Any:
    """The device of ``model``'s weights (CPU for a model without parameters)."""
    import torch

    for p in model.parameters():
        return p.device
    return torch.device("cpu")


def forward_scores(
    model: Any,
    ids: Sequence[Sequence[int]],
    *,
    pad_id: int,
    batch_size: int = DEFAULT_BATCH_SIZE,
    max_tokens: int = DEFAULT_MAX_TOKENS,
) -> np.ndarray:
    """The model's single logit for each id sequence (float64, input order), batched by
    :func:`length_batches`, under ``torch.inference_mode``, on the model's device, in whatever
    mode (eval/train) the model is in."""
    import torch

    from .training import collate

    out = np.full(len(ids), np.nan, dtype=np.float64)
    if not len(ids):
        return out
    device = model_device(model)
    with torch.inference_mode():
        for chunk in length_batches([len(x) for x in ids], batch_size=batch_size, max_tokens=max_tokens):
            batch = {k: v.to(device) for k, v in collate([ids[j] for j in chunk], pad_id).items()}
            out[chunk] = model(**batch).logits.float().reshape(-1).cpu().numpy()
    return out
