"""One declarative mapping file per shop (``shop.yaml``): which file feeds which table, and how to read it.

The same file serves the one-off import of the history and every nightly import of the shop's new
exports (``campaignflow import --shop shop.yaml [--file orders=…] --mode merge``): column names,
encoding, time zone, timestamp format, return prefix, non-merchandise codes, the shop's country and
currency are written once. Every problem of the file is reported at once as ``file: field: reason``
(a configuration error: fix the file, nothing is imported).

    country: TW
    timezone: Asia/Taipei
    currency: TWD
    tables:
      orders:
        file: ta_feng.csv
        columns: {customer_id: CUSTOMER_ID, order_ts: TRANSACTION_DT, amount: SALES_PRICE,
                  product_id: PRODUCT_ID, quantity: AMOUNT}
        timestamp_format: "%m/%d/%Y"
      customers: {file: customers.csv, columns: {customer_id: id, marketing_consent: Consent}}
      products: {file: products.csv}
"""

from __future__ import annotations

from dataclasses import fields as dataclass_fields
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from campaignflow.errors import ConfigError
from campaignflow.ingest import dimensions
from campaignflow.ingest.importer import ColumnMapping, ImportOptions
from campaignflow.ingest.reader import CsvOptions

TableName = Literal["orders", "customers", "products"]
IMPORT_ORDER: tuple[TableName, ...] = ("orders", "customers", "products")  # the history first
ORDER_FIELDS = tuple(f.name for f in dataclass_fields(ColumnMapping))


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TableSource(_Strict):
    """One table's file and how to read it; ``columns`` maps each field to the file's column."""

    file: str
    columns: dict[str, str] = Field(default_factory=dict)
    encoding: str | None = None
    delimiter: str | None = None
    timestamp_format: str = "auto"
    decimal_comma: bool = False
    return_prefix: str | None = None  # orders: cancellation invoices (e.g. "C")
    non_merchandise: list[str] = Field(default_factory=list)  # orders: codes that are not products
    true_values: list[str] = Field(default_factory=list)  # yes/no columns written another way: "ja", "oui"
    false_values: list[str] = Field(default_factory=list)  # (true, 1, yes, y, t and their opposites always work)


class ShopMapping(_Strict):
    """A shop's exports, table by table, with the shop-wide reading rules."""

    country: str | None = Field(default=None, pattern=r"^[A-Z]{2}$")  # ISO 3166: phones without a code
    timezone: str | None = None  # of timestamps written without an offset
    currency: str | None = Field(default=None, pattern=r"^[A-Z]{3}$")  # ISO 4217, for orders without one
    tables: dict[TableName, TableSource]

    @model_validator(mode="after")
    def _known_fields(self) -> ShopMapping:
        problems = []
        for name, source in self.tables.items():
            allowed = ORDER_FIELDS if name == "orders" else tuple(dimensions.fields(name))
            unknown = sorted(set(source.columns) - set(allowed))
            if unknown:
                problems.append(f"tables.{name}.columns: no field(s) {unknown}; the fields are {list(allowed)}")
            if name != "orders" and (source.return_prefix or source.non_merchandise or source.decimal_comma):
                problems.append(f"tables.{name}: return_prefix, non_merchandise and decimal_comma are for orders")
        if "orders" not in self.tables:
            problems.append("tables.orders: every shop has orders (customer id, timestamp, amount)")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def options(self, table: TableName) -> ImportOptions:
        source = self.tables[table]
        return ImportOptions(
            csv=CsvOptions(encoding=source.encoding, delimiter=source.delimiter),
            decimal_comma=source.decimal_comma,
            timezone=self.timezone,
            timestamp_format=source.timestamp_format,
            return_prefix=source.return_prefix,
            non_merchandise=frozenset(source.non_merchandise),
            currency=self.currency,
            true_values=frozenset(v.strip().lower() for v in source.true_values),
            false_values=frozenset(v.strip().lower() for v in source.false_values),
        )

    def order_columns(self) -> ColumnMapping:
        """The orders table's columns; a field not named keeps ColumnMapping's default (amount: ``amount``)."""
        given = self.tables["orders"].columns
        if "unit_price" in given and "amount" not in given:
            given = {**given, "amount": ""}  # quantity x unit price, no amount column
        return ColumnMapping(**{k: (v or None) for k, v in given.items()})  # type: ignore[arg-type]


def load_mapping(path: Path) -> ShopMapping:
    """The validated mapping of ``path``.

    Raises:
        ConfigError: every problem at once, as ``file: field: reason``.
    """
    try:
        data = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such shop mapping file") from None
    except yaml.YAMLError as err:
        raise ConfigError(f"{path}: not valid YAML: {err}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping (country, timezone, currency, tables) at the top level")
    try:
        return ShopMapping.model_validate(data)
    except ValidationError as err:
        problems = [f"{path}: {'.'.join(map(str, e['loc'])) or 'tables'}: {e['msg']}" for e in err.errors()]
        raise ConfigError(f"{len(problems)} problem(s) in the shop mapping:\n  " + "\n  ".join(problems)) from None


def source_path(mapping_file: Path, mapping: ShopMapping, table: TableName, override: str | None = None) -> Path:
    """The file to import for ``table``: ``override`` (a nightly export) or the mapping's, relative to it."""
    return Path(override) if override else (mapping_file.parent / mapping.tables[table].file)
