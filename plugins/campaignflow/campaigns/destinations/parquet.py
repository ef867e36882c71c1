"""Generic Parquet: hashed identifiers (and content) for a warehouse or a custom sync."""

from __future__ import annotations

from campaignflow.campaigns.destinations.base import Platform

PLATFORM = Platform(
    type="parquet",
    headers={"email_sha256": "email_sha256", "phone_sha256": "phone_sha256"},
    file_format="parquet",
    content=True,
)
