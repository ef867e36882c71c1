"""Contact identifiers for ad platforms and email tools: normalise, then SHA-256.

Raw values never leave the lake: destinations get hashes of the normalised forms. Phones are parsed
with ``phonenumbers`` (Google's libphonenumber metadata) into E.164; emails are trimmed and
lower-cased. Each platform's own extra rules live with its destination
(:mod:`campaignflow.campaigns.destinations`).
"""

from __future__ import annotations

import hashlib
import re

import phonenumbers

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_TRUNK_IN_BRACKETS = re.compile(r"\(\s*0\s*\)")  # "+44 (0)7700 …": the optional national trunk zero


def normalise_email(raw: str | None) -> str | None:
    """Trimmed, lower-cased email; None if it is not an email address (or missing: None, NA, NaN)."""
    if not isinstance(raw, str):
        return None
    email = raw.strip().lower()
    return email if _EMAIL.match(email) else None


GMAIL_DOMAINS = ("gmail.com", "googlemail.com")


def canonical_email(raw: str | None) -> str | None:
    """One form per mailbox: :func:`normalise_email`, and no dots in a Gmail local part (Gmail
    ignores them, and Google's Customer Match hashes it so). Consent is enforced on this form."""
    email = normalise_email(raw)
    if email is None:
        return None
    local, _, domain = email.rpartition("@")
    if domain in GMAIL_DOMAINS:
        local = local.replace(".", "")
    return f"{local}@{domain}" if local else None


def normalise_phone(raw: str | None, country: str | None) -> str | None:
    """E.164 form (``+447700900123``) of a phone written in any common national or international way.

    Args:
        raw: the phone as typed ("07700 900123", "+44 (0)7700 900123", "0044 7700 900123").
        country: ISO country of the customer, used when the number has no country code.

    Returns:
        The E.164 string, or None if it cannot be a phone number (no country to read it with,
        wrong length for its country).
    """
    if not isinstance(raw, str) or not raw.strip():
        return None
    text = _TRUNK_IN_BRACKETS.sub("", raw.strip())
    if text.startswith("00"):
        text = "+" + text[2:]
    region = country.upper() if isinstance(country, str) and country else None
    try:
        number = phonenumbers.parse(text, None if text.startswith("+") else region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def sha256_hex(value: str | None) -> str | None:
    """Lower-case hex SHA-256 of a normalised identifier (None stays None)."""
    return None if value is None else hashlib.sha256(value.encode("utf-8")).hexdigest()
