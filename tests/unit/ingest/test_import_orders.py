"""Bring-your-own order logs: mapping, derived ids, clear errors, and nothing written on bad input."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from campaignflow.cli import main
from campaignflow.io.lake import Dataset
from campaignflow.runtime import Runtime

GOOD = """user,ts,total,ref
u1,2024-01-01T10:00:00Z,19.90,A1
u2,2024-01-01T11:30:00Z,5.00,A2
u1,2024-01-03T09:00:00+01:00,42.00,A3
"""


def test_good_log_lands_every_day_and_loads_raw(tmp_path: Path, runtime_env: Runtime, capsys) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "shop.csv"
    path.write_text(GOOD)
    rc = main(
        [
            "import-orders",
            str(path),
            "--customer-col",
            "user",
            "--timestamp-col",
            "ts",
            "--amount-col",
            "total",
            "--order-id-col",
            "ref",
        ]
    )
    assert rc == 0, capsys.readouterr().err
    lake = runtime_env.lake
    assert lake.committed_dates(Dataset("raw", "orders")) == ["2024-01-01", "2024-01-02", "2024-01-03"]
    day3 = lake.read_frame(lake_ref("2024-01-03"))
    assert day3[["order_id", "customer_id", "amount"]].values.tolist() == [["A3", "u1", 42.0]]
    assert day3["order_ts"].iloc[0] == pd.Timestamp("2024-01-03T08:00:00")  # UTC
    assert lake.read_frame(lake_ref("2024-01-02")).empty  # a day without orders is a real, empty day


def test_order_ids_are_derived_stably_when_absent(tmp_path: Path, runtime_env: Runtime) -> None:
    path = tmp_path / "log.csv"
    path.write_text("customer_id,order_ts,amount\nc1,2024-02-01T10:00:00,3\nc1,2024-02-01T10:00:00,3\n")
    assert main(["import-orders", str(path)]) == 0
    first = runtime_env.lake.read_frame(lake_ref("2024-02-01"))["order_id"].tolist()
    assert main(["import-orders", str(path), "--mode", "merge"]) == 0  # the same file again: nothing new
    assert runtime_env.lake.read_frame(lake_ref("2024-02-01"))["order_id"].tolist() == first
    assert len(set(first)) == 2  # identical rows are two orders, not a duplicate


def test_parquet_input(tmp_path: Path, runtime_env: Runtime) -> None:
    path = tmp_path / "log.parquet"
    pd.DataFrame(
        {"customer_id": ["a", "b"], "order_ts": ["2024-03-01T00:00:00", "2024-03-01T05:00:00"], "amount": [1.0, 2.5]}
    ).to_parquet(path)
    assert main(["import-orders", str(path)]) == 0
    assert runtime_env.lake.manifest(lake_ref("2024-03-01"))["rows"] == 2


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (
            "customer_id,order_ts,amount\nc1,2024-01-01,abc\nc2,yesterday,1\n",
            [
                "line 2, column 'amount': not a valid float (value 'abc')",
                "line 3, column 'order_ts': not a valid timestamp",
            ],
        ),
        (
            "customer_id,order_ts,amount\n,2024-01-01,5\nc2,2024-01-01,3\n",
            ["column 'customer_id' fails rule 'not be null' on 1 row(s) (lines 2)"],
        ),
        ("client,order_ts,amount\nc1,2024-01-01,1\n", ["column(s) ['customer_id'] not found"]),
    ],
)
def test_bad_log_is_a_clear_error_and_writes_nothing(
    tmp_path: Path,
    runtime_env: Runtime,
    capsys,  # type: ignore[no-untyped-def]
    content: str,
    expected: list[str],
) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(content)
    rc = main(["import-orders", str(path)])
    err = capsys.readouterr().err
    assert rc != 0
    assert str(path) in err
    for fragment in expected:
        assert fragment in err
    assert runtime_env.lake.store.list_keys("raw") == [] and runtime_env.landing.list_keys("") == []


def lake_ref(dt: str):  # type: ignore[no-untyped-def]
    from campaignflow.io.lake import PartitionRef

    return PartitionRef("raw", "orders", dt)


LINES = """order,user,ts,line_total,sku,qty
A1,u1,2024-01-01T10:00:00,20.00,P1,2
A1,u1,2024-01-01T10:00:05,5.50,P2,1
A2,u2,2024-01-02T08:00:00,7.00,P1,1
"""


def import_lines(path: Path, *extra: str) -> int:
    """import-orders on a line-level log with columns order, user, ts, line_total, sku (+ extra flags)."""
    return main(
        [
            "import-orders",
            str(path),
            "--order-id-col",
            "order",
            "--customer-col",
            "user",
            "--timestamp-col",
            "ts",
            "--amount-col",
            "line_total",
            "--product-col",
            "sku",
            *extra,
        ]
    )


def test_line_level_log_builds_orders_and_lines(tmp_path: Path, runtime_env: Runtime) -> None:
    from campaignflow.io.lake import PartitionRef

    path = tmp_path / "lines.csv"
    path.write_text(LINES)
    assert import_lines(path, "--quantity-col", "qty") == 0
    lake = runtime_env.lake
    day1 = lake.read_frame(lake_ref("2024-01-01"))
    assert day1[["order_id", "customer_id", "amount"]].values.tolist() == [["A1", "u1", 25.5]]
    assert day1["order_ts"].iloc[0] == pd.Timestamp("2024-01-01T10:00:00")
    lines = lake.read_frame(PartitionRef("raw", "order_lines", "2024-01-01"))
    assert lines[["order_id", "product_id", "quantity", "unit_price"]].values.tolist() == [
        ["A1", "P1", 2, 10.0],
        ["A1", "P2", 1, 5.5],
    ]


def test_line_level_log_rejects_an_order_shared_by_two_customers(tmp_path: Path, runtime_env: Runtime, capsys) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "lines.csv"
    path.write_text("order,user,ts,line_total,sku\nA1,u1,2024-01-01T10:00:00,1,P1\nA1,u2,2024-01-01T10:00:00,1,P2\n")
    assert import_lines(path) != 0
    assert "more than one customer (lines [2, 3])" in capsys.readouterr().err
    assert runtime_env.lake.store.list_keys("raw") == []
