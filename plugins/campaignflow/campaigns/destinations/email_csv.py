"""Email-tool CSV: hashed identifiers plus the campaign's personalised content, one file."""

from __future__ import annotations

from campaignflow.campaigns.destinations.base import Platform

PLATFORM = Platform(
    type="email_csv",
    headers={"email_sha256": "email_sha256", "phone_sha256": "phone_sha256"},
    content=True,
)
