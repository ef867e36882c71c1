"""The data contract: every table a shop brings, each column's type, need and meaning, as Markdown.

Generated from the schemas the validation uses (:mod:`campaignflow.ingest.schemas`), the import's
extra fields (:mod:`campaignflow.ingest.dimensions`) and the feature catalogue (what a missing table
leaves null), so ``docs/data-contract.md`` cannot drift from the code: a test compares them.
"""

from __future__ import annotations

from campaignflow.features.catalogue import CATALOGUE
from campaignflow.features.state import required_tables
from campaignflow.ingest.dimensions import EXTRA_FIELDS
from campaignflow.ingest.schemas import TABLES
from campaignflow.io.datasets import REQUIRED_RAW_TABLES

HOW = {
    "orders": "`campaignflow import-orders` (an order log, or built from order lines)",
    "order_lines": "`campaignflow import-orders --product-col …` (a line-level log)",
    "returns": "`campaignflow import-orders`: negative lines, and order ids with `--return-prefix`",
    "customers": "`campaignflow import customers`",
    "products": "`campaignflow import products`",
    "events": "the nightly landing only (`landing/dt=D/events.csv`)",
}
UNLOCKS = {
    "orders": "everything: features, churn, value, segments",
    "order_lines": "units, categories and recommendations (with products)",
    "returns": "return features",
    "customers": "exports: without contacts and consent, audiences are computed but nobody is exported",
    "products": "categories, discounts and the recommender's catalogue",
    "events": "engagement features (views, carts, email opens and clicks)",
}


def markdown() -> str:
    """The contract as Markdown (``campaignflow data-contract > docs/data-contract.md``)."""
    lines = [
        "# Data contract",
        "",
        "Generated from `plugins/campaignflow/ingest/schemas.py` by `campaignflow data-contract`; a test",
        "checks it matches. A shop needs only `orders` (customer id, timestamp, amount); each further table",
        "unlocks more. Files are CSV or Parquet; the nightly landing is `landing/dt=D/<table>.csv` plus",
        "`_SUCCESS`. A required column that is missing or null refuses the file (file, line, column, rule);",
        "an optional one that is absent is null. Timestamps are UTC in the lake (`--timezone` reads local",
        "ones; `--timestamp-format` reads epoch, Excel or any strftime pattern).",
        "",
    ]
    for name, schema in TABLES.items():
        need = "required" if name in REQUIRED_RAW_TABLES else "optional"
        lines += [f"## `{name}` ({need})", "", f"- How: {HOW[name]}", f"- Unlocks: {UNLOCKS[name]}"]
        null = sorted(f.name for f in CATALOGUE if name in required_tables(f.name))
        if name not in REQUIRED_RAW_TABLES and null:
            lines.append(f"- Without it, {len(null)} feature(s) are null: {', '.join(f'`{n}`' for n in null)}")
        key = f"`{schema.unique_key}` is unique per day" if schema.unique_key else "no unique key (one row per line)"
        lines += [f"- Key: {key}", "", "| column | type | required | meaning | example |", "|---|---|---|---|---|"]
        for c in schema.columns:
            pii = " (personal data: never in logs or reports)" if c.pii else ""
            lines.append(f"| `{c.name}` | {c.kind} | {'yes' if c.required else 'no'} | {c.doc}{pii} | `{c.example}` |")
        for field, doc in EXTRA_FIELDS.get(name, {}).items():
            lines.append(f"| `{field}` | timestamp | no (import only, not landed) | {doc} | `2024-06-30T09:00:00` |")
        lines.append("")
    return "\n".join(lines)
