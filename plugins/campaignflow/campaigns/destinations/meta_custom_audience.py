"""Meta Custom Audiences: SHA-256 of normalised emails and phones, ``email``/``phone`` columns.

Meta's normalisation (Marketing API, customer information parameters): emails trimmed and
lower-cased; phones as digits only *with* the country code and *without* ``+`` or leading zeros
(``+1 (616) 954-78 88`` → ``16169547888``). Files are cut at 10,000 rows, the users Meta accepts
per ``/users`` request. The audience mirrors the list, so each publication also carries the adds
and removes.
"""

from __future__ import annotations

from campaignflow.campaigns.destinations.base import Platform
from campaignflow.campaigns.identifiers import normalise_email, normalise_phone

MAX_ROWS = 10_000


def meta_phone(raw: str | None, country: str | None) -> str | None:
    """Meta's form of a phone: the E.164 digits without the ``+``."""
    e164 = normalise_phone(raw, country)
    return None if e164 is None else e164.removeprefix("+")


PLATFORM = Platform(
    type="meta_custom_audience",
    headers={"email_sha256": "email", "phone_sha256": "phone"},
    max_rows=MAX_ROWS,
    mirror=True,
    email=normalise_email,
    phone=meta_phone,
)
