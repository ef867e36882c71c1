"""Per-customer reasons: the top drivers of a churn score, in words a marketer reads.

Drivers are LightGBM's SHAP contributions (``pred_contrib``, log-odds): the features pushing a
customer's risk *up* the most, largest first. Each is rendered from the customer's own value
("no order in 74 days", "email clicks down 80 % (30 d vs the 30 d before)").
"""

from __future__ import annotations

import math
import re
from functools import lru_cache

import numpy as np
import pandas as pd

TOP_K = 3
REASON_COLUMNS = [f"reason_{k}" for k in range(1, TOP_K + 1)]
_THINGS = {
    "orders": "orders",
    "monetary": "spend",
    "events": "site and email activity",
    "views": "product views",
    "add_to_carts": "add-to-carts",
    "searches": "searches",
    "email_opens": "email opens",
    "email_clicks": "email clicks",
    "returns": "returns",
}
_LAST = {
    "view": "product view",
    "add_to_cart": "add-to-cart",
    "search": "search",
    "email_open": "email open",
    "email_click": "email click",
    "event": "activity",
}


def _n(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 10 or float(value).is_integer() else f"{value:.1f}"


@lru_cache(maxsize=200_000)  # counts and days repeat: a million customers share few (feature, value) pairs
def describe(feature: str, value: float | None) -> str:
    """One feature's value as a phrase."""
    missing = value is None or (isinstance(value, float) and not math.isfinite(value))
    v = 0.0 if missing else float(value)  # type: ignore[arg-type]
    if feature == "recency_days":
        return "never ordered" if missing else f"no order in {_n(v)} days"
    if m := re.fullmatch(r"days_since_last_(\w+)", feature):
        thing = _LAST.get(m[1], m[1].replace("_", " "))
        return f"no {thing} yet" if missing else f"no {thing} in {_n(v)} days"
    if m := re.fullmatch(r"(\w+)_trend_30d", feature):
        thing = _THINGS.get(m[1], m[1])
        if missing or abs(v - 1) < 0.05:
            return f"{thing} flat (30 d vs the 30 d before)"
        direction = "down" if v < 1 else "up"
        change = (1 - v) if v < 1 else (v - 1)
        return f"{thing} {direction} {change:.0%} (30 d vs the 30 d before)"
    if m := re.fullmatch(r"(\w+?)_(\d+)d", feature):
        thing = _THINGS.get(m[1], m[1].replace("_", " "))
        if m[1] in ("monetary", "return_amount"):
            return f"spent {_n(v)} in the last {m[2]} days" if m[1] == "monetary" else f"{_n(v)} refunded in {m[2]} d"
        if m[1] == "return_rate":
            return f"{v:.0%} of spend returned in {m[2]} d"
        return f"{_n(v)} {thing} in the last {m[2]} days"
    phrases = {
        "orders_total": f"{_n(v)} orders in all",
        "monetary_total": f"spent {_n(v)} in all",
        "avg_order_value": f"average order {_n(v)}",
        "tenure_days": f"customer for {_n(v)} days",
        "interpurchase_days_mean": "a single order so far" if missing else f"orders every {_n(v)} days on average",
        "interpurchase_days_std": "irregular ordering" if not missing else "a single order so far",
        "distinct_products": f"{_n(v)} different products bought",
        "distinct_categories": f"bought in {_n(v)} categories",
        "top_category_share": f"{v:.0%} of units in one category",
        "units_total": f"{_n(v)} units bought",
        "discount_share": f"{v:.0%} of items bought on discount",
        "overdue_ratio": "a single order so far"
        if missing
        else f"{v:.1f}x their usual gap between orders since the last",
        "orders_per_30d_lifetime": f"{_n(v)} orders a month over their lifetime",
        "days_to_peak": f"time of year ({_n(v)} days to the peak season)",
        "season_week_sin": "time of year",
        "season_week_cos": "time of year",
    }
    return phrases.get(feature, f"{feature.replace('_', ' ')} = {'none' if missing else _n(v)}")


def top_reasons(contributions: np.ndarray, frame: pd.DataFrame, columns: list[str], k: int = TOP_K) -> pd.DataFrame:
    """The ``k`` features raising each row's risk most, as phrases (None where fewer push it up).

    ``contributions`` is ``pred_contrib`` output: one column per model column, plus the bias last.
    """
    contrib = np.asarray(contributions)[:, : len(columns)]
    order = np.argsort(-contrib, axis=1, kind="stable")[:, :k]
    values = frame.reindex(columns=columns).astype("float64").to_numpy()
    out: dict[str, list[str | None]] = {f"reason_{j + 1}": [] for j in range(k)}
    for row in range(len(contrib)):
        seen: set[str] = set()
        picked: list[str] = []
        for col in order[row]:
            if contrib[row, col] <= 0:
                break
            phrase = describe(columns[col], float(values[row, col]))
            if phrase not in seen:  # the three season columns say the same thing
                seen.add(phrase)
                picked.append(phrase)
        for j in range(k):
            out[f"reason_{j + 1}"].append(picked[j] if j < len(picked) else None)
    return pd.DataFrame(out, index=frame.index)
