"""The generated shop the end-to-end and scheduler tests share, and its daily runs as the reference.

The same spec, settings and dates everywhere, so a backfill through the real scheduler can be
compared byte for byte with the daily runs ``dag.test`` made of the same shop.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from campaignflow.io.storage import LocalStore
from campaignflow.runtime import Runtime
from campaignflow.settings import Settings
from campaignflow.synthetic.generate import ShopSpec, generate_shop
from tests.conftest import ROOT

START = date(2024, 1, 1)
DAYS = 100
D1, D2, BAD = date(2024, 4, 7), date(2024, 4, 8), date(2024, 4, 9)
CAMPAIGNS = ("vip_care", "winback")
SPEC = ShopSpec(
    customers=800, days=DAYS, start=START, seed=5, faults=frozenset({"duplicates"}), fault_dates=frozenset({BAD})
)
# what a date's daily run commits in the lake (models/ holds training throughput, a timing, in its
# metrics: the scores and recommendations the models make are compared instead)
DATA_ZONES = (
    "raw",
    "daily",
    "state",
    "features",
    "segments",
    "dims",
    "labels",
    "scores",
    "recommendations",
    "audiences",
    "registry",
)


@dataclass(frozen=True)
class Shop:
    root: Path
    env: dict[str, str]

    def runtime(self) -> Runtime:
        return Runtime.from_settings(Settings.from_env({**os.environ, **self.env}))


def shop_env(root: Path, bucket: str, endpoint: str | None) -> dict[str, str]:
    env = {
        "CAMPAIGNFLOW_LAKE": str(root / "lake"),
        "CAMPAIGNFLOW_LANDING": f"s3://{bucket}/landing",
        "CAMPAIGNFLOW_EXPORTS": f"s3://{bucket}/exports",
        "CAMPAIGNFLOW_CHURN_HORIZON_DAYS": "30",
        "CAMPAIGNFLOW_CAMPAIGNS_DIR": str(ROOT / "campaigns"),
    }
    if endpoint:
        env["CAMPAIGNFLOW_S3_ENDPOINT_URL"] = endpoint
    return env


@contextmanager
def environment(env: dict[str, str]) -> Iterator[None]:
    """``env`` applied to this process for the block."""
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def make_daily_shop(root: Path, bucket: str, endpoint: str, spec: ShopSpec = SPEC) -> Shop:
    """Generate the shop into landing (S3) and load its history up to the day before D1."""
    from jobs import load_history

    shop = Shop(root, shop_env(root, bucket, endpoint))
    with environment(shop.env):
        rt = Runtime.from_settings()
        generate_shop(spec, rt.landing, LocalStore(root / "truth"))
        load_history.run(rt, None, str(D1 - timedelta(days=1)))
    return shop


def lake_fingerprint(shop: Shop, dates: list[date]) -> dict[str, dict[str, Any]]:
    """{partition key: rows, manifest meta and a hash of the rows} of every data partition of ``dates``.

    Data, not bytes: the same rows written by Spark Connect and by in-process Spark differ in the
    Parquet footer's schema metadata. The shop's own locations (bucket, lake folder) are placeholders.
    """
    import pandas as pd

    lake_root = shop.root / "lake"
    places = {shop.env["CAMPAIGNFLOW_LANDING"]: "<landing>", str(lake_root): "<lake>"}
    out = {}
    for zone in DATA_ZONES:
        for path in sorted((lake_root / zone).rglob("_manifest.json")) if (lake_root / zone).exists() else []:
            key = str(path.parent.relative_to(lake_root))
            if not any(key.endswith(f"dt={d}") for d in dates):
                continue
            text = path.read_text()
            for place, placeholder in places.items():
                text = text.replace(place, placeholder)
            manifest = json.loads(text)
            parts = sorted(path.parent.glob("*.parquet"))
            frame = pd.concat([pd.read_parquet(p) for p in parts], ignore_index=True) if parts else pd.DataFrame()
            digest = hashlib.sha256(frame.to_json(orient="split", date_format="iso").encode()).hexdigest()
            out[key] = {
                "rows": manifest.get("rows"),
                "meta": manifest.get("meta"),
                "columns": list(frame.columns),
                "data": digest,
            }
    return out
