"""A shop's own customers (contacts, consent) and catalogue: imported onto its history, or refused clearly."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from campaignflow.cli import main
from campaignflow.io import datasets
from campaignflow.runtime import Runtime

ORDERS = "customer_id,order_ts,amount,order_id\nc1,2024-01-01T10:00:00,19.90,A1\nc2,2024-01-05T11:00:00,5.00,A2\n"


@pytest.fixture
def shop(tmp_path: Path, runtime_env: Runtime) -> Runtime:
    path = tmp_path / "orders.csv"
    path.write_text(ORDERS)
    assert main(["import-orders", str(path), "--order-id-col", "order_id"]) == 0
    return runtime_env


def import_table(tmp_path: Path, table: str, text: str, *flags: str, capsys) -> tuple[int, str, str]:  # type: ignore[no-untyped-def]
    path = tmp_path / f"{table}.csv"
    path.write_text(text)
    rc = main(["import", table, str(path), *flags])
    out, err = capsys.readouterr()
    return rc, out, err


def customers(rt: Runtime) -> pd.DataFrame:
    frame = rt.lake.read_range(datasets.raw("customers"))
    assert frame is not None
    return frame


def contacts_at(rt: Runtime, ds: str) -> pd.DataFrame:
    from campaignflow.campaigns.contacts import latest_contacts

    log = rt.lake.read_range(datasets.raw("customers"), end=ds)
    return (
        pd.DataFrame(index=pd.Index([], name="customer_id"))
        if log is None
        else latest_contacts(log).set_index("customer_id")
    )


CUSTOMERS = """id,Email,Phone,Consent,Unsub,Land
c1, Ann.Lee+news@Example.COM ,0612345678,yes,no,
c2,,,yes,no,NL
c3,bob@example.com,,no,no,
c4,eve@example.com,+31 6 1234 5679,yes,no,
c4,eve@example.com,+31 6 1234 5679,yes,yes,
c4,eve@example.com,+31 6 1234 5679,yes,yes,
"""
MAPPING = ["--col", "customer_id=id", "--col", "email=Email", "--col", "phone=Phone", "--col", "country=Land"]
MAPPING += ["--col", "marketing_consent=Consent", "--col", "unsubscribed=Unsub"]


def test_customers_with_messy_contacts_duplicates_and_conflicting_consent(
    tmp_path: Path, shop: Runtime, capsys
) -> None:  # type: ignore[no-untyped-def]
    rc, out, err = import_table(tmp_path, "customers", CUSTOMERS, *MAPPING, "--country", "NL", capsys=capsys)
    assert rc == 0, err
    assert '"customer_ids with conflicting records at one time": 1' in out
    assert '"identical duplicate records dropped": 1' in out
    assert '"3 record(s) without a date' not in out and "without a date" in out
    got = contacts_at(shop, "2024-01-05")
    assert sorted(got.index) == ["c1", "c2", "c3", "c4"]  # c2 has no email or phone: kept (scored, never exported)
    assert (
        got.loc["c1", "email"] == " Ann.Lee+news@Example.COM ".strip()
    )  # raw in the lake; exports hash the normal form
    assert got.loc["c1", "country"] == "NL"  # the shop's country reads a phone without a code
    assert got.loc["c4", "unsubscribed"]  # records of one time that disagree: the restrictive one


def test_consent_history_and_a_re_import_never_undo_an_unsubscribe(tmp_path: Path, shop: Runtime, capsys) -> None:  # type: ignore[no-untyped-def]
    events = (
        "customer_id,email,marketing_consent,consent_ts,unsubscribed_ts\n"
        "c1,a@example.com,true,2024-01-01T09:00:00,2024-01-03T09:00:00\n"  # unsubscribed after consenting
        "c2,b@example.com,true,2024-01-04T09:00:00,2024-01-02T09:00:00\n"  # consented again after unsubscribing
    )
    rc, out, err = import_table(tmp_path, "customers", events, capsys=capsys)
    assert rc == 0, err
    assert "1 unsubscribe(s) after the consent, 1 consent(s) given again" in out
    assert list(contacts_at(shop, "2024-01-02").index) == []  # nothing is known before its record's day
    at = contacts_at(shop, "2024-01-05")
    assert (bool(at.loc["c1", "marketing_consent"]), bool(at.loc["c1", "unsubscribed"])) == (False, True)
    assert (bool(at.loc["c2", "marketing_consent"]), bool(at.loc["c2", "unsubscribed"])) == (True, False)
    older = (
        "customer_id,email,marketing_consent,unsubscribed,updated_ts\nc1,a@example.com,true,false,2024-01-03T08:00:00\n"
    )
    rc, _, err = import_table(tmp_path, "customers", older, capsys=capsys)
    assert rc == 2 and "--mode merge" in err  # a second import says how to combine, writes nothing
    rc, _, err = import_table(tmp_path, "customers", older, "--mode", "merge", capsys=capsys)
    assert rc == 0, err
    assert bool(contacts_at(shop, "2024-01-05").loc["c1", "unsubscribed"])  # the landed unsubscribe stays


def test_records_outside_the_history_land_on_its_edges(tmp_path: Path, shop: Runtime, capsys) -> None:  # type: ignore[no-untyped-def]
    text = "customer_id,marketing_consent,signup_ts\nc1,true,2019-05-01\nc2,true,2030-01-01\nc3,true,2024-01-03\n"
    rc, out, err = import_table(tmp_path, "customers", text, capsys=capsys)
    assert rc == 0, err
    assert "1 record(s) dated before the history: landed on its first day 2024-01-01" in out
    assert "1 record(s) dated after the history: landed on its last day 2024-01-05" in out
    got = customers(shop).set_index("customer_id")["dt"].astype(str).to_dict()
    assert got == {"c1": "2024-01-01", "c2": "2024-01-05", "c3": "2024-01-03"}


@pytest.mark.parametrize(
    ("table", "text", "flags", "want"),
    [
        ("customers", "id,email\nc1,a@example.com\n", ["--col", "customer_id=ident"], "column(s) ['ident'] not found"),
        ("customers", "id,email\nc1,a@example.com\n", ["--col", "mail=email"], "customers have no field(s) ['mail']"),
        ("customers", "id,email\nc1,a@example.com\n", [], "no customer_id column"),
        (
            "customers",
            "customer_id,marketing_consent\nc1,maybe\n",
            [],
            "line 2, column 'marketing_consent': not a valid bool",
        ),
        ("customers", "customer_id,signup_ts\nc1,1/2/2024\n", [], "the order cannot be told"),
        ("products", "product_id,category,price\np1,tea,-2\n", [], "column 'price'"),
        ("products", "product_id,category\np1,tea\n", [], "missing required column(s) ['price']"),
        ("customers", "customer_id\nc1\n", ["--col", "email"], "write it as name=value"),
    ],
)
def test_bad_files_and_mappings_fail_clearly_and_write_nothing(
    tmp_path: Path, shop: Runtime, capsys, table, text, flags, want
) -> None:  # type: ignore[no-untyped-def]
    before = shop.landing.list_keys("")
    rc, _, err = import_table(tmp_path, table, text, *flags, capsys=capsys)
    assert rc == 2 and want in err, err
    assert shop.landing.list_keys("") == before


def test_products_become_the_catalogue(tmp_path: Path, shop: Runtime, capsys) -> None:  # type: ignore[no-untyped-def]
    rc, _, err = import_table(
        tmp_path, "products", "product_id,category,price\n007,tea,2.5\np2,cake,0\n", capsys=capsys
    )
    assert rc == 0, err
    got = shop.lake.read_range(datasets.raw("products"))
    assert got is not None and got[["product_id", "category", "price"]].values.tolist() == [
        ["007", "tea", 2.5],
        ["p2", "cake", 0.0],
    ]


def test_customers_need_a_history_first(tmp_path: Path, runtime_env: Runtime, capsys) -> None:  # type: ignore[no-untyped-def]
    rc, _, err = import_table(tmp_path, "customers", "customer_id\nc1\n", capsys=capsys)
    assert rc == 2 and "no landed days" in err and "import the orders first" in err


def test_catalogue_prices_far_from_what_the_lines_were_sold_at_are_flagged(
    tmp_path: Path, runtime_env: Runtime, capsys
) -> None:  # type: ignore[no-untyped-def]
    from campaignflow.ingest.dimensions import price_disagreements

    lines = pd.DataFrame({"product_id": ["p1", "p1", "p2", "p3"], "unit_price": [2.0, 2.2, 10.0, 5.0]})
    catalogue = pd.DataFrame({"product_id": ["p1", "p2", "p3", "p4"], "price": [2.1, 30.0, 2.4, 99.0]})
    assert price_disagreements(catalogue, lines) == 2  # p2 (x3) and p3 (about half); p4 was never sold
    orders = tmp_path / "lines.csv"
    orders.write_text("order_id,customer_id,order_ts,product_id,quantity,amount\nB1,h1,2024-01-01T10:00:00,p1,2,4.00\n")
    assert (
        main(
            [
                "import-orders",
                str(orders),
                "--order-id-col",
                "order_id",
                "--product-col",
                "product_id",
                "--quantity-col",
                "quantity",
            ]
        )
        == 0
    )
    rc, out, err = import_table(tmp_path, "products", "product_id,category,price\np1,tea,9.99\n", capsys=capsys)
    assert rc == 0, err
    assert "products priced over 50% away from their lines' median\": 1" in out


def test_channel_consent_keeps_its_newest_statement_across_imports(tmp_path: Path, shop: Runtime, capsys) -> None:  # type: ignore[no-untyped-def]
    """Per channel the newest statement wins: a later record silent on a channel, or an older export
    merged in afterwards, never reopens a channel the customer closed; a newer opt-in does."""
    header = "customer_id,email,phone,marketing_consent,email_consent,email_consent_ts,phone_consent,updated_ts\n"
    closed = header + "c1,a@example.com,0612345678,true,false,2024-01-02T10:00:00,true,2024-01-02T10:00:00\n"
    assert import_table(tmp_path, "customers", closed, "--country", "NL", capsys=capsys)[0] == 0
    silent = header + "c1,new@example.com,0612345678,true,,,,2024-01-04T10:00:00\n"  # a new address, no statement
    older = header + "c1,a@example.com,0612345678,true,true,2024-01-01T08:00:00,false,2024-01-05T07:00:00\n"
    for text in (silent, older):
        rc, _, err = import_table(tmp_path, "customers", text, "--mode", "merge", capsys=capsys)
        assert rc == 0, err
    at = contacts_at(shop, "2024-01-05").loc["c1"]
    assert at["email"] == "a@example.com"  # the newest record otherwise
    assert bool(at["email_consent"]) is False  # closed on the 2nd; the opt-in of the 1st came later, but older
    assert at["email_consent_ts"] == pd.Timestamp("2024-01-02T10:00:00")
    assert bool(at["phone_consent"]) is False  # the 5th's record closes phone: stated the 5th (its record's day)
    renewed = header + "c1,a@example.com,0612345678,true,true,2024-01-05T09:00:00,,2024-01-05T09:00:00\n"
    assert import_table(tmp_path, "customers", renewed, "--mode", "merge", capsys=capsys)[0] == 0
    assert bool(contacts_at(shop, "2024-01-05").loc["c1", "email_consent"]) is True


def test_an_unsubscribe_imported_onto_past_days_reaches_the_next_snapshot(
    tmp_path: Path, shop: Runtime, capsys
) -> None:  # type: ignore[no-untyped-def]
    """Snapshots roll forward day by day; a later import that lands records on past days makes the
    next snapshot rebuild (before: it rolled forward from a stale one and kept exporting the customer)."""
    from jobs import snapshot_contacts

    first = (
        "customer_id,email,marketing_consent,unsubscribed,updated_ts\nc1,a@example.com,true,false,2024-01-01T09:00:00\n"
    )
    assert import_table(tmp_path, "customers", first, capsys=capsys)[0] == 0
    modes = [snapshot_contacts.run(shop, f"2024-01-0{d}")["mode"] for d in (1, 2, 3, 4)]
    assert modes == ["rebuilt", "rolled forward", "rolled forward", "rolled forward"]
    gone = (
        "customer_id,email,marketing_consent,unsubscribed,updated_ts\nc1,a@example.com,true,true,2024-01-02T09:00:00\n"
    )
    assert import_table(tmp_path, "customers", gone, "--mode", "merge", capsys=capsys)[0] == 0
    assert snapshot_contacts.run(shop, "2024-01-05")["mode"] == "rebuilt"
    snapshot = shop.lake.read_frame(datasets.CONTACTS.at("2024-01-05")).set_index("customer_id")
    assert bool(snapshot.loc["c1", "unsubscribed"])
    assert snapshot_contacts.run(shop, "2024-01-05")["mode"] == "rebuilt"  # a re-run: the same partition
