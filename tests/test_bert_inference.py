"""BERT inference (surrogate_hub.surrogates.bert.inference): token-budget batches, batched
prediction (sorted, padded per batch) equal to scoring one architecture at a time, and the
prediction batch size apart from the training settings."""

from __future__ import annotations

import numpy as np
import pytest

from surrogate_hub.space import Limits, sample_many, to_string
from surrogate_hub.surrogates.bert.inference import length_batches

SHAPE = (1, 8, 8)
#: a tiny native BERT; weights drawn wider than the default 0.02 so that scores differ by far more than
#: the tolerance (with 0.02 the untrained head gives nearly one score for every input)
TINY = {"hidden_size": 32, "num_hidden_layers": 1, "num_attention_heads": 2, "intermediate_size": 64, "initializer_range": 0.2}


@pytest.mark.parametrize(
    ("lengths", "batch_size", "max_tokens", "expected"),
    [
        ([], 4, 100, []),
        ([5, 3, 4], 4, 100, [[1, 2, 0]]),  # sorted by length
        ([5, 3, 4], 2, 100, [[1, 2], [0]]),  # at most batch_size rows
        ([2, 2, 2, 2, 2], 10, 6, [[0, 1, 2], [3, 4]]),  # ties keep input order; 3 x 2 <= 6
        ([10, 1, 1, 1, 4], 10, 8, [[1, 2, 3], [4], [0]]),  # 4 x 4 > 8 and 2 x 10 > 8
        ([50, 1], 4, 8, [[1], [0]]),  # longer than the budget: a batch of its own
    ],
)
def test_length_batches(lengths, batch_size, max_tokens, expected):
    assert length_batches(lengths, batch_size=batch_size, max_tokens=max_tokens) == expected


@pytest.mark.parametrize("bad", [{"batch_size": 0}, {"max_tokens": 0}, {"batch_size": 2.5}])
def test_length_batches_refuses_bad_limits(bad):
    with pytest.raises(ValueError, match="must be a positive int"):
        length_batches([1, 2], **{"batch_size": 4, "max_tokens": 10, **bad})


@pytest.fixture(scope="module")
def torch1_module():
    torch = pytest.importorskip("torch")
    pytest.importorskip("transformers")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield torch
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def tiny(torch1_module):
    """An untrained tiny native BERT surrogate on the CPU (random weights suffice: the check is
    that batching does not change the numbers)."""
    from surrogate_hub.surrogates.bert import BertSurrogate

    return BertSurrogate(default_input_shape=SHAPE, device="cpu").init_model(sizes=TINY)


def test_batched_prediction_equals_one_by_one(tiny, torch1_module):
    archs = [to_string(a) for a in sample_many(40, SHAPE, seed=3, limits=Limits(max_params=50_000))]
    archs.append("not an architecture")
    tiny.predict_batch_size, tiny.max_tokens = 8, 200  # many batches, each padded to its longest member
    ids = tiny.tokenise(tiny.texts(archs[:-1], [SHAPE] * 40))
    lengths = [len(x) for x in ids]
    batches = length_batches(lengths, batch_size=8, max_tokens=200)
    assert len(batches) > 3 and any(len({lengths[j] for j in b}) > 1 for b in batches), "the check needs padded batches"

    tiny.model.train()  # predict switches to eval mode (dropout off) by itself
    batched = tiny.predict(archs, errors="nan")
    single = np.array([tiny.predict([a])[0] for a in archs[:-1]])
    assert not tiny.model.training and torch1_module.get_num_threads() == 1
    assert np.isnan(batched[-1])
    assert np.ptp(single) > 0.1  # distinct scores: a mix-up of rows would show
    np.testing.assert_allclose(batched[:-1], single, rtol=0, atol=1e-5)
    tiny.predict_batch_size, tiny.max_tokens = 64, 2048
    np.testing.assert_allclose(tiny.predict(archs[:-1]), single, rtol=0, atol=1e-5)


def test_batch_size_is_a_training_setting_and_predict_batch_size_is_not():
    pytest.importorskip("transformers")
    from surrogate_hub.surrogates.bert import BertSurrogate

    sur = BertSurrogate(batch_size=32, epochs=2.0, predict_batch_size=8, max_tokens=512)
    assert sur.config.training.batch_size == 32 and sur.config.training.epochs == 2.0
    assert sur.predict_batch_size == 8 and sur.max_tokens == 512
    assert BertSurrogate().predict_batch_size == 64 and BertSurrogate().config.training.batch_size == 16
