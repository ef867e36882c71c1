"""The audience report: one PNG per campaign and date, written beside the audience (``_report.png``).

Panels: the funnel (matched → exclusions → consent → contactable → cap → global control → budget →
control/treatment), size by RFM segment and by churn band, treatment/control balance on key
features (standardised mean differences) and overlap with the other campaigns' rules. The title
carries the expected churners in the selection (the sum of churn probabilities).
"""

from __future__ import annotations

from campaignflow.campaigns.selection import AudienceStats


def audience_report_png(stats: AudienceStats, ds: str) -> bytes:
    from campaignflow.figures import png, pyplot

    plt = pyplot()

    fig, axes = plt.subplots(1, 4, figsize=(20, 4.8))
    fig.suptitle(
        f"{stats.campaign} on {ds}: {stats.treatment} treatment, {stats.control} control, "
        f"{stats.global_control} global control — expected churners {stats.expected_churners:.0f}"
    )
    steps = stats.funnel()
    ax = axes[0]
    ax.barh([s for s, _ in steps][::-1], [n for _, n in steps][::-1], color="#4c72b0")
    ax.set(title="funnel (customers left)")
    ax.tick_params(axis="y", labelsize=7)

    ax = axes[1]
    segments = sorted(stats.by_segment.items(), key=lambda kv: -kv[1])
    bands = sorted(stats.by_band.items())
    labels = [f"segment {k}" for k, _ in segments] + [f"band {k}" for k, _ in bands]
    ax.barh(labels[::-1], [v for _, v in [*segments, *bands]][::-1], color="#55a868")
    ax.set(title="selection by segment and churn band")
    ax.tick_params(axis="y", labelsize=7)

    ax = axes[2]
    balance = [(k, v["smd"]) for k, v in stats.balance.items() if v.get("smd") is not None]
    ax.barh([k for k, _ in balance], [float(v) for _, v in balance], color="#c44e52")  # type: ignore[arg-type]
    for edge in (-0.1, 0.1):
        ax.axvline(edge, ls="--", c="grey", lw=0.8)
    ax.set(title="treatment vs control (standardised mean difference)", xlim=(-0.5, 0.5))

    ax = axes[3]
    overlap = sorted(stats.overlap.items())
    ax.bar([k for k, _ in overlap], [v for _, v in overlap], color="#8172b2")
    ax.set(title=f"rule overlap with other campaigns (of {stats.matched} matched)")
    ax.tick_params(axis="x", labelrotation=30, labelsize=7)

    fig.tight_layout()
    return png(fig)
