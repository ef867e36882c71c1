"""Import a shop's files into landing, then raw: the flows behind ``import-orders`` and ``import``.

Each flow checks the whole file before writing, lands it, then loads the landed days into raw with
``load_days`` (the load-history job: staging and the same validation as the nightly runs).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from campaignflow.ingest import dimensions, importer
from campaignflow.ingest.mapping import IMPORT_ORDER, ShopMapping, TableName, source_path
from campaignflow.io import datasets, landing
from campaignflow.runtime import Runtime

LoadDays = Callable[[str, str], dict[str, Any]]  # (first day, last day) -> load-history's result


def import_orders(
    rt: Runtime,
    path: Path,
    columns: importer.ColumnMapping,
    options: importer.ImportOptions,
    mode: importer.Mode,
    load_days: LoadDays,
) -> dict[str, Any]:
    """An order log (orders, lines, returns) into landing and raw; what was imported and flagged."""
    imported = importer.prepare_orders(importer.read_source(path, options.csv), columns, str(path), options)
    importer.check_ids_against_lake(imported, rt.lake, mode)
    landed = importer.write_landing(imported, rt.landing, mode)
    loaded = load_days(landed["from"], landed["to"])
    flagged = {"flagged (unusual, kept)": loaded["flagged"]} if "flagged" in loaded else {}
    return {"file": str(path), **landed, "raw_rows": loaded["raw_rows"], **flagged, "lake": rt.lake.uri}


def import_table(
    rt: Runtime,
    table: TableName,
    path: Path,
    columns: dict[str, str],
    options: importer.ImportOptions,
    country: str | None,
    mode: importer.Mode,
    load_days: LoadDays,
) -> dict[str, Any]:
    """A customers or products file onto the landed history, then raw."""
    days = landing.complete_dates(rt.landing)
    text = importer.read_source(path, options.csv)
    prepared = dimensions.prepare(table, text, columns, str(path), days, options, country)
    if table == "products":
        lines = rt.lake.read_range(datasets.raw("order_lines"), columns=["product_id", "unit_price"])
        off = dimensions.price_disagreements(prepared.frame, lines) if lines is not None else 0
        if off:
            prepared.flagged[f"products priced over {dimensions.PRICE_TOLERANCE:.0%} away from their lines' median"] = (
                off
            )
    landed = dimensions.write_landing(prepared, rt.landing, mode)
    loaded = load_days(*dimensions.affected_days(prepared))
    return {"file": str(path), **landed, "notes": prepared.notes, "flagged": prepared.flagged, **loaded}


def import_shop(
    rt: Runtime,
    mapping_file: Path,
    mapping: ShopMapping,
    files: dict[str, str],
    mode: importer.Mode,
    load_days: LoadDays,
) -> dict[str, Any]:
    """Every table of a shop mapping (or those ``files`` names, for a nightly export), orders first."""
    chosen = [t for t in IMPORT_ORDER if t in mapping.tables and (not files or t in files)]
    out: dict[str, Any] = {}
    for table in chosen:
        path = source_path(mapping_file, mapping, table, files.get(table))
        options = mapping.options(table)
        if table == "orders":
            out[table] = import_orders(rt, path, mapping.order_columns(), options, mode, load_days)
        else:
            columns = mapping.tables[table].columns
            out[table] = import_table(rt, table, path, columns, options, mapping.country, mode, load_days)
    return out
