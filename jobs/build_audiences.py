"""Build audiences: plan every campaign running on D, in priority order, from D's scores.

Each campaign gets ``audiences/<campaign>/dt=D`` (treatment, control and global-control rows; the
funnel, segment sizes, balance and overlaps in the manifest; ``_report.png`` beside it). Frequency
caps read earlier days' *published* treatment groups; ``exclude.campaigns`` reads earlier days'
audiences. A campaign matching nobody gets an empty audience and a "0 customers matched" note.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

import pandas as pd

from campaignflow.io import datasets
from campaignflow.jobcli import date_job
from campaignflow.runtime import Runtime

if TYPE_CHECKING:
    from campaignflow.campaigns.spec import CampaignSpec


def run(rt: Runtime, ds: str) -> dict[str, Any]:
    from campaignflow.campaigns.report import audience_report_png
    from campaignflow.campaigns.selection import DayInputs, plan_audiences
    from campaignflow.campaigns.spec import load_campaigns
    from campaignflow.campaigns.suppression import lists_as_of
    from jobs.snapshot_contacts import contacts_as_of

    every = load_campaigns(rt.settings.campaigns_dir, active_only=False)
    specs = [s for s in every if s.active and s.schedule.runs_on(date.fromisoformat(ds))]
    scores = rt.lake.read_frame(datasets.CUSTOMER_SCORES.at(ds))
    features = rt.lake.read_frame(datasets.CUSTOMER_FEATURES.at(ds))
    scored = scores.merge(features, on="customer_id", how="left")
    cap_days = max([s.frequency_cap_days for s in specs], default=0)
    exclusion_days = max([s.exclude.campaign_days for s in specs if s.exclude.campaigns], default=0)
    inputs = DayInputs(
        contacts=contacts_as_of(rt, ds),
        contacted=audience_history(rt, every, ds, cap_days, published_treatment=True),
        assigned=audience_history(
            rt, [s for s in every if any(s.name in x.exclude.campaigns for x in specs)], ds, exclusion_days
        ),
        suppression=lists_as_of(rt.lake, ds),
        recommendations=_recommendations(rt, ds) if any(s.content for s in specs) else None,
        global_control_fraction=rt.settings.global_control_fraction,
    )
    plans = plan_audiences(specs, scored, inputs, ds)
    model_version = scores["model_version"].iloc[0] if len(scores) else None
    for name, (audience, stats) in plans.items():
        meta = {"campaign": name, "stats": stats.to_dict(), "model_version": model_version}
        report = {"_report.png": audience_report_png(stats, ds)}
        rt.lake.write_frame(datasets.audience(name).at(ds), audience, meta, control=report)
    return {
        "dt": ds,
        "campaigns": list(plans),
        "not_today": sorted(s.name for s in every if s.active and s not in specs),
        "audiences": {n: {"treatment": st.treatment, "control": st.control} for n, (_, st) in plans.items()},
    }


def audience_history(
    rt: Runtime, campaigns: list[CampaignSpec], ds: str, days: int, published_treatment: bool = False
) -> pd.DataFrame | None:
    """(customer_id, campaign, dt) of ``campaigns``' audiences in [D - days, D - 1].

    With ``published_treatment``, only treatment rows of days whose audience reached at least one
    destination (what a frequency cap counts as contacted).
    """
    from campaignflow.campaigns.publish import is_published, publication_key

    if days <= 0 or not campaigns:
        return None
    start = (date.fromisoformat(ds) - timedelta(days=days)).isoformat()
    end = (date.fromisoformat(ds) - timedelta(days=1)).isoformat()
    frames = []
    for spec in campaigns:
        name = spec.name
        dates = rt.lake.committed_dates(datasets.audience(name), start, end)
        if published_treatment and dates:
            destinations = [d.name for d in spec.destinations]
            store = rt.exports.store
            dates = [d for d in dates if any(is_published(store, publication_key(x, name, d)) for x in destinations)]
        history = rt.lake.read_dates(datasets.audience(name), dates, ["customer_id", "group"])
        if history is None:
            continue
        wanted = ["treatment"] if published_treatment else ["treatment", "control"]
        frames.append(history[history["group"].isin(wanted)].assign(campaign=name))
    return pd.concat(frames, ignore_index=True)[["customer_id", "campaign", "dt"]] if frames else None


def _recommendations(rt: Runtime, ds: str) -> pd.DataFrame | None:
    from campaignflow.campaigns.content import recommendations_wide

    if not rt.lake.is_committed(datasets.RECOMMENDATIONS.at(ds)):
        return None
    return recommendations_wide(rt.lake.read_frame(datasets.RECOMMENDATIONS.at(ds)))


add_arguments, run_args, main = date_job(run, __doc__)


if __name__ == "__main__":
    raise SystemExit(main())
