"""Bring your own data: a 1990s transaction log (customer, timestamp, amount) through the daily DAG.

The history is from 1997, long before any date a DAG author would pick as ``start_date``: the run
must process it (not create an empty run and call it a success) and say what it produced.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest

from campaignflow.ingest.reader import read_csv_text
from campaignflow.io.lake import PartitionRef
from campaignflow.io.storage import LocalStore
from campaignflow.runtime import Runtime
from campaignflow.synthetic.generate import ShopSpec, generate_shop
from tests.conftest import ROOT

pytestmark = [pytest.mark.airflow, pytest.mark.spark]
START = date(1997, 6, 1)


def test_orders_only_1990s_shop_runs_and_says_what_is_missing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A plain transaction log (customer, timestamp, amount) from 1997 is enough to score churn."""
    from campaignflow.cli import main

    for key in ("CAMPAIGNFLOW_LANDING", "CAMPAIGNFLOW_EXPORTS", "CAMPAIGNFLOW_S3_ENDPOINT_URL"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("CAMPAIGNFLOW_LAKE", str(tmp_path / "lake"))
    monkeypatch.setenv("CAMPAIGNFLOW_CHURN_HORIZON_DAYS", "30")
    monkeypatch.setenv("CAMPAIGNFLOW_CAMPAIGNS_DIR", str(ROOT / "campaigns"))
    shop_root = tmp_path / "shop"
    generate_shop(
        ShopSpec(customers=600, days=90, start=START, seed=8),
        LocalStore(shop_root / "landing"),
        LocalStore(shop_root / "truth"),
    )
    orders = pd.concat(
        [
            read_csv_text((shop_root / "landing" / f"dt={d.date()}" / "orders.csv").read_bytes(), "orders.csv")
            for d in pd.date_range(START, periods=90)
        ]
    )
    log = orders.rename(columns={"customer_id": "client", "order_ts": "created_at", "amount": "total"})
    log[["client", "created_at", "total"]].to_csv(tmp_path / "log.csv", index=False)
    assert (
        main(
            [
                "import-orders",
                str(tmp_path / "log.csv"),
                "--customer-col",
                "client",
                "--timestamp-col",
                "created_at",
                "--amount-col",
                "total",
            ]
        )
        == 0
    )
    last = START + timedelta(days=89)
    cli = Path(sys.executable).with_name("campaignflow")
    run = subprocess.run([str(cli), "run", "--date", str(last)], capture_output=True, text=True, env=os.environ.copy())
    assert run.returncode == 0, run.stdout + run.stderr
    # a quiet terminal: progress and the stage summary; framework logs in the file it names
    log_line = next(line for line in run.stdout.splitlines() if line.startswith("logs: "))
    log_file = Path(log_line.removeprefix("logs: "))
    assert log_file.stat().st_size > 10_000 and "dag_id=campaign_daily" in log_file.read_text()
    assert len(run.stdout.splitlines()) < 35 and "INFO" not in run.stdout, run.stdout  # a summary, not pages of logs
    assert f"=== campaignflow: {last}" in run.stdout and "scores:        " in run.stdout
    assert main(["summary", "--date", str(last)]) == 0
    rt = Runtime.from_settings()
    scores = rt.lake.read_frame(PartitionRef("scores", "customer", str(last)))
    assert set(scores.columns) >= {"customer_id", "churn_prob"}
    assert set(scores["customer_id"]) == set(orders["customer_id"])
    assert rt.lake.manifest(PartitionRef("features", "customer", str(last)))["meta"]["absent_tables"] == [
        "customers",
        "events",
        "order_lines",
        "products",
    ]
    stats = rt.lake.manifest(PartitionRef("audiences", "winback", str(last)))["meta"]["stats"]
    assert stats["treatment"] == 0 and "no customers table" in stats["notes"][0]
    from campaignflow.campaigns.publish import is_published, publication_key, read_manifest

    key = publication_key("generic_csv", "winback", str(last))
    assert is_published(rt.exports.store, key) and read_manifest(rt.exports.store, key)["counts"]["rows"] == 0  # type: ignore[index]
