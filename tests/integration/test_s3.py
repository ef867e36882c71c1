"""Object storage over real HTTP against moto's S3-compatible server: landing read, lake commit, export."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import pandas as pd
import pytest

from campaignflow.campaigns.identifiers import normalise_email, sha256_hex
from campaignflow.campaigns.publish import published
from campaignflow.ingest.staging import promote_days, stage_day
from campaignflow.io.lake import Dataset, Lake, PartitionRef
from campaignflow.io.storage import LocalStore, S3Store
from campaignflow.runtime import Runtime
from campaignflow.settings import Settings
from campaignflow.synthetic.generate import ShopSpec, generate_shop
from tests.conftest import ROOT

pytestmark = pytest.mark.s3


def test_store_operations(s3_endpoint: str, s3_bucket: str) -> None:
    store = S3Store(f"s3://{s3_bucket}/prefix", endpoint_url=s3_endpoint)
    store.write_bytes("a/dt=1/x.csv", b"1")
    store.write_bytes("a/dt=2/y.csv", b"2")
    assert store.exists("a/dt=1/x.csv") and not store.exists("a/dt=1/nope")
    assert store.list_keys("a/") == ["a/dt=1/x.csv", "a/dt=2/y.csv"]
    assert store.list_dirs("a") == ["dt=1", "dt=2"]
    store.move("a/dt=2/y.csv", "b/y.csv")
    assert store.read_bytes("b/y.csv") == b"2" and not store.exists("a/dt=2/y.csv")
    store.delete_prefix("a/")
    assert store.list_keys("a/") == []
    assert store.full_uri("b/y.csv") == f"s3://{s3_bucket}/prefix/b/y.csv"


def test_lake_commit_on_s3(s3_endpoint: str, s3_bucket: str) -> None:
    lake = Lake.from_uri(f"s3://{s3_bucket}/lake", endpoint_url=s3_endpoint)
    ref = PartitionRef("scores", "customer", "2024-01-01")
    frame = pd.DataFrame({"customer_id": ["a", "b"], "churn_prob": [0.1, 0.9]})
    lake.write_frame(ref, frame)
    lake.write_frame(ref, frame.head(1))  # replace, never append
    assert lake.committed_dates(Dataset("scores", "customer")) == ["2024-01-01"]
    pd.testing.assert_frame_equal(lake.read_frame(ref), frame.head(1))
    assert not lake.store.list_keys("_staging")


def test_landing_read_from_s3(tmp_path: Path, s3_endpoint: str, s3_bucket: str) -> None:
    landing = S3Store(f"s3://{s3_bucket}/landing", endpoint_url=s3_endpoint)
    generate_shop(
        ShopSpec(customers=150, days=2, start=pd.Timestamp("2024-01-01").date()),
        landing,
        LocalStore(tmp_path / "truth"),
    )
    lake = Lake(LocalStore(tmp_path / "lake"))
    staged = stage_day(landing, lake, "2024-01-02")
    committed = promote_days(lake, ["2024-01-02"])
    assert committed["2024-01-02"]["orders"] == staged.rows["orders"] > 0
    source = lake.manifest(PartitionRef("raw", "orders", "2024-01-02"))["meta"]["source"]
    assert source == f"s3://{s3_bucket}/landing/dt=2024-01-02/orders.csv"


def test_export_written_to_s3(
    tmp_path: Path, s3_endpoint: str, s3_bucket: str, caplog: pytest.LogCaptureFixture
) -> None:
    from jobs import export_audience, snapshot_contacts

    settings = Settings(
        lake_uri=str(tmp_path / "lake"),
        landing_uri=str(tmp_path / "landing"),
        exports_uri=f"s3://{s3_bucket}/exports",
        s3_endpoint_url=s3_endpoint,
        campaigns_dir=str(ROOT / "campaigns"),
    )
    rt = Runtime.from_settings(settings)
    ds = "2024-01-05"
    customers = pd.DataFrame(
        {
            "customer_id": ["c1", "c2", "c3"],
            "email": [" Ann@Shop.COM", "bob@shop.com", "cat@shop.com"],
            "phone": ["07700 900123", None, None],
            "country": ["GB", "US", "US"],
            "marketing_consent": [True, True, True],
            "unsubscribed": [False, False, False],
            "_row": [2, 3, 4],
        }
    )
    rt.lake.write_frame(PartitionRef("raw", "customers", "2024-01-01"), customers)
    assert snapshot_contacts.run(rt, ds)["mode"] == "rebuilt"
    audience = pd.DataFrame(
        {
            "customer_id": ["c1", "c2", "c3"],
            "group": ["treatment", "control", "treatment"],
            "rank": [1, 2, 3],
            "churn_prob": [0.9, 0.8, 0.7],
        }
    )
    rt.lake.write_frame(
        PartitionRef("audiences", "winback", ds), audience, {"stats": {"treatment": 2, "control": 1, "notes": []}}
    )
    with caplog.at_level("INFO"):
        result = export_audience.run(rt, ds, "winback")
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "published" in logged and "@" not in logged and "shop.com" not in logged  # no raw PII in the logs
    key = "generic_csv/winback/dt=2024-01-05"
    store = rt.exports.store
    assert result["exports"][0]["uri"] == f"s3://{s3_bucket}/exports/{key}"
    manifest, files = published(store, key)  # type: ignore[misc]
    exported = pd.read_csv(io.BytesIO(files["audience-00001.csv"]), dtype=str)
    want_emails = sorted(sha256_hex(normalise_email(e)) for e in (" Ann@Shop.COM", "cat@shop.com"))
    assert sorted(exported["email_sha256"]) == want_emails  # treatment only, hashed; control held out
    assert hashlib.sha256(b"+447700900123").hexdigest() in set(exported["phone_sha256"].dropna())
    # no raw PII or ids leave the lake: exactly the hashed identifier columns, each value a SHA-256 digest
    assert list(exported.columns) == ["email_sha256", "phone_sha256"]
    assert exported["email_sha256"].str.fullmatch(r"[0-9a-f]{64}").all()
    assert exported["phone_sha256"].dropna().str.fullmatch(r"[0-9a-f]{64}").all()
    assert manifest["counts"]["rows"] == 2 and manifest["counts"]["control"] == 1
    meta_files = published(store, "meta_ads/winback/dt=2024-01-05")[1]  # type: ignore[index]
    meta = pd.read_csv(io.BytesIO(meta_files["audience-00001.csv"]), dtype=str)
    assert hashlib.sha256(b"447700900123").hexdigest() in set(meta["phone"].dropna())  # Meta: no '+'
    adds = pd.read_csv(io.BytesIO(meta_files["adds-00001.csv"]), dtype=str)
    assert len(adds) == 2  # the first publication adds everyone


def test_list_dirs_at_root(s3_endpoint: str, s3_bucket: str) -> None:
    nested = S3Store(f"s3://{s3_bucket}/landing", endpoint_url=s3_endpoint)
    nested.write_bytes("dt=2024-01-01/_SUCCESS", b"")
    nested.write_bytes("dt=2024-01-02/orders.csv", b"x")
    assert nested.list_dirs("") == ["dt=2024-01-01", "dt=2024-01-02"]
    root = S3Store(f"s3://{s3_bucket}", endpoint_url=s3_endpoint)
    assert root.list_dirs("") == ["landing"]
    assert root.list_dirs("landing") == ["dt=2024-01-01", "dt=2024-01-02"]


@pytest.mark.spark
def test_spark_on_an_s3_lake_fails_at_once_with_the_reason(s3_endpoint: str, s3_bucket: str, spark) -> None:  # type: ignore[no-untyped-def]
    from campaignflow.errors import SparkCannotReadLake
    from campaignflow.io import datasets
    from campaignflow.io.spark import read_table

    lake = Lake.from_uri(f"s3://{s3_bucket}/lake", endpoint_url=s3_endpoint)
    lake.write_frame(datasets.raw("orders").at("2024-01-01"), pd.DataFrame({"customer_id": ["a"]}))
    with pytest.raises(SparkCannotReadLake, match="has no s3a filesystem") as err:
        read_table(lake, datasets.raw("orders"))
    assert "hadoop-aws" in err.value.remedy


def test_storage_stopping_mid_import_marks_no_new_day_complete(tmp_path: Path) -> None:
    """The S3 server dies part-way: a transient error saying how far it got, and no day marked complete."""
    import boto3
    from moto.server import ThreadedMotoServer

    from campaignflow.errors import StorageUnavailable, TransientError
    from campaignflow.ingest.importer import ColumnMapping, prepare_orders, write_landing
    from campaignflow.ingest.reader import read_csv_text
    from tests.s3server import _free_port

    rows = "".join(f"c{d},2024-01-{d:02d}T10:00:00,{d}.00,A{d}\n" for d in range(1, 31))
    text = read_csv_text(("customer_id,order_ts,amount,order_id\n" + rows).encode(), "log.csv")
    imported = prepare_orders(text, ColumnMapping(order_id="order_id"), "log.csv")
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=_free_port(), verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{server._server.server_port}"  # type: ignore[attr-defined]
    boto3.client("s3", endpoint_url=endpoint).create_bucket(Bucket="dies")
    store = S3Store("s3://dies/landing", endpoint_url=endpoint)
    real_write, calls = store.write_bytes, []

    def write_then_die(key: str, data: bytes) -> None:
        calls.append(key)
        if len(calls) == 40:
            server.stop()
        real_write(key, data)

    store.write_bytes = write_then_die  # type: ignore[method-assign]
    with pytest.raises(StorageUnavailable) as err:
        write_landing(imported, store)
    assert isinstance(err.value, TransientError)
    assert "of 30 day(s) written, no new day marked complete" in str(err.value) and "--mode replace" in err.value.remedy
    assert not [k for k in calls if k.endswith("_SUCCESS")]
