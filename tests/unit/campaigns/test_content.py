"""Personalised content: templates checked on load, variants by band, products filled per customer."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from campaignflow.campaigns.content import CONTENT_COLUMNS, recommendations_wide
from campaignflow.campaigns.destinations import export_rows, platform
from campaignflow.campaigns.selection import build_audience
from campaignflow.campaigns.spec import load_campaign
from campaignflow.errors import CampaignSpecError
from tests.unit.campaigns.test_spec_and_selection import scored_and_contacts, spec

CONTENT = {
    "offer": "15% off",
    "variants": [
        {
            "name": "urgent",
            "when": "churn_prob >= 0.8",
            "subject": "{offer} on {rec_1_name}",
            "body": "We kept {rec_1_name} ({rec_1_category}) and {rec_2_name} for you. Your {favourite_category}.",
        },
        {"name": "gentle", "subject": "New in {favourite_category}", "body": "Have a look at {rec_1_name}."},
    ],
}


def recs(customers: list[str]) -> pd.DataFrame:
    rows = [
        {"customer_id": c, "rank": r, "product_id": f"P{r}{c[-1]}", "category": "shoes" if r == 1 else "books"}
        for c in customers
        for r in (1, 2, 3, 4)
    ]
    return pd.DataFrame(rows).assign(score=1.0, favourite_category="shoes")


def test_variants_by_rule_with_each_customers_products() -> None:
    scored, contacts = scored_and_contacts(400)
    campaign = spec(content=CONTENT, destinations=[{"name": "email", "content": True}])
    wide = recommendations_wide(recs(scored["customer_id"].tolist()))
    audience, stats = build_audience(campaign, scored, contacts, wide)
    assert set(CONTENT_COLUMNS) <= set(audience.columns) and not stats.notes
    merged = audience.merge(scored, on="customer_id")
    urgent = merged[merged["churn_prob_x"] >= 0.8]
    assert len(urgent) > 10 and (urgent["variant"] == "urgent").all()
    assert (merged.loc[merged["churn_prob_x"] < 0.8, "variant"] == "gentle").all()
    row = urgent.iloc[0]
    last = row["customer_id"][-1]
    assert row["subject"] == f"15% off on P1{last}"
    assert row["body"] == f"We kept P1{last} (shoes) and P2{last} for you. Your shoes."
    assert row["rec_3_id"] == f"P3{last}" and "rec_4_id" not in audience.columns  # the top 3 only

    treatment = audience[audience["group"] == "treatment"]
    rows = export_rows(treatment, contacts, platform("email_csv"), ["email_sha256"], with_content=True)
    assert {"email_sha256", "variant", "subject", "rec_1_id"} <= set(rows.columns)
    assert "customer_id" not in rows.columns and not rows["subject"].str.contains("@").any()  # no PII
    plain = export_rows(treatment, contacts, platform("email_csv"), ["email_sha256"])
    assert list(plain.columns) == ["email_sha256"]


def test_without_recommendations_the_product_placeholders_are_empty_and_noted() -> None:
    scored, contacts = scored_and_contacts(200)
    audience, stats = build_audience(spec(content=CONTENT), scored, contacts, None)
    assert audience["variant"].notna().all() and audience["rec_1_id"].isna().all()
    assert any("no recommendations" in n for n in stats.notes)


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("{first_name}", "unknown placeholder(s) ['first_name']"),
        ("{rec_1_name.upper}", "unknown placeholder(s) ['rec_1_name.upper']"),
        ("{email}", "unknown placeholder(s) ['email']"),
        ("{rec_1_name", "not a valid template"),
    ],
)
def test_templates_are_checked_on_load(tmp_path: Path, template: str, expected: str) -> None:
    import yaml

    bad = {**CONTENT, "variants": [{**CONTENT["variants"][1], "body": template}]}  # type: ignore[dict-item]
    data = {
        "name": "promo",
        "owner": "crm",
        "audience": {"rule": "churn_prob >= 0.5"},
        "destinations": [{"name": "email", "content": True}],
        "content": bad,
    }
    path = tmp_path / "promo.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(CampaignSpecError) as err:
        load_campaign(path)
    assert str(path) in str(err.value) and "content.variants.0.body" in str(err.value) and expected in str(err.value)


def test_content_destination_needs_content_and_when_needs_a_known_column(tmp_path: Path) -> None:
    import yaml

    data = {
        "name": "promo",
        "owner": "crm",
        "audience": {"rule": "churn_prob >= 0.5"},
        "destinations": [{"name": "email", "content": True}],
    }
    path = tmp_path / "promo.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(CampaignSpecError, match=r"destinations\.0\.content: the campaign has no content block"):
        load_campaign(path)
    variants = [{"name": "a", "when": "mood == 'x'", "subject": "s", "body": "b"}]
    path.write_text(yaml.safe_dump({**data, "content": {"variants": variants}}))
    with pytest.raises(CampaignSpecError, match=r"content\.variants\.0\.when: unknown column .mood."):
        load_campaign(path)
