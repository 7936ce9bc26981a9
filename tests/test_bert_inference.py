"""BERT inference (surrogate_hub.surrogates.bert.inference): the prediction batch size apart from
the training settings."""

from __future__ import annotations

import pytest


def test_batch_size_is_a_training_setting_and_predict_batch_size_is_not():
    pytest.importorskip("transformers")
    from surrogate_hub.surrogates.bert import BertSurrogate

    sur = BertSurrogate(batch_size=32, epochs=2.0, predict_batch_size=8)
    assert sur.config.training.batch_size == 32 and sur.config.training.epochs == 2.0
    assert sur.predict_batch_size == 8
    assert BertSurrogate().predict_batch_size == 64 and BertSurrogate().config.training.batch_size == 16
