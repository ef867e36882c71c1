"""Build audience: apply one campaign's rule, consent and control split to D's scores.

A campaign with ``content`` gets each member's message variant, rendered subject and body, and top
recommended products from ``recommendations/customer/dt=D``.
"""

from __future__ import annotations

from typing import Any

from campaignflow.io import datasets
from campaignflow.jobcli import campaign_job
from campaignflow.runtime import Runtime


def run(rt: Runtime, ds: str, campaign: str) -> dict[str, Any]:
    from campaignflow.campaigns.selection import build_audience
    from campaignflow.campaigns.spec import load_named_campaign
    from jobs.snapshot_contacts import contacts_as_of

    spec = load_named_campaign(rt.settings.campaigns_dir, campaign)
    scores = rt.lake.read_frame(datasets.CUSTOMER_SCORES.at(ds))
    features = rt.lake.read_frame(datasets.CUSTOMER_FEATURES.at(ds))
    scored = scores.merge(features, on="customer_id", how="left")
    recs = None
    if spec.content is not None and rt.lake.is_committed(datasets.RECOMMENDATIONS.at(ds)):
        from campaignflow.campaigns.content import recommendations_wide

        recs = recommendations_wide(rt.lake.read_frame(datasets.RECOMMENDATIONS.at(ds)))
    audience, stats = build_audience(spec, scored, contacts_as_of(rt, ds), recs)
    rt.lake.write_frame(
        datasets.audience(spec.name).at(ds),
        audience,
        {
            "campaign": spec.name,
            "stats": stats.to_dict(),
            "model_version": scores["model_version"].iloc[0] if len(scores) else None,
        },
    )
    return {"dt": ds, "campaign": spec.name, **stats.to_dict()}


add_arguments, run_args, main = campaign_job(run, __doc__)


if __name__ == "__main__":
    raise SystemExit(main())
