"""Bytes of a shop's file → an all-text frame with source line numbers, or a clear error.

Handles what real exports look like: gzip-compressed files, UTF-8 with or without a BOM, UTF-16
with a BOM, any other encoding when named, CR-only / CRLF / LF line endings, a missing final
newline, ``,`` ``;`` tab or ``|`` delimiters (detected from the header), quoted values spanning
lines. Refuses, naming the file and the reason: empty files, Excel workbooks, undecodable bytes,
duplicated or empty header names, rows with the wrong number of fields. Error messages never echo
a row's content (it may hold emails and phones).
"""

from __future__ import annotations

import csv
import gzip
import io
import re
from collections import Counter
from dataclasses import dataclass

import numpy as np
import pandas as pd

from campaignflow.errors import BadInput
from campaignflow.ingest.schemas import ROW_COLUMN

DELIMITERS = (",", ";", "\t", "|")
_GZIP = b"\x1f\x8b"
_ZIP = b"PK\x03\x04"  # .xlsx, .ods, .zip
_OLE2 = b"\xd0\xcf\x11\xe0"  # legacy .xls
_UTF16 = (b"\xff\xfe", b"\xfe\xff")
_COLUMN_COUNT = re.compile(r"Expected \d+ columns, got \d+")


@dataclass(frozen=True)
class CsvOptions:
    """How to read a delimited text file; None means detect.

    Attributes:
        encoding: the file's text encoding (None: UTF-8, or UTF-16 when the file starts with its BOM).
        delimiter: field separator (None: the most frequent of , ; tab | in the header line).
    """

    encoding: str | None = None
    delimiter: str | None = None


def read_csv_text(data: bytes, file: str, options: CsvOptions | None = None) -> pd.DataFrame:
    """All columns as text exactly as written, plus ``_row`` (the line a record starts on; header = 1).

    No type inference: "007" stays "007" and "N/A" stays "N/A", so typing and its errors are ours.

    Raises:
        BadInput: the file cannot be read as a table (message names the file and the reason).
    """
    import pyarrow as pa
    import pyarrow.csv as pacsv

    options = options or CsvOptions()
    text = _decode(data, file, options.encoding)
    header_line = text.split("\n", 1)[0]
    delimiter = options.delimiter or _detect_delimiter(header_line)
    header = next(csv.reader([header_line], delimiter=delimiter), [])
    _check_header(header, file)
    body = text.encode("utf-8")
    try:
        table = pacsv.read_csv(
            io.BytesIO(body),
            parse_options=pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=True),
            convert_options=pacsv.ConvertOptions(
                column_types={name: pa.string() for name in header},
                null_values=[""],
                strings_can_be_null=True,
                quoted_strings_can_be_null=True,
            ),
        )
    except pa.ArrowInvalid as err:
        raise BadInput(f"{file}: {_describe_parse_error(str(err), text, delimiter)}") from None
    frame = table.to_pandas()
    frame[ROW_COLUMN] = _record_lines(text, delimiter, len(frame))
    return frame


def _decode(data: bytes, file: str, encoding: str | None) -> str:
    """Text of the file with ``\\n`` line endings."""
    if data.startswith(_GZIP):
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as err:
            raise BadInput(f"{file}: a gzip file that cannot be decompressed ({err})") from None
    if not data.strip():
        raise BadInput(f"{file}: the file is empty (not even a header line)")
    if data.startswith(_ZIP) or data.startswith(_OLE2):
        raise BadInput(
            f"{file}: an Excel workbook (or zip archive), not a CSV file",
            remedy="save the sheet as CSV (UTF-8) or Parquet and import that file",
        )
    if encoding is None:
        if data.startswith(_UTF16):
            encoding = "utf-16"
        else:
            encoding = "utf-8-sig"
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        raise BadInput(
            f"{file}: line {line}: byte 0x{data[err.start]:02x} is not valid {encoding.removesuffix('-sig')}",
            remedy="say which encoding the file uses (e.g. --encoding latin-1 or --encoding cp1252)",
        ) from None
    except LookupError:
        raise BadInput(f"{file}: unknown encoding {encoding!r}") from None
    text = text.removeprefix("\ufeff")
    if "\n" not in text and "\r" in text:  # classic Mac line endings
        text = text.replace("\r", "\n")
    return text.replace("\r\n", "\n")


def _detect_delimiter(header_line: str) -> str:
    counts = {d: header_line.count(d) for d in DELIMITERS}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _check_header(header: list[str], file: str) -> None:
    names = [h.strip() for h in header]
    if not any(names):
        raise BadInput(f"{file}: line 1: no header line with column names")
    blank = [i + 1 for i, name in enumerate(names) if not name]
    if blank:
        raise BadInput(f"{file}: line 1: column(s) {blank} have no name")
    dupes = sorted(name for name, count in Counter(names).items() if count > 1)
    if dupes:
        raise BadInput(f"{file}: line 1: column name(s) {dupes} appear more than once in the header")


def _describe_parse_error(message: str, text: str, delimiter: str) -> str:
    """Arrow's message without the row content it quotes, with the record and line it failed on."""
    counts = _COLUMN_COUNT.search(message)
    what = counts.group(0) if counts else message.split(":", 1)[0]
    located = _first_ragged_record(text, delimiter)
    where = f"record {located[0]} (line {located[1]}): " if located else ""
    return f"{where}cannot be parsed as CSV: {what}"


def _first_ragged_record(text: str, delimiter: str) -> tuple[int, int] | None:
    """(record number, start line) of the first record whose field count differs from the header's."""
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    width, line, record = None, 1, 0
    for row in reader:
        if row:
            record += 1
            width = width if width is not None else len(row)
            if len(row) != width:
                return record, line
        line = reader.line_num + 1
    return None


def _record_lines(text: str, delimiter: str, n: int) -> np.ndarray:
    """Start line of each data record (records are lines unless quoted values contain newlines)."""
    if '"' not in text:
        lines = np.flatnonzero([bool(line) for line in text.split("\n")]) + 1
    else:
        lines = np.asarray(_record_starts(text, delimiter), dtype=np.int64)
    return np.asarray(lines[1 : n + 1], dtype=np.int64)


def _record_starts(text: str, delimiter: str) -> list[int]:
    """Start line of every non-blank record, header included (Arrow skips blank lines too)."""
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    starts, line = [], 1
    for row in reader:
        if row:  # csv yields [] for an empty line
            starts.append(line)
        line = reader.line_num + 1
    return starts
