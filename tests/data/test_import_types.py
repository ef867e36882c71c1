"""Imported days read alike: every day, an empty one included, has the same typed schema in Spark."""

from __future__ import annotations

from pathlib import Path

import pytest

from campaignflow.cli import main
from campaignflow.io.lake import Dataset
from campaignflow.runtime import Runtime
from tests.unit.ingest.test_import_orders import GOOD, lake_ref


@pytest.mark.spark
def test_every_day_has_the_same_typed_schema(tmp_path: Path, runtime_env: Runtime, spark) -> None:  # type: ignore[no-untyped-def]
    """An empty day keeps typed columns (not Parquet's null type), so all days of a table read alike."""
    import io

    import pyarrow.parquet as pq

    from campaignflow.ingest.schemas import ORDERS
    from campaignflow.io.spark import read_table

    path = tmp_path / "shop.csv"
    path.write_text(GOOD)
    assert (
        main(["import-orders", str(path), "--customer-col", "user", "--timestamp-col", "ts", "--amount-col", "total"])
        == 0
    )
    lake = runtime_env.lake
    for dt in ("2024-01-01", "2024-01-02"):
        (key,) = lake.data_keys(lake_ref(dt))
        assert pq.read_schema(io.BytesIO(lake.store.read_bytes(key))).remove_metadata() == ORDERS.arrow_schema()
    orders = read_table(lake, Dataset("raw", "orders"))
    assert orders is not None
    assert [r["customer_id"] for r in orders.orderBy("order_ts").collect()] == ["u1", "u2", "u1"]
