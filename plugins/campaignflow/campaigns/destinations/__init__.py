"""Destinations: one module per platform, each with its normalisation, file format and limits.

``platform(type)`` gives the :class:`~campaignflow.campaigns.destinations.base.Platform` a spec's
destination names; :func:`export_files` turns a campaign's treatment group into that platform's
files (hashed identifiers only; content where the platform takes it).
"""

from __future__ import annotations

from campaignflow.campaigns.destinations import email_csv, google_customer_match, meta_custom_audience, parquet
from campaignflow.campaigns.destinations.base import Platform, export_files, export_rows, identifier_keys

PLATFORMS: dict[str, Platform] = {
    p.type: p
    for p in (email_csv.PLATFORM, google_customer_match.PLATFORM, meta_custom_audience.PLATFORM, parquet.PLATFORM)
}


def platform(kind: str) -> Platform:
    """The platform for a destination ``type`` (the spec's schema has already refused unknown ones)."""
    return PLATFORMS[kind]


__all__ = ["PLATFORMS", "Platform", "export_files", "export_rows", "identifier_keys", "platform"]
