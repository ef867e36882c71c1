"""What a shop would use without a model: global popularity, "buy again", item-item co-occurrence.

Each recommender here and the learned one share one interface: ``scores(customers)`` is a dense
(len(customers) x n_products) float32 matrix over the catalogue index (higher is better), and
:func:`campaignflow.recommend.evaluate.top_k` turns any of them into ranked lists.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse


@dataclass(frozen=True)
class Index:
    """Customer and product ids to matrix rows and columns (products: the catalogue, sorted)."""

    customers: pd.Index
    products: pd.Index

    def matrix(self, pairs: pd.DataFrame, value: str | None = None) -> sparse.csr_matrix:
        """Customers x products from (customer_id, product_id[, value]) rows of known ids."""
        rows = positions(self.customers, pairs["customer_id"])
        cols = positions(self.products, pairs["product_id"])
        keep = (rows >= 0) & (cols >= 0)
        data = pairs[value].to_numpy("float32")[keep] if value else np.ones(int(keep.sum()), "float32")
        shape = (len(self.customers), len(self.products))
        return sparse.csr_matrix((data, (rows[keep], cols[keep])), shape=shape)


def positions(index: pd.Index, ids: pd.Series) -> np.ndarray:
    """The position of each id in ``index`` (-1: not in it); categorical ids are looked up once per category."""
    if isinstance(ids.dtype, pd.CategoricalDtype):
        at = np.append(index.get_indexer(ids.cat.categories), -1)  # code -1 (missing) -> the appended -1
        return at[ids.cat.codes.to_numpy()]
    return index.get_indexer(ids)


def popularity(interactions: pd.DataFrame, index: Index, as_of: str, recent_days: int = 30) -> np.ndarray:
    """Purchases per product over the last ``recent_days`` (all purchases when the window is empty)."""
    bought = interactions[interactions["purchases"] > 0]
    since = pd.Timestamp(as_of) - pd.Timedelta(days=recent_days - 1)
    recent = bought[bought["last_day"] >= since]
    use = recent if len(recent) else bought
    counts = use.groupby("product_id", observed=True)["purchases"].sum()
    out = np.zeros(len(index.products), "float32")
    cols = index.products.get_indexer(counts.index)
    out[cols[cols >= 0]] = counts.to_numpy("float32")[cols >= 0]
    return out


class Popular:
    """The same most-bought products for everyone."""

    def __init__(self, interactions: pd.DataFrame, index: Index, as_of: str) -> None:
        self.counts = popularity(interactions, index, as_of)

    def scores(self, customers: np.ndarray) -> np.ndarray:
        return np.broadcast_to(self.counts, (len(customers), len(self.counts))).copy()


class BuyAgain:
    """The customer's own most-bought products (popularity breaks ties and fills the rest)."""

    def __init__(self, interactions: pd.DataFrame, index: Index, as_of: str) -> None:
        self.own = index.matrix(interactions[interactions["purchases"] > 0], "purchases")
        counts = popularity(interactions, index, as_of)
        self.fill = (counts / (counts.max() or 1.0) * 0.5).astype("float32")  # below one own purchase

    def scores(self, customers: np.ndarray) -> np.ndarray:
        return np.asarray(self.own[customers].todense(), dtype="float32") + self.fill


class CoOccurrence:
    """Items bought by the same customers as what this customer interacted with (cosine, weighted)."""

    def __init__(self, interactions: pd.DataFrame, index: Index, as_of: str) -> None:
        self.history = index.matrix(interactions, "weight")
        bought = (index.matrix(interactions[interactions["purchases"] > 0]) > 0).astype("float32")
        norms = np.sqrt(np.asarray(bought.sum(axis=0)).ravel())
        inverse = sparse.diags(np.where(norms > 0, 1.0 / np.maximum(norms, 1e-9), 0.0).astype("float32"))
        self.similarity = (inverse @ (bought.T @ bought) @ inverse).tocsr()
        counts = popularity(interactions, index, as_of)
        self.fill = (counts / (counts.max() or 1.0) * 1e-3).astype("float32")  # for customers with no history

    def scores(self, customers: np.ndarray) -> np.ndarray:
        return np.asarray((self.history[customers] @ self.similarity).todense(), dtype="float32") + self.fill


BASELINES: dict[str, type[Popular] | type[BuyAgain] | type[CoOccurrence]] = {
    "popularity": Popular,
    "buy again": BuyAgain,
    "co-occurrence": CoOccurrence,
}
