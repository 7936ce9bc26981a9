"""The percentile reading of surrogate scores."""

from __future__ import annotations

import math

import numpy as np
import pytest

from surrogate_hub.percentile import ReferenceScores, reference_scores
from surrogate_hub.space import sample_many
from surrogate_hub.surrogates import load_surrogate


def _ref(values):
    return ReferenceScores((3, 8, 8), 10, 0, np.sort(np.asarray(values, dtype=float)))


@pytest.mark.parametrize(
    "score, expected",
    [(-1.0, 0.0), (5.0, 100.0), (0.25, 20.0), (0.2, 15.0), (0.4, 35.0)],
)
def test_percentile_counts_ties_half(score, expected):
    ref = _ref([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0])
    assert ref.percentile(score) == pytest.approx(expected)


def test_describe_words():
    ref = _ref(np.arange(100) / 100)
    assert ref.describe(0.95).startswith("Top 10%: predicted to train better than 96%")
    assert "3×8×8 inputs and 10 classes" in ref.describe(0.3)
    assert ref.describe(0.1).startswith("Bottom quarter")
    assert "top 0.5%" in ref.describe(2.0)
    assert "invalid" in ref.describe(math.nan) and math.isnan(ref.percentile(math.nan))


def test_empty_reference_refused():
    with pytest.raises(ValueError):
        _ref([])


def test_reference_from_the_embedded_surrogate():
    sur = load_surrogate("einspace-graf-xgb")
    ref = reference_scores(sur, (3, 16, 16), 10, n=120, seed=5)
    assert 100 <= ref.n <= 120 and np.all(np.diff(ref.scores) >= 0)
    own = sur.predict(sample_many(120, (3, 16, 16), seed=5), input_shape=(3, 16, 16), num_classes=10, errors="nan")
    assert np.allclose(np.sort(own[~np.isnan(own)]), ref.scores)
    assert ref.percentile(float(np.nanmax(own))) > 99 and ref.percentile(float(np.nanmin(own))) < 1
    with pytest.raises(ValueError):
        reference_scores(sur, (3, 16, 16), n=0)
