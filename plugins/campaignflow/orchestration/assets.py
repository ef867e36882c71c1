"""The lake datasets as Airflow Assets, so the UI shows which DAG produces and consumes what.

One Asset per dataset (``zone/table``), not per partition: each asset event carries the partition
it committed in its ``extra`` (``{"dt": D, ...}``). URIs are logical (``campaignflow://lake/…``) and
the same in every deployment, whether the lake is a directory or an S3 bucket. Cheap to import
(DAG files use it at parse time); a test ties every key here to the catalogue in
:mod:`campaignflow.io.datasets`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from airflow.sdk import Asset

SCHEME = "campaignflow"


def lake_asset(key: str) -> Asset:
    """The Asset of the lake dataset ``zone/table`` (e.g. ``features/customer``)."""
    return Asset(name=f"{SCHEME}.{key.replace('/', '.')}", uri=f"{SCHEME}://lake/{key}", group=SCHEME)


RAW = [lake_asset(f"raw/{t}") for t in ("orders", "order_lines", "events", "customers", "products", "returns")]
CUSTOMER_DAY = lake_asset("daily/customer_day")
FEATURES = lake_asset("features/customer")
SEGMENTS = lake_asset("segments/customer")
CONTACTS = lake_asset("dims/contacts")
CHURN_MODELS = lake_asset("monitoring/training_churn")
RECOMMENDER_MODELS = lake_asset("monitoring/training_recommender")
SCORES = lake_asset("scores/customer")
RECOMMENDATIONS = lake_asset("recommendations/customer")
AUDIENCES = lake_asset("audiences")  # one dataset per campaign; the event names them
EXPORTS = Asset(name=f"{SCHEME}.exports", uri=f"{SCHEME}://exports", group=SCHEME)
LIFT = lake_asset("measurement/campaign_lift")


def record_partition(
    outlet_events: Any, assets: Iterable[Asset], ds: str, summary: Mapping[str, Any] | None = None
) -> None:
    """Put the committed partition (and the task's small scalar summary) on each asset event."""
    extra: dict[str, Any] = {"dt": ds}
    for key, value in (summary or {}).items():
        if isinstance(value, str | int | float | bool) and key != "dt":
            extra[key] = value
    for asset in assets:
        outlet_events[asset].extra = extra
