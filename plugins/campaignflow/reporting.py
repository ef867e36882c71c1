"""What a run produced, for people: row counts per stage, model metrics, audiences, export files.

:func:`missing_outputs` is the contract behind ``campaignflow run`` and ``summary``: a date is done
only when every partition the daily pipeline must commit for it is committed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from campaignflow.campaigns.publish import is_published, publication_key, read_manifest
from campaignflow.campaigns.spec import CampaignSpec, load_campaigns
from campaignflow.errors import MissingPartition
from campaignflow.io import datasets
from campaignflow.io.lake import Lake, PartitionRef
from campaignflow.models.registry import champion, no_model_yet
from campaignflow.runtime import Runtime


@dataclass(frozen=True)
class Expected:
    """A partition the daily pipeline must commit for a date."""

    stage: str
    lake: Lake
    ref: PartitionRef
    publication: bool = False  # a destination's publication (visible when _SUCCESS matches its manifest)

    @property
    def uri(self) -> str:
        return self.lake.store.full_uri(self.ref.key)


def expected_outputs(rt: Runtime, ds: str) -> list[Expected]:
    """Every partition one daily run for ``ds`` commits (active campaigns and their destinations; no
    scores or campaigns while a young shop has no churn model)."""
    out = [Expected("validate_raw", rt.lake, datasets.raw(t).at(ds)) for t in datasets.REQUIRED_RAW_TABLES]
    out += [
        Expected("build_features", rt.lake, datasets.CUSTOMER_FEATURES.at(ds)),
        Expected("build_segments", rt.lake, datasets.CUSTOMER_SEGMENTS.at(ds)),
        Expected("snapshot_contacts", rt.lake, datasets.CONTACTS.at(ds)),
    ]
    if no_model_yet(rt.lake, ds):
        return out
    out.append(Expected("score_customers", rt.lake, datasets.CUSTOMER_SCORES.at(ds)))
    for spec in running_campaigns(rt, ds):
        out.append(Expected(f"build_audiences[{spec.name}]", rt.lake, datasets.audience(spec.name).at(ds)))
        for dest in spec.destinations:
            ref = datasets.export(dest.name, spec.name).at(ds)
            out.append(Expected(f"export_audience[{spec.name}]", rt.exports, ref, publication=True))
    return out


def running_campaigns(rt: Runtime, ds: str) -> list[CampaignSpec]:
    """The active campaigns whose schedule includes ``ds``."""
    day = date.fromisoformat(ds)
    return [s for s in load_campaigns(rt.settings.campaigns_dir) if s.schedule.runs_on(day)]


def missing_outputs(rt: Runtime, ds: str) -> list[Expected]:
    """The expected partitions of ``ds`` that are not committed (publications: not visible)."""
    return [e for e in expected_outputs(rt, ds) if not _done(e)]


def _done(expected: Expected) -> bool:
    if expected.publication:
        return is_published(expected.lake.store, expected.ref.key)
    return expected.lake.is_committed(expected.ref)


def summarise(rt: Runtime, ds: str) -> dict[str, Any]:
    """Everything committed for date ``ds``, read from manifests; ``missing`` lists what is not."""
    lake = rt.lake
    out: dict[str, Any] = {"dt": ds, "lake": lake.uri, "raw": {}, "quarantined": []}
    out["columns_changed"] = {}
    for table in datasets.RAW_TABLES:
        out["raw"][table] = _rows(lake, datasets.raw(table).at(ds))
        if out["raw"][table] is not None and (
            changed := lake.manifest(datasets.raw(table).at(ds))["meta"].get("columns")
        ):
            out["columns_changed"][table] = changed
        # a batch rejected earlier and since fixed stays in quarantine for the record, unreported
        quarantine = datasets.raw_quarantine(table).at(ds)
        if out["raw"][table] is None and lake.is_committed(quarantine):
            out["quarantined"].append(lake.store.full_uri(quarantine.key))
    if lake.is_committed(datasets.LANDING_QUARANTINE.at(ds)) and out["raw"]["orders"] is None:
        out["quarantined"].append(lake.store.full_uri(datasets.LANDING_QUARANTINE.at(ds).key))
    features = datasets.CUSTOMER_FEATURES.at(ds)
    out["features"] = _rows(lake, features)
    meta = lake.manifest(features)["meta"] if out["features"] is not None else {}
    out["absent_tables"] = meta.get("absent_tables", [])
    out["features_mode"] = f"{meta['mode']}: {meta['reason']}" if "mode" in meta else None
    out["features_flagged"] = meta.get("warnings", [])
    segments = datasets.CUSTOMER_SEGMENTS.at(ds)
    out["segments"] = lake.manifest(segments)["meta"].get("tiers") if lake.is_committed(segments) else None
    pointer = champion(lake, ds)
    out["model"], out["no_model_yet"] = None, None if pointer else no_model_yet(lake, ds)
    if pointer:
        ref = datasets.model(pointer.name).at(pointer.version)
        manifest = lake.manifest(ref)
        pictures = [
            lake.store.full_uri(f"{ref.key}/{f['name']}") for f in manifest["files"] if f["name"].endswith(".png")
        ]
        out["model"] = {
            "champion": pointer.label(),
            "since": pointer.since,
            "reason": pointer.reason,
            "metrics": manifest["meta"]["metrics"],
            "pictures": pictures,
        }
    out["scores"] = _rows(lake, datasets.CUSTOMER_SCORES.at(ds))
    out["recommendations"] = recommendations_summary(rt, ds)
    out["campaigns"] = []
    for spec in running_campaigns(rt, ds):
        ref = datasets.audience(spec.name).at(ds)
        if not lake.is_committed(ref):
            continue
        stats = lake.manifest(ref)["meta"]["stats"]
        exports = []
        for dest in spec.destinations:
            key = publication_key(dest.name, spec.name, ds)
            m = read_manifest(rt.exports.store, key)
            if m is not None and is_published(rt.exports.store, key, m):
                exports.append(
                    {
                        "destination": dest.name,
                        "type": m["type"],
                        "rows": m["counts"]["rows"],
                        "uri": rt.exports.store.full_uri(key),
                        "files": [rt.exports.store.full_uri(f"{key}/{f['path']}") for f in m["files"]],
                    }
                )
        report = lake.store.full_uri(f"{ref.key}/_report.png")
        out["campaigns"].append({"campaign": spec.name, **stats, "report": report, "exports": exports})
    out["missing"] = [f"{e.stage}: {e.uri}" for e in missing_outputs(rt, ds)]
    return out


def format_summary(summary: dict[str, Any]) -> str:
    """The summary as the lines a person reads after a run."""
    s = summary
    lines = [f"=== campaignflow: {s['dt']}  (lake: {s['lake']}) ==="]
    lines.append(
        "raw rows:      " + ", ".join(f"{t}={n}" if n is not None else f"{t}=absent" for t, n in s["raw"].items())
    )
    lines += [f"QUARANTINED:   {q}" for q in s["quarantined"]]
    for table, changed in s.get("columns_changed", {}).items():
        said = "; ".join(f"{kind}: {', '.join(cols)}" for kind, cols in changed.items())
        lines.append(f"  columns:     {table}.csv changed ({said}); ignored columns are not read, absent ones are null")
    if s["features"] is not None:
        absent = s["absent_tables"]
        note = f"  (absent tables: {', '.join(absent)} → their features are null)" if absent else ""
        lines.append(f"features:      {s['features']} customers{note}")
        if s.get("features_mode"):
            lines.append(f"  built:       {s['features_mode']}")
        for w in s.get("features_flagged", []):
            count = f"{w['unexpected_count']} customer(s): " if w.get("unexpected_count") else ""
            lines.append(f"  flagged:     {count}{w['column']} {w['rule']} (unusual, kept)")
    if s.get("segments"):
        tiers = sorted(s["segments"].items(), key=lambda kv: -kv[1])
        lines.append("segments:      " + ", ".join(f"{tier}={n}" for tier, n in tiers))
    if s["model"]:
        m = s["model"]["metrics"]
        t, base = m.get("test", {}), m.get("baselines_test_auc", {})
        windows = m.get("windows", {})
        lines.append(
            f"churn model:   {s['model']['champion']} (champion since {s['model']['since']})  test AUC={t.get('auc')} "
            f"PR-AUC={t.get('pr_auc')} ECE={t.get('ece')} log-loss={t.get('log_loss')} lift@10%={t.get('lift_at_10')} "
            f"churn-rate={t.get('churn_rate')}"
        )
        lines.append("  baselines:   " + ", ".join(f"{k} AUC={v}" for k, v in base.items()))
        lines.append("  windows:     " + ", ".join(f"{k}={v.get('rows')}" for k, v in windows.items()))
        lines.append(f"  why:         {s['model']['reason']}")
        lines += [f"  ROC / reliability / gain / importance: {picture}" for picture in s["model"]["pictures"]]
    if s.get("no_model_yet"):
        lines.append(f"churn model:   none yet, so no scores or campaigns: {s['no_model_yet']}")
    if s["scores"] is not None:
        lines.append(f"scores:        {s['scores']} customers")
    r = s.get("recommendations")
    if r and r.get("rows") is not None:
        t = r["test"]
        lines.append(
            f"recommended:   top {r['k']} for {r['customers']} customers by {r['champion']}  "
            f"recall@10={t.get('recall@10')} NDCG@10={t.get('ndcg@10')} coverage@10={t.get('coverage@10')}"
        )
        lines.append("  baselines:   " + ", ".join(f"{k} NDCG@10={v}" for k, v in r["baselines_ndcg"].items()))
        lines += [f"  recall@k vs baselines: {picture}" for picture in r["pictures"]]
    elif r:
        lines.append(f"recommended:   none ({r['why']})")
    for c in s["campaigns"]:
        excluded = ", ".join(f"{k}={v}" for k, v in c["excluded"].items() if v)
        lines.append(
            f"audience {c['campaign']}: matched={c['matched']} treatment={c['treatment']} control={c['control']}"
            + (f"  excluded: {excluded}" if excluded else "")
        )
        lines += [f"  note: {note}" for note in c.get("notes", [])]
        lines.append(f"  report: {c['report']}")
        if c["exports"]:
            where = c["exports"][0]["uri"].replace(f"/{c['exports'][0]['destination']}/", "/<destination>/")
            done = ", ".join(f"{e['destination']}={e['rows']}" for e in c["exports"])
            lines.append(f"  published:   {done} rows → {where}")
    lines += [f"MISSING:       {m}" for m in s["missing"]]
    return "\n".join(lines)


def recommendations_summary(rt: Runtime, ds: str) -> dict[str, Any]:
    """The serving recommender's test metrics and the date's recommendations (or why there are none)."""
    lake = rt.lake
    pointer = champion(lake, ds, "recommender")
    if pointer is None:
        return {"rows": None, "why": "no recommender trained yet; it needs order lines with product ids"}
    ref = datasets.model(pointer.name).at(pointer.version)
    manifest = lake.manifest(ref)
    metrics = manifest["meta"].get("metrics", {})
    recs = datasets.RECOMMENDATIONS.at(ds)
    if not lake.is_committed(recs):
        return {"rows": None, "why": f"recommend-products has not run for {ds}"}
    recs_manifest = lake.manifest(recs)
    meta, rows = recs_manifest["meta"], int(recs_manifest["rows"])
    return {
        "champion": pointer.label(),
        "rows": rows,
        "k": meta.get("k"),
        "customers": rows // max(int(meta.get("k") or 1), 1),
        "test": metrics.get("test", {}),
        "baselines_ndcg": {k: v.get("ndcg@10") for k, v in metrics.get("baselines", {}).items()},
        "pictures": [
            lake.store.full_uri(f"{ref.key}/{f['name']}") for f in manifest["files"] if f["name"].endswith(".png")
        ],
    }


def _rows(lake: Lake, ref: PartitionRef) -> int | None:
    try:
        return int(lake.manifest(ref)["rows"])
    except MissingPartition:
        return None
