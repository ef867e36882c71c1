"""Write a generated shop into a landing zone, one partition per day, plus the latent truth."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd

from campaignflow.ingest.schemas import ROW_COLUMN, TABLES
from campaignflow.io import datasets, landing
from campaignflow.io.lake import Lake, frame_to_parquet
from campaignflow.io.storage import ObjectStore
from campaignflow.synthetic.daily import make_day
from campaignflow.synthetic.faults import inject
from campaignflow.synthetic.population import make_catalogue, make_population
from campaignflow.synthetic.response import CampaignResponse, extra_orders

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ShopSpec:
    """What to generate.

    Attributes:
        customers: size of the customer base (existing and future sign-ups).
        days: number of consecutive export days from ``start``.
        start: first export day.
        seed: everything is a function of the seed.
        products: catalogue size (default scales with customers).
        faults: fault names to inject (see ``shop.faults``), on ``fault_dates`` (None: every day).
        fault_rate: share of rows affected by each fault.
        tables: the tables the shop exports (None: all). ``{"orders"}`` is an orders-only shop,
            ``{"orders", "order_lines", "products", "returns"}`` a line-level one without events.
        return_rate: share of order lines returned (a ``returns`` table every day when > 0).
    """

    customers: int
    days: int
    start: date
    seed: int = 7
    products: int | None = None
    faults: frozenset[str] = field(default_factory=frozenset)
    fault_dates: frozenset[date] | None = None
    fault_rate: float = 0.01
    tables: frozenset[str] | None = None
    return_rate: float = 0.0

    @property
    def n_products(self) -> int:
        return self.products or int(np.clip(self.customers // 20, 50, 5000))


@dataclass
class GenerateResult:
    days: int = 0
    rows: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


def generate_shop(
    spec: ShopSpec,
    store: ObjectStore,
    truth: ObjectStore,
    progress: Callable[[Iterable[int]], Iterable[int]] = lambda it: it,
) -> GenerateResult:
    """Generate ``spec`` into the landing ``store`` (CSV per table per day, then _SUCCESS) and ``truth``."""

    def write(day: str, tables: dict[str, pd.DataFrame]) -> None:
        landing.write_day(store, day, {name: landing.to_csv(frame) for name, frame in tables.items()})

    return _generate(spec, truth, write, progress)


def generate_raw(
    spec: ShopSpec,
    lake: Lake,
    truth: ObjectStore,
    progress: Callable[[Iterable[int]], Iterable[int]] = lambda it: it,
    days: range | None = None,
    responses: Sequence[CampaignResponse] = (),
) -> GenerateResult:
    """Generate ``spec`` straight into committed ``raw/`` partitions, typed as ingest would type them.

    For benchmarks of the stages after ingest at sizes where CSV landing and raw validation would
    dominate: the partitions are not validated (their manifests say so). ``days`` (offsets from
    the start) generates part of the shop, e.g. the days after a campaign was published, with
    ``responses`` adding each treated customer's response orders.
    """

    def write(day: str, tables: dict[str, pd.DataFrame]) -> None:
        for name, frame in tables.items():
            schema = TABLES[name]
            typed = schema.with_absent_columns(frame)[schema.names].assign(**{ROW_COLUMN: np.arange(2, len(frame) + 2)})
            for col in (c.name for c in schema.columns if c.kind == "string"):
                text = typed[col].astype("string").str.strip()  # what ingest's coerce makes of the CSV cell
                typed[col] = text.mask(text == "")
            meta = {"source": "synthetic, written straight to raw (not validated)"}
            lake.write_frame(datasets.raw(name).at(day), typed, meta, schema=schema.arrow_schema())

    return _generate(spec, truth, write, progress, days, responses)


def _generate(
    spec: ShopSpec,
    truth: ObjectStore,
    write: Callable[[str, dict[str, pd.DataFrame]], None],
    progress: Callable[[Iterable[int]], Iterable[int]],
    days: range | None = None,
    responses: Sequence[CampaignResponse] = (),
) -> GenerateResult:
    started = time.perf_counter()
    pop = make_population(spec.customers, spec.days, spec.seed)
    catalogue = make_catalogue(spec.n_products, spec.seed)
    truth.write_bytes("customers.parquet", frame_to_parquet(pop.truth(pd.Timestamp(spec.start))))
    result = GenerateResult()
    due: pd.DataFrame | None = None  # returns dated after the day being generated
    for t in progress(days if days is not None else range(spec.days)):
        export = make_day(pop, catalogue, spec.start, t, spec.seed, spec.return_rate)
        tables = export.tables
        if responses:
            extra = extra_orders(pop, catalogue, spec.start, t, spec.seed, list(responses))
            for name, frame in extra.items():
                tables[name] = pd.concat([tables[name], frame], ignore_index=True)
        if export.returns is not None:
            tables["returns"], due = _returns_due(pd.concat([due, export.returns]), export.day)
        if spec.faults and (spec.fault_dates is None or export.day in spec.fault_dates):
            rng = np.random.default_rng(np.random.SeedSequence([spec.seed, 4, t]))
            tables = inject(tables, set(spec.faults), spec.fault_rate, rng)
        if spec.tables is not None:
            tables = {name: frame for name, frame in tables.items() if name in spec.tables}
        write(export.day.isoformat(), tables)
        for name, frame in tables.items():
            result.rows[name] = result.rows.get(name, 0) + len(frame)
        result.days += 1
    result.seconds = time.perf_counter() - started
    log.info("generated %d days in %.1fs: %s", result.days, result.seconds, result.rows)
    return result


def _returns_due(pending: pd.DataFrame, day: date) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The returns dated ``day`` (in time order) and those still to come."""
    on_day = pending["return_ts"].dt.date == day
    return pending[on_day].sort_values("return_ts", kind="stable").reset_index(drop=True), pending[~on_day]
