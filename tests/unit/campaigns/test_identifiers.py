from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from campaignflow.campaigns.identifiers import normalise_email, normalise_phone, sha256_hex

# Golden vectors computed with coreutils `printf %s VALUE | sha256sum`, not with this code.
GOLDEN = {
    "test@example.com": "973dfe463ec85785f5f95af5ba3906eedb2d931c24e69824a89ea65dba4e813b",
    "+14155552671": "cb6880e416769253645cb9c6b8989154bf66a56a77fc14c81fb1019663cbb928",
}


@pytest.mark.parametrize("raw", ["test@example.com", "  Test@Example.COM ", "TEST@EXAMPLE.COM\t"])
def test_email_normalised_then_hashed(raw: str) -> None:
    assert sha256_hex(normalise_email(raw)) == GOLDEN["test@example.com"]


@pytest.mark.parametrize("raw", ["not an email", "a@b", "two@@example.com", "", None])
def test_invalid_email_is_none(raw: str | None) -> None:
    assert normalise_email(raw) is None


@pytest.mark.parametrize(
    ("raw", "country", "e164"),
    [
        ("(415) 555-2671", "US", "+14155552671"),
        ("1-415-555-2671", "US", "+14155552671"),
        ("+1 415 555 2671", "GB", "+14155552671"),  # an explicit country code wins
        ("07700 900123", "GB", "+447700900123"),
        ("+44 (0)7700 900123", "GB", "+447700900123"),
        ("0044 7700 900123", "DE", "+447700900123"),
        ("0151 23456789", "DE", "+4915123456789"),
        ("06 12 34 56 78", "FR", "+33612345678"),
        ("06-12345678", "NL", "+31612345678"),
        ("612 345 678", "ES", "+34612345678"),
    ],
)
def test_phone_to_e164(raw: str, country: str, e164: str) -> None:
    assert normalise_phone(raw, country) == e164


def test_phone_golden_hash() -> None:
    assert sha256_hex(normalise_phone("(415) 555-2671", "US")) == GOLDEN["+14155552671"]


@pytest.mark.parametrize(("raw", "country"), [("12", "US"), ("0151 2345", "XX"), ("", "GB"), (None, "GB")])
def test_unusable_phone_is_none(raw: str | None, country: str) -> None:
    assert normalise_phone(raw, country) is None


separators = st.lists(st.sampled_from([" ", "-", ".", "  "]), min_size=9, max_size=9)


@given(digits=st.text("0123456789", min_size=9, max_size=9), seps=separators)
def test_phone_formatting_does_not_change_identity(digits: str, seps: list[str]) -> None:
    """However a UK mobile is punctuated, national or international, it is one identifier."""
    spaced = "".join(d + s for d, s in zip(digits, seps, strict=True)).strip()
    national = normalise_phone("07" + spaced, "GB")
    assert national == "+447" + digits
    assert normalise_phone("+44 7" + spaced, "FR") == national
    assert normalise_phone("0044 (0)7" + spaced, "US") == national
