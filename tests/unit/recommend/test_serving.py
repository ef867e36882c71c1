"""Which recommender serves (never one that loses to a baseline on its window) and top-k from any of them."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import sparse

from campaignflow.recommend import serving
from campaignflow.recommend.evaluate import top_k

BASELINES = ("popularity", "buy again", "co-occurrence")
score = st.floats(0, 1, allow_nan=False).map(lambda x: round(x, 3))


def metrics(model: float, champion: float | None, baselines: list[float]) -> dict:  # type: ignore[type-arg]
    return {
        "test": {"ndcg@10": model},
        "champion_test": None if champion is None else {"ndcg@10": champion},
        "baselines": {n: {"ndcg@10": v} for n, v in zip(BASELINES, baselines, strict=True)},
    }


@settings(max_examples=300, deadline=None)
@given(model=score, champion=st.none() | score, baselines=st.lists(score, min_size=3, max_size=3), margin=score)
def test_what_serves_never_loses_to_a_baseline(model, champion, baselines, margin) -> None:  # type: ignore[no-untyped-def]
    choice = serving.choose(metrics(model, champion, baselines), "recommender_bpr@2024-01-01", margin)
    served = {"model": model, "champion": champion, **dict(zip(BASELINES, baselines, strict=True))}[choice.serving]
    assert served is not None and served >= max(baselines)
    if choice.serving == "model" and champion is not None:  # a challenger must clear the margin, unless the
        assert model >= champion + margin or champion < max(baselines)  # champion itself lost to a baseline
    if choice.baseline is not None:  # a baseline serves only when every learned candidate loses to it
        assert served > model and (champion is None or served > champion)
        assert f"baseline {choice.baseline} serves" in choice.reason


def test_the_issue_s_case_buy_again_serves() -> None:
    """The summary showed the recommender losing to buy-again (0.286 vs 0.341) and serving anyway."""
    choice = serving.choose(metrics(0.286, None, [0.2, 0.341, 0.308]), None, 0.005)
    assert choice.serving == "buy again"
    assert choice.reason == "baseline buy again serves: NDCG@10 0.341 beats the model 0.286"


class Fixed:
    def __init__(self, matrix: np.ndarray) -> None:
        self.matrix = matrix

    def scores(self, customers: np.ndarray) -> np.ndarray:
        return self.matrix[customers]


@settings(max_examples=50, deadline=None)
@given(seed=st.integers(0, 2**16), rows=st.integers(1, 40), cols=st.integers(1, 30), k=st.integers(1, 12))
def test_batched_top_k_matches_one_dense_pass(seed: int, rows: int, cols: int, k: int) -> None:
    rng = np.random.default_rng(seed)
    dense = rng.integers(0, 5, size=(rows, cols)).astype("float32")  # many ties
    exclude = sparse.random(rows, cols, density=0.2, random_state=seed, format="csr")
    unavailable = rng.random(cols) < 0.2
    want_scores = dense.copy()
    want_scores[:, unavailable] = -np.inf
    want_scores[exclude.toarray() != 0] = -np.inf
    want = top_k(want_scores, k)
    got, got_scores = serving.serve_top(Fixed(dense), rows, k, exclude, unavailable, batch=7)
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(got_scores, np.take_along_axis(want_scores, want, axis=1))
