from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from campaignflow.campaigns.contacts import latest_contacts
from campaignflow.campaigns.selection import build_audience
from campaignflow.campaigns.spec import CampaignSpec, load_campaign, load_campaigns
from campaignflow.errors import CampaignSpecError
from tests.conftest import ROOT


def spec(**over: object) -> CampaignSpec:
    base: dict[str, object] = {
        "name": "winback",
        "owner": "crm",
        "audience": {"rule": "churn_prob >= 0.5"},
        "control": {"fraction": 0.2},
        "destinations": [{"name": "csv", "identifiers": ["email_sha256"]}],
    }
    base.update(over)
    return CampaignSpec.model_validate(base)


def scored_and_contacts(n: int = 2000) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(0)
    ids = [f"C{i:05d}" for i in range(n)]
    scored = pd.DataFrame({"customer_id": ids, "churn_prob": rng.random(n), "orders_total": rng.integers(0, 5, n)})
    contacts = pd.DataFrame(
        {
            "customer_id": ids,
            "email": [f" User{i}@Example.com" if i % 10 else None for i in range(n)],
            "phone": None,
            "country": "US",
            "marketing_consent": rng.random(n) < 0.7,
            "unsubscribed": rng.random(n) < 0.1,
        }
    )
    return scored, contacts


def test_shipped_campaigns_are_valid() -> None:
    names = [s.name for s in load_campaigns(ROOT / "campaigns")]
    assert "winback" in names


def test_bad_spec_names_file_and_field(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("name: Bad Name\nowner: x\naudience: {rule: 'churn_prob => 1'}\ndestinations: []\n")
    with pytest.raises(CampaignSpecError) as err:
        load_campaign(path)
    text = str(err.value)
    assert str(path) in text
    assert "name:" in text and "destinations" in text


def test_file_name_must_match_campaign_name(tmp_path: Path) -> None:
    (tmp_path / "other.yaml").write_text((ROOT / "campaigns" / "winback.yaml").read_text())
    with pytest.raises(CampaignSpecError, match="must match the file name"):
        load_campaigns(tmp_path)


def test_audience_respects_rule_consent_and_unsubscribe() -> None:
    scored, contacts = scored_and_contacts()
    audience, stats = build_audience(spec(), scored, contacts)
    chosen = contacts.set_index("customer_id").loc[audience["customer_id"]]
    assert chosen["marketing_consent"].all()
    assert not chosen["unsubscribed"].any()
    assert chosen["email"].notna().all()
    assert (scored.set_index("customer_id").loc[audience["customer_id"], "churn_prob"] >= 0.5).all()
    # the funnel adds up
    assert stats.matched == (scored["churn_prob"] >= 0.5).sum()
    assert stats.matched == sum(stats.excluded.values()) + stats.treatment + stats.control


def test_control_split_is_deterministic_and_near_fraction() -> None:
    scored, contacts = scored_and_contacts()
    a, _ = build_audience(spec(), scored, contacts)
    b, _ = build_audience(spec(), scored.sample(frac=1, random_state=1), contacts)
    pd.testing.assert_frame_equal(a, b)
    share = (a["group"] == "control").mean()
    assert 0.15 < share < 0.25
    # a customer's group does not depend on who else is in the audience
    smaller, _ = build_audience(spec(), scored.iloc[:500], contacts)
    merged = smaller.merge(a, on="customer_id", suffixes=("_small", "_all"))
    assert (merged["group_small"] == merged["group_all"]).all() and len(merged) == len(smaller)


def test_cap_keeps_highest_priority() -> None:
    scored, contacts = scored_and_contacts()
    audience, stats = build_audience(
        spec(audience={"rule": "churn_prob >= 0.0"}, budget={"max_size": 50}), scored, contacts
    )
    assert len(audience) == 50 and stats.capped > 0
    assert audience["churn_prob"].is_monotonic_decreasing


def test_a_rule_column_missing_from_the_data_is_clear() -> None:
    from campaignflow.campaigns.expression import ExpressionError

    scored, contacts = scored_and_contacts(10)
    with pytest.raises(ExpressionError, match=r"column\(s\) \['monetary_365d'\] are not in the data"):
        build_audience(spec(audience={"rule": "monetary_365d > 1"}), scored, contacts)


def test_no_customer_file_means_nobody_contactable() -> None:
    scored, _ = scored_and_contacts(100)
    audience, stats = build_audience(spec(), scored, None)
    assert audience.empty and stats.excluded["no_customer_file"] == stats.matched > 0
    assert stats.notes


def test_latest_contact_wins() -> None:
    log = pd.DataFrame(
        {
            "customer_id": ["a", "a", "b"],
            "email": ["x@y.com", "x@y.com", "b@y.com"],
            "phone": None,
            "country": "US",
            "marketing_consent": [True, True, True],
            "unsubscribed": [False, True, False],
            "dt": ["2024-01-01", "2024-01-05", "2024-01-02"],
            "_row": [2, 2, 3],
        }
    )
    latest = latest_contacts(log).set_index("customer_id")
    assert bool(latest.loc["a", "unsubscribed"]) is True


def write_spec(folder: Path, file: str, **over: object) -> Path:
    import yaml

    base: dict[str, object] = {
        "name": Path(file).stem,
        "owner": "crm",
        "audience": {"rule": "churn_prob >= 0.5"},
        "destinations": [{"name": "csv"}],
    }
    base.update(over)
    path = folder / file
    path.write_text(yaml.safe_dump(base))
    return path


def test_every_problem_of_every_spec_is_reported_with_file_and_field(tmp_path: Path) -> None:
    write_spec(tmp_path, "a.yaml", audience={"rule": "ltv > 1", "order_by": "nope"})
    write_spec(tmp_path, "b.yml", audience={"rule": "churn_prob >= 'high'"})
    write_spec(tmp_path, "c.yaml", audience={"rule": "churn_band > 'high'"})
    write_spec(tmp_path, "d.yaml", name="other")
    write_spec(tmp_path, "e.yaml", control={"fraction": 1.5}, destinations=[{"name": "x", "type": "tiktok"}])
    write_spec(tmp_path, "f.yaml", audience={"rule": "__import__('os').system('true')"})
    write_spec(tmp_path, "g.yaml", exclude={"campaigns": ["nope"]}, surprise=1)
    with pytest.raises(CampaignSpecError) as err:
        load_campaigns(tmp_path)
    text = str(err.value)
    assert f"{tmp_path / 'a.yaml'}: audience.rule: unknown column 'ltv'" in text
    assert f"{tmp_path / 'a.yaml'}: audience.order_by: unknown column 'nope'" in text
    assert f"{tmp_path / 'b.yml'}: audience.rule: cannot compare a number with a string" in text  # .yml is read too
    assert f"{tmp_path / 'c.yaml'}: audience.rule: 'churn_band' is a string; use ==, != or in, not >" in text
    assert f"{tmp_path / 'd.yaml'}: name: 'other' must match the file name 'd'" in text
    assert f"{tmp_path / 'e.yaml'}: control.fraction: Input should be less than 1" in text
    assert f"{tmp_path / 'e.yaml'}: destinations.0.type: Input should be 'email_csv'" in text
    assert f"{tmp_path / 'f.yaml'}: audience.rule: function calls are not allowed" in text
    assert f"{tmp_path / 'g.yaml'}: surprise: Extra inputs are not permitted" in text
    assert text.startswith("9 problem(s) in campaign specs")


def test_named_campaign_must_match_its_file(tmp_path: Path) -> None:
    from campaignflow.campaigns.spec import load_named_campaign

    write_spec(tmp_path, "x.yml", name="y")
    with pytest.raises(CampaignSpecError, match="'y' must match the file name 'x'"):
        load_named_campaign(tmp_path, "x")
    with pytest.raises(CampaignSpecError, match="no campaign 'y'"):
        load_named_campaign(tmp_path, "y")
    write_spec(tmp_path, "z.yml")
    assert load_named_campaign(tmp_path, "z").name == "z"


def test_validate_campaigns_command(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    from campaignflow.cli import main

    assert main(["campaigns", "validate", "--folder", str(ROOT / "campaigns")]) == 0
    write_spec(tmp_path, "bad.yaml", audience={"rule": "ltv > 1"})
    write_spec(tmp_path, "twin.yaml", name="twin")
    write_spec(tmp_path, "twin.yml", name="twin")
    assert main(["campaigns", "validate", "--folder", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "bad.yaml: audience.rule: unknown column 'ltv'" in err and "remedy:" in err
    assert "campaign names used twice (a .yaml and a .yml?): ['twin']" in err


def test_an_audience_matching_nobody_is_empty_not_a_crash() -> None:
    scored, contacts = scored_and_contacts(50)
    audience, stats = build_audience(spec(audience={"rule": "churn_prob > 2"}), scored, contacts)
    assert audience.empty and stats.matched == 0 and stats.treatment == 0
    assert "0 customers matched the rule" in stats.notes
