"""The learned recommender: a history-based factorisation trained with a BPR loss, in torch.

A customer is what they did, not a free parameter: their vector is the weighted sum of *history*
embeddings of the products they bought, carted and viewed (weights / sqrt(total)), so a customer
first seen yesterday is scored without retraining and nothing per customer is stored. Then

    score(c, p) = u_c · (v_p + e_category(p) + e_price_band(p)) + b_p + b_category(p) + β log1p(w_cp)

where w_cp is the customer's own decayed interaction with p (repeat purchases are real; β says how
much they count, learned). At serving a :class:`Blend`, chosen after training on half of the
newest window's buyers (:func:`choose_blend`), adds the customer's own history and the shop's trend:
``+ a log1p(w_cp) + g log1p(n_cp) + c log1p(recent_p)`` (n_cp: the customer's purchases of p, recent_p:
the shop's purchases of p in the last 30 days), so the model can fall back to "buy again, what sells
now first" where that ranks better and add what the factors know where they do. It is
trained the way it is used: history up to T0, positives = the products bought in (T0, T0 + H],
against uniformly sampled negatives, over ``windows`` consecutive windows
before the training date. A product nobody has touched still has its category and price band
vectors (cold start by category); a customer with no history gets the biases alone, i.e.
popularity by category. On CUDA: bfloat16 autocast, index tensors staged through pinned memory,
large batches; on the CPU: float32. Seeded and deterministic.
"""

from __future__ import annotations

import io
import json
import logging
import time
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse

from campaignflow.models.device import torch_device
from campaignflow.recommend.baselines import Index, popularity
from campaignflow.recommend.interactions import price_band

log = logging.getLogger(__name__)

NAME = "recommender_bpr"


@dataclass(frozen=True)
class BprConfig:
    dim: int = 32
    epochs: int = 30  # at most: early stopping on the validation customers' NDCG@10
    patience: int = 3
    learning_rate: float = 0.01
    weight_decay: float = 1e-5
    cpu_batch: int = 4096
    cuda_batch: int = 65_536
    seed: int = 7


@dataclass
class ItemSide:
    """Per catalogue product: category code and price band (ints), with the category names."""

    category: np.ndarray
    band: np.ndarray
    categories: list[str]

    @classmethod
    def from_catalogue(cls, products: pd.Index, catalogue: pd.DataFrame | None) -> ItemSide:
        frame = pd.DataFrame(index=products)
        if catalogue is not None:
            frame = frame.join(catalogue.set_index("product_id")[["category", "price"]])
        else:
            frame = frame.assign(category=None, price=np.nan)
        names = frame["category"].fillna("(none)").astype(str)
        categories = sorted(names.unique())
        codes = pd.Categorical(names, categories=categories).codes.astype("int64")
        return cls(codes, price_band(frame["price"]).astype("int64"), categories)


@dataclass
class History:
    """Customers x products as of a date (CSR, rows = customers or customer-windows): decayed
    interaction weights, and for serving the purchase counts and the shop's trend per product
    (log1p of its purchases in the last 30 days)."""

    matrix: sparse.csr_matrix
    purchases: sparse.csr_matrix | None = None
    trend: np.ndarray | None = None

    @classmethod
    def of(cls, interactions: pd.DataFrame, index: Index, as_of: str) -> History:
        """Every customer of ``index`` as of ``as_of`` from :func:`campaignflow.recommend.interactions.interactions`."""
        bought = interactions[interactions["purchases"] > 0]
        trend = np.log1p(popularity(interactions, index, as_of)).astype("float32")
        return cls(index.matrix(interactions, "weight"), index.matrix(bought, "purchases"), trend)

    def rows(self, rows: np.ndarray) -> History:
        return History(self.matrix[rows], None if self.purchases is None else self.purchases[rows], self.trend)

    @property
    def scaled(self) -> sparse.csr_matrix:
        """Each row divided by the square root of its total (a long history does not shout)."""
        totals = np.asarray(self.matrix.sum(axis=1)).ravel()
        scale = np.where(totals > 0, 1.0 / np.sqrt(np.maximum(totals, 1e-12)), 0.0)
        return sparse.diags(scale.astype("float32")) @ self.matrix


def _network(n_products: int, side: ItemSide, dim: int) -> Any:
    import torch
    from torch import nn

    class Factorisation(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.history = nn.EmbeddingBag(n_products, dim, mode="sum")
            self.history_category = nn.EmbeddingBag(len(side.categories), dim, mode="sum")
            self.product = nn.Embedding(n_products, dim)
            self.category = nn.Embedding(len(side.categories), dim)
            self.band = nn.Embedding(int(side.band.max()) + 1, dim)
            self.product_bias = nn.Embedding(n_products, 1)
            self.category_bias = nn.Embedding(len(side.categories), 1)
            self.repeat = nn.Parameter(torch.zeros(()))
            for emb in (self.history, self.history_category, self.product, self.category, self.band):
                nn.init.normal_(emb.weight, std=0.05)
            nn.init.zeros_(self.product_bias.weight)
            nn.init.zeros_(self.category_bias.weight)
            self.item_category: Any
            self.item_band: Any
            self.register_buffer("item_category", torch.as_tensor(side.category))
            self.register_buffer("item_band", torch.as_tensor(side.band))

        def customers(self, products: Any, offsets: Any, weights: Any) -> Any:
            """Customer vectors from flattened history bags."""
            own = self.history(products, offsets, per_sample_weights=weights)
            taste = self.history_category(self.item_category[products], offsets, per_sample_weights=weights)
            return own + taste

        def items(self, products: Any) -> tuple[Any, Any]:
            cat, band = self.item_category[products], self.item_band[products]
            vectors = self.product(products) + self.category(cat) + self.band(band)
            bias = self.product_bias(products).squeeze(-1) + self.category_bias(cat).squeeze(-1)
            return vectors, bias

        def pair_scores(self, users: Any, products: Any, own: Any) -> Any:
            vectors, bias = self.items(products)
            return (users * vectors).sum(-1) + bias + self.repeat * torch.log1p(own)

        def all_items(self) -> tuple[Any, Any]:
            return self.items(torch.arange(self.product.num_embeddings, device=self.product.weight.device))

    return Factorisation()


class _Bags:
    """A CSR history on the device: flattened bags for any rows, and w_cp lookups for any pairs."""

    def __init__(self, history: History, device: str) -> None:
        import torch

        raw, scaled = history.matrix.tocsr(), history.scaled.tocsr()
        raw.sort_indices()
        scaled.sort_indices()
        self.n_products = raw.shape[1]
        arrays = {
            "indptr": raw.indptr.astype("int64"),
            "indices": raw.indices.astype("int64"),
            "scaled": scaled.data.astype("float32"),
            "raw": raw.data.astype("float32"),
            "keys": np.repeat(np.arange(raw.shape[0], dtype="int64"), np.diff(raw.indptr)) * raw.shape[1]
            + raw.indices.astype("int64"),
        }
        tensors = {k: torch.as_tensor(v) for k, v in arrays.items()}
        if device == "cuda":
            tensors = {k: t.pin_memory().to(device, non_blocking=True) for k, t in tensors.items()}
        self.t = tensors

    def bags(self, rows: Any) -> tuple[Any, Any, Any]:
        import torch

        indptr = self.t["indptr"]
        starts, lengths = indptr[rows], indptr[rows + 1] - indptr[rows]
        offsets = torch.cumsum(lengths, 0) - lengths
        total = int(lengths.sum())
        within = torch.arange(total, device=rows.device) - torch.repeat_interleave(offsets, lengths)
        pos = within + torch.repeat_interleave(starts, lengths)
        return self.t["indices"][pos], offsets, self.t["scaled"][pos]

    def own(self, rows: Any, products: Any) -> Any:
        import torch

        keys = self.t["keys"]
        if not len(keys):
            return torch.zeros(len(rows), device=rows.device)
        query = rows * self.n_products + products
        pos = torch.searchsorted(keys, query).clamp(max=len(keys) - 1)
        return torch.where(keys[pos] == query, self.t["raw"][pos], torch.zeros((), device=rows.device))


@dataclass(frozen=True)
class Blend:
    """What the customer's own history and the shop's trend add to the factorisation at serving."""

    factors: float = 1.0  # on the factorisation (its score and its learned β log1p(w_cp)); 0: the rules alone
    own_weight: float = 0.0  # on log1p(w_cp)
    own_count: float = 0.0  # on log1p(n_cp)
    trend: float = 0.0  # on log1p(recent_p)

    def __str__(self) -> str:
        own = f"own weight {self.own_weight:g}, own count {self.own_count:g}, trend {self.trend:g}"
        return f"factors {self.factors:g}, {own}"


@dataclass
class BprRecommender:
    products: pd.Index
    side: ItemSide
    network: Any
    config: BprConfig
    device: str = "cpu"
    blend: Blend = Blend()  # set by choose_blend after training

    def top(
        self,
        history: History,
        k: int | None,
        exclude: sparse.csr_matrix | None = None,
        unavailable: np.ndarray | None = None,
        batch: int = 2048,
    ) -> tuple[Any, Any]:
        """Top-``k`` product indices and scores per history row, in batched products on the device.

        ``exclude``: rows x products sparse matrix, nonzero = never recommend to that row;
        ``unavailable``: one flag per product, never recommend to anyone. With ``k`` None, the full
        score matrix (and None for the indices).
        """
        import torch

        net = self.network.eval()
        bags = _Bags(history, self.device)
        factors = self.blend.factors
        own = {"weight": (history.matrix.tocsr(), factors * net.repeat.float() + self.blend.own_weight)}
        if self.blend.own_count:
            if history.purchases is None:
                raise ValueError("the blend counts purchases: build the history with History.of")
            own["count"] = (history.purchases.tocsr(), self.blend.own_count)
        out_idx, out_scores = [], []
        with torch.no_grad():
            vectors, bias = (t.float() * factors for t in net.all_items())
            if self.blend.trend:
                if history.trend is None:
                    raise ValueError("the blend adds the shop's trend: build the history with History.of")
                bias = bias + self.blend.trend * torch.as_tensor(history.trend, device=self.device)
            if unavailable is not None:
                bias = bias.masked_fill(torch.as_tensor(unavailable, device=self.device), float("-inf"))
            for start in range(0, history.matrix.shape[0], batch):
                rows = torch.arange(start, min(start + batch, history.matrix.shape[0]), device=self.device)
                users = net.customers(*bags.bags(rows)).float()
                scores = users @ vectors.T + bias
                for matrix, weight in own.values():
                    block = matrix[start : start + batch].tocoo()  # sparse: most products are new to a customer
                    if block.nnz:
                        r = torch.as_tensor(block.row, device=self.device, dtype=torch.long)
                        c = torch.as_tensor(block.col, device=self.device, dtype=torch.long)
                        values = torch.as_tensor(block.data, device=self.device, dtype=torch.float32)
                        scores[r, c] += weight * torch.log1p(values)
                if exclude is not None:
                    block = exclude[start : start + batch].tocoo()
                    r = torch.as_tensor(block.row, device=self.device, dtype=torch.long)
                    c = torch.as_tensor(block.col, device=self.device, dtype=torch.long)
                    scores[r, c] = float("-inf")
                if k is None:
                    out_scores.append(scores.cpu().numpy())
                else:
                    best = torch.topk(scores, min(k, scores.shape[1]), dim=1)
                    out_idx.append(best.indices.cpu().numpy())
                    out_scores.append(best.values.cpu().numpy())
        width = len(self.products) if k is None else min(k, len(self.products))
        scores_np = np.concatenate(out_scores) if out_scores else np.zeros((0, width), "float32")
        if k is None:
            return None, scores_np
        return (np.concatenate(out_idx) if out_idx else np.zeros((0, width), "int64")), scores_np

    def scorer(self, history: History) -> _HistoryScorer:
        """The :class:`campaignflow.recommend.evaluate.Scorer` view for rows of ``history``."""
        return _HistoryScorer(self, history)

    def to_files(self) -> dict[str, bytes]:
        import torch

        buf = io.BytesIO()
        torch.save({k: v.cpu() for k, v in self.network.state_dict().items()}, buf)
        meta = {
            "config": asdict(self.config),
            "products": list(map(str, self.products)),
            "categories": self.side.categories,
            "category": self.side.category.tolist(),
            "band": self.side.band.tolist(),
            "blend": asdict(self.blend),
        }
        return {"network.pt": buf.getvalue(), "index.json": json.dumps(meta).encode()}

    @classmethod
    def from_files(cls, files: dict[str, bytes]) -> BprRecommender:
        import torch

        meta = json.loads(files["index.json"])
        side = ItemSide(np.asarray(meta["category"]), np.asarray(meta["band"]), meta["categories"])
        config = BprConfig(**meta["config"])
        network = _network(len(meta["products"]), side, config.dim)
        network.load_state_dict(torch.load(io.BytesIO(files["network.pt"]), weights_only=True))
        blend = Blend(**meta["blend"]) if "blend" in meta else Blend(own_weight=meta.get("repeat_boost", 0.0))
        return cls(pd.Index(meta["products"]), side, network, config, blend=blend)


@dataclass
class _HistoryScorer:
    model: BprRecommender
    history: History

    def scores(self, customers: np.ndarray) -> np.ndarray:
        return np.asarray(self.model.top(self.history.rows(customers), None)[1])


BLEND_GRID = {
    "factors": (0.0, 1.0),
    "own_weight": (0.0, 8.0, 32.0),
    "own_count": (0.0, 8.0, 32.0),
    "trend": (0.0, 0.3, 1.0, 3.0),
}


def choose_blend(
    model: BprRecommender, history: History, relevant: sparse.csr_matrix, most: int = 4_000
) -> dict[str, float]:
    """Set the serving :class:`Blend` with the best NDCG@10 over :data:`BLEND_GRID` for these customers
    (their history, and what they bought next; at most ``most`` of them).

    BPR against uniform negatives learns β from easy pairs; in a shop of weekly baskets what a
    customer bought before is most of what they buy next, and a season moves what sells. Chosen on
    customers the model is then not judged on, so the blend is a learned choice of when to trust the
    history, the trend and the factors (``factors`` 0 with the customer's counts and the trend is
    "buy again" itself). Ties: the smaller blend. Returns NDCG@10 per blend tried.
    """
    import itertools

    from campaignflow.recommend.evaluate import ranking_metrics, top_k

    rows_used = np.arange(min(most, history.matrix.shape[0]))
    history, relevant = history.rows(rows_used), relevant[rows_used]
    if history.purchases is None or history.trend is None:
        raise ValueError("choosing a blend needs purchases and the trend: build the history with History.of")
    trend = history.trend
    batch = max(64, 2**25 // max(history.matrix.shape[1], 1))  # rows x products floats per array: ~128 MB
    blends = [Blend(*values) for values in itertools.product(*BLEND_GRID.values())]
    totals = dict.fromkeys(blends, 0.0)
    model.blend = Blend()
    for start in range(0, len(rows_used), batch):
        rows = np.arange(start, min(start + batch, len(rows_used)))
        part = history.rows(rows)
        _, learned = model.top(part, None)  # the factorisation with its own β log1p(w_cp)
        weight = np.log1p(part.matrix.toarray()).astype("float32")
        count = np.log1p(part.purchases.toarray()).astype("float32")  # type: ignore[union-attr]
        for b in blends:
            scores = b.factors * learned + b.own_weight * weight + b.own_count * count + b.trend * trend
            totals[b] += ranking_metrics(top_k(scores, 10), relevant[rows], 10)["ndcg@10"] * len(rows)
    n = max(len(rows_used), 1)
    simplest = Blend()
    model.blend = max(blends, key=lambda b: (round(totals[b] / n, 5), b == simplest, -sum(asdict(b).values())))
    log.info("recommender blend: %s (NDCG@10 %.4f on %d customers)", model.blend, totals[model.blend] / n, n)
    return {str(b): round(totals[b] / n, 5) for b in blends}


def fit(
    histories: list[History],
    targets: list[sparse.csr_matrix],
    products: pd.Index,
    side: ItemSide,
    config: BprConfig = BprConfig(),
    valid: tuple[History, sparse.csr_matrix] | None = None,
) -> tuple[BprRecommender, dict[str, Any]]:
    """Train on windows: each a history (up to T0) and the purchases that followed (rows aligned).

    ``valid``: held-out customers' history and later purchases; training stops when their NDCG@10
    has not improved for ``patience`` epochs, and the best epoch's weights are kept.
    """
    import copy

    import torch

    from campaignflow.recommend.evaluate import ranking_metrics

    device = torch_device()
    torch.manual_seed(config.seed)
    generator = torch.Generator(device=device).manual_seed(config.seed)
    history = History(sparse.vstack([h.matrix for h in histories]).tocsr())
    positives = sparse.vstack(targets).tocoo()
    bags = _Bags(history, device)
    pos_rows = torch.as_tensor(positives.row.astype("int64"))
    pos_items = torch.as_tensor(positives.col.astype("int64"))
    if device == "cuda":
        pos_rows, pos_items = (t.pin_memory().to(device, non_blocking=True) for t in (pos_rows, pos_items))
    network = _network(len(products), side, config.dim).to(device)
    optimiser = torch.optim.AdamW(network.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay)
    batch = config.cuda_batch if device == "cuda" else config.cpu_batch
    n, started, losses, scores = len(pos_rows), time.perf_counter(), [], []
    if n == 0:
        raise ValueError("no purchases after the history windows: nothing to learn from")
    model = BprRecommender(products, side, network, config, device)
    best: tuple[float, int, Any] = (-1.0, 0, None)
    for epoch in range(config.epochs):
        network.train()
        order = torch.randperm(n, generator=generator, device=device)
        total = 0.0
        for start in range(0, n, batch):
            pick = order[start : start + batch]
            rows, good = pos_rows[pick], pos_items[pick]
            bad = torch.randint(len(products), (len(pick),), generator=generator, device=device)
            with torch.autocast(device_type=device, dtype=torch.bfloat16, enabled=device == "cuda"):
                users = network.customers(*bags.bags(rows))
                margin = network.pair_scores(users, good, bags.own(rows, good)) - network.pair_scores(
                    users, bad, bags.own(rows, bad)
                )
                loss = -torch.nn.functional.logsigmoid(margin.float()).mean()
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            optimiser.step()
            total += float(loss.detach()) * len(pick)
        losses.append(round(total / n, 5))
        if valid is not None:
            ranked, _ = model.top(valid[0], 10)
            ndcg = ranking_metrics(ranked, valid[1], 10)["ndcg@10"]
            scores.append(ndcg)
            log.info(
                "recommender epoch %d: loss %.4f, validation NDCG@10 %.4f (%.0f s)",
                epoch + 1,
                losses[-1],
                ndcg,
                time.perf_counter() - started,
            )
            if ndcg > best[0]:
                best = (ndcg, epoch, copy.deepcopy(network.state_dict()))
            elif epoch - best[1] >= config.patience:
                break
    if best[2] is not None:
        network.load_state_dict(best[2])
    seconds = time.perf_counter() - started
    info = {
        "device": device,
        "epochs": len(losses),
        "best_epoch": best[1] + 1 if valid is not None else len(losses),
        "valid_ndcg_by_epoch": scores,
        "batch_size": batch,
        "positives": int(n),
        "history_rows": int(history.matrix.shape[0]),
        "samples_per_s": round(n * len(losses) / max(seconds, 1e-9)),
        "loss_by_epoch": losses,
        "repeat_weight": round(float(network.repeat.detach()), 4),
    }
    log.info("recommender trained on %s: %d positives x %d epochs in %.1f s", device, n, len(losses), seconds)
    return model, info
