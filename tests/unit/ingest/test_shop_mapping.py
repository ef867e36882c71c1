"""One mapping file per shop: validated with file: field: reason, read by the one-off and the nightly import."""

from __future__ import annotations

from pathlib import Path

import pytest

from campaignflow.cli import main
from campaignflow.errors import ConfigError
from campaignflow.ingest.mapping import load_mapping
from campaignflow.io import datasets
from campaignflow.runtime import Runtime
from campaignflow.settings import project_root

SHOP = """
country: NL
timezone: Europe/Amsterdam
currency: EUR
tables:
  orders:
    file: exports/orders.csv
    columns: {customer_id: Klant, order_ts: Datum, amount: Bedrag, product_id: Artikel, quantity: Aantal}
    timestamp_format: "%d-%m-%Y %H:%M"
    decimal_comma: true
    non_merchandise: [VERZEND]
  customers:
    file: exports/klanten.csv
    columns: {customer_id: Klant, email: Mail, phone: Telefoon, marketing_consent: Toestemming}
    true_values: [ja]
    false_values: [nee]
  products:
    file: exports/artikelen.csv
    columns: {product_id: Artikel, category: Groep, price: Prijs}
"""
ORDERS = """Klant;Datum;Artikel;Aantal;Bedrag
k1;01-03-2024 10:30;A1;2;3,50
k1;01-03-2024 10:30;VERZEND;1;4,95
k2;02-03-2024 23:30;A2;1;1.250,00
"""


def write_shop(root: Path, orders: str = ORDERS) -> Path:
    (root / "exports").mkdir(exist_ok=True)
    (root / "exports" / "orders.csv").write_text(orders)
    (root / "exports" / "klanten.csv").write_text(
        "Klant;Mail;Telefoon;Toestemming\nk1;Ann@X.nl;06 12345678;ja\nk2;;;nee\n"
    )
    (root / "exports" / "artikelen.csv").write_text("Artikel;Groep;Prijs\nA1;thee;1.75\nA2;fiets;1250\n")
    (root / "shop.yaml").write_text(SHOP)
    return root / "shop.yaml"


def test_a_shop_imports_every_table_from_its_mapping(tmp_path: Path, runtime_env: Runtime, capsys) -> None:  # type: ignore[no-untyped-def]
    rc = main(["import", "--shop", str(write_shop(tmp_path))])
    out, err = capsys.readouterr()
    assert rc == 0, err
    assert "1 non-merchandise line(s)" in out
    orders = runtime_env.lake.read_range(datasets.raw("orders"))
    assert orders is not None
    got = orders.sort_values("customer_id")[["customer_id", "amount", "currency"]].values.tolist()
    assert got == [["k1", 8.45, "EUR"], ["k2", 1250.0, "EUR"]]  # decimal commas, postage in the amount
    # local times in Amsterdam: 23:30 on 2 March is 22:30 UTC, still 2 March
    assert orders["order_ts"].dt.strftime("%Y-%m-%d %H:%M").sort_values().tolist() == [
        "2024-03-01 09:30",
        "2024-03-02 22:30",
    ]
    contacts = runtime_env.lake.read_range(datasets.raw("customers"))
    assert contacts is not None and contacts.set_index("customer_id")["marketing_consent"].to_dict() == {
        "k1": True,
        "k2": False,
    }
    assert set(contacts["country"]) == {"NL"}
    products = runtime_env.lake.read_range(datasets.raw("products"))
    assert products is not None and sorted(products["category"]) == ["fiets", "thee"]


def test_a_nightly_export_goes_through_the_same_mapping(tmp_path: Path, runtime_env: Runtime, capsys) -> None:  # type: ignore[no-untyped-def]
    shop = write_shop(tmp_path)
    assert main(["import", "--shop", str(shop)]) == 0
    nightly = tmp_path / "orders-2024-03-03.csv"
    nightly.write_text("Klant;Datum;Artikel;Aantal;Bedrag\nk2;03-03-2024 09:00;A1;1;1,75\n")
    assert main(["import", "--shop", str(shop), "--file", f"orders={nightly}", "--mode", "merge"]) == 0
    capsys.readouterr()
    assert runtime_env.lake.committed_dates(datasets.raw("orders"))[-1] == "2024-03-03"
    assert len(runtime_env.lake.read_range(datasets.raw("orders"))) == 3  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("tables: {orders: {file: o.csv, columns: {klant: Klant}}}", "tables.orders.columns: no field(s) ['klant']"),
        ("country: Netherlands\ntables: {orders: {file: o.csv}}", "country: String should match pattern"),
        ("tables: {customers: {file: c.csv}}", "tables.orders: every shop has orders"),
        ("tables: {orders: {file: o.csv, encodng: latin-1}}", "tables.orders.encodng: Extra inputs are not permitted"),
        (
            "tables: {refunds: {file: r.csv}}",
            "tables.refunds.[key]: Input should be 'orders', 'customers' or 'products'",
        ),
        ("tables: [orders", "not valid YAML"),
        ("- orders", "expected a mapping"),
    ],
)
def test_a_bad_mapping_names_the_file_and_field(tmp_path: Path, text: str, want: str) -> None:
    path = tmp_path / "shop.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as err:
        load_mapping(path)
    assert str(path) in str(err.value) and want in str(err.value), str(err.value)


def test_a_mapped_column_the_file_lacks_is_named(tmp_path: Path, runtime_env: Runtime, capsys) -> None:  # type: ignore[no-untyped-def]
    shop = write_shop(tmp_path, ORDERS.replace("Aantal", "Stuks"))
    assert main(["import", "--shop", str(shop)]) == 2
    err = capsys.readouterr().err
    assert "orders.csv: column(s) ['Aantal'] not found" in err
    assert runtime_env.landing.list_keys("") == []


def test_the_worked_examples_are_valid_mappings() -> None:
    examples = sorted((project_root() / "docs" / "examples").glob("*.shop.yaml"))
    assert examples, "docs/examples has the worked example of docs/own-shop.md"
    for path in examples:
        assert "orders" in load_mapping(path).tables
