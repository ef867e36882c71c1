"""Simulated campaign response: a known, heterogeneous effect of being contacted on what people buy.

The generator reads a campaign's *published* treatment group (hashed emails, as a platform would
match them against its users) and, for ``window_days`` after the publication date, gives each
treated customer extra orders: a Poisson stream at ``daily_rate × h_i`` per day, where
``h_i = engagement_i / mean engagement`` (engaged people respond more) and customers who have
already lapsed respond at ``lapsed_factor`` of that. The extra orders come from their own random
stream, so everything else the shop does is exactly what it would have been without the campaign:
the true effect is known, not estimated.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd

from campaignflow.campaigns.identifiers import normalise_email, sha256_hex
from campaignflow.synthetic.population import CATEGORIES, CATEGORY_P, Catalogue, Population, contact_details
from campaignflow.synthetic.seasonality import seasonality


@dataclass(frozen=True)
class CampaignResponse:
    """How one campaign's treatment group responds.

    Attributes:
        campaign: the campaign (names the extra orders' ids).
        published: the publication date D; responses happen on D+1 … D+window_days.
        treated: population indices of the treatment group (from the publication).
        daily_rate: extra orders per day for an average-engagement, still-active customer (0: none).
        window_days: how long the effect lasts.
        lapsed_factor: the share of the effect a customer who has already dropped out gets.
    """

    campaign: str
    published: date
    treated: np.ndarray
    daily_rate: float
    window_days: int = 14
    lapsed_factor: float = 0.3

    def rates(self, pop: Population, t_published: int, idx: np.ndarray | None = None) -> np.ndarray:
        """Extra orders per day of customers ``idx`` if treated (default: the treated; the effect)."""
        idx = self.treated if idx is None else idx
        h = pop.engagement[idx] / pop.engagement.mean()
        active = pop.dropout_day[idx] > t_published
        return self.daily_rate * h * np.where(active, 1.0, self.lapsed_factor)


def treated_from_publication(pop: Population, seed: int, email_hashes: set[str]) -> np.ndarray:
    """Population indices whose email (normalised as the email tool does) hashes into the publication.

    A mailbox is one person: where several customer records share an address, the first record
    is the one who reads the message and responds.
    """
    idx = np.arange(len(pop))
    emails, _ = contact_details(pop, idx, seed)
    hashes = np.array([sha256_hex(normalise_email(e)) or "" for e in emails], dtype=object)
    _, first = np.unique(hashes, return_index=True)
    first = np.sort(first)
    return first[np.isin(hashes[first], list(email_hashes))]


def extra_orders(
    pop: Population, catalogue: Catalogue, start: date, t: int, seed: int, responses: list[CampaignResponse]
) -> dict[str, pd.DataFrame]:
    """Day ``t``'s response orders and their lines (empty frames when no response is running)."""
    day = start + timedelta(days=t)
    rng = np.random.default_rng(np.random.SeedSequence([seed, 8, t]))
    buyers, campaigns = [], []
    for response in responses:
        t0 = (response.published - start).days
        if not t0 < t <= t0 + response.window_days or response.daily_rate <= 0:
            continue
        n = rng.poisson(response.rates(pop, t0) * seasonality(day))
        buyers.append(np.repeat(response.treated, n))
        campaigns += [response.campaign] * int(n.sum())
    buyer = np.concatenate(buyers) if buyers else np.array([], dtype=int)
    order_ids = np.array([f"O{day:%Y%m%d}-R{c[:8]}-{i + 1:06d}" for i, c in enumerate(campaigns)], dtype=object)
    category = np.where(
        rng.random(len(buyer)) < pop.taste_strength[buyer],
        pop.fav_category[buyer],
        rng.choice(len(CATEGORIES), len(buyer), p=CATEGORY_P),
    )
    product = catalogue.sample(rng, category) if len(buyer) else np.array([], dtype=int)
    quantity = 1 + rng.poisson(0.25 * pop.spend_level[buyer])
    price = catalogue.price[product] if len(buyer) else np.array([], dtype=float)
    hours = rng.integers(0, 86_400, len(buyer)).astype("timedelta64[s]")
    return {
        "orders": pd.DataFrame(
            {
                "order_id": order_ids,
                "customer_id": pop.ids[buyer],
                "order_ts": np.datetime64(day, "s") + hours,
                "amount": np.round(quantity * price, 2),
                "currency": "EUR",
            }
        ),
        "order_lines": pd.DataFrame(
            {"order_id": order_ids, "product_id": catalogue.ids[product], "quantity": quantity, "unit_price": price}
        ),
    }


def true_uplift(pop: Population, start: date, response: CampaignResponse, idx: np.ndarray) -> np.ndarray:
    """Each customer's expected conversion lift over the response window, were they treated.

    A treated customer converts if a base or an extra order arrives; both are Poisson, so the
    lift for customer i is ``P(no base order) × (1 − P(no extra order))``.
    """
    t0 = (response.published - start).days
    days = range(t0 + 1, t0 + response.window_days + 1)
    seasons = np.array([seasonality(start + timedelta(days=t)) for t in days])
    active = np.array([(pop.signup_day[idx] <= t) & (t < pop.dropout_day[idx]) for t in days])  # days × customers
    base = (pop.purchase_rate[idx] * (seasons[:, None] * active)).sum(axis=0)
    extra = response.rates(pop, t0, idx) * seasons.sum()
    return np.exp(-base) * (1 - np.exp(-extra))


def true_conversion_lift(pop: Population, start: date, response: CampaignResponse) -> float:
    """The expected conversion lift of the treatment group (the mean of :func:`true_uplift`)."""
    idx = response.treated
    return float(true_uplift(pop, start, response, idx).mean()) if len(idx) else 0.0
