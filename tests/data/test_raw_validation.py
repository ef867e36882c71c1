"""The GX suites on real generated batches: clean days pass, each injected fault is caught and named."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

import pytest

from campaignflow.errors import BatchRejected
from campaignflow.ingest.staging import promote_days, stage_day
from campaignflow.io.lake import Dataset, Lake, PartitionRef
from tests.conftest import make_shop

BAD_DAY = "2024-01-03"


def shop_with(tmp_path: Path, faults: set[str]):  # type: ignore[no-untyped-def]
    landing, _ = make_shop(
        tmp_path,
        customers=400,
        days=4,
        faults=frozenset(faults),
        fault_dates=frozenset({date.fromisoformat(BAD_DAY)}),
        fault_rate=0.02,
    )
    return landing


def load_clean_days(landing, lake: Lake) -> None:  # type: ignore[no-untyped-def]
    for d in ("2024-01-01", "2024-01-02"):
        stage_day(landing, lake, d)
    promote_days(lake, ["2024-01-01", "2024-01-02"])


def test_clean_days_commit_to_raw(tmp_path: Path, lake: Lake) -> None:
    landing = shop_with(tmp_path, set())
    load_clean_days(landing, lake)
    assert lake.committed_dates(Dataset("raw", "orders")) == ["2024-01-01", "2024-01-02"]
    assert lake.committed_dates(Dataset("raw", "products")) == ["2024-01-01"]
    assert not lake.committed_dates(Dataset("staging", "orders"))
    for table in ("orders", "customers"):  # the same columns every day: nothing flagged
        assert "columns" not in lake.manifest(PartitionRef("raw", table, "2024-01-02"))["meta"]
    validation = lake.manifest(PartitionRef("raw", "orders", "2024-01-02"))["meta"]["validation"]
    # not null x4, unique order id, amount >= 0, amount outlier (warning), lateness
    assert validation == {"suite": "raw_orders", "expectations": 8, "success": True}


@pytest.mark.parametrize(
    ("fault", "table", "column", "rule"),
    [
        ("duplicates", "orders", "order_id", "be unique within the day"),
        ("nulls", "orders", "customer_id", "not be null"),
        ("nulls", "events", "customer_id", "not be null"),
        ("late_events", "events", "event_ts", "more than 7 day(s) before it"),
    ],
)
def test_fault_is_rejected_named_and_quarantined(
    tmp_path: Path, lake: Lake, fault: str, table: str, column: str, rule: str
) -> None:
    landing = shop_with(tmp_path, {fault})
    load_clean_days(landing, lake)
    committed_before = {k: lake.store.read_bytes(k) for k in lake.store.list_keys("raw")}
    stage_day(landing, lake, BAD_DAY)
    with pytest.raises(BatchRejected) as err:
        promote_days(lake, [BAD_DAY])
    message = str(err.value)
    assert f"dt={BAD_DAY}/{table}.csv" in message and repr(column) in message and rule in message
    # the batch is quarantined with a report, nothing of it reached raw, committed days are untouched
    assert not lake.is_committed(PartitionRef("raw", table, BAD_DAY))
    assert {k: lake.store.read_bytes(k) for k in lake.store.list_keys("raw")} == committed_before
    report = json.loads(lake.store.read_bytes(f"quarantine/raw/{table}/dt={BAD_DAY}/_report.json"))
    failure = next(f for f in report["tables"][table]["failures"] if f["column"] == column)
    assert failure["unexpected_count"] >= 1 and failure["rows"] and all(r >= 2 for r in failure["rows"])
    assert lake.committed_dates(Dataset("quarantine", f"raw/{table}")) == [BAD_DAY]
    stamps = {
        json.loads(lake.store.read_bytes(f"{key.rsplit('/', 1)[0]}/_report.json"))["rejected_at"]
        for key in lake.store.list_keys("quarantine/raw")
        if key.endswith("/_report.json")
    }  # every table of the rejected batch, one rejection
    assert len(stamps) == 1 and datetime.fromisoformat(stamps.pop()).tzinfo is not None


def test_malformed_values_reject_the_batch_at_parse(tmp_path: Path, lake: Lake) -> None:
    landing = shop_with(tmp_path, {"malformed"})
    with pytest.raises(BatchRejected) as err:
        stage_day(landing, lake, BAD_DAY)
    assert f"dt={BAD_DAY}/orders.csv: line" in str(err.value)
    assert "column 'amount': not a valid float (value 'N/A')" in str(err.value)
    assert "column 'order_ts': not a valid timestamp" in str(err.value)
    assert not lake.committed_dates(Dataset("staging", "orders")) and not lake.committed_dates(Dataset("raw", "orders"))
    assert lake.committed_dates(Dataset("quarantine", "landing/export")) == [BAD_DAY]


def test_unreadable_customers_file_is_a_rejected_batch_without_pii(tmp_path: Path, lake: Lake) -> None:
    """A daily customers.csv with a ragged row: quarantined with a report, nothing staged, no row echoed."""
    landing = shop_with(tmp_path, set())
    key = f"dt={BAD_DAY}/customers.csv"
    text = landing.read_bytes(key).decode()
    header, first, rest = text.split("\n", 2)
    landing.write_bytes(key, "\n".join([header, first + ",extra@leak.com,+44 7700 900999", rest]).encode())
    with pytest.raises(BatchRejected) as err:
        stage_day(landing, lake, BAD_DAY)
    message = str(err.value)
    assert f"dt={BAD_DAY}/customers.csv: record 2 (line 2): cannot be parsed as CSV" in message
    assert "leak.com" not in message and "900999" not in message
    assert not lake.committed_dates(Dataset("staging", "orders"))
    report = json.loads(lake.store.read_bytes(f"quarantine/landing/export/dt={BAD_DAY}/_report.json"))
    assert report["stage"] == "parse" and "customers.csv" in report["problems"][0]
    assert "leak.com" not in json.dumps(report)


def test_a_landing_file_that_gains_or_loses_a_column_is_flagged_not_refused(tmp_path: Path, lake: Lake) -> None:
    """A nightly export that suddenly carries a new column, or loses an optional one, still lands;
    the change is in the partition's manifest and the run summary."""
    import pandas as pd

    from campaignflow.ingest.reader import read_csv_text
    from campaignflow.io import landing as landing_zone

    landing = shop_with(tmp_path, set())
    key = landing_zone.table_key("2024-01-02", "orders")
    text = read_csv_text(landing.read_bytes(key), key).drop(columns=["_row", "currency"])
    landing.write_bytes(key, landing_zone.to_csv(text.assign(loyalty_tier="gold")))
    load_clean_days(landing, lake)
    meta = lake.manifest(PartitionRef("raw", "orders", "2024-01-02"))["meta"]
    assert meta["columns"] == {"ignored": ["loyalty_tier"], "absent": ["currency"]}
    assert "columns" not in lake.manifest(PartitionRef("raw", "orders", "2024-01-01"))["meta"]
    orders = pd.read_parquet(tmp_path / "lake" / "raw" / "orders" / "dt=2024-01-02")
    assert orders["currency"].isna().all() and "loyalty_tier" not in orders.columns
