"""Build labels: churn and future value at T = D - H, once the data reaches D (labels/churn_h{H}/dt=T).

The population is every customer who had ordered by T (features as of T, built if missing); the
outcome comes from the daily aggregates of the days in (T, D]. Nothing is written while the raw
orders do not yet reach D: a label partition exists only once its whole horizon is in the data.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from campaignflow.errors import NotEnoughHistory
from campaignflow.features.lineage import RawInputs, raw_inputs
from campaignflow.io import datasets
from campaignflow.jobcli import date_job
from campaignflow.runtime import Runtime


def label_date(rt: Runtime, ds: str) -> str:
    return (date.fromisoformat(ds) - timedelta(days=rt.settings.churn_horizon_days)).isoformat()


def run(rt: Runtime, ds: str, known: RawInputs | None = None) -> dict[str, Any]:
    """Labels at T = ds - H (``known``: raw inputs read already, e.g. by a training run)."""
    from campaignflow.features.labels import labels
    from campaignflow.io.spark import read_dates, write_partition
    from jobs import build_features

    horizon, t = rt.settings.churn_horizon_days, label_date(rt, ds)
    orders = rt.lake.committed_dates(datasets.raw("orders"), end=ds)
    if not orders or orders[-1] < ds:
        raise NotEnoughHistory(
            f"labels at {t} need raw orders through {ds} (T + {horizon} days); newest is {orders[-1:]}"
        )
    if orders[0] > t:
        raise NotEnoughHistory(
            f"no raw orders on or before {t} (D - {horizon} days) to label; the first are on {orders[0]}"
        )
    inputs = raw_inputs(rt.lake, ds, known)
    features_ref = datasets.CUSTOMER_FEATURES.at(t)
    if not rt.lake.is_committed(features_ref):
        build_features.run(rt, t, inputs)
    build_features.ensure_daily(rt, inputs.after(t), None)  # the outcome days, current
    features = read_dates(rt.lake, datasets.CUSTOMER_FEATURES, [t])
    assert features is not None
    window = rt.lake.committed_dates(
        datasets.CUSTOMER_DAY, start=(date.fromisoformat(t) + timedelta(days=1)).isoformat(), end=ds
    )
    daily = read_dates(rt.lake, datasets.CUSTOMER_DAY, window)
    manifest = write_partition(
        rt.lake,
        datasets.churn_labels(horizon).at(t),
        labels(features, daily, date.fromisoformat(t), horizon),
        {"horizon_days": horizon, "outcome_through": ds},
    )
    return {"dt": t, "labelled_customers": manifest["rows"], "horizon_days": horizon, "outcome_through": ds}


add_arguments, run_args, main = date_job(run, __doc__)

if __name__ == "__main__":
    raise SystemExit(main())
