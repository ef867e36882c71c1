"""Per-channel consent: the newest statement wins, silence changes nothing, a tie keeps the channel closed."""

from __future__ import annotations

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from campaignflow.ingest.consent import newest_statements

statement = st.fixed_dictionaries(
    {
        "customer_id": st.sampled_from(["a", "b", "c"]),
        "dt": st.sampled_from(["2024-01-01", "2024-01-02", "2024-01-03"]),
        "email_consent": st.sampled_from([None, True, False]),
        "email_consent_ts": st.one_of(
            st.none(), st.integers(0, 96).map(lambda h: pd.Timestamp("2023-12-31") + pd.Timedelta(hours=h))
        ),
    }
)


def reference(records: list[dict]) -> dict[str, tuple[bool | None, pd.Timestamp | None]]:
    """Per customer: the flag of the statement with the greatest time (closed among equals), by brute force."""
    out: dict[str, tuple[bool | None, pd.Timestamp | None]] = {}
    for cid in {r["customer_id"] for r in records}:
        said = [r for r in records if r["customer_id"] == cid and r["email_consent"] is not None]
        if not said:
            out[cid] = (None, None)
            continue
        times = [r["email_consent_ts"] if r["email_consent_ts"] is not None else pd.Timestamp(r["dt"]) for r in said]
        newest = max(times)
        flags = {r["email_consent"] for r, t in zip(said, times, strict=True) if t == newest}
        out[cid] = (min(flags), newest)
    return out


@settings(max_examples=200, deadline=None)
@given(records=st.lists(statement, min_size=1, max_size=12), seed=st.integers(0, 1000))
def test_newest_statement_wins_whatever_the_order_of_equal_days(records: list[dict], seed: int) -> None:
    frame = pd.DataFrame(records).sort_values(["customer_id", "dt"], kind="stable")
    shuffled = frame.sample(frac=1, random_state=seed).sort_values(["customer_id", "dt"], kind="stable")
    expected = reference(records)
    for given_order in (frame, shuffled):
        got = newest_statements(given_order, "customer_id").set_index("customer_id")
        for cid, (flag, at) in expected.items():
            value = got.loc[cid, "email_consent"]
            assert (None if pd.isna(value) else bool(value)) == flag
            assert (None if pd.isna(got.loc[cid, "email_consent_ts"]) else got.loc[cid, "email_consent_ts"]) == at
        assert (got["phone_consent"].isna()).all()  # never stated


def test_an_older_export_replayed_later_does_not_reopen_a_closed_channel() -> None:
    log = pd.DataFrame(
        {
            "customer_id": ["c1", "c1", "c1"],
            "dt": ["2024-01-05", "2024-01-09", "2024-01-10"],
            "email_consent": [False, True, None],  # closed; an old opt-in replayed on the 9th; silent on the 10th
            "email_consent_ts": pd.to_datetime(["2024-01-05T10:00", "2024-01-02T08:00", None]),
            "email": ["old@x.com", "old@x.com", "new@x.com"],
        }
    )
    got = newest_statements(log, "customer_id").iloc[0]
    assert got["email"] == "new@x.com"  # the newest record otherwise
    assert bool(got["email_consent"]) is False
    assert got["email_consent_ts"] == pd.Timestamp("2024-01-05T10:00")
    reopened = pd.concat([log, log.iloc[[1]].assign(dt="2024-01-11", email_consent_ts=pd.Timestamp("2024-01-11"))])
    assert bool(newest_statements(reopened, "customer_id").iloc[0]["email_consent"]) is True
    silent = newest_statements(log.drop(columns=["email_consent", "email_consent_ts"]), "customer_id")
    assert silent["email_consent"].isna().all() and str(silent["email_consent"].dtype) == "boolean"
