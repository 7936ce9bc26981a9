"""Regression heads over a transformers encoder body, chosen by ``BertSurrogateConfig.pooling``.

``cls``
    transformers' own ``*ForSequenceClassification`` head: the ``[CLS]`` vector through the
    pooler, one linear layer (format version 1 artifacts all use it).
``mean-max``
    :class:`PooledRegressor`: the mean and the maximum of the last hidden states over the real
    (unmasked) tokens, concatenated, then a two-layer MLP with dropout. Averages and maxima over
    every token see the whole architecture at once (how often and where each op appears), which a
    small body does not fold into one ``[CLS]`` vector as well: on corpus v2, leave-one-task-out
    mean τ 0.500 for ``bert-pooled`` against 0.433 for ``bert-compact`` (``cls``; also a lower
    learning rate), ``benchmarks/results/surrogates.md``.

This module imports torch; import it lazily.
"""

from __future__ import annotations

from typing import Any, Final

import torch
from torch import nn
from transformers.modeling_outputs import SequenceClassifierOutput

__all__ = ["POOLINGS", "PooledRegressor"]

POOLINGS: Final = ("cls", "mean-max")


class PooledRegressor(nn.Module):
    """A transformers encoder ``body`` (e.g. ``BertModel``) with a mean-and-max pooled MLP head
    that outputs one score; ``forward`` takes the usual keywords and returns a
    ``SequenceClassifierOutput`` (MSE loss when ``labels`` are given), like the transformers
    regression models, so the ``Trainer`` and :mod:`.inference` use it unchanged. ``config`` is
    the body's."""

    def __init__(self, body: Any, dropout: float = 0.1) -> None:
        super().__init__()
        self.body = body
        self.config = body.config
        hidden = int(body.config.hidden_size)
        self.head = nn.Sequential(nn.Dropout(dropout), nn.Linear(2 * hidden, hidden), nn.GELU(), nn.Linear(hidden, 1))

    def forward(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None, labels: torch.Tensor | None = None, **_: Any
    ) -> SequenceClassifierOutput:
        if attention_mask is None:
            attention_mask = torch.ones_like(input_ids)
        states = self.body(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        mask = attention_mask.unsqueeze(-1).to(states.dtype)
        mean = (states * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1.0)
        peak = states.masked_fill(mask == 0, torch.finfo(states.dtype).min).amax(dim=1)
        logits = self.head(torch.cat([mean, peak], dim=-1))
        loss = None
        if labels is not None:
            loss = nn.functional.mse_loss(logits.reshape(-1), labels.reshape(-1).to(logits.dtype))
        return SequenceClassifierOutput(loss=loss, logits=logits)
