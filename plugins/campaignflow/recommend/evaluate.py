"""Ranking metrics on a time split: recall, NDCG and MAP at k, catalogue coverage and novelty.

Train on interactions up to T, judge on the distinct products each customer bought in (T, T+H].
Every recommender is a ``scores(customers) -> matrix`` over the same product index.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np
from scipy import sparse


class Scorer(Protocol):
    def scores(self, customers: np.ndarray) -> np.ndarray: ...


def top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """Column indices of the ``k`` best scores per row, best first (ties: lower index first; NaN last).

    Rows with fewer than ``k`` scores above their minimum (a buy-again list of five products ties
    the other 19,995 at zero) skip the partition; the others get a partial partition. Ties at the
    k-th place are resolved by a running count (:func:`_fill_ties`), never a full sort.
    """
    scores = np.where(np.isnan(scores), -np.inf, scores)
    k = min(k, scores.shape[1])
    picked = np.empty((len(scores), k), dtype=np.intp)
    floor = scores.min(axis=1, keepdims=True)
    above = scores > floor
    sparse_rows = above.sum(axis=1) < k
    if sparse_rows.any():
        picked[sparse_rows] = _fill_ties(scores[sparse_rows], floor[sparse_rows], k)
    dense_rows = np.flatnonzero(~sparse_rows)
    if len(dense_rows):
        rows = scores[dense_rows]
        part = np.argpartition(-rows, k - 1, axis=1)[:, :k]
        kth = np.take_along_axis(rows, part, axis=1).min(axis=1, keepdims=True)
        tied = np.flatnonzero((rows >= kth).sum(axis=1) > k)  # which k of the tied ones is arbitrary
        if len(tied):
            part[tied] = _fill_ties(rows[tied], kth[tied], k)
        picked[dense_rows] = part
    order = np.lexsort((picked, -np.take_along_axis(scores, picked, axis=1)), axis=1)
    return np.take_along_axis(picked, order, axis=1)


def _fill_ties(rows: np.ndarray, kth: np.ndarray, k: int) -> np.ndarray:
    """The ``k`` columns per row that are above ``kth``, then the lowest-index ones equal to it
    (a running count, not a sort: rows of 20,000 scores tie in the thousands)."""
    above = rows > kth
    equal = rows == kth
    room = k - above.sum(axis=1, keepdims=True)
    chosen = above | (equal & (np.cumsum(equal, axis=1, dtype=np.int32) <= room))
    return np.nonzero(chosen)[1].reshape(len(rows), k)


def ranking_metrics(ranked: np.ndarray, relevant: sparse.csr_matrix, k: int) -> dict[str, float]:
    """Mean recall@k, NDCG@k and MAP@k over rows with at least one relevant product.

    ``relevant``: rows aligned with ``ranked``, nonzero = a product the customer bought.
    """
    relevant, label = relevant.tocsr(), k
    k = min(k, ranked.shape[1])
    n_relevant = np.diff(relevant.indptr)
    keep = n_relevant > 0
    if not keep.any():
        return {f"recall@{label}": 0.0, f"ndcg@{label}": 0.0, f"map@{label}": 0.0}
    top = ranked[keep, :k]
    n = n_relevant[keep].astype("float64")
    rows = np.repeat(np.arange(len(top)), k)
    hits = np.asarray(relevant[keep][rows, top.ravel()]).reshape(len(top), k) != 0
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    ideal = np.cumsum(discounts)[np.minimum(n, k).astype(int) - 1]
    precision = np.cumsum(hits, axis=1) / np.arange(1, k + 1)
    return {
        f"recall@{label}": round(float(np.mean(hits.sum(axis=1) / n)), 5),
        f"ndcg@{label}": round(float(np.mean((hits * discounts).sum(axis=1) / ideal)), 5),
        f"map@{label}": round(float(np.mean((precision * hits).sum(axis=1) / np.minimum(n, k))), 5),
    }


def evaluate(
    recommenders: dict[str, Scorer],
    customers: np.ndarray,
    relevant: sparse.csr_matrix,
    popularity: np.ndarray,
    ks: Sequence[int] = (1, 5, 10, 20, 50),
    batch: int = 2048,
) -> dict[str, dict[str, Any]]:
    """Metrics at every k, catalogue coverage@10 and novelty@10 per recommender."""
    share = popularity / max(float(popularity.sum()), 1.0)
    self_info = -np.log2(np.maximum(share, 1.0 / max(float(popularity.sum()), 1.0) / 10))
    out: dict[str, dict[str, Any]] = {}
    kmax = max(ks)
    for name, rec in recommenders.items():
        ranked = np.concatenate(
            [top_k(rec.scores(customers[s : s + batch]), kmax) for s in range(0, len(customers), batch)]
        )
        metrics: dict[str, Any] = {}
        for k in ks:
            metrics.update(ranking_metrics(ranked, relevant, k))
        top10 = ranked[:, :10]
        metrics["coverage@10"] = round(len(np.unique(top10)) / len(popularity), 5)
        metrics["novelty@10"] = round(float(self_info[top10].mean()), 4)
        out[name] = metrics
    return out


def recall_curve_png(results: dict[str, dict[str, Any]], ks: Sequence[int], title: str) -> bytes:
    """Recall@k and NDCG@k against k, one line per recommender, as PNG bytes."""
    from campaignflow.figures import png, pyplot

    plt = pyplot()

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    fig.suptitle(title)
    for ax, metric in zip(axes, ("recall", "ndcg"), strict=True):
        for name, m in results.items():
            ax.plot(
                list(ks), [m[f"{metric}@{k}"] for k in ks], marker="o", lw=2.5 if name == "model" else 1.2, label=name
            )
        ax.set(xscale="log", xlabel="k (list length)", ylabel=f"{metric}@k", title=f"{metric}@k")
        ax.set_xticks(list(ks), [str(k) for k in ks])
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    return png(fig)
