"""Point in time for models: a date uses the newest model trained on or before it, never a later one."""

from __future__ import annotations

from campaignflow.io import datasets
from campaignflow.io.lake import Dataset, Lake
from campaignflow.models.churn import champion_version


def test_champion_is_newest_on_or_before_the_date(lake: Lake) -> None:
    for version in ("2024-03-01", "2024-05-01"):
        lake.write_files(datasets.CHURN_MODELS.at(version), {"model.txt": b"m"}, rows=1)
    lake.store.write_bytes("models/churn_lgbm/dt=2024-04-01/model.txt", b"uncommitted")
    assert champion_version(lake, "2024-02-28") is None
    assert champion_version(lake, "2024-03-01") == "2024-03-01"
    assert champion_version(lake, "2024-04-15") == "2024-03-01"  # the later model is not visible yet
    assert champion_version(lake, "2024-06-01") == "2024-05-01"


def test_training_without_history_fails_before_any_spark_work(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import pandas as pd
    import pytest

    from campaignflow.errors import NotEnoughHistory
    from campaignflow.runtime import Runtime
    from campaignflow.settings import Settings
    from jobs.train_churn import training_set

    rt = Runtime.from_settings(
        Settings(
            lake_uri=str(tmp_path / "lake"),
            landing_uri=str(tmp_path / "landing"),
            exports_uri=str(tmp_path / "exports"),
            churn_horizon_days=90,
        )
    )
    rt.lake.write_frame(datasets.raw("orders").at("2024-03-01"), pd.DataFrame({"customer_id": ["a"]}))
    with pytest.raises(NotEnoughHistory, match=r"no raw orders on or before 2023-12-02 \(D - 90 days\)"):
        training_set(rt, "2024-03-01")
    assert not rt.lake.committed_dates(Dataset("features", "customer"))
