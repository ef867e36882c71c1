"""Export audience: publish a campaign's treatment group, hashed, to each destination with a manifest."""

from __future__ import annotations

from typing import Any

from campaignflow.io import datasets
from campaignflow.jobcli import campaign_job
from campaignflow.runtime import Runtime


def run(rt: Runtime, ds: str, campaign: str) -> dict[str, Any]:
    from campaignflow.campaigns.destinations import export_rows, to_csv_bytes
    from campaignflow.campaigns.spec import load_named_campaign
    from jobs.snapshot_contacts import contacts_as_of

    spec = load_named_campaign(rt.settings.campaigns_dir, campaign)
    audience_ref = datasets.audience(spec.name).at(ds)
    audience = rt.lake.read_frame(audience_ref)
    stats = rt.lake.manifest(audience_ref)["meta"]["stats"]
    treatment = audience[audience["group"] == "treatment"]
    contacts = contacts_as_of(rt, ds)
    exported = []
    for dest in spec.destinations:
        rows = export_rows(treatment, contacts, dest)
        ref = datasets.export(dest.name, spec.name).at(ds)
        rt.exports.write_files(
            ref,
            {"audience.csv": to_csv_bytes(rows)},
            len(rows),
            {
                "campaign": spec.name,
                "destination": dest.name,
                "format": dest.format,
                "identifiers": list(dest.identifiers),
                "treatment": stats["treatment"],
                "control": stats["control"],
                "notes": stats.get("notes", []),
            },
        )
        exported.append(
            {"destination": dest.name, "rows": len(rows), "uri": rt.exports.store.full_uri(f"{ref.key}/audience.csv")}
        )
    return {"dt": ds, "campaign": spec.name, "exports": exported}


add_arguments, run_args, main = campaign_job(run, __doc__)


if __name__ == "__main__":
    raise SystemExit(main())
