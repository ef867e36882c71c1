"""Build segments as of D: RFM scores and tier, and a k-means cluster (segments/customer/dt=D).

The k-means model of D's period (``CAMPAIGNFLOW_SEGMENT_PERIOD_DAYS``, 28 by default, counted from
1980-01-01) is stored at ``models/segments_kmeans/dt=<period start>``: the first date of a period
that runs fits it (MLlib, seeded) on its own features, every other date of the period applies it.
Re-running or backfilling a date applies the stored model, so the same date gives the same clusters.
The DAG runs this task in date order (``depends_on_past``): two dates of a period segmented side by
side would both fit a model, and which one is stored would depend on timing.

In a backfill (``ahead`` > 0) the run also segments the following dates whose features are
committed (built ahead by ``build_features``), in one Spark job, up to the first date whose period
has no stored model yet (its own run fits it). They are marked as built ahead with a digest of their
features and model; each date's own run claims them (:mod:`campaignflow.io.ahead`), so the lake ends
as when every date segments itself.
"""

from __future__ import annotations

import json
import logging
from itertools import groupby, takewhile
from typing import TYPE_CHECKING, Any

from campaignflow.errors import MissingPartition
from campaignflow.io import ahead, datasets
from campaignflow.io.lake import PartitionRef
from campaignflow.jobcli import date_job
from campaignflow.runtime import Runtime

if TYPE_CHECKING:
    from campaignflow.features.segments import KMeansSegments

log = logging.getLogger(__name__)


def run(rt: Runtime, ds: str, ahead: int = 0) -> dict[str, Any]:
    """Segments as of ``ds`` (claimed when built ahead from the same inputs), and up to ``ahead``
    following dates whose features are committed and whose period's model is stored."""
    if not rt.lake.is_committed(datasets.CUSTOMER_FEATURES.at(ds)):
        raise MissingPartition(f"no committed features for {ds}: run build_features first")
    result = claim(rt, ds) or build(rt, ds)
    return {**result, "built_ahead": build_ahead(rt, ds, ahead)}


def build(rt: Runtime, ds: str) -> dict[str, Any]:
    """Segment ``ds`` with its period's model, fitting it first when none is stored."""
    from campaignflow.features.segments import fit_kmeans
    from campaignflow.io.spark import read_dates

    model_ref = _model_ref(rt, ds)
    model, fitted = _stored_model(rt, model_ref), False
    if model is None:
        features = read_dates(rt.lake, datasets.CUSTOMER_FEATURES, [ds])
        assert features is not None
        try:
            model = fit_kmeans(features.drop("dt"), ds, seed=rt.settings.seed)
        except ValueError:  # too few buyers yet: RFM only; the first date of the period that can fits it
            model = None
        if model is not None:
            body = json.dumps(model.to_dict(), indent=2, sort_keys=True).encode()
            rt.lake.write_files(model_ref, {"model.json": body}, model.customers, {"fitted_on": ds})
            fitted = True
    (result,) = segment_dates(rt, [ds], model_ref if model else None, model)
    return {**result, "kmeans_fitted_now": fitted}


def segment_dates(
    rt: Runtime, dates: list[str], model_ref: PartitionRef | None, model: KMeansSegments | None, by: str | None = None
) -> list[dict[str, Any]]:
    """Segments of ``dates`` (committed features, one period's ``model``) in one Spark job, each
    date committed with its tier counts; marked as built ahead by ``by`` (None: not ahead)."""
    from campaignflow.features.segments import segments
    from campaignflow.io.spark import read_dates, stage_partitions

    lake = rt.lake
    features = read_dates(lake, datasets.CUSTOMER_FEATURES, dates)
    assert features is not None
    batch, staged = stage_partitions(lake, datasets.CUSTOMER_SEGMENTS, segments(features, model), dates)
    results = []
    try:
        for dt in dates:
            source, rows = staged[dt]
            tiers = lake.read_staged(source)["rfm_tier"].value_counts()
            meta = {
                "model": model_ref.key if model_ref else None,
                "fitted_on": model.fitted_on if model else None,
                "tiers": {str(k): int(v) for k, v in tiers.items()},
            }
            mark = inputs_digest(rt, dt) if by else ""
            lake.commit(datasets.CUSTOMER_SEGMENTS.at(dt), source, rows, ahead.marked(meta, by, mark))
            results.append({"dt": dt, "customers": rows, **meta, "kmeans_fitted_now": False})
    finally:
        lake.store.delete_prefix(batch)
    return results


def build_ahead(rt: Runtime, ds: str, limit: int) -> list[str]:
    """Segment the following dates with committed features and no segments yet, a period at a time,
    up to the first period without a stored model; the dates built."""
    lake = rt.lake
    following = ahead.following_days(ds, limit)

    def ready(day: str) -> bool:
        return lake.is_committed(datasets.CUSTOMER_FEATURES.at(day)) and not lake.is_committed(
            datasets.CUSTOMER_SEGMENTS.at(day)
        )

    built: list[str] = []
    for model_ref, period in groupby(takewhile(ready, following), key=lambda day: _model_ref(rt, day)):
        model = _stored_model(rt, model_ref)
        if model is None:  # the period's first date fits its model in its own run
            break
        built += [r["dt"] for r in segment_dates(rt, list(period), model_ref, model, by=ds)]
    if built:
        log.info("segmented %d date(s) ahead of %s: %s … %s", len(built), ds, built[0], built[-1])
    return built


def claim(rt: Runtime, ds: str) -> dict[str, Any] | None:
    """The result of ``ds`` when an earlier date's run segmented it ahead from these very features
    and model (claimed: the mark removed, the data kept); None when ``ds`` must be segmented."""
    claimed = ahead.claim(rt.lake, datasets.CUSTOMER_SEGMENTS.at(ds), lambda: inputs_digest(rt, ds))
    if claimed is None:
        return None
    manifest, builder = claimed
    log.info("segments %s: built ahead by the run of %s from the same features and model, claimed", ds, builder)
    meta = manifest["meta"]
    return {"dt": ds, "customers": int(manifest["rows"]), **meta, "kmeans_fitted_now": False, "built_ahead_by": builder}


def inputs_digest(rt: Runtime, ds: str) -> str:
    """What ``ds``'s segments are built from: its features' files and its period's stored model."""
    lake, model_ref = rt.lake, _model_ref(rt, ds)
    model = lake.manifest(model_ref)["files"] if lake.is_committed(model_ref) else None
    return ahead.digest({"features": lake.manifest(datasets.CUSTOMER_FEATURES.at(ds))["files"], "model": model})


def _model_ref(rt: Runtime, ds: str) -> PartitionRef:
    from campaignflow.features.segments import period_start

    return datasets.SEGMENT_MODELS.at(period_start(ds, rt.settings.segment_period_days))


def _stored_model(rt: Runtime, model_ref: PartitionRef) -> KMeansSegments | None:
    from campaignflow.features.segments import KMeansSegments

    if not rt.lake.is_committed(model_ref):
        return None
    return KMeansSegments.from_dict(json.loads(rt.lake.store.read_bytes(rt.lake.data_keys(model_ref)[0])))


add_arguments, run_args, main = date_job(run, __doc__)

if __name__ == "__main__":
    raise SystemExit(main())
