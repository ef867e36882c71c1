from __future__ import annotations

import pandas as pd
import pytest

from campaignflow.errors import BadInput
from campaignflow.ingest.reader import read_csv_text
from campaignflow.ingest.schemas import CUSTOMERS, ORDERS, coerce


def test_coerce_types_and_reports_each_bad_value_with_line() -> None:
    text = read_csv_text(
        b"order_id,customer_id,order_ts,amount,currency\n"
        b"o1,c1,2024-01-02T10:00:00,12.50,EUR\n"
        b"o2,c2,31/02/2024 25:61,9.99,EUR\n"
        b"o3,c3,2024-01-02T11:00:00,N/A,EUR\n"
        b"o4,,2024-01-02T12:00:00,,EUR\n",
        "orders.csv",
    )
    typed, errors = coerce(ORDERS, text, "orders.csv")
    assert [(e.row, e.column, e.rule) for e in errors] == [
        (3, "order_ts", "not a valid timestamp"),
        (4, "amount", "not a valid float"),
    ]
    assert str(errors[1]) == "orders.csv: line 4, column 'amount': not a valid float (value 'N/A')"
    assert typed["amount"].tolist()[0] == 12.5
    assert pd.isna(typed["customer_id"].iloc[3])  # empty is null, for validation to judge
    assert str(typed["order_ts"].dtype) == "datetime64[us]"


def test_timezones_are_converted_to_utc() -> None:
    text = read_csv_text(b"order_id,customer_id,order_ts,amount\no1,c1,2024-01-02T01:00:00+02:00,1\n", "f.csv")
    typed, errors = coerce(ORDERS, text, "f.csv")
    assert not errors
    assert typed["order_ts"].iloc[0] == pd.Timestamp("2024-01-01T23:00:00")


def test_pii_values_never_echoed_in_errors() -> None:
    text = read_csv_text(
        b"customer_id,email,signup_ts,marketing_consent,unsubscribed\nc1,a@b.com,2024-01-01,maybe,false\n",
        "customers.csv",
    )
    _, errors = coerce(CUSTOMERS, text, "customers.csv")
    assert [(e.column, e.value) for e in errors] == [("marketing_consent", "maybe")]


def test_missing_required_column_is_a_clear_error() -> None:
    text = read_csv_text(b"order_id,customer,order_ts,amount\no1,c1,2024-01-01,1\n", "orders.csv")
    with pytest.raises(BadInput, match=r"orders.csv: missing required column\(s\) \['customer_id'\]"):
        coerce(ORDERS, text, "orders.csv")


def test_the_data_contract_is_generated_from_the_schemas() -> None:
    from campaignflow.ingest.contract import markdown
    from campaignflow.ingest.schemas import TABLES
    from campaignflow.settings import project_root

    undocumented = [f"{t}.{c.name}" for t, s in TABLES.items() for c in s.columns if not (c.doc and c.example)]
    assert undocumented == []
    doc = project_root() / "docs" / "data-contract.md"
    assert doc.read_text() == markdown(), "run: campaignflow data-contract > docs/data-contract.md"
