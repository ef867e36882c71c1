"""What a run produced, for people: row counts per stage, model metrics, audiences, export files."""

from __future__ import annotations

from typing import Any

from campaignflow.io.lake import Lake, PartitionNotFound, PartitionRef
from campaignflow.models.churn import MODEL_TABLE, champion_version
from campaignflow.runtime import Runtime

RAW_TABLES = ("orders", "order_lines", "events", "customers", "products")


def summarise(rt: Runtime, ds: str) -> dict[str, Any]:
    """Everything committed for date ``ds``, read from manifests."""
    lake = rt.lake
    out: dict[str, Any] = {"dt": ds, "lake": lake.uri, "raw": {}, "quarantined": []}
    for table in RAW_TABLES:
        out["raw"][table] = _rows(lake, PartitionRef("raw", table, ds))
        # a batch rejected earlier and since fixed stays in quarantine for the record, unreported
        if out["raw"][table] is None and lake.is_committed(PartitionRef("quarantine", f"raw/{table}", ds)):
            out["quarantined"].append(lake.store.full_uri(f"quarantine/raw/{table}/dt={ds}"))
    features = PartitionRef("features", "customer", ds)
    out["features"] = _rows(lake, features)
    out["absent_tables"] = (
        lake.manifest(features)["meta"].get("absent_tables", []) if out["features"] is not None else []
    )
    version = champion_version(lake, ds)
    out["model"] = None
    if version:
        ref = PartitionRef("models", MODEL_TABLE, version)
        manifest = lake.manifest(ref)
        pictures = [
            lake.store.full_uri(f"{ref.key}/{f['name']}") for f in manifest["files"] if f["name"].endswith(".png")
        ]
        out["model"] = {"version": version, "metrics": manifest["meta"]["metrics"], "pictures": pictures}
    out["scores"] = _rows(lake, PartitionRef("scores", "customer", ds))
    out["campaigns"] = []
    for campaign in lake.store.list_dirs("audiences"):
        ref = PartitionRef("audiences", campaign, ds)
        if not lake.is_committed(ref):
            continue
        stats = lake.manifest(ref)["meta"]["stats"]
        exports = []
        for dest in rt.exports.store.list_dirs(""):
            eref = PartitionRef(dest, campaign, ds)
            if rt.exports.is_committed(eref):
                m = rt.exports.manifest(eref)
                exports.append(
                    {
                        "destination": dest,
                        "rows": m["rows"],
                        "files": [rt.exports.store.full_uri(f"{eref.key}/{f['name']}") for f in m["files"]],
                        "manifest": rt.exports.store.full_uri(f"{eref.key}/manifest.json"),
                    }
                )
        out["campaigns"].append({"campaign": campaign, **stats, "exports": exports})
    return out


def print_summary(summary: dict[str, Any]) -> None:
    s = summary
    print(f"\n=== campaignflow: {s['dt']}  (lake: {s['lake']}) ===")
    print("raw rows:      " + ", ".join(f"{t}={n}" if n is not None else f"{t}=absent" for t, n in s["raw"].items()))
    for q in s["quarantined"]:
        print(f"QUARANTINED:   {q}")
    print(
        f"features:      {s['features']} customers"
        + (
            f"  (absent tables: {', '.join(s['absent_tables'])} → their features are null)"
            if s["absent_tables"]
            else ""
        )
    )
    if s["model"]:
        m = s["model"]["metrics"]
        print(
            f"churn model:   {s['model']['version']}  AUC={m.get('auc')} "
            f"(recency-only AUC={m.get('auc_recency_only')}) "
            f"log-loss={m.get('log_loss')} Brier={m.get('brier')} churn-rate={m.get('churn_rate')} "
            f"n_train={m.get('n_train')} n_valid={m.get('n_valid')}"
        )
        for picture in s["model"]["pictures"]:
            print(f"  ROC / calibration / lift: {picture}")
    print(f"scores:        {s['scores']} customers")
    for c in s["campaigns"]:
        excluded = ", ".join(f"{k}={v}" for k, v in c["excluded"].items() if v)
        print(
            f"audience {c['campaign']}: matched={c['matched']} treatment={c['treatment']} control={c['control']}"
            + (f"  excluded: {excluded}" if excluded else "")
        )
        for note in c.get("notes", []):
            print(f"  note: {note}")
        for e in c["exports"]:
            for f in e["files"]:
                print(f"  export {e['destination']}: {e['rows']} rows → {f}")


def _rows(lake: Lake, ref: PartitionRef) -> int | None:
    try:
        return int(lake.manifest(ref)["rows"])
    except PartitionNotFound:
        return None
