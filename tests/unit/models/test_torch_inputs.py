"""The MLP's inputs are clipped to the training range: beyond it, a value scores as the edge does."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from campaignflow.models.churn_torch import InputTransform


@settings(max_examples=100, deadline=None)
@given(seed=st.integers(0, 10_000), beyond=st.floats(1.0, 1e6))
def test_values_beyond_the_training_range_transform_as_its_edge(seed: int, beyond: float) -> None:
    rng = np.random.default_rng(seed)
    train = rng.normal(50, 10, size=(200, 3))
    train[rng.random(train.shape) < 0.1] = np.nan
    transform = InputTransform.fit(train)
    edge_high, edge_low = np.nanmax(train, axis=0), np.nanmin(train, axis=0)
    above, below = edge_high + beyond, edge_low - beyond
    np.testing.assert_allclose(transform(above[None, :]), transform(edge_high[None, :]), rtol=1e-6)
    np.testing.assert_allclose(transform(below[None, :]), transform(edge_low[None, :]), rtol=1e-6)
    inside = np.nanmedian(train, axis=0)[None, :]
    unclipped = InputTransform(transform.n_columns, transform.mean, transform.std)  # a model saved before
    np.testing.assert_allclose(transform(inside), unclipped(inside), rtol=1e-6)
    assert not np.allclose(unclipped(above[None, :]), transform(above[None, :]))
