"""Which recommender serves, and top-k lists from any of them.

Nothing serves that loses to a simple rule on the window it was judged on: the baselines a shop
would use without a model (popularity, buy again, co-occurrence) are serving candidates beside the
learned challenger and the learned champion, and the best NDCG@10 on the test window serves. A
challenger replaces a learned champion only when it beats it by the promotion margin (so a tie does
not churn versions), or when the champion has fallen below a baseline and the challenger has not; a
baseline serves as soon as it beats every learned candidate (a tie goes to the learned one).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import sparse

from campaignflow.recommend.evaluate import Scorer, top_k

BASELINE_NAME = "recommender_baseline"  # registry name of a baseline chosen to serve
METRIC = "ndcg@10"


@dataclass(frozen=True)
class ServingChoice:
    """The decision of one training run: who serves, and why (the numbers it was judged by)."""

    serving: str  # "model" (the challenger), "champion" (the learned incumbent) or a baseline's name
    reason: str

    @property
    def baseline(self) -> str | None:
        return None if self.serving in ("model", "champion") else self.serving


def choose(metrics: dict[str, Any], champion_label: str | None, margin: float) -> ServingChoice:
    """The serving recommender from one window's metrics.

    Args:
        metrics: ``test`` (the challenger), ``champion_test`` (the learned incumbent, or None) and
            ``baselines`` (name → metrics), all judged on the same customers and window.
        champion_label: how to name the incumbent in the reason.
        margin: NDCG@10 a challenger must gain over a learned incumbent to replace it.
    """
    model = float(metrics["test"][METRIC])
    held = None if metrics.get("champion_test") is None else float(metrics["champion_test"][METRIC])
    best_name, best = max(((n, float(v[METRIC])) for n, v in metrics["baselines"].items()), key=lambda nv: nv[1])
    if held is not None and model < held + margin and held >= best:
        return ServingChoice("champion", f"kept {champion_label}: NDCG@10 {held} vs challenger {model}")
    if model >= best:  # ties go to the learned model: it does not lose
        if held is None:
            return ServingChoice("model", f"NDCG@10 {model} beats the best baseline ({best_name} {best})")
        return ServingChoice(
            "model",
            f"NDCG@10 {model} beats champion {champion_label} {held} and the best baseline ({best_name} {best})",
        )
    who = "the model" if held is None else f"the model {model} and champion {champion_label}"
    score = model if held is None else max(model, held)
    return ServingChoice(best_name, f"baseline {best_name} serves: NDCG@10 {best} beats {who} {score}")


def serve_top(
    scorer: Scorer,
    rows: int,
    k: int,
    exclude: sparse.csr_matrix | None = None,
    unavailable: np.ndarray | None = None,
    batch: int = 2048,
) -> tuple[np.ndarray, np.ndarray]:
    """Top-``k`` product indices and scores for customer rows ``0 … rows-1`` of any scorer, in batches.

    ``exclude`` (rows x products, nonzero = never to that row) and ``unavailable`` (per product,
    never to anyone) score -inf, so they come last and are dropped by the caller.
    """
    indices, scores = [], []
    for start in range(0, rows, batch):
        block = np.array(scorer.scores(np.arange(start, min(start + batch, rows))), dtype="float32")
        if unavailable is not None:
            block[:, unavailable] = -np.inf
        if exclude is not None:
            hit = exclude[start : start + batch].tocoo()
            block[hit.row, hit.col] = -np.inf
        best = top_k(block, k)
        indices.append(best)
        scores.append(np.take_along_axis(block, best, axis=1))
    if not indices:
        return np.empty((0, 0), np.intp), np.empty((0, 0), "float32")
    return np.vstack(indices), np.vstack(scores)
