"""The rule language: parsed and checked, never evaluated as Python; column-wise results equal a
row-by-row reference on random expressions."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from campaignflow.campaigns.expression import ExpressionError, parse

COLUMNS = {"churn_prob": "number", "orders_total": "number", "churn_band": "string", "rfm_tier": "string"}


def frame(n: int = 200, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "churn_prob": rng.random(n).round(2),
            "orders_total": rng.integers(0, 6, n).astype(float),
            "churn_band": rng.choice(["low", "medium", "high"], n),
            "rfm_tier": rng.choice(["at_risk", "hibernating", "champions"], n),
        }
    )


numbers = st.one_of(
    st.sampled_from(["churn_prob", "orders_total"]), st.integers(-2, 6).map(str), st.sampled_from(["0.5", "1.5"])
)


def arithmetic(depth: int) -> st.SearchStrategy[str]:
    if depth == 0:
        return numbers
    sub = arithmetic(depth - 1)
    return st.one_of(
        sub, st.tuples(sub, st.sampled_from(["+", "-", "*"]), sub).map(lambda t: f"({t[0]} {t[1]} {t[2]})")
    )


def comparison() -> st.SearchStrategy[str]:
    numeric = st.tuples(arithmetic(2), st.sampled_from(["<", "<=", ">", ">=", "==", "!="]), arithmetic(1)).map(" ".join)
    chained = st.tuples(
        st.sampled_from(["0.2", "1"]),
        st.sampled_from(["<", "<="]),
        arithmetic(1),
        st.sampled_from(["<", "<="]),
        st.sampled_from(["0.8", "4"]),
    ).map(" ".join)
    text = st.tuples(
        st.sampled_from(["churn_band", "rfm_tier"]),
        st.sampled_from(["==", "!="]),
        st.sampled_from(["'high'", "'at_risk'", "'x'"]),
    ).map(" ".join)
    member = st.tuples(
        st.sampled_from(["churn_band", "rfm_tier"]),
        st.sampled_from(["in", "not in"]),
        st.lists(st.sampled_from(["'low'", "'high'", "'champions'", "'at_risk'"]), min_size=1, max_size=3).map(
            lambda v: f"[{', '.join(v)}]"
        ),
    ).map(" ".join)
    return st.one_of(numeric, chained, text, member)


def condition(depth: int) -> st.SearchStrategy[str]:
    if depth == 0:
        return comparison()
    sub = condition(depth - 1)
    return st.one_of(
        sub,
        st.tuples(sub, st.sampled_from(["and", "or"]), sub).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
        sub.map(lambda s: f"not ({s})"),
    )


def reference(text: str, row: dict[str, object]) -> bool:
    """Row-by-row Python semantics (the test's reference engine; the product never does this)."""
    return bool(eval(text, {"__builtins__": {}}, dict(row)))


@settings(max_examples=300, deadline=None)
@given(text=condition(2), seed=st.integers(0, 3))
def test_column_wise_result_equals_row_by_row_reference(text: str, seed: int) -> None:
    data = frame(60, seed)
    expr = parse(text, COLUMNS)
    expected = np.array([reference(text, row) for row in data.to_dict("records")])
    assert (expr.mask(data) == expected).all(), text


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("__import__('os').system('true')", "function calls are not allowed"),
        ("churn_prob.__class__", "attribute access is not allowed"),
        ("churn_band[0] == 'h'", "indexing is not allowed"),
        ("(lambda: 1)() == 1", "function calls are not allowed"),
        ("[x for x in churn_band] == 1", "comprehensions are not allowed"),
        ("churn_prob if True else 1", "'x if c else y' is not allowed"),
        ("ltv > 1", "unknown column 'ltv'"),
        ("churn_prob >= 'high'", "cannot compare a number with a string"),
        ("churn_band > 'high'", "'churn_band' is a string; use ==, != or in, not >"),
        ("churn_band in 'high'", "'in' needs a list of values"),
        ("churn_band in ['high', 2]", "the list must hold those"),
        ("churn_prob in [churn_prob]", "an 'in' list holds literal values only"),
        ("churn_prob and orders_total", "'and'/'or' join conditions"),
        ("churn_prob >= 0.6 and", "not a valid expression"),
        ("churn_prob is None", "'is' is not allowed"),
        ("churn_prob ** 2 > 1", "only + - * / are allowed"),
        ("churn_band + 1 > 2", "arithmetic needs numbers"),
        ("", "an expression is needed"),
    ],
)
def test_refused_with_a_reason_and_a_position(text: str, message: str) -> None:
    with pytest.raises(
        ExpressionError,
        match=message.replace("[", r"\[")
        .replace("(", r"\(")
        .replace(")", r"\)")
        .replace("*", r"\*")
        .replace("+", r"\+"),
    ):
        parse(text, COLUMNS)


def test_a_condition_is_not_a_value_and_a_value_is_not_a_condition() -> None:
    with pytest.raises(ExpressionError, match="the expression is a number; a bool is needed"):
        parse("churn_prob * 2", COLUMNS)
    with pytest.raises(ExpressionError, match="the expression is a bool; a number is needed"):
        parse("churn_prob > 2", COLUMNS, want="number")
    value = parse("churn_prob * orders_total / 2", COLUMNS, want="number").evaluate(frame(5))
    data = frame(5)
    assert np.allclose(value, data["churn_prob"] * data["orders_total"] / 2)


def test_missing_values_make_a_comparison_false_and_division_by_zero_missing() -> None:
    data = pd.DataFrame(
        {
            "churn_prob": [0.9, math.nan, 0.1],
            "orders_total": [0.0, 1.0, 2.0],
            "churn_band": ["high", None, "low"],
            "rfm_tier": "x",
        }
    )
    assert parse("churn_prob >= 0.5", COLUMNS).mask(data).tolist() == [True, False, False]
    assert parse("churn_prob != 0.5", COLUMNS).mask(data).tolist() == [True, False, True]
    assert parse("churn_band not in ['low']", COLUMNS).mask(data).tolist() == [True, False, False]
    assert parse("churn_prob / orders_total > 0", COLUMNS).mask(data).tolist() == [False, False, True]
    assert parse("true", COLUMNS).mask(data).tolist() == [True, True, True]
    assert parse("churn_prob >= 0.5", COLUMNS).columns == {"churn_prob"}
