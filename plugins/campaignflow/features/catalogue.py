"""The feature catalogue: every per-customer feature, its definition, window, type and what null means.

This module is the one place features are documented; ``docs/features.md`` is generated from it
(``campaignflow features-catalogue``) and a test keeps the two equal. All features are *as of the
end of day D*: computed from records in raw partitions dated on or before D (what had arrived by
D). Windows count activity days: "30 d" is the days (D-30, D], so D itself and the 29 before it.

The state the incremental job carries from day to day (:mod:`campaignflow.features.state`) holds
the counters in :data:`COUNTERS` per window; features are a pure projection of that state.
"""

from __future__ import annotations

from dataclasses import dataclass

# Activity counters summed per customer and day in daily/customer_day, and the windows (days) each
# is kept over in the state; "total" is all time. 60 d exists for the 30-vs-previous-30 trends.
COUNTERS: dict[str, tuple[tuple[int, ...], bool]] = {
    "orders": ((30, 60, 90, 180, 365), True),
    "monetary": ((30, 60, 90, 180, 365), True),
    "units": ((), True),
    "lines": ((), True),
    "discounted_lines": ((), True),
    "views": ((7, 30, 90), False),
    "add_to_carts": ((7, 30, 90), False),
    "searches": ((7, 30, 90), False),
    "email_opens": ((7, 30, 90), False),
    "email_clicks": ((7, 30, 90), False),
    "events": ((7, 30, 60, 90), False),
    "returns": ((365,), True),
    "return_amount": ((365,), True),
}
MONEY_COUNTERS = ("monetary", "return_amount")  # exact decimals in the state, rounded doubles as features
EVENT_TYPES: dict[str, str] = {  # raw event_type -> counter
    "view": "views",
    "add_to_cart": "add_to_carts",
    "search": "searches",
    "email_open": "email_opens",
    "email_click": "email_clicks",
}
MAX_LATENESS_DAYS = 7  # events and returns may arrive up to this many days after they happened


@dataclass(frozen=True)
class Feature:
    name: str
    type: str  # int | double
    window: str
    source: str  # the raw table it needs
    definition: str
    null_means: str


NO_ORDER = "the customer has never ordered"
NO_EVENTS_TABLE = "the shop exports no behaviour events"


def _catalogue() -> list[Feature]:
    f: list[Feature] = [
        Feature("recency_days", "int", "all time", "orders", "days from the last order day to D", NO_ORDER),
        Feature("days_since_first_order", "int", "all time", "orders", "days from the first order day to D", NO_ORDER),
        Feature(
            "tenure_days",
            "int",
            "all time",
            "orders",
            "days from when the customer was first seen (first order, or sign-up as known from the "
            "customer export) to D",
            "never null",
        ),
        Feature("orders_total", "int", "all time", "orders", "number of orders", "never null (0: no order)"),
        Feature("monetary_total", "double", "all time", "orders", "order amounts summed", "never null"),
        Feature("avg_order_value", "double", "all time", "orders", "monetary_total / orders_total", NO_ORDER),
        Feature(
            "interpurchase_days_mean",
            "double",
            "all time",
            "orders",
            "mean days between consecutive orders (same-day orders: 0)",
            "fewer than 2 orders",
        ),
        Feature(
            "interpurchase_days_std",
            "double",
            "all time",
            "orders",
            "population standard deviation of the days between consecutive orders",
            "fewer than 2 orders",
        ),
    ]
    for w in (30, 90, 180, 365):
        f.append(Feature(f"orders_{w}d", "int", f"{w} d", "orders", f"orders in the last {w} days", "never null"))
    for w in (30, 90, 180, 365):
        f.append(
            Feature(f"monetary_{w}d", "double", f"{w} d", "orders", f"order amounts in the last {w} days", "never null")
        )
    for name, source, null in (
        ("orders", "orders", "never null"),
        ("monetary", "orders", "never null"),
        ("events", "events", NO_EVENTS_TABLE),
    ):
        f.append(
            Feature(
                f"{name}_trend_30d",
                "double",
                "30 d vs the 30 d before",
                source,
                f"({name} in the last 30 days + 1) / ({name} in days 31-60 before D + 1); > 1 rising",
                null,
            )
        )
    for counter in (*EVENT_TYPES.values(), "events"):
        for w in (7, 30, 90):
            what = "behaviour events of any type" if counter == "events" else counter.replace("_", " ")
            f.append(
                Feature(f"{counter}_{w}d", "int", f"{w} d", "events", f"{what} in the last {w} days", NO_EVENTS_TABLE)
            )
    for event_type in (*EVENT_TYPES, "event"):
        name = "event" if event_type == "event" else event_type
        f.append(
            Feature(
                f"days_since_last_{name}",
                "int",
                "all time",
                "events",
                f"days from the last {'behaviour event' if name == 'event' else event_type} to D",
                f"{NO_EVENTS_TABLE}, or the customer has none",
            )
        )
    f += [
        Feature(
            "distinct_products",
            "int",
            "all time",
            "order_lines",
            "distinct products bought",
            "the shop exports no order lines",
        ),
        Feature(
            "distinct_categories",
            "int",
            "all time",
            "products",
            "distinct categories bought (category as in the catalogue on the day of the order)",
            "no order lines or no product catalogue",
        ),
        Feature(
            "top_category_share",
            "double",
            "all time",
            "products",
            "units in the customer's most-bought category / all units with a known category",
            "no order lines or catalogue, or no units with a known category",
        ),
        Feature("units_total", "int", "all time", "order_lines", "units bought", "the shop exports no order lines"),
        Feature(
            "discount_share",
            "double",
            "all time",
            "products",
            "share of order lines bought below the catalogue price of their day",
            "no order lines or catalogue, or no lines",
        ),
        Feature("returns_365d", "int", "365 d", "returns", "returned lines in the last 365 days", "no returns export"),
        Feature(
            "return_amount_365d",
            "double",
            "365 d",
            "returns",
            "amount refunded in the last 365 days",
            "no returns export",
        ),
        Feature(
            "return_rate_365d",
            "double",
            "365 d",
            "returns",
            "return_amount_365d / monetary_365d (over 1 when items bought before the window come back in it: flagged)",
            "no returns export, or no spend in 365 days",
        ),
    ]
    return f


CATALOGUE: list[Feature] = _catalogue()
FEATURE_COLUMNS: list[str] = [f.name for f in CATALOGUE]
FEATURE_TYPES: dict[str, str] = {f.name: f.type for f in CATALOGUE}


def state_counter_columns() -> list[str]:
    """Counter columns of the state: ``<counter>_<w>d`` per window and ``<counter>_total``."""
    cols = []
    for name, (windows, total) in COUNTERS.items():
        cols += [f"{name}_{w}d" for w in windows]
        if total:
            cols.append(f"{name}_total")
    return cols


def markdown() -> str:
    """The catalogue as the Markdown page ``docs/features.md``."""
    lines = [
        "# Feature catalogue",
        "",
        "Generated from `plugins/campaignflow/features/catalogue.py` by `campaignflow features-catalogue`;",
        "do not edit by hand. Every feature is per customer as of the end of day D, from data that had",
        'arrived by D. "30 d" is the days (D-30, D]. Without the source table a feature is null, not 0.',
        "",
        "| name | type | window | source | definition | null means |",
        "|---|---|---|---|---|---|",
    ]
    lines += [
        f"| `{f.name}` | {f.type} | {f.window} | {f.source} | {f.definition} | {f.null_means} |" for f in CATALOGUE
    ]
    return "\n".join(lines) + "\n"
