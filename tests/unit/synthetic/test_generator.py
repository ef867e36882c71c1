from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from campaignflow.ingest.reader import read_csv_text
from campaignflow.synthetic.daily import make_day
from campaignflow.synthetic.population import make_catalogue, make_population
from campaignflow.synthetic.seasonality import black_friday, seasonality
from tests.conftest import make_shop


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_same_seed_same_bytes(tmp_path: Path) -> None:
    make_shop(tmp_path / "a", customers=200, days=5, seed=11)
    make_shop(tmp_path / "b", customers=200, days=5, seed=11)
    a, b = _tree(tmp_path / "a"), _tree(tmp_path / "b")
    assert a.keys() == b.keys() and len(a) > 10
    assert a == b


def test_different_seed_different_shop(tmp_path: Path) -> None:
    make_shop(tmp_path / "a", customers=200, days=3, seed=1)
    make_shop(tmp_path / "b", customers=200, days=3, seed=2)
    key = "landing/dt=2024-01-02/orders.csv"
    assert (tmp_path / "a" / key).read_bytes() != (tmp_path / "b" / key).read_bytes()


def test_landing_layout_and_tables(tmp_path: Path) -> None:
    landing, truth = make_shop(tmp_path, customers=300, days=3)
    expected = ["_SUCCESS", *(f"{t}.csv" for t in ("customers", "events", "order_lines", "orders", "products"))]
    assert sorted(landing.list_keys("dt=2024-01-01/")) == [f"dt=2024-01-01/{name}" for name in expected]
    assert not landing.exists("dt=2024-01-02/products.csv")  # catalogue only when it changes
    assert truth.exists("customers.parquet")
    orders = read_csv_text(landing.read_bytes("dt=2024-01-02/orders.csv"), "landing.csv")
    lines = read_csv_text(landing.read_bytes("dt=2024-01-02/order_lines.csv"), "landing.csv")
    assert set(lines["order_id"]) <= set(orders["order_id"])
    # order amount is the sum of its lines
    lines["value"] = lines["quantity"].astype(int) * lines["unit_price"].astype(float)
    totals = lines.groupby("order_id")["value"].sum().round(2)
    assert np.allclose(orders.set_index("order_id")["amount"].astype(float).loc[totals.index], totals)


def test_messy_contacts_and_consent(tmp_path: Path) -> None:
    landing, _ = make_shop(tmp_path, customers=2000, days=1)
    customers = read_csv_text(landing.read_bytes("dt=2024-01-01/customers.csv"), "landing.csv")
    emails = customers["email"].dropna()
    phones = customers["phone"].dropna()
    assert 0.9 < len(emails) / len(customers) < 1.0, "a few customers have no email"
    assert 0.5 < len(phones) / len(customers) < 0.9, "many, not all, customers have a phone"
    assert (emails != emails.str.strip()).sum() > 0.03 * len(emails), "some emails carry stray whitespace"
    assert (emails != emails.str.lower()).sum() > 0.2 * len(emails), "many emails are not lower-case"
    assert emails.str.strip().str.contains(r"^[^@\s]+@[^@\s]+\.[a-z.]+$", case=False).all()
    assert phones.str.startswith("+").any() and phones.str.startswith("0").any()
    consent = customers["marketing_consent"].eq("true").mean()
    assert 0.6 < consent < 0.85


def test_weekly_and_holiday_seasonality() -> None:
    bf = black_friday(2024)
    assert bf == date(2024, 11, 29)
    assert seasonality(bf) > 2 * seasonality(date(2024, 11, 6))
    assert seasonality(date(2024, 3, 9)) > seasonality(date(2024, 3, 5))  # Saturday > Tuesday


def test_engagement_fades_before_dropout() -> None:
    """Behaviour carries signal beyond RFM: events thin out in the weeks before a customer leaves."""
    pop, cat = make_population(20_000, 200, 9), make_catalogue(200, 9)
    start = date(2024, 1, 1)
    near, far = [], []
    for t in range(60, 120, 3):
        events = make_day(pop, cat, start, t, 9).tables["events"]
        counts = events["customer_id"].value_counts()
        per_customer = counts.reindex(pop.ids, fill_value=0).to_numpy()
        days_left = pop.dropout_day - t
        active = pop.signup_day <= t
        near.append(per_customer[active & (days_left > 0) & (days_left <= 10)].mean())
        far.append(per_customer[active & (days_left > 90)].mean())
    assert np.mean(near) < 0.6 * np.mean(far)


def test_generate_raw_equals_landing_through_ingest(tmp_path: Path) -> None:
    """The bench's shortcut writes the raw partitions ingest would commit from the CSV landing."""
    from campaignflow.io import datasets
    from campaignflow.io.lake import Lake
    from campaignflow.io.storage import LocalStore
    from campaignflow.runtime import Runtime
    from campaignflow.settings import Settings
    from campaignflow.synthetic.generate import ShopSpec, generate_raw
    from jobs import load_history

    spec = dict(customers=250, days=4, start=date(2024, 1, 1), seed=5)
    make_shop(tmp_path / "via", **spec)  # type: ignore[arg-type]
    rt = Runtime.from_settings(Settings.under(tmp_path / "via"))
    load_history.run(rt, None, None)
    direct = Lake(LocalStore(tmp_path / "direct"))
    generate_raw(ShopSpec(**spec), direct, LocalStore(tmp_path / "truth"))  # type: ignore[arg-type]
    compared = 0
    for table in datasets.RAW_TABLES:
        dates = rt.lake.committed_dates(datasets.raw(table))
        assert direct.committed_dates(datasets.raw(table)) == dates
        for dt in dates:
            via = rt.lake.read_frame(datasets.raw(table).at(dt))
            got = direct.read_frame(datasets.raw(table).at(dt))
            pd.testing.assert_frame_equal(got, via, check_dtype=False, check_exact=False, rtol=1e-12)
            assert _arrow_schema(direct, table, dt) == _arrow_schema(rt.lake, table, dt)
            compared += len(via)
    assert compared > 500


def _arrow_schema(lake: object, table: str, dt: str) -> object:
    import pyarrow.parquet as pq

    from campaignflow.io import datasets

    (key,) = lake.data_keys(datasets.raw(table).at(dt))  # type: ignore[attr-defined]
    return pq.read_schema(lake.store.root / key)  # type: ignore[attr-defined]


def test_returns_come_from_earlier_order_lines_and_leave_the_rest_unchanged(tmp_path: Path) -> None:
    """Returns are lines bought 2-30 days before, at their value; the other tables do not move."""
    from campaignflow.io import datasets
    from campaignflow.io.lake import Lake
    from campaignflow.io.storage import LocalStore
    from campaignflow.synthetic.generate import ShopSpec, generate_raw

    spec = dict(customers=400, days=45, start=date(2024, 1, 1), seed=4)
    plain, returning = Lake(LocalStore(tmp_path / "plain")), Lake(LocalStore(tmp_path / "returns"))
    generate_raw(ShopSpec(**spec), plain, LocalStore(tmp_path / "t1"))  # type: ignore[arg-type]
    generate_raw(ShopSpec(**spec, return_rate=0.1), returning, LocalStore(tmp_path / "t2"))  # type: ignore[arg-type]
    assert plain.committed_dates(datasets.raw("returns")) == []
    assert len(returning.committed_dates(datasets.raw("returns"))) == 45  # every day, some empty
    for table in ("orders", "order_lines", "events"):
        pd.testing.assert_frame_equal(returning.read_range(datasets.raw(table)), plain.read_range(datasets.raw(table)))
    returns = returning.read_range(datasets.raw("returns"))
    orders = plain.read_range(datasets.raw("orders")).set_index("order_id")
    lines = plain.read_range(datasets.raw("order_lines"))
    assert 0.05 < len(returns) / len(lines) < 0.25 and returns["return_id"].is_unique
    bought = returns.join(orders[["order_ts", "customer_id"]], on="order_id", rsuffix="_order")
    assert (bought["customer_id"] == bought["customer_id_order"]).all()
    delay = (bought["return_ts"] - bought["order_ts"]).dt.days
    assert delay.between(2, 30).all()
    assert (returns["return_ts"].dt.strftime("%Y-%m-%d") == returns["dt"]).all()
    matched = returns.merge(lines, on=["order_id", "product_id", "quantity"], how="left")
    matched["same_value"] = np.isclose(matched["amount"], (matched["quantity"] * matched["unit_price"]).round(2))
    assert matched.groupby("return_id")["same_value"].any().all()


def test_a_shop_exports_only_the_tables_it_has(tmp_path: Path) -> None:
    landing, _ = make_shop(tmp_path, customers=200, days=3, tables=frozenset({"orders"}))
    assert sorted(landing.list_keys("dt=2024-01-01/")) == ["dt=2024-01-01/_SUCCESS", "dt=2024-01-01/orders.csv"]
