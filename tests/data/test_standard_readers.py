"""A committed partition or table folder reads with standard tools alone (no campaignflow code)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow.dataset as pads
import pytest

from campaignflow.io.lake import Dataset, Lake

ORDERS = Dataset("raw", "orders")


def _commit_three_days(lake: Lake) -> pd.DataFrame:
    frames = []
    for i, dt in enumerate(("2024-01-01", "2024-01-02", "2024-01-03")):
        frame = pd.DataFrame({"order_id": [f"o{i}a", f"o{i}b"], "amount": [1.5 + i, 2.0 + i]})
        lake.write_frame(ORDERS.at(dt), frame, {"source": "test"})
        frames.append(frame.assign(dt=dt))
    quarantine = Dataset("quarantine", "raw/orders").at("2024-01-04")
    staged = lake.stage(quarantine)
    lake.store.write_bytes(f"{staged}/orders.csv", b"order_id\nbad\n")
    lake.quarantine(quarantine, staged, {"rows": 1, "why": "test"})
    return pd.concat(frames, ignore_index=True)


def _table_dir(lake: Lake) -> Path:
    return Path(lake.store.uri) / ORDERS.key


def test_control_files_are_hidden_from_readers(lake: Lake) -> None:
    _commit_three_days(lake)
    names = {p.name for p in (_table_dir(lake) / "dt=2024-01-01").iterdir()}
    assert names == {"part-00000.parquet", "_manifest.json", "_SUCCESS"}
    assert {p.name for p in (Path(lake.store.uri) / "quarantine/raw/orders/dt=2024-01-04").iterdir()} == {
        "orders.csv",
        "_manifest.json",
        "_report.json",
        "_SUCCESS",
    }


def test_pandas_reads_a_partition_and_a_table(lake: Lake) -> None:
    want = _commit_three_days(lake)
    one = pd.read_parquet(_table_dir(lake) / "dt=2024-01-02")
    assert one[["order_id", "amount"]].values.tolist() == [["o1a", 2.5], ["o1b", 3.0]]
    table = pd.read_parquet(_table_dir(lake)).sort_values("order_id", ignore_index=True)
    assert table["order_id"].tolist() == want["order_id"].tolist()
    assert table["dt"].astype(str).tolist() == want["dt"].tolist()


def test_pyarrow_dataset_reads_the_table(lake: Lake) -> None:
    want = _commit_three_days(lake)
    dataset = pads.dataset(_table_dir(lake), format="parquet", partitioning="hive")
    got = dataset.to_table().to_pandas().sort_values("order_id", ignore_index=True)
    assert len(dataset.files) == 3
    pd.testing.assert_series_equal(got["amount"], want["amount"])


@pytest.mark.spark
def test_spark_reads_a_partition_and_the_table(lake: Lake, spark) -> None:  # type: ignore[no-untyped-def]
    want = _commit_three_days(lake)
    assert spark.read.parquet(str(_table_dir(lake) / "dt=2024-01-03")).count() == 2
    table = spark.read.parquet(str(_table_dir(lake))).toPandas().sort_values("order_id", ignore_index=True)
    assert table["order_id"].tolist() == want["order_id"].tolist()
    assert sorted(table["dt"].astype(str).unique()) == ["2024-01-01", "2024-01-02", "2024-01-03"]


def test_duckdb_reads_the_table(lake: Lake) -> None:
    import duckdb

    want = _commit_three_days(lake)
    glob = str(_table_dir(lake) / "*" / "*.parquet")
    got = duckdb.sql(
        f"select order_id, amount, dt from read_parquet('{glob}', hive_partitioning=true) order by order_id"
    )
    assert [(r[0], r[1], str(r[2])) for r in got.fetchall()] == list(want.itertuples(index=False, name=None))
