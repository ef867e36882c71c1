"""Contact identifiers for ad platforms: normalise, then SHA-256. Raw values never leave the lake.

Normalisation follows the ad platforms' customer-match rules: emails trimmed and lower-cased;
phones in E.164 (``+`` country code, national number without its trunk prefix).
"""

from __future__ import annotations

import hashlib
import re

# Country calling codes and national trunk prefixes for the markets we ship formats for.
CALLING_CODES = {
    "US": "1",
    "CA": "1",
    "GB": "44",
    "DE": "49",
    "FR": "33",
    "NL": "31",
    "ES": "34",
    "IT": "39",
    "BE": "32",
    "AT": "43",
    "CH": "41",
    "IE": "353",
    "AU": "61",
}
_TRUNK_ZERO = {"GB", "DE", "FR", "NL", "BE", "AT", "CH", "IE", "AU"}
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def normalise_email(raw: str | None) -> str | None:
    """Trimmed, lower-cased email; None if it is not an email address."""
    if raw is None:
        return None
    email = raw.strip().lower()
    return email if _EMAIL.match(email) else None


def normalise_phone(raw: str | None, country: str | None) -> str | None:
    """E.164 form (``+4477009001234``) of a phone written in any common national/international way.

    Args:
        raw: the phone as typed ("07700 900123", "+44 (0)7700 900123", "0044 7700 900123").
        country: ISO country of the customer, used when the number has no country code.

    Returns:
        The E.164 string, or None if it cannot be made one (unknown country, wrong length).
    """
    if raw is None:
        return None
    text = raw.strip()
    text = re.sub(r"\(0\)", "", text)  # "+44 (0)7700": the optional trunk zero
    digits = re.sub(r"\D", "", text)
    if not digits:
        return None
    if text.startswith("+"):
        full = digits
    elif digits.startswith("00"):
        full = digits[2:]
    else:
        code = CALLING_CODES.get((country or "").upper())
        if code is None:
            return None
        if code == "1" and len(digits) == 11 and digits.startswith("1"):
            full = digits
        else:
            national = digits[1:] if (country or "").upper() in _TRUNK_ZERO and digits.startswith("0") else digits
            full = code + national
    return f"+{full}" if 8 <= len(full) <= 15 else None


def sha256_hex(value: str | None) -> str | None:
    """Lower-case hex SHA-256 of a normalised identifier (None stays None)."""
    return None if value is None else hashlib.sha256(value.encode("utf-8")).hexdigest()
