"""Great Expectations 1.x checks on a feature partition before it is committed.

Errors (the partition is quarantined, downstream stops): a customer twice; a feature the catalogue
says is never null with nulls; a feature of a table the shop does not export that is not null;
counts or shares outside their range; fewer customers than the previous date (customers are never
forgotten, so fewer means lost input). Warnings (unusual but real: flagged in the manifest and the
run's summary, never a reason to stop the shop's run): the customer count grew by more than
``growth_tolerance`` since the previous date, negative money (refunds as orders), a return rate over
1 (items bought before the 365-day window returned inside it), more than :data:`WHOLESALE_ORDERS`
orders (a wholesale customer).
"""

from __future__ import annotations

from functools import cache
from typing import Any

import pandas as pd

from campaignflow.features.catalogue import CATALOGUE
from campaignflow.features.state import required_tables
from campaignflow.ingest.validation import Failure, ValidationReport, report_from, rule_text

ROW_COUNT_COLUMN = "_rows"
GROWTH_TOLERANCE = 1.0  # +100 % customers in a day is flagged
WHOLESALE_ORDERS = 1000  # more orders than this: a wholesale or shared account, flagged per customer


def expectations(present: frozenset[str], previous_rows: int | None, growth_tolerance: float) -> list[Any]:
    import great_expectations as gx
    from great_expectations.expectations.metadata_types import FailureSeverity

    exp, warn = gx.expectations, FailureSeverity.WARNING
    out: list[Any] = [
        exp.ExpectColumnValuesToNotBeNull(column="customer_id"),
        exp.ExpectColumnValuesToBeUnique(column="customer_id"),
    ]
    for f in CATALOGUE:
        if not required_tables(f.name) <= present:
            out.append(exp.ExpectColumnValuesToBeNull(column=f.name))
            continue
        if f.null_means.startswith("never null"):
            out.append(exp.ExpectColumnValuesToNotBeNull(column=f.name))
        if f.name.endswith("_share"):
            out.append(exp.ExpectColumnValuesToBeBetween(column=f.name, min_value=0, max_value=1))
        elif f.name.startswith("return_rate"):
            out.append(exp.ExpectColumnValuesToBeBetween(column=f.name, min_value=0))
            out.append(exp.ExpectColumnValuesToBeBetween(column=f.name, max_value=1, severity=warn))
        elif "trend" in f.name:
            out.append(exp.ExpectColumnValuesToBeBetween(column=f.name, min_value=0, strict_min=True))
        elif f.name.startswith(("monetary", "avg_order", "return_amount")):
            out.append(exp.ExpectColumnValuesToBeBetween(column=f.name, min_value=0, severity=warn))
        else:  # counts, days and intervals
            out.append(exp.ExpectColumnValuesToBeBetween(column=f.name, min_value=0))
        if f.name == "orders_total":
            out.append(exp.ExpectColumnValuesToBeBetween(column=f.name, max_value=WHOLESALE_ORDERS, severity=warn))
    if previous_rows is not None:
        out.append(exp.ExpectTableRowCountToBeBetween(min_value=previous_rows))
        high = int(previous_rows * (1 + growth_tolerance)) + 10
        out.append(exp.ExpectTableRowCountToBeBetween(max_value=high, severity=warn))
    return out


@cache
def _batch_definition() -> Any:
    from campaignflow.ingest.validation import gx_context

    source = gx_context().data_sources.add_pandas("features_customer")
    return source.add_dataframe_asset(name="customer").add_batch_definition_whole_dataframe("batch")


def validate_features(
    frame: pd.DataFrame,
    present: set[str],
    previous_rows: int | None,
    growth_tolerance: float = GROWTH_TOLERANCE,
) -> ValidationReport:
    """Run the feature suite on one date's features (pandas, as written)."""
    import great_expectations as gx

    suite = gx.ExpectationSuite(
        name="features_customer", expectations=expectations(frozenset(present), previous_rows, growth_tolerance)
    )
    batch = _batch_definition().get_batch(batch_parameters={"dataframe": frame})
    result = batch.validate(suite, result_format={"result_format": "SUMMARY"})

    def failure(res: Any) -> Failure:
        cfg = res.expectation_config
        column = cfg.kwargs.get("column") or ROW_COUNT_COLUMN
        rule = rule_text(cfg.type, cfg.kwargs)
        if column == ROW_COUNT_COLUMN:  # table-level rules report the observed value, not a count
            return Failure(column, f"{rule} (observed {res.result.get('observed_value')})", 1, [])
        return Failure(column, rule, int(res.result.get("unexpected_count") or 0), [])

    return report_from("features/customer", len(frame), result, failure)
