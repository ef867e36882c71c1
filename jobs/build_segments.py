"""Build segments as of D: RFM scores and tier, and a k-means cluster (segments/customer/dt=D).

The k-means model of D's period (``CAMPAIGNFLOW_SEGMENT_PERIOD_DAYS``, 28 by default, counted from
1980-01-01) is stored at ``models/segments_kmeans/dt=<period start>``: the first date of a period
that runs fits it (MLlib, seeded) on its own features, every other date of the period applies it.
Re-running or backfilling a date applies the stored model, so the same date gives the same clusters.
In a backfill (``ahead`` > 0), the following dates whose features are committed are segmented too, in
the same Spark session; their own runs claim them (:mod:`campaignflow.io.ahead`).
"""

from __future__ import annotations

import json
import logging
from typing import Any

from campaignflow.errors import MissingPartition
from campaignflow.io import ahead, datasets
from campaignflow.io.ahead import following_days
from campaignflow.jobcli import date_job
from campaignflow.runtime import Runtime

log = logging.getLogger(__name__)


def run(rt: Runtime, ds: str, ahead: int = 0) -> dict[str, Any]:
    """Segments as of ``ds`` (claimed when built ahead from today's features), and up to ``ahead``
    following dates whose features are committed and segments are not."""
    result = claim(rt, ds) or build(rt, ds)
    built = []
    for dt in following_days(ds, ahead):
        if not rt.lake.is_committed(datasets.CUSTOMER_FEATURES.at(dt)):
            break
        if rt.lake.is_committed(datasets.CUSTOMER_SEGMENTS.at(dt)):
            continue
        build(rt, dt, ahead_of=ds)
        built.append(dt)
    if built:
        log.info("segments built ahead of %s: %s", ds, built)
    return {**result, "built_ahead": built}


def build(rt: Runtime, ds: str, ahead_of: str | None = None) -> dict[str, Any]:
    """Segments of one date (``ahead_of``: the date whose run builds it ahead)."""
    from campaignflow.features.segments import KMeansSegments, fit_kmeans, period_start, segments
    from campaignflow.io.spark import read_dates, stage_frame

    if not rt.lake.is_committed(datasets.CUSTOMER_FEATURES.at(ds)):
        raise MissingPartition(f"no committed features for {ds}: run build_features first")
    source = _features_digest(rt, ds)
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
    rt.lake.commit(ref, staged, rows, ahead.marked(meta, ahead_of, source))
    return {"dt": ds, "customers": rows, **meta, "kmeans_fitted_now": fitted}


def claim(rt: Runtime, ds: str) -> dict[str, Any] | None:
    """The result of ``ds`` when an earlier date's run segmented today's features ahead."""
    ref = datasets.CUSTOMER_SEGMENTS.at(ds)
    if not rt.lake.is_committed(datasets.CUSTOMER_FEATURES.at(ds)):
        return None
    claimed = ahead.claim(rt.lake, ref, _features_digest(rt, ds))
    if claimed is None:
        return None
    manifest, builder = claimed
    log.info("segments %s: built ahead by the run of %s from the same features, claimed", ds, builder)
    return {"dt": ds, "customers": int(manifest["rows"]), **manifest["meta"], "built_ahead_by": builder}


def _features_digest(rt: Runtime, ds: str) -> str:
    """What a date's segments are built from: its features' files."""
    return ahead.digest([f["sha256"] for f in rt.lake.manifest(datasets.CUSTOMER_FEATURES.at(ds))["files"]])


add_arguments, run_args, main = date_job(run, __doc__)

if __name__ == "__main__":
    raise SystemExit(main())
