"""Every asset names a dataset of the catalogue, and asset events carry the partition."""

from __future__ import annotations

from collections import defaultdict
from types import SimpleNamespace

from airflow.sdk import Asset

from campaignflow.io import datasets
from campaignflow.io.lake import Dataset
from campaignflow.orchestration import assets


def _catalogue_keys() -> set[str]:
    keys = {v.key for v in vars(datasets).values() if isinstance(v, Dataset)}
    keys |= {datasets.raw(t).key for t in datasets.RAW_TABLES}
    keys |= {datasets.training_run(t).key for t in ("churn", "recommender")}
    return keys | {"audiences"}  # one dataset per campaign under this zone


def test_every_lake_asset_is_a_catalogue_dataset() -> None:
    lake_assets = [
        a for a in vars(assets).values() if isinstance(a, Asset) and a.uri.startswith("campaignflow://lake/")
    ]
    lake_assets += assets.RAW
    assert len(lake_assets) > 10
    for asset in lake_assets:
        assert asset.uri.removeprefix("campaignflow://lake/") in _catalogue_keys(), asset.uri


def test_record_partition_puts_the_date_and_scalars_on_each_event() -> None:
    events: defaultdict[object, SimpleNamespace] = defaultdict(SimpleNamespace)
    assets.record_partition(
        events,
        [assets.FEATURES, assets.CUSTOMER_DAY],
        "2024-04-07",
        {"dt": "ignored", "customers": 800, "mode": "incremental", "absent_tables": ["returns"]},
    )
    for asset in (assets.FEATURES, assets.CUSTOMER_DAY):
        assert events[asset].extra == {"dt": "2024-04-07", "customers": 800, "mode": "incremental"}
