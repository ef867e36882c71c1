"""Export audience: publish a campaign's treatment group to each destination, safely.

Per destination: hashed identifiers in the platform's normalisation and file format, cut to its
row limit, with adds/removes against the previous publication for list-mirroring platforms; then
published through :func:`campaignflow.campaigns.publish.publish` (staged files, a conditional
``manifest.json``, ``_SUCCESS`` last). Control and global-control members are never exported.
"""

from __future__ import annotations

import os
import uuid
from typing import TYPE_CHECKING, Any

import pandas as pd

from campaignflow.io import datasets
from campaignflow.jobcli import campaign_job
from campaignflow.runtime import Runtime

if TYPE_CHECKING:
    from campaignflow.campaigns.destinations import Platform


def run(rt: Runtime, ds: str, campaign: str) -> dict[str, Any]:
    from campaignflow.campaigns.contacts import open_channels
    from campaignflow.campaigns.destinations import export_files, export_rows, platform
    from campaignflow.campaigns.publish import publication_key, publish
    from campaignflow.campaigns.spec import load_named_campaign
    from jobs.snapshot_contacts import contacts_as_of

    spec = load_named_campaign(rt.settings.campaigns_dir, campaign)
    audience_ref = datasets.audience(spec.name).at(ds)
    audience = rt.lake.read_frame(audience_ref)
    stats = rt.lake.manifest(audience_ref)["meta"]["stats"]
    treatment = audience[audience["group"] == "treatment"]
    contacts = open_channels(contacts_as_of(rt, ds))  # a closed channel's identifier never leaves
    run_id = os.environ.get("AIRFLOW_CTX_DAG_RUN_ID") or f"manual__{uuid.uuid4().hex[:12]}"
    exported = []
    for dest in spec.destinations:
        target = platform(dest.type)
        rows = export_rows(treatment, contacts, target, list(dest.identifiers), dest.content)
        previous = previous_rows(rt, dest.name, spec.name, ds, target) if target.mirror else None
        files, counts = export_files(rows, target, list(dest.identifiers), previous)
        meta = {
            "campaign": spec.name,
            "dt": ds,
            "destination": dest.name,
            "type": dest.type,
            "identifiers": list(dest.identifiers),
            "counts": {**counts, "treatment": stats["treatment"], "control": stats["control"]},
            "notes": stats.get("notes", []),
        }
        key = publication_key(dest.name, spec.name, ds)
        result = publish(rt.exports.store, key, files, meta, run_id)
        exported.append(
            {"destination": dest.name, "state": result.state, **counts, "uri": rt.exports.store.full_uri(key)}
        )
    return {"dt": ds, "campaign": spec.name, "exports": exported}


def previous_rows(rt: Runtime, destination: str, campaign: str, ds: str, target: Platform) -> pd.DataFrame | None:
    """The identifier rows of the newest visible publication before ``ds`` (None: the first one)."""
    from campaignflow.campaigns.publish import previous_publication, published

    key = previous_publication(rt.exports.store, destination, campaign, ds)
    found = published(rt.exports.store, key) if key else None
    return None if found is None else target.decode(found[1])


add_arguments, run_args, main = campaign_job(run, __doc__)


if __name__ == "__main__":
    raise SystemExit(main())
