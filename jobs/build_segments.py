"""Build segments as of D: RFM scores and tier, and a k-means cluster (segments/customer/dt=D).

The k-means model of D's period (``CAMPAIGNFLOW_SEGMENT_PERIOD_DAYS``, 28 by default, counted from
1980-01-01) is stored at ``models/segments_kmeans/dt=<period start>``: the first date of a period
that runs fits it (MLlib, seeded) on its own features, every other date of the period applies it.
Re-running or backfilling a date applies the stored model, so the same date gives the same clusters.
The DAG runs this task in date order (``depends_on_past``): two dates of a period segmented side by
side would both fit a model, and which one is stored would depend on timing.
"""

from __future__ import annotations

import json
from typing import Any

from campaignflow.errors import MissingPartition
from campaignflow.io import datasets
from campaignflow.jobcli import date_job
from campaignflow.runtime import Runtime


def run(rt: Runtime, ds: str) -> dict[str, Any]:
    from campaignflow.features.segments import KMeansSegments, fit_kmeans, period_start, segments
    from campaignflow.io.spark import read_dates, stage_frame

    if not rt.lake.is_committed(datasets.CUSTOMER_FEATURES.at(ds)):
        raise MissingPartition(f"no committed features for {ds}: run build_features first")
    features = read_dates(rt.lake, datasets.CUSTOMER_FEATURES, [ds])
    assert features is not None
    features = features.drop("dt")
    model_ref = datasets.SEGMENT_MODELS.at(period_start(ds, rt.settings.segment_period_days))
    model: KMeansSegments | None = None
    fitted = False
    if rt.lake.is_committed(model_ref):
        model = KMeansSegments.from_dict(json.loads(rt.lake.store.read_bytes(rt.lake.data_keys(model_ref)[0])))
    else:
        try:
            model = fit_kmeans(features, ds, seed=rt.settings.seed)
        except ValueError:  # too few buyers yet: RFM only; the first date of the period that can fits it
            model = None
        if model is not None:
            body = json.dumps(model.to_dict(), indent=2, sort_keys=True).encode()
            rt.lake.write_files(model_ref, {"model.json": body}, model.customers, {"fitted_on": ds})
            fitted = True
    ref = datasets.CUSTOMER_SEGMENTS.at(ds)
    staged, rows = stage_frame(rt.lake, ref, segments(features, model))
    tiers = rt.lake.read_staged(staged)["rfm_tier"].value_counts()
    meta = {
        "model": model_ref.key if model else None,
        "fitted_on": model.fitted_on if model else None,
        "tiers": {str(k): int(v) for k, v in tiers.items()},
    }
    rt.lake.commit(ref, staged, rows, meta)
    return {"dt": ds, "customers": rows, **meta, "kmeans_fitted_now": fitted}


add_arguments, run_args, main = date_job(run, __doc__)

if __name__ == "__main__":
    raise SystemExit(main())
