"""Deterministic, hash-based assignment of customers to groups (validation sets, control groups).

A customer's draw depends only on (salt, customer id): the same customer lands in the same group
on every day, every re-run and every backfill.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

import numpy as np


def unit_draw(salt: str, customer_ids: Iterable[str]) -> np.ndarray:
    """A uniform number in [0, 1) per customer, from SHA-256 of ``salt:customer_id``."""
    return np.array(
        [int(hashlib.sha256(f"{salt}:{cid}".encode()).hexdigest()[:15], 16) / 16**15 for cid in customer_ids],
        dtype=float,
    )


def in_share(salt: str, customer_ids: Iterable[str], share: float) -> np.ndarray:
    """True for a stable ``share`` of customers."""
    return unit_draw(salt, customer_ids) < share
