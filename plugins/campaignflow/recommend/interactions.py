"""Who bought and viewed what, as of D: weighted, time-decayed customer x product interactions.

Weights: a purchase counts 1 per order line (returned lines removed), an add-to-cart 0.3, a product
view 0.1; each decays with a half-life of ``half_life_days`` from its day to D. Only the last
``window_days`` count, nothing after D ever does. Products outside the catalogue as of D cannot be
recommended, so their interactions are dropped (and counted).

Customer and product ids are categoricals over one sorted dictionary per activity (from the first
day read): a year of a million customers' events is then 4 + 2 bytes of ids a row, not two Python
strings, and the interactions come out categorical too (sorted as the ids are).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pyarrow.compute as pc

from campaignflow.io import datasets
from campaignflow.io.lake import Lake, on_one_dictionary, share_categories

log = logging.getLogger(__name__)

WEIGHTS = {"purchase": 1.0, "add_to_cart": 0.3, "view": 0.1}
PRODUCT_EVENTS = ("view", "add_to_cart")
PRODUCT_EVENT_TYPE = pd.CategoricalDtype(list(PRODUCT_EVENTS))
PRODUCT_EVENT_ROWS = pc.field("event_type").isin(list(PRODUCT_EVENTS)) & pc.field("product_id").is_valid()
HALF_LIFE_DAYS = 90
WINDOW_DAYS = 365
PRICE_BANDS = (20.0, 50.0, 100.0, 250.0)  # band edges; band k = prices in [edge k-1, edge k)
ID_COLUMNS = ("customer_id", "product_id", "order_id")


@dataclass
class ShopActivity:
    """The raw tables interactions come from (any of lines, events, returns may be absent)."""

    orders: pd.DataFrame  # order_id, customer_id, order_ts
    lines: pd.DataFrame | None  # order_id, product_id, quantity
    events: pd.DataFrame | None  # customer_id, event_ts, event_type, product_id (product events only)
    returns: pd.DataFrame | None  # order_id, product_id
    catalogue: pd.DataFrame | None  # product_id (unique), category, price
    notes: list[str] = field(default_factory=list)


def load_activity(lake: Lake, as_of: str, window_days: int = WINDOW_DAYS) -> ShopActivity:
    """The raw tables over (D - window, D], with only the columns interactions use."""
    start = (date.fromisoformat(as_of) - timedelta(days=window_days - 1)).isoformat()

    def read(table: str, columns: list[str], where: pc.Expression | None = None) -> pd.DataFrame | None:
        ids = [c for c in (*ID_COLUMNS, "event_type") if c in columns]
        return lake.read_range(datasets.raw(table), start, as_of, columns, ids, where)

    orders = read("orders", ["order_id", "customer_id", "order_ts"])
    lines = read("order_lines", ["order_id", "product_id", "quantity", "unit_price"])
    # only product events, filtered a day at a time: a year of a large shop's behaviour never sits in memory whole
    events = read("events", ["customer_id", "event_ts", "event_type", "product_id"], PRODUCT_EVENT_ROWS)
    if events is not None:
        events["event_type"] = events["event_type"].astype(PRODUCT_EVENT_TYPE)
    returns = read("returns", ["order_id", "product_id", "return_ts"])
    for frame in (orders, lines, events, returns):
        if frame is not None:
            del frame["dt"]  # unused
    for column in ID_COLUMNS:
        share_categories([f for f in (orders, lines, events, returns) if f is not None and column in f], column)
    products = lake.read_range(datasets.raw("products"), None, as_of, ["product_id", "category", "price"])
    catalogue, notes = None, []
    if products is not None:  # the newest record of every product up to D
        catalogue = products.sort_values("dt", kind="stable").drop_duplicates("product_id", keep="last")
        catalogue = catalogue.drop(columns="dt").reset_index(drop=True)
    elif lines is not None and len(lines):  # an imported log: the products are those sold
        catalogue = catalogue_from_lines(lines)
        notes.append(f"no product catalogue: {len(catalogue)} products taken from the order lines, without categories")
    if catalogue is not None:
        notes += unknown_products(lines, events, catalogue)
    empty = pd.DataFrame({"order_id": [], "customer_id": [], "order_ts": pd.Series([], dtype="datetime64[us]")})
    return ShopActivity(orders if orders is not None else empty, lines, events, returns, catalogue, notes)


def unknown_products(lines: pd.DataFrame | None, events: pd.DataFrame | None, catalogue: pd.DataFrame) -> list[str]:
    """A note counting order lines and product events whose product is not in the catalogue."""
    ids = [f["product_id"].dropna() for f in (lines, events) if f is not None]
    if not ids:
        return []
    seen = pd.concat(ids, ignore_index=True)
    unknown = seen[~seen.isin(catalogue["product_id"])]
    if unknown.empty:
        return []
    note = f"{len(unknown)} line(s) and event(s) with {unknown.nunique()} product(s) outside the catalogue dropped"
    log.warning("recommendations: %s", note)
    return [note]


def catalogue_from_lines(lines: pd.DataFrame) -> pd.DataFrame:
    """product_id, category (unknown) and the median unit price of every product in ``lines``."""
    prices = lines.groupby("product_id", observed=True)["unit_price"].median()
    return pd.DataFrame({"product_id": prices.index.astype(object), "category": None, "price": prices.to_numpy()})


def interactions(
    activity: ShopActivity,
    as_of: str,
    half_life_days: float = HALF_LIFE_DAYS,
    window_days: int = WINDOW_DAYS,
) -> pd.DataFrame:
    """One row per (customer_id, product_id), sorted by both: ``weight`` (decayed), ``purchases`` and
    ``last_day`` (the day of the newest interaction, a timestamp); the ids come out categorical.

    Raises:
        ValueError: the shop exports no product column (no order lines and no product events).
    """
    end = pd.Timestamp(as_of) + pd.Timedelta(days=1)  # everything before the end of D
    start = end - pd.Timedelta(days=window_days)
    parts: list[tuple[pd.Series, pd.Series, pd.Series, np.ndarray, bool]] = []  # ids, time, weight, purchase?
    if activity.lines is not None and len(activity.lines):
        bought = activity.lines.merge(activity.orders[["order_id", "customer_id", "order_ts"]], on="order_id")
        if activity.returns is not None and len(activity.returns) and activity.returns["product_id"].notna().any():
            returned = activity.returns[activity.returns["return_ts"] < end][["order_id", "product_id"]]
            key = ["order_id", "product_id"]
            bought = bought.merge(returned.drop_duplicates(), on=key, how="left", indicator=True)
            bought = bought[bought["_merge"] == "left_only"].drop(columns="_merge")
        base = np.full(len(bought), WEIGHTS["purchase"])
        parts.append((bought["customer_id"], bought["product_id"], bought["order_ts"], base, True))
    if activity.events is not None and len(activity.events):
        ev = activity.events  # an event type without a weight (a search) counts nothing
        base = ev["event_type"].map(WEIGHTS).to_numpy("float64", na_value=np.nan)
        parts.append((ev["customer_id"], ev["product_id"], ev["event_ts"], base, False))
    if not parts:
        raise ValueError("no order lines or product events with a product_id: nothing to recommend from")
    customer_ids = on_one_dictionary([c for c, _, _, _, _ in parts])
    product_ids = on_one_dictionary([p for _, p, _, _, _ in parts])
    customers, products = customer_ids[0].dtype, product_ids[0].dtype
    sellable = (
        np.append(products.categories.isin(activity.catalogue["product_id"]), False)
        if activity.catalogue is not None
        else None
    )
    key_parts, ts_parts, weight_parts, purchase_parts = [], [], [], []
    for (_, _, ts, base, purchase), customer, product in zip(parts, customer_ids, product_ids, strict=True):
        c, p = customer.codes, product.codes
        t = ts.to_numpy("datetime64[us]")
        keep = (c >= 0) & (p >= 0) & np.isfinite(base) & (t >= start.to_datetime64()) & (t < end.to_datetime64())
        if sellable is not None:  # what cannot be bought is not learned from (counted by load_activity)
            keep &= sellable[p]
        key_parts.append(c[keep].astype("int64") * len(products.categories) + p[keep])
        ts_parts.append(t[keep])
        age_days = (end.to_datetime64() - t[keep]) / np.timedelta64(1, "D")
        weight_parts.append(base[keep] * np.power(0.5, age_days / half_life_days))
        purchase_parts.append(np.full(int(keep.sum()), int(purchase), "int8"))
    return _per_pair(
        np.concatenate(key_parts),
        np.concatenate(ts_parts),
        np.concatenate(weight_parts),
        np.concatenate(purchase_parts),
        customers,
        products,
    )


def _per_pair(
    key: np.ndarray,
    ts: np.ndarray,
    weight: np.ndarray,
    purchase: np.ndarray,
    customers: pd.CategoricalDtype,
    products: pd.CategoricalDtype,
) -> pd.DataFrame:
    """Rows keyed ``customer code x n_products + product code`` summed per key, sorted by the ids."""
    order = np.lexsort((ts, key))  # by pair, then by time: a pair's last row is its newest
    key = key[order]
    changes = key[1:] != key[:-1]
    first, last = np.r_[True, changes][: len(key)], np.r_[changes, True][: len(key)]
    group = np.cumsum(first) - 1
    n = max(len(products.categories), 1)
    return pd.DataFrame(
        {
            "customer_id": pd.Categorical.from_codes(key[first] // n, dtype=customers),
            "product_id": pd.Categorical.from_codes(key[first] % n, dtype=products),
            "weight": np.bincount(group, weights=weight[order], minlength=int(first.sum())).round(6),
            "purchases": np.bincount(group, weights=purchase[order], minlength=int(first.sum())).astype("int64"),
            "last_day": ts[order][last].astype("datetime64[D]").astype("datetime64[us]"),
        }
    )


def purchases_between(activity: ShopActivity, after: str, through: str) -> pd.DataFrame:
    """Distinct (customer_id, product_id) bought in (after, through], returned lines included."""
    if activity.lines is None:
        return pd.DataFrame({"customer_id": [], "product_id": []})
    lo, hi = pd.Timestamp(after) + pd.Timedelta(days=1), pd.Timestamp(through) + pd.Timedelta(days=1)
    orders = activity.orders[(activity.orders["order_ts"] >= lo) & (activity.orders["order_ts"] < hi)]
    bought = activity.lines.merge(orders[["order_id", "customer_id"]], on="order_id")
    return bought[["customer_id", "product_id"]].drop_duplicates().reset_index(drop=True)


def price_band(price: pd.Series) -> np.ndarray:
    """0 … len(PRICE_BANDS): the band of each price (unknown prices get the last band + 1)."""
    values = pd.to_numeric(price, errors="coerce").to_numpy(dtype="float64")
    bands = np.searchsorted(np.asarray(PRICE_BANDS), values, side="right")
    return np.where(np.isfinite(values), bands, len(PRICE_BANDS) + 1)
