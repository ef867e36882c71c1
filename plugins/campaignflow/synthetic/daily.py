"""One day of a shop's nightly export: orders, order lines, behaviour events, customer changes, returns."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd

from campaignflow.ingest.schemas import EVENT_TYPES
from campaignflow.synthetic.population import CATEGORIES, CATEGORY_P, Catalogue, Population, contact_details
from campaignflow.synthetic.seasonality import seasonality

# Share of each behaviour event type; email events come from campaigns the shop already sends.
_EVENT_P = np.array([0.58, 0.1, 0.14, 0.12, 0.06])
# Hour-of-day profile of activity (UTC, roughly a European/US evening peak).
_HOURS = np.array([1, 1, 1, 1, 1, 2, 3, 4, 5, 6, 6, 6, 7, 7, 6, 6, 6, 7, 8, 9, 9, 8, 5, 3], dtype=float)
_HOURS /= _HOURS.sum()


@dataclass
class DayExport:
    """The tables a shop exports for one day (products only when the catalogue changes)."""

    day: date
    tables: dict[str, pd.DataFrame]
    returns: pd.DataFrame | None = None  # of today's order lines, dated 2-30 days on (exported on their day)


def make_day(
    pop: Population, catalogue: Catalogue, start: date, t: int, seed: int, return_rate: float = 0.0
) -> DayExport:
    """Generate day ``t`` (offset from ``start``); depends only on (seed, t), not on other days.

    ``return_rate`` is the share of order lines sent back (from their own random stream, so the
    other tables do not change with it); lines bought while a customer is fading out are returned
    up to twice as often, a signal real shops see before customers leave.
    """
    rng = np.random.default_rng(np.random.SeedSequence([seed, 3, t]))
    day = start + timedelta(days=t)
    season = seasonality(day)
    midnight = np.datetime64(day, "s")
    active = (pop.signup_day <= t) & (t < pop.dropout_day)

    # Orders: Poisson arrivals at the customer's rate while active.
    n_orders = rng.poisson(pop.purchase_rate * season * active)
    buyer = np.repeat(np.arange(len(pop)), n_orders)
    order_ids = _ids(f"O{day:%Y%m%d}-", len(buyer), 6)
    order_ts = midnight + _times(rng, len(buyer))

    # Lines: 1 + Poisson items, favourite category with the customer's taste strength.
    n_lines = 1 + rng.poisson(0.4 + 0.3 * pop.spend_level[buyer])
    line_order = np.repeat(np.arange(len(buyer)), n_lines)
    line_buyer = buyer[line_order]
    use_fav = rng.random(len(line_order)) < pop.taste_strength[line_buyer]
    category = np.where(
        use_fav, pop.fav_category[line_buyer], rng.choice(len(CATEGORIES), len(line_order), p=CATEGORY_P)
    )
    product = catalogue.sample(rng, category)
    quantity = 1 + rng.poisson(0.25 * pop.spend_level[line_buyer])
    unit_price = catalogue.price[product]
    amount = np.round(np.bincount(line_order, weights=quantity * unit_price, minlength=len(buyer)), 2)

    # Behaviour: engagement fades over the weeks before a customer drops out; lapsed customers
    # with consent still open the odd newsletter.
    fade = np.clip((pop.dropout_day - t) / pop.fade_days, 0.0, 1.0)
    lapsed = (pop.signup_day <= t) & ~active & pop.consent
    rate = pop.engagement * season * fade * active + 0.01 * lapsed
    n_events = rng.poisson(rate)
    actor = np.repeat(np.arange(len(pop)), n_events)
    etype = rng.choice(len(EVENT_TYPES), len(actor), p=_EVENT_P)
    etype = np.where(lapsed[actor], 3, etype)  # lapsed customers only open emails
    # Buyers browse before they buy: a view and an add_to_cart per order.
    actor = np.concatenate([actor, buyer, buyer])
    etype = np.concatenate([etype, np.zeros(len(buyer), int), np.ones(len(buyer), int)])
    shopping = etype <= 1
    ev_product = np.full(len(actor), None, dtype=object)
    ev_cat = np.where(
        rng.random(len(actor)) < pop.taste_strength[actor],
        pop.fav_category[actor],
        rng.choice(len(CATEGORIES), len(actor), p=CATEGORY_P),
    )
    ev_product[shopping] = catalogue.ids[catalogue.sample(rng, ev_cat[shopping])]
    event_ts = midnight + _times(rng, len(actor))
    order = np.argsort(event_ts, kind="stable")

    tables = {
        "orders": pd.DataFrame(
            {
                "order_id": order_ids,
                "customer_id": pop.ids[buyer],
                "order_ts": order_ts,
                "amount": amount,
                "currency": "EUR",
            }
        ),
        "order_lines": pd.DataFrame(
            {
                "order_id": order_ids[line_order],
                "product_id": catalogue.ids[product],
                "quantity": quantity,
                "unit_price": unit_price,
            }
        ),
        "events": pd.DataFrame(
            {
                "event_id": _ids(f"E{day:%Y%m%d}-", len(actor), 8),
                "customer_id": pop.ids[actor[order]],
                "event_ts": event_ts[order],
                "event_type": np.asarray(EVENT_TYPES)[etype[order]],
                "product_id": ev_product[order],
            }
        ),
        "customers": _customer_changes(pop, t, midnight, rng, seed),
    }
    if t == 0:
        tables["products"] = catalogue.frame()
    returns = None
    if return_rate > 0:
        lines = tables["order_lines"].assign(customer_id=pop.ids[line_buyer], order_ts=order_ts[line_order])
        returns = _returns(lines, return_rate * (2.0 - fade[line_buyer]), day, seed, t)
    return DayExport(day, tables, returns)


def _returns(lines: pd.DataFrame, p_return: np.ndarray, day: date, seed: int, t: int) -> pd.DataFrame:
    rng = np.random.default_rng(np.random.SeedSequence([seed, 5, t]))
    sent_back = lines[rng.random(len(lines)) < p_return]
    delay = pd.to_timedelta(rng.integers(2, 31, len(sent_back)), unit="D") + pd.to_timedelta(
        rng.integers(0, 86_400, len(sent_back)), unit="s"
    )
    return pd.DataFrame(
        {
            "return_id": _ids(f"R{day:%Y%m%d}-", len(sent_back), 6),
            "customer_id": sent_back["customer_id"].to_numpy(),
            "return_ts": (sent_back["order_ts"] + delay).to_numpy(),
            "amount": (sent_back["quantity"] * sent_back["unit_price"]).round(2).to_numpy(),
            "order_id": sent_back["order_id"].to_numpy(),
            "product_id": sent_back["product_id"].to_numpy(),
            "quantity": sent_back["quantity"].to_numpy(),
            "currency": "EUR",
        }
    )


def _customer_changes(
    pop: Population, t: int, midnight: np.datetime64, rng: np.random.Generator, seed: int
) -> pd.DataFrame:
    """New sign-ups of day t (day 0: everyone signed up so far) and that day's unsubscribes."""
    new = (pop.signup_day <= t) if t == 0 else (pop.signup_day == t)
    changed = new | (pop.unsubscribe_day == t)
    idx = np.flatnonzero(changed)
    emails, phones = contact_details(pop, idx, seed)
    unsub = pop.unsubscribed_at_start[idx] | (pop.unsubscribe_day[idx] <= t)
    signup_ts = midnight + (pop.signup_day[idx] - t) * np.timedelta64(1, "D") + _times(rng, len(idx))
    return pd.DataFrame(
        {
            "customer_id": pop.ids[idx],
            "email": emails,
            "phone": phones,
            "country": pop.country[idx],
            "signup_ts": signup_ts,
            "marketing_consent": pop.consent[idx],
            "unsubscribed": unsub,
        }
    )


def _times(rng: np.random.Generator, n: int) -> np.ndarray:
    hours = rng.choice(24, n, p=_HOURS)
    return (hours * 3600 + rng.integers(0, 3600, n)).astype("timedelta64[s]")


def _ids(prefix: str, n: int, width: int) -> np.ndarray:
    if n == 0:  # a quiet day (numpy's zfill cannot take an empty array)
        return np.array([], dtype=object)
    return np.char.add(prefix, np.char.zfill(np.arange(1, n + 1).astype(str), width)).astype(object)
