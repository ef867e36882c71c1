"""Build features: per-customer point-in-time features as of D (Spark), into features/customer/dt=D."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from campaignflow.errors import MissingPartition
from campaignflow.io import datasets
from campaignflow.jobcli import date_job
from campaignflow.runtime import Runtime

if TYPE_CHECKING:
    from pyspark.sql import DataFrame


def extract(rt: Runtime, ds: str) -> dict[str, DataFrame | None]:
    """Committed raw tables up to D (None for a table the shop does not export)."""
    from campaignflow.io.spark import read_table

    tables = {name: read_table(rt.lake, datasets.raw(name), end=ds) for name in ("orders", "events", "customers")}
    if tables["orders"] is None:
        raise MissingPartition(f"no committed raw orders on or before {ds} in {rt.lake.uri}")
    return tables


def transform(tables: dict[str, DataFrame | None], ds: str) -> DataFrame:
    from campaignflow.features.customer import customer_features

    orders = tables["orders"]
    assert orders is not None
    return customer_features(orders, tables["events"], tables["customers"], date.fromisoformat(ds))


def run(rt: Runtime, ds: str) -> dict[str, Any]:
    from campaignflow.io.spark import write_partition

    tables = extract(rt, ds)
    absent = sorted(name for name, frame in tables.items() if frame is None)
    manifest = write_partition(
        rt.lake, datasets.CUSTOMER_FEATURES.at(ds), transform(tables, ds), {"absent_tables": absent}
    )
    return {"dt": ds, "customers": manifest["rows"], "absent_tables": absent}


add_arguments, run_args, main = date_job(run, __doc__)


if __name__ == "__main__":
    raise SystemExit(main())
