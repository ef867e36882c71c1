"""Who bought and viewed what, as of D: weighted, time-decayed customer x product interactions.

Weights: a purchase counts 1 per order line (returned lines removed), an add-to-cart 0.3, a product
view 0.1; each decays with a half-life of ``half_life_days`` from its day to D. Only the last
``window_days`` count, nothing after D ever does. Products outside the catalogue as of D cannot be
recommended, so their interactions are dropped (and counted).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
import pandas as pd

from campaignflow.io import datasets
from campaignflow.io.lake import Lake

log = logging.getLogger(__name__)
Trim = Callable[[pd.DataFrame], pd.DataFrame]  # applied to each partition as it is read

WEIGHTS = {"purchase": 1.0, "add_to_cart": 0.3, "view": 0.1}
PRODUCT_EVENTS = ("view", "add_to_cart")
PRODUCT_EVENT_TYPE = pd.CategoricalDtype(list(PRODUCT_EVENTS))
HALF_LIFE_DAYS = 90
WINDOW_DAYS = 365
PRICE_BANDS = (20.0, 50.0, 100.0, 250.0)  # band edges; band k = prices in [edge k-1, edge k)


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

    def read(
        table: str, columns: list[str], since: str | None = start, each: Trim | None = None
    ) -> pd.DataFrame | None:
        return lake.read_range(datasets.raw(table), since, as_of, columns, each)

    orders = read("orders", ["order_id", "customer_id", "order_ts"])
    lines = read("order_lines", ["order_id", "product_id", "quantity", "unit_price"])
    # trimmed a day at a time: a year of a large shop's behaviour never sits in memory whole
    events = read("events", ["customer_id", "event_ts", "event_type", "product_id"], each=keep_product_events)
    returns = read("returns", ["order_id", "product_id", "return_ts"])
    products = read("products", ["product_id", "category", "price"], since=None)
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


def keep_product_events(events: pd.DataFrame) -> pd.DataFrame:
    """The views and add-to-carts of a product (the only events interactions use), the type as a category."""
    kept = events[events["event_type"].isin(PRODUCT_EVENTS) & events["product_id"].notna()]
    return kept.astype({"event_type": PRODUCT_EVENT_TYPE})


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
    prices = lines.groupby("product_id")["unit_price"].median()
    return pd.DataFrame({"product_id": prices.index, "category": None, "price": prices.to_numpy()})


def interactions(
    activity: ShopActivity,
    as_of: str,
    half_life_days: float = HALF_LIFE_DAYS,
    window_days: int = WINDOW_DAYS,
) -> pd.DataFrame:
    """One row per (customer_id, product_id): ``weight`` (decayed), ``purchases`` and ``last_day``.

    Raises:
        ValueError: the shop exports no product column (no order lines and no product events).
    """
    end = pd.Timestamp(as_of) + pd.Timedelta(days=1)  # everything before the end of D
    start = end - pd.Timedelta(days=window_days)
    parts = []
    if activity.lines is not None and len(activity.lines):
        bought = activity.lines.merge(activity.orders[["order_id", "customer_id", "order_ts"]], on="order_id")
        if activity.returns is not None and len(activity.returns) and activity.returns["product_id"].notna().any():
            returned = activity.returns[activity.returns["return_ts"] < end][["order_id", "product_id"]]
            key = ["order_id", "product_id"]
            bought = bought.merge(returned.drop_duplicates(), on=key, how="left", indicator=True)
            bought = bought[bought["_merge"] == "left_only"].drop(columns="_merge")
        parts.append(
            pd.DataFrame(
                {
                    "customer_id": bought["customer_id"],
                    "product_id": bought["product_id"],
                    "ts": bought["order_ts"],
                    "base": WEIGHTS["purchase"],
                    "purchase": 1,
                }
            )
        )
    if activity.events is not None and len(activity.events):
        ev = keep_product_events(activity.events)
        parts.append(
            pd.DataFrame(
                {
                    "customer_id": ev["customer_id"],
                    "product_id": ev["product_id"],
                    "ts": ev["event_ts"],
                    "base": ev["event_type"].map(WEIGHTS).astype("float64"),
                    "purchase": 0,
                }
            )
        )
    if not parts:
        raise ValueError("no order lines or product events with a product_id: nothing to recommend from")
    rows = pd.concat(parts, ignore_index=True)
    rows = rows[(rows["ts"] >= start) & (rows["ts"] < end)]
    if activity.catalogue is not None:  # what cannot be bought is not learned from (counted by load_activity)
        rows = rows[rows["product_id"].isin(activity.catalogue["product_id"])]
    age_days = ((end - rows["ts"]).dt.total_seconds() / 86_400.0).to_numpy()
    rows = rows.assign(weight=rows["base"].to_numpy() * np.power(0.5, age_days / half_life_days))
    out = rows.groupby(["customer_id", "product_id"], sort=True).agg(
        weight=("weight", "sum"), purchases=("purchase", "sum"), last_ts=("ts", "max")
    )
    out = out.reset_index()
    out["last_day"] = out.pop("last_ts").dt.strftime("%Y-%m-%d")
    out["weight"] = out["weight"].round(6)
    return out


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
