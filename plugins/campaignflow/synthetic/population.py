"""The customer base and product catalogue, with each customer's latent (never exported) traits."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from campaignflow.synthetic.identity import COUNTRIES, COUNTRY_P, FIRST, LAST, messy_email, messy_phone

CATEGORIES = (
    "apparel",
    "shoes",
    "beauty",
    "home",
    "kitchen",
    "electronics",
    "toys",
    "sports",
    "books",
    "garden",
    "grocery",
    "jewelry",
)
CATEGORY_P = np.array([0.16, 0.08, 0.1, 0.09, 0.07, 0.08, 0.07, 0.07, 0.08, 0.05, 0.1, 0.05])
_CATEGORY_PRICE = np.array([35, 70, 25, 45, 30, 150, 25, 50, 15, 30, 8, 120], dtype=float)


@dataclass
class Population:
    """Per-customer arrays, index i is customer ``ids[i]``. Days are offsets from the first day."""

    ids: np.ndarray
    signup_day: np.ndarray
    dropout_day: np.ndarray
    purchase_rate: np.ndarray  # expected orders per day while active
    spend_level: np.ndarray  # multiplies basket size
    fav_category: np.ndarray
    taste_strength: np.ndarray  # probability a line comes from the favourite category
    engagement: np.ndarray  # expected behaviour events per day while active
    fade_days: np.ndarray  # engagement fades over this many days before dropout
    country: np.ndarray
    consent: np.ndarray
    unsubscribe_day: np.ndarray  # day of unsubscribing; a large value means never
    unsubscribed_at_start: np.ndarray

    def __len__(self) -> int:
        return len(self.ids)

    def truth(self, start: pd.Timestamp) -> pd.DataFrame:
        """The latent truth table (for scoring models and lift; the pipeline never reads it)."""
        day = pd.to_timedelta(self.dropout_day.clip(-10_000, 10_000), unit="D")
        return pd.DataFrame(
            {
                "customer_id": self.ids,
                "signup_date": (start + pd.to_timedelta(self.signup_day, unit="D")).date,
                "dropout_date": (start + day).date,
                "purchase_rate": self.purchase_rate,
                "spend_level": self.spend_level,
                "fav_category": np.asarray(CATEGORIES)[self.fav_category],
                "taste_strength": self.taste_strength,
                "engagement": self.engagement,
                "fade_days": self.fade_days,
            }
        )


def make_population(n: int, days: int, seed: int) -> Population:
    """Draw ``n`` customers: 60% already signed up before day 0, the rest arriving over ``days``."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, 0]))
    existing = rng.random(n) < 0.6
    signup = np.where(existing, -rng.integers(1, 366, n), rng.integers(0, max(days, 1), n))
    loyalty = rng.gamma(2.0, 1.0, n)
    lifetime = rng.exponential(160.0 * loyalty) + 20
    dropout = signup + lifetime.astype(np.int64)
    consent = rng.random(n) < 0.72
    unsub_at_start = consent & (rng.random(n) < 0.04)
    will_unsub = consent & ~unsub_at_start & (rng.random(n) < 0.1)
    unsub_day = np.where(will_unsub, signup + rng.integers(5, 400, n), np.iinfo(np.int64).max // 2)
    return Population(
        ids=np.char.add("C", np.char.zfill(np.arange(1, n + 1).astype(str), 8)).astype(object),
        signup_day=signup.astype(np.int64),
        dropout_day=dropout.astype(np.int64),
        purchase_rate=np.clip(rng.lognormal(np.log(1 / 35), 0.8, n), 1 / 500, 0.3),
        spend_level=rng.lognormal(0.0, 0.5, n),
        fav_category=rng.choice(len(CATEGORIES), n, p=CATEGORY_P),
        taste_strength=rng.beta(2.0, 2.0, n),
        engagement=rng.lognormal(np.log(0.25), 0.7, n),
        fade_days=20 + 40 * rng.random(n),
        country=rng.choice(COUNTRIES, n, p=COUNTRY_P),
        consent=consent,
        unsubscribe_day=unsub_day.astype(np.int64),
        unsubscribed_at_start=unsub_at_start,
    )


def contact_details(pop: Population, idx: np.ndarray, seed: int) -> tuple[list[str | None], list[str | None]]:
    """Emails and phones of customers ``idx`` (stable per customer, whatever day they are drawn)."""
    emails: list[str | None] = []
    phones: list[str | None] = []
    for i in idx:
        rng = np.random.default_rng(np.random.SeedSequence([seed, 2, int(i)]))
        first, last = FIRST[rng.integers(len(FIRST))], LAST[rng.integers(len(LAST))]
        country = str(pop.country[i])
        emails.append(messy_email(rng, first, last, country, int(i)) if rng.random() > 0.03 else None)
        phones.append(messy_phone(rng, country) if rng.random() < 0.7 else None)
    return emails, phones


@dataclass
class Catalogue:
    ids: np.ndarray
    category: np.ndarray
    price: np.ndarray
    # Sampling table: products sorted by category; cumulative Zipf weight within each category,
    # shifted by the category index so one searchsorted serves every category at once.
    order: np.ndarray
    shifted_cdf: np.ndarray

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            {"product_id": self.ids, "category": np.asarray(CATEGORIES)[self.category], "price": self.price}
        )

    def sample(self, rng: np.random.Generator, category: np.ndarray) -> np.ndarray:
        """One product index per entry of ``category``, by Zipf popularity within the category."""
        pos = np.searchsorted(self.shifted_cdf, category + rng.random(len(category)) * (1 - 1e-12))
        return self.order[np.minimum(pos, len(self.order) - 1)]


def make_catalogue(n_products: int, seed: int) -> Catalogue:
    rng = np.random.default_rng(np.random.SeedSequence([seed, 1]))
    category = np.sort(rng.choice(len(CATEGORIES), n_products, p=CATEGORY_P))
    category[: len(CATEGORIES)] = np.arange(len(CATEGORIES))  # every category has a product
    category = np.sort(category)
    price = np.round(np.maximum(np.round(_CATEGORY_PRICE[category] * rng.lognormal(0, 0.45, n_products)), 1) - 0.01, 2)
    cdf = np.empty(n_products)
    for c in range(len(CATEGORIES)):
        members = np.flatnonzero(category == c)
        weights = 1.0 / np.arange(1, len(members) + 1) ** 1.1  # Zipf popularity
        cdf[members] = c + np.cumsum(weights) / weights.sum()
    ids = np.char.add("P", np.char.zfill(np.arange(1, n_products + 1).astype(str), 5)).astype(object)
    return Catalogue(ids, category, price, np.arange(n_products), cdf)
