"""Destinations: each platform's normalisation against golden vectors, file headers, chunks, diffs.

Golden hashes were computed with coreutils (``printf %s VALUE | sha256sum``), not with this code.
Inputs and normalised forms follow the platforms' own documented examples: Meta's customer
information parameters (``John_Smith@gmail.com`` → ``john_smith@gmail.com`` → ``62a14e44…``, the
hash Meta's documentation shows; ``+1 (616) 954-78 88`` → ``16169547888``), Google's
normalisation rules (trim, lower-case, no dots before ``@gmail.com``/``@googlemail.com``, E.164
with ``+``).
"""

from __future__ import annotations

import io

import pandas as pd
import pyarrow.parquet as pq
import pytest

from campaignflow.campaigns.destinations import PLATFORMS, export_files, export_rows, platform
from campaignflow.campaigns.identifiers import sha256_hex

GOLDEN = {
    "john_smith@gmail.com": "62a14e44f765419d10fea99367361a727c12365e2520f32218d505ed9aa0f62f",
    "16169547888": "bb2fa2e6d2cea4746530c99686d0c7886ab2019875dca2d7e9e171c0e6ada00d",
    "janedoe@gmail.com": "d6117306485ed0e50afab3ac871e98f81699151f30281527d63ff5f233656c69",
    "janedoe@googlemail.com": "338abf9ef1c8793cadc7bcf51ed595338eb727ed9e06ce3d91d566d60b975937",
    "jane.doe@example.com": "86e0b9e56c17cc4d12387e1949b85053fbe73bc3ce5a1188713a9d300cc6133d",
    "jane.doe@gmail.com": "831f6494ad6be4fcb3a724c3d5fef22d3ceffa3c62ef3a7984e45a0ea177f982",
    "+18005550102": "c5383c2eeada28210d27f011bc127d4f9562cf38ff0c9bba33dd45ae79b9fe7c",
    "+447700900123": "a8acc3a90a7b4e4dc65e93db9240ed26523050ef754d63b75b5161de76781436",
    "447700900123": "033134b911b137918338415ee3d20a064b24773d36a3b02e8b99fdd3fcd6b4cd",
}

EMAILS = [
    # (platform, raw, normalised)
    ("meta_custom_audience", "John_Smith@gmail.com", "john_smith@gmail.com"),
    ("meta_custom_audience", "  Jane.Doe@Gmail.com ", "jane.doe@gmail.com"),  # Meta keeps Gmail dots
    ("google_customer_match", "  Jane.Doe@Gmail.com ", "janedoe@gmail.com"),
    ("google_customer_match", "JANE.DOE@googlemail.com", "janedoe@googlemail.com"),
    ("google_customer_match", "Jane.Doe@Example.com", "jane.doe@example.com"),  # dots stay elsewhere
    ("email_csv", " Jane.Doe@Example.COM", "jane.doe@example.com"),
    ("parquet", "John_Smith@gmail.com", "john_smith@gmail.com"),
]
PHONES = [
    ("meta_custom_audience", "+1 (616) 954-78 88", "US", "16169547888"),
    ("meta_custom_audience", "07700 900123", "GB", "447700900123"),  # country code, no '+', no trunk 0
    ("google_customer_match", "(800) 555-0102", "US", "+18005550102"),
    ("google_customer_match", "0044 (0)7700 900123", "DE", "+447700900123"),
    ("email_csv", "+44 7700 900123", "FR", "+447700900123"),
]


@pytest.mark.parametrize(("kind", "raw", "normalised"), EMAILS)
def test_email_golden_vectors(kind: str, raw: str, normalised: str) -> None:
    assert platform(kind).email(raw) == normalised
    assert sha256_hex(platform(kind).email(raw)) == GOLDEN[normalised]


@pytest.mark.parametrize(("kind", "raw", "country", "normalised"), PHONES)
def test_phone_golden_vectors(kind: str, raw: str, country: str, normalised: str) -> None:
    assert platform(kind).phone(raw, country) == normalised
    assert sha256_hex(platform(kind).phone(raw, country)) == GOLDEN[normalised]


def people(n: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    ids = [f"c{i:05d}" for i in range(n)]
    contacts = pd.DataFrame(
        {
            "customer_id": ids,
            "email": [f" Person.{i}@Gmail.com" if i % 7 else None for i in range(n)],
            "phone": [f"07700 9{i:05d}" if i % 3 else None for i in range(n)],
            "country": "GB",
            "marketing_consent": True,
            "unsubscribed": False,
        }
    )
    return pd.DataFrame({"customer_id": ids, "group": "treatment"}), contacts


def test_files_use_each_platforms_headers_and_no_raw_pii() -> None:
    treatment, contacts = people(50)
    for kind, target in PLATFORMS.items():
        rows = export_rows(treatment, contacts, target, ["email_sha256", "phone_sha256"])
        files, counts = export_files(rows, target, ["email_sha256", "phone_sha256"], None)
        first = files[f"audience-00001.{target.file_format}"]
        frame = (
            pq.read_table(io.BytesIO(first)).to_pandas()
            if target.file_format == "parquet"
            else pd.read_csv(io.BytesIO(first))
        )
        assert list(frame.columns) == [target.headers["email_sha256"], target.headers["phone_sha256"]], kind
        assert counts["rows"] == len(rows) == 50 - 50 // 21 - 1  # neither email nor phone: ids 0, 21, 42
        values = frame.stack().astype(str)
        assert values.str.fullmatch(r"[0-9a-f]{64}").all(), kind  # hashes only, no raw PII


def test_meta_files_are_cut_at_ten_thousand_rows_and_google_at_a_hundred_thousand() -> None:
    treatment, contacts = people(25_000)
    meta = platform("meta_custom_audience")
    rows = export_rows(treatment, contacts, meta, ["email_sha256"])
    files, _ = export_files(rows, meta, ["email_sha256"], None)
    audience = sorted(n for n in files if n.startswith("audience-"))
    assert audience == ["audience-00001.csv", "audience-00002.csv", "audience-00003.csv"]
    sizes = [len(pd.read_csv(io.BytesIO(files[n]))) for n in audience]
    assert sizes == [10_000, 10_000, len(rows) - 20_000]
    google = platform("google_customer_match")
    files, _ = export_files(export_rows(treatment, contacts, google, ["email_sha256"]), google, ["email_sha256"], None)
    assert sorted(n for n in files if n.startswith("audience-")) == ["audience-00001.csv"]


def test_mirror_platforms_carry_adds_and_removes_against_the_previous_publication() -> None:
    treatment, contacts = people(40)
    target = platform("google_customer_match")
    ids = ["email_sha256"]
    yesterday = export_rows(treatment.iloc[:25], contacts, target, ids)
    today = export_rows(treatment.iloc[10:], contacts, target, ids)
    files, counts = export_files(today, target, ids, yesterday)
    adds = pd.read_csv(io.BytesIO(files["adds-00001.csv"]))
    removes = pd.read_csv(io.BytesIO(files["removes-00001.csv"]))
    assert set(adds["Email"]) == set(today["email_sha256"]) - set(yesterday["email_sha256"])
    assert set(removes["Email"]) == set(yesterday["email_sha256"]) - set(today["email_sha256"])
    assert counts["adds"] == len(adds) > 0 and counts["removes"] == len(removes) > 0
    _, first_counts = export_files(today, target, ids, None)  # the first publication: all adds
    assert first_counts["adds"] == len(today) and first_counts["removes"] == 0
    assert "adds-00001.csv" not in export_files(today, platform("email_csv"), ids, yesterday)[0]


def test_an_empty_audience_is_one_file_with_headers() -> None:
    treatment, contacts = people(5)
    target = platform("meta_custom_audience")
    rows = export_rows(treatment.iloc[0:0], contacts, target, ["email_sha256", "phone_sha256"])
    files, counts = export_files(rows, target, ["email_sha256", "phone_sha256"], None)
    assert files["audience-00001.csv"] == b"email,phone\n" and counts["rows"] == 0


def test_decode_reads_back_what_files_wrote() -> None:
    treatment, contacts = people(30)
    for kind, target in PLATFORMS.items():
        rows = export_rows(treatment, contacts, target, ["email_sha256", "phone_sha256"])
        back = target.decode(target.files(rows))
        pd.testing.assert_frame_equal(
            back.reset_index(drop=True), rows.reset_index(drop=True), check_dtype=False, obj=kind
        )
