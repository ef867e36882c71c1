"""The contact snapshot rolled forward day by day equals one rebuilt from the whole change log."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from campaignflow.campaigns.contacts import latest_contacts, roll_forward


def change_log(seed: int, days: int, customers: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for d in range(days):
        n = int(rng.integers(0, customers))
        ids = rng.choice([f"c{i}" for i in range(customers)], n)  # repeats within a day are allowed
        for line, cid in enumerate(ids, start=2):
            rows.append(
                {
                    "customer_id": cid,
                    "email": f"{cid}-{d}-{line}@x.com",
                    "phone": None,
                    "country": "US",
                    "marketing_consent": bool(rng.random() < 0.7),
                    "unsubscribed": bool(rng.random() < 0.2),
                    "email_consent": rng.choice(np.array([None, True, False], dtype=object)),
                    # a timed statement may be older than the record (an export replayed late)
                    "email_consent_ts": pd.Timestamp(f"2024-01-{d + 1:02d}")
                    - pd.Timedelta(hours=int(rng.integers(0, 96)))
                    if rng.random() < 0.5
                    else None,
                    "dt": f"2024-01-{d + 1:02d}",
                    "_row": line,
                }
            )
    return pd.DataFrame(rows)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), days=st.integers(1, 12), customers=st.integers(1, 15))
def test_rolled_forward_equals_rebuilt(seed: int, days: int, customers: int) -> None:
    log = change_log(seed, days, customers)
    assume(not log.empty)
    dates = sorted(log["dt"].unique())
    snapshot = latest_contacts(log[log["dt"] == dates[0]])
    for d in dates[1:]:
        snapshot = roll_forward(snapshot, log[log["dt"] == d])
    pd.testing.assert_frame_equal(snapshot, latest_contacts(log))


def test_newest_record_wins_and_no_change_keeps_snapshot() -> None:
    log = change_log(1, 3, 5)
    snapshot = latest_contacts(log)
    assert snapshot["customer_id"].is_unique
    for _, row in snapshot.iterrows():
        mine = log[log["customer_id"] == row["customer_id"]]
        newest = mine.sort_values(["dt", "_row"]).iloc[-1]
        assert row["email"] == newest["email"]
    pd.testing.assert_frame_equal(roll_forward(snapshot, None), snapshot)
