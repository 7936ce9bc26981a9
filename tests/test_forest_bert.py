"""BertSurrogate's spread (Monte-Carlo dropout) for acquisition: shapes, determinism, unchanged scores."""

from __future__ import annotations

import numpy as np
import pytest

from surrogate_hub.space import n_params, parse, sample_many, to_string

pytest.importorskip("transformers")
pytestmark = pytest.mark.filterwarnings("ignore::FutureWarning")

SHAPE = (1, 8, 8)
TINY = {"hidden_size": 32, "num_hidden_layers": 1, "num_attention_heads": 2, "intermediate_size": 64}


@pytest.fixture(scope="module")
def bert():
    import torch

    from surrogate_hub.surrogates.bert import BertSurrogate

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    archs = [to_string(a) for a in sample_many(40, SHAPE, seed=8)]
    y = np.log([n_params(parse(a), SHAPE, 10) for a in archs])
    sur = BertSurrogate(default_input_shape=SHAPE, device="cpu", epochs=1.0, batch_size=16, warmup_ratio=0.0)
    sur.init_model(sizes=TINY)
    sur.fit(archs, y, progress=False)
    yield sur, archs
    torch.set_num_threads(threads)


@pytest.mark.slow
def test_mc_dropout_spread(bert):
    import torch

    sur, archs = bert
    plain = sur.predict(archs[:12])
    state = torch.random.get_rng_state()
    mean, std = sur.predict(archs[:12] + ["not an architecture"], return_std=True, errors="nan")
    assert torch.equal(state, torch.random.get_rng_state())  # the caller's RNG is untouched
    assert mean.shape == std.shape == (13,)
    np.testing.assert_array_equal(mean[:12], plain)  # scores stay the dropout-off scores
    assert np.isnan(mean[12]) and np.isnan(std[12])
    assert np.all(std[:12] > 0)  # dropout is on in the extra passes
    np.testing.assert_array_equal(sur.predict(archs[:12], return_std=True)[1], std[:12])  # seeded: reproducible
    assert not sur.model.training  # back in eval mode
    np.testing.assert_array_equal(sur.predict(archs[:12]), plain)
    ranking = sur.rank(archs[:12], return_std=True)
    np.testing.assert_array_equal(ranking.spread, std[:12])
    with pytest.raises(ValueError, match="dropout_passes must be an int >= 2"):
        sur.predict(archs[:2], return_std=True, dropout_passes=1)
