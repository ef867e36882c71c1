"""Great Expectations 1.x suites for the raw zone, and readable reports of what failed.

Every table gets expectations from its schema (required columns not null, unique keys, known
event types, non-negative money, positive quantities, timestamps no later than the partition day
and no earlier than its allowed lateness). A failure names the file, column, rule and the
offending line numbers, and rejects the batch.

Plausibility ranges (a B2B order of 50,000 units, an amount over a million) are *warnings*
(GX severity ``warning``): real shops have them, so they are flagged in the partition's manifest
(``meta.outliers``) and never reject a file.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from functools import cache
from typing import Any

import pandas as pd

from campaignflow.ingest.schemas import EVENT_TYPES, ROW_COLUMN, TableSchema

log = logging.getLogger(__name__)

LAG_COLUMN = "_lag_days"  # partition date minus the record's own date
_MAX_ROWS_IN_REPORT = 20
OUTLIER_AMOUNT = 1_000_000  # above this an amount is flagged, not rejected
OUTLIER_QUANTITY = 10_000


@dataclass
class Failure:
    column: str
    rule: str
    unexpected_count: int
    rows: list[int]  # source line numbers (first few)
    dates: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def describe(self, file: str) -> str:
        rows = ", ".join(map(str, self.rows[:5])) + (" ..." if self.unexpected_count > 5 else "")
        return (
            f"{file}: column {self.column!r} fails rule {self.rule!r} on {self.unexpected_count} row(s) (lines {rows})"
        )


@dataclass
class ValidationReport:
    table: str
    rows: int
    failures: list[Failure]
    expectations: int = 0
    warnings: list[Failure] = field(default_factory=list)  # outliers: flagged, not rejected

    @property
    def success(self) -> bool:
        return not self.failures

    def to_dict(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "rows": self.rows,
            "success": self.success,
            "expectations": self.expectations,
            "failures": [asdict(f) for f in self.failures],
            "outliers": [asdict(f) for f in self.warnings],
        }


def expectations(schema: TableSchema) -> list[Any]:
    """The GX expectations for one raw table."""
    import great_expectations as gx
    from great_expectations.expectations.metadata_types import FailureSeverity

    exp = gx.expectations
    flag = FailureSeverity.WARNING  # outliers are reported, not rejected
    out: list[Any] = [exp.ExpectColumnValuesToNotBeNull(column=c.name) for c in schema.columns if c.required]
    if schema.unique_key:  # unique within a day's partition (validation may cover many days)
        out.append(exp.ExpectCompoundColumnsToBeUnique(column_list=[schema.unique_key, "dt"]))
    for col in schema.columns:
        if col.kind == "float" and col.name in ("amount", "unit_price", "price"):
            out.append(exp.ExpectColumnValuesToBeBetween(column=col.name, min_value=0))
            out.append(exp.ExpectColumnValuesToBeBetween(column=col.name, max_value=OUTLIER_AMOUNT, severity=flag))
        if col.kind == "int" and col.name == "quantity":
            out.append(exp.ExpectColumnValuesToBeBetween(column=col.name, min_value=1))
            out.append(exp.ExpectColumnValuesToBeBetween(column=col.name, max_value=OUTLIER_QUANTITY, severity=flag))
    if schema.name == "events":
        out.append(exp.ExpectColumnValuesToBeInSet(column="event_type", value_set=list(EVENT_TYPES)))
    if schema.time_column:
        out.append(
            exp.ExpectColumnValuesToBeBetween(column=LAG_COLUMN, min_value=0, max_value=schema.max_lateness_days)
        )
    return out


@cache
def gx_context() -> Any:
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    return context


@cache
def _suite_and_batch(schema: TableSchema) -> tuple[Any, Any]:
    import great_expectations as gx

    context = gx_context()
    source = context.data_sources.add_pandas(f"raw_{schema.name}")
    batch_def = source.add_dataframe_asset(name=schema.name).add_batch_definition_whole_dataframe("batch")
    suite = context.suites.add(gx.ExpectationSuite(name=f"raw_{schema.name}", expectations=expectations(schema)))
    return suite, batch_def


def with_lag(schema: TableSchema, frame: pd.DataFrame, dt: pd.Series | str) -> pd.DataFrame:
    """Add the days-late column the lateness rule checks (partition date minus record date)."""
    if not schema.time_column:
        return frame
    part = pd.to_datetime(dt if isinstance(dt, pd.Series) else pd.Series(dt, index=frame.index))
    lag = (part.dt.normalize() - frame[schema.time_column].dt.normalize()).dt.days
    return frame.assign(**{LAG_COLUMN: lag.astype("Int64")})


def validate_frame(schema: TableSchema, frame: pd.DataFrame) -> ValidationReport:
    """Run the table's suite on a typed frame that carries ``_row`` and ``dt`` (it may span days)."""
    suite, batch_def = _suite_and_batch(schema)
    index_cols = [ROW_COLUMN, "dt"]
    batch = batch_def.get_batch(batch_parameters={"dataframe": frame})
    result = batch.validate(
        suite, result_format={"result_format": "COMPLETE", "unexpected_index_column_names": index_cols}
    )

    def failure(res: Any) -> Failure:
        cfg = res.expectation_config
        column = cfg.kwargs.get("column") or cfg.kwargs.get("column_list", [""])[0]
        if column == LAG_COLUMN:
            column = schema.time_column or column
        hits = res.result.get("unexpected_index_list") or []
        return Failure(
            column=column,
            rule=rule_text(cfg.type, cfg.kwargs),
            unexpected_count=int(res.result.get("unexpected_count") or len(hits)),
            rows=[int(h[ROW_COLUMN]) for h in hits[:_MAX_ROWS_IN_REPORT]],
            dates=sorted({str(h["dt"]) for h in hits if "dt" in h}),
        )

    return report_from(schema.name, len(frame), result, failure)


def report_from(name: str, rows: int, result: Any, failure: Callable[[Any], Failure]) -> ValidationReport:
    """A report from a GX validation result: each failed expectation as a failure or, with
    severity ``warning``, a warning (``failure`` turns one expectation result into a Failure)."""
    failures: list[Failure] = []
    warnings: list[Failure] = []
    for res in result.results:
        if res.success:
            continue
        severity = getattr(res.expectation_config.severity, "value", res.expectation_config.severity)
        (warnings if severity == "warning" else failures).append(failure(res))
    log.info("validated %s: %d rows, %d failing rule(s), %d warning(s)", name, rows, len(failures), len(warnings))
    return ValidationReport(name, rows, failures, expectations=len(result.results), warnings=warnings)


def rule_text(kind: str, kwargs: dict[str, Any]) -> str:
    if kwargs.get("column") == LAG_COLUMN:
        return f"record dated after the partition day or more than {int(kwargs['max_value'])} day(s) before it"
    if kind == "expect_compound_columns_to_be_unique":
        return "be unique within the day"
    if kind == "expect_table_row_count_to_be_between":
        low, high = kwargs.get("min_value"), kwargs.get("max_value")
        return f"have at least {low} rows (the previous date's count)" if high is None else f"have at most {high} rows"
    if kind == "expect_column_values_to_be_between" and kwargs.get("strict_min"):
        return f"be more than {_num(kwargs['min_value'])}"
    if kind == "expect_column_values_to_be_between":
        low, high = kwargs.get("min_value"), kwargs.get("max_value")
        if low is None:
            return f"be at most {_num(high)}"
        if high is None:
            return f"be at least {_num(low)}"
        return f"be between {_num(low)} and {_num(high)}"
    if kind == "expect_column_values_to_be_in_set":
        return f"be one of {', '.join(map(str, kwargs['value_set']))}"
    return kind.removeprefix("expect_column_values_to_").replace("_", " ")


def _num(value: Any) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)
