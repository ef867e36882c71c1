"""A corpus of awkward real-world order exports: each imports correctly or fails clearly, writing nothing."""

from __future__ import annotations

import gzip
import io
from pathlib import Path

import pandas as pd
import pytest

from campaignflow.cli import main
from campaignflow.io import datasets
from campaignflow.runtime import Runtime

HEADER = "customer_id,order_ts,amount,order_id\n"
ROWS = "c1,2024-01-01T10:00:00,19.90,A1\nc2,2024-01-02T11:00:00,5.00,A2\n"


def run_import(runtime_env: Runtime, path: Path, *flags: str, capsys) -> tuple[int, str]:  # type: ignore[no-untyped-def]
    rc = main(["import-orders", str(path), "--order-id-col", "order_id", *flags])
    return rc, capsys.readouterr().err


def orders(rt: Runtime) -> pd.DataFrame:
    frame = rt.lake.read_range(datasets.raw("orders"))
    assert frame is not None
    return frame.sort_values("order_id", ignore_index=True)


def nothing_written(rt: Runtime) -> bool:
    return rt.lake.store.list_keys("raw") == [] and rt.landing.list_keys("") == []


# -- handled correctly ---------------------------------------------------------------------------

GOOD_BYTES = {
    "no final newline": (HEADER + ROWS.rstrip("\n")).encode(),
    "CR-only line endings": (HEADER + ROWS).replace("\n", "\r").encode(),
    "CRLF line endings": (HEADER + ROWS).replace("\n", "\r\n").encode(),
    "UTF-8 with BOM": b"\xef\xbb\xbf" + (HEADER + ROWS).encode(),
    "UTF-16 with BOM": (HEADER + ROWS).encode("utf-16"),
    "gzip-compressed": gzip.compress((HEADER + ROWS).encode(), mtime=0),
    "semicolons": (HEADER + ROWS).replace(",", ";").encode(),
    "tabs": (HEADER + ROWS).replace(",", "\t").encode(),
    "blank lines": (HEADER + "\n" + ROWS + "\n\n").encode(),
}


@pytest.mark.parametrize("case", sorted(GOOD_BYTES))
def test_real_file_shapes_import(tmp_path: Path, runtime_env: Runtime, capsys, case: str) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / ("log.csv.gz" if "gzip" in case else "log.csv")
    path.write_bytes(GOOD_BYTES[case])
    rc, err = run_import(runtime_env, path, capsys=capsys)
    assert rc == 0, err
    got = orders(runtime_env)
    assert got[["order_id", "customer_id", "amount"]].values.tolist() == [["A1", "c1", 19.9], ["A2", "c2", 5.0]]


def test_latin1_needs_its_encoding_named(tmp_path: Path, runtime_env: Runtime, capsys) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "log.csv"
    path.write_bytes((HEADER + "Müller,2024-01-01T10:00:00,3.00,A1\n").encode("latin-1"))
    rc, err = run_import(runtime_env, path, capsys=capsys)
    assert rc == 2 and f"{path}: line 2: byte 0xfc is not valid utf-8" in err and "--encoding latin-1" in err
    assert nothing_written(runtime_env)
    rc, err = run_import(runtime_env, path, "--encoding", "latin-1", capsys=capsys)
    assert rc == 0, err
    assert orders(runtime_env)["customer_id"].tolist() == ["Müller"]


def test_decimal_commas(tmp_path: Path, runtime_env: Runtime, capsys) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "log.csv"
    path.write_text(
        "customer_id;order_ts;amount;order_id\nc1;2024-01-01T10:00:00;1.234,56;A1\nc2;2024-01-01T11:00:00;7,5;A2\n"
    )
    rc, err = run_import(runtime_env, path, "--decimal-comma", capsys=capsys)
    assert rc == 0, err
    assert orders(runtime_env)["amount"].tolist() == [1234.56, 7.5]


def test_time_zones(tmp_path: Path, runtime_env: Runtime, capsys) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "log.csv"
    path.write_text(
        HEADER + "c1,2024-01-01T00:30:00+01:00,1,A1\nc2,2024-01-01T10:00:00,1,A2\nc3,2024-07-01T12:00:00Z,1,A3\n"
    )
    rc, err = run_import(runtime_env, path, "--timezone", "Europe/Berlin", capsys=capsys)
    assert rc == 0, err
    got = orders(runtime_env).set_index("order_id")["order_ts"]
    assert got["A1"] == pd.Timestamp("2023-12-31T23:30:00")  # an explicit offset wins; the day moves
    assert got["A2"] == pd.Timestamp("2024-01-01T09:00:00")  # naive: Berlin winter time
    assert got["A3"] == pd.Timestamp("2024-07-01T12:00:00")
    assert runtime_env.lake.committed_dates(datasets.raw("orders"))[0] == "2023-12-31"


@pytest.mark.parametrize(
    ("values", "fmt", "want"),
    [
        (["1704103200", "1704189600"], "epoch_s", ["2024-01-01T10:00:00", "2024-01-02T10:00:00"]),
        (["1704103200000", "1704189600000"], "epoch_ms", ["2024-01-01T10:00:00", "2024-01-02T10:00:00"]),
        (["45292.5", "45293.25"], "excel", ["2024-01-01T12:00:00", "2024-01-02T06:00:00"]),
    ],
)
def test_numeric_dates_need_their_format(tmp_path: Path, runtime_env: Runtime, capsys, values, fmt, want) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "log.csv"
    path.write_text(HEADER + "".join(f"c{i},{v},1,A{i}\n" for i, v in enumerate(values)))
    rc, err = run_import(runtime_env, path, capsys=capsys)
    assert rc == 2 and "column 'order_ts' holds numbers, not dates" in err and f"--timestamp-format {fmt}" in err
    assert nothing_written(runtime_env)
    rc, err = run_import(runtime_env, path, "--timestamp-format", fmt, capsys=capsys)
    assert rc == 0, err
    assert orders(runtime_env)["order_ts"].tolist() == [pd.Timestamp(w) for w in want]


def test_leading_zero_ids_stay_text(tmp_path: Path, runtime_env: Runtime, capsys) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "log.csv"
    path.write_text(HEADER + "007,2024-01-01T10:00:00,1,0001\n")
    assert run_import(runtime_env, path, capsys=capsys)[0] == 0
    assert orders(runtime_env)[["customer_id", "order_id"]].values.tolist() == [["007", "0001"]]


def test_float_ids_in_parquet_are_whole_numbers(tmp_path: Path, runtime_env: Runtime, capsys) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "log.parquet"
    pd.DataFrame(
        {
            "customer_id": [42.0, 7.0],
            "order_ts": pd.to_datetime(["2024-01-01 10:00", "2024-01-01 11:00"]),
            "amount": [1.5, 2.0],
            "order_id": [1.0, 2.0],
        }
    ).to_parquet(path)
    assert run_import(runtime_env, path, capsys=capsys)[0] == 0
    assert orders(runtime_env)[["order_id", "customer_id"]].values.tolist() == [["1", "42"], ["2", "7"]]


ONLINE_RETAIL = """InvoiceNo,StockCode,Quantity,InvoiceDate,UnitPrice,CustomerID
536365,85123A,6,2010-12-01 08:26:00,2.55,17850
536365,71053,6,2010-12-01 08:26:00,3.39,17850
C536379,D,-1,2010-12-01 09:41:00,27.50,14527
536381,22719,-2,2010-12-01 09:41:00,1.25,15311
536382,23843,80995,2010-12-01 10:00:00,0.01,16446
"""


def test_retail_log_with_cancellations_b2b_and_unit_prices(tmp_path: Path, runtime_env: Runtime, capsys) -> None:  # type: ignore[no-untyped-def]
    """The shape of a real retail log: quantity × unit price, cancellations, a huge B2B line."""
    path = tmp_path / "online_retail.csv"
    path.write_text(ONLINE_RETAIL)
    flags = [
        "--customer-col",
        "CustomerID",
        "--timestamp-col",
        "InvoiceDate",
        "--product-col",
        "StockCode",
        "--quantity-col",
        "Quantity",
        "--unit-price-col",
        "UnitPrice",
        "--return-prefix",
        "C",
    ]
    rc = main(["import-orders", str(path), "--order-id-col", "InvoiceNo", *flags])
    assert rc == 0, capsys.readouterr().err
    got = orders(runtime_env)
    assert got[["order_id", "customer_id", "amount"]].values.tolist() == [
        ["536365", "17850", round(6 * 2.55 + 6 * 3.39, 2)],
        ["536382", "16446", 809.95],
    ]
    returns = runtime_env.lake.read_range(datasets.raw("returns"))
    assert returns is not None
    assert sorted(returns[["return_id", "amount", "quantity"]].values.tolist()) == [
        ["536381", 2.5, 2],
        ["C536379", 27.5, 1],
    ]
    lines = runtime_env.lake.read_frame(datasets.raw("order_lines").at("2010-12-01"))
    assert 80995 in lines["quantity"].tolist()  # a B2B order is data, not an error
    meta = runtime_env.lake.manifest(datasets.raw("order_lines").at("2010-12-01"))["meta"]
    assert [o["column"] for o in meta["outliers"]] == ["quantity"]  # ... but it is flagged


# -- overlapping and repeated imports ------------------------------------------------------------


def test_overlapping_import_is_refused_merged_or_replaced(tmp_path: Path, runtime_env: Runtime, capsys) -> None:  # type: ignore[no-untyped-def]
    first, second = tmp_path / "first.csv", tmp_path / "second.csv"
    first.write_text(HEADER + ROWS)
    second.write_text(HEADER + "c3,2024-01-02T12:00:00,9.00,A3\nc1,2024-01-03T09:00:00,4.00,A4\n")
    assert run_import(runtime_env, first, capsys=capsys)[0] == 0
    before = runtime_env.landing.list_keys("")
    rc, err = run_import(runtime_env, second, capsys=capsys)
    assert rc == 2 and "already has 1 day(s) between 2024-01-02 and 2024-01-03" in err and "--mode merge" in err
    assert runtime_env.landing.list_keys("") == before
    assert run_import(runtime_env, second, "--mode", "merge", capsys=capsys)[0] == 0
    assert orders(runtime_env)["order_id"].tolist() == ["A1", "A2", "A3", "A4"]  # nothing lost
    assert run_import(runtime_env, second, "--mode", "merge", capsys=capsys)[0] == 0  # idempotent
    assert orders(runtime_env)["order_id"].tolist() == ["A1", "A2", "A3", "A4"]
    assert run_import(runtime_env, second, "--mode", "replace", capsys=capsys)[0] == 0
    assert orders(runtime_env)["order_id"].tolist() == ["A1", "A3", "A4"]  # its days replaced: A2 gone


def test_an_order_id_already_landed_on_another_day_is_refused(tmp_path: Path, runtime_env: Runtime, capsys) -> None:  # type: ignore[no-untyped-def]
    first, second = tmp_path / "first.csv", tmp_path / "second.csv"
    first.write_text(HEADER + ROWS)
    second.write_text(HEADER + "c9,2024-02-10T12:00:00,9.00,A1\n")  # another store's file reusing A1
    assert run_import(runtime_env, first, capsys=capsys)[0] == 0
    rc, err = run_import(runtime_env, second, capsys=capsys)
    assert rc == 2 and "line 2: A1 (landed 2024-01-01, here 2024-02-10)" in err
    assert orders(runtime_env)["order_id"].tolist() == ["A1", "A2"]


def test_merge_refuses_an_order_id_with_different_content(tmp_path: Path, runtime_env: Runtime, capsys) -> None:  # type: ignore[no-untyped-def]
    first, second = tmp_path / "first.csv", tmp_path / "second.csv"
    first.write_text(HEADER + ROWS)
    second.write_text(HEADER + "c2,2024-01-02T11:00:00,6.00,A2\n")
    assert run_import(runtime_env, first, capsys=capsys)[0] == 0
    rc, err = run_import(runtime_env, second, "--mode", "merge", capsys=capsys)
    assert rc == 2 and "order_id(s) are landed already with different values (['A2'])" in err
    assert orders(runtime_env)["amount"].tolist() == [19.9, 5.0]


# -- refused with a clear error, nothing written -------------------------------------------------

BAD = {
    "empty file": (b"", "the file is empty"),
    "header only": (HEADER.encode(), "no data rows (only a header)"),
    "duplicated header": (
        b"customer_id,order_ts,amount,amount\nc1,2024-01-01,1,2\n",
        "['amount'] appear more than once",
    ),
    "ragged row": (
        (HEADER + "c1,2024-01-01T10:00:00,1,A1\nc2,secret@mail.com,+4477009,2024-01-01,5,A2\n").encode(),
        "record 3 (line 3): cannot be parsed as CSV: Expected 4 columns, got 6",
    ),
    "excel workbook": (b"PK\x03\x04" + b"\x00" * 100, "an Excel workbook"),
    "future date": (
        (HEADER + "c1,2099-01-01T10:00:00,1,A1\n").encode(),
        "line 2, column 'order_ts': dated in the future",
    ),
    "epoch placeholder": (
        (HEADER + "c1,1970-01-01T00:00:00,1,A1\nc2,2024-01-01T00:00:00,1,A2\n").encode(),
        "line 2, column 'order_ts': dated before 1980-01-01 (a placeholder date?)",
    ),
    "order id on two days": (
        (HEADER + "c1,2024-01-01T10:00:00,1,A1\nc1,2024-01-05T10:00:00,1,A1\n").encode(),
        "column 'order_id' fails rule 'one order id, one day' for 1 id(s) (lines [2, 3])",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_files_fail_clearly_and_write_nothing(tmp_path: Path, runtime_env: Runtime, capsys, case: str) -> None:  # type: ignore[no-untyped-def]
    data, message = BAD[case]
    path = tmp_path / "log.csv"
    path.write_bytes(data)
    rc, err = run_import(runtime_env, path, capsys=capsys)
    assert rc == 2, err
    assert str(path) in err and message in err and "Traceback" not in err
    assert "secret@mail.com" not in err and "+4477009" not in err  # rows are never echoed
    assert nothing_written(runtime_env)


@pytest.mark.parametrize("placeholder", ["NULL", "null", "N/A", "None", "nan", "-"])
def test_placeholder_customer_ids_are_not_customers(
    tmp_path: Path, runtime_env: Runtime, capsys, placeholder: str
) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "log.csv"
    path.write_text(HEADER + f"c1,2024-01-01T10:00:00,1,A1\n{placeholder},2024-01-01T11:00:00,1,A2\n")
    rc, err = run_import(runtime_env, path, capsys=capsys)
    assert rc == 2 and "line 3, column 'customer_id': a placeholder for a missing id, not an id" in err
    assert nothing_written(runtime_env)


def test_directory_truncated_parquet_and_excel_suffix(tmp_path: Path, runtime_env: Runtime, capsys) -> None:  # type: ignore[no-untyped-def]
    truncated = tmp_path / "log.parquet"
    buf = io.BytesIO()
    pd.DataFrame({"customer_id": ["a"], "order_ts": ["2024-01-01"], "amount": [1.0]}).to_parquet(buf)
    truncated.write_bytes(buf.getvalue()[:-40])
    (tmp_path / "book.xlsx").write_bytes(b"PK\x03\x04")
    for path, message in (
        (tmp_path, "is a directory"),
        (truncated, "not a readable Parquet file"),
        (tmp_path / "book.xlsx", "an Excel workbook"),
        (tmp_path / "nope.csv", "no such file"),
    ):
        rc = main(["import-orders", str(path)])
        err = capsys.readouterr().err
        assert rc == 2 and message in err and "Traceback" not in err, err
    assert nothing_written(runtime_env)


def test_quoted_newlines_keep_line_numbers(tmp_path: Path, runtime_env: Runtime, capsys) -> None:  # type: ignore[no-untyped-def]
    """Large files with quoted newlines parse (no 'out of sync'), and errors name the right line."""
    rows = [f'c{i},2024-01-01T10:00:00,1,A{i},"note {i}\nsecond line"\n' for i in range(3000)]
    rows.append('c_bad,2024-01-01T10:00:00,abc,Z1,"x"\n')
    path = tmp_path / "log.csv"
    path.write_text(HEADER.rstrip("\n") + ",note\n" + "".join(rows))
    rc, err = run_import(runtime_env, path, capsys=capsys)
    assert rc == 2 and "line 6002, column 'amount': not a valid float" in err


# -- what real line-level exports do -------------------------------------------------------------

CANCELLATIONS = """InvoiceNo,StockCode,Quantity,InvoiceDate,UnitPrice,CustomerID
536365,85123A,6,2010-12-01 08:26:00,2.55,17850
536365,71053,6,2010-12-01 08:26:00,3.39,17850
C536379,D,-1,2010-12-01 09:41:00,27.50,14527
C536383,35004C,-1,2010-12-01 09:49:00,4.65,15311
C536383,22556,-12,2010-12-01 09:49:00,1.65,15311
C536383,22556,-12,2010-12-01 09:49:00,1.65,15311
536390,22941,-3,2010-12-01 10:19:00,8.50,17511
536390,22941,10,2010-12-01 10:19:00,8.50,17511
"""


def test_multi_line_cancellation_invoices_and_partial_cancellations(
    tmp_path: Path, runtime_env: Runtime, capsys
) -> None:  # type: ignore[no-untyped-def]
    """A cancellation invoice has a line per product (even the same product twice); a negative line
    in a plain order is a partial cancellation of that order."""
    path = tmp_path / "retail.csv"
    path.write_text(CANCELLATIONS)
    flags = ["--customer-col", "CustomerID", "--timestamp-col", "InvoiceDate", "--product-col", "StockCode"]
    flags += ["--quantity-col", "Quantity", "--unit-price-col", "UnitPrice", "--return-prefix", "C"]
    rc = main(["import-orders", str(path), "--order-id-col", "InvoiceNo", *flags])
    assert rc == 0, capsys.readouterr().err
    returns = runtime_env.lake.read_range(datasets.raw("returns"))
    assert returns is not None
    got = sorted(returns[["return_id", "order_id", "product_id", "quantity", "amount"]].astype(str).values.tolist())
    assert got == [
        ["536390", "536390", "22941", "3", "25.5"],  # partial: the original order is known
        ["C536379", "None", "D", "1", "27.5"],  # a cancellation invoice names no original order
        ["C536383", "None", "22556", "12", "19.8"],
        ["C536383", "None", "22556", "12", "19.8"],
        ["C536383", "None", "35004C", "1", "4.65"],
    ]
    assert orders(runtime_env)["order_id"].tolist() == ["536365", "536390"]
    assert main(["import-orders", str(path), "--order-id-col", "InvoiceNo", *flags, "--mode", "merge"]) == 0
    assert len(runtime_env.lake.read_range(datasets.raw("returns"))) == 5  # type: ignore[arg-type]  # merge: idempotent


TA_FENG_LIKE = """"TRANSACTION_DT","CUSTOMER_ID","PRODUCT_ID","AMOUNT","SALES_PRICE"
"11/1/2000","01104905","4710199010372","2","30"
"11/1/2000","01104905","4710857472535","1","46"
"11/1/2000","00418683","4710857472535","1","46"
"11/30/2000","01104905","4710043654103","2","166"
"""


def test_line_log_without_order_ids_and_with_local_dates(tmp_path: Path, runtime_env: Runtime, capsys) -> None:  # type: ignore[no-untyped-def]
    """A customer's lines on one day are one order; ``11/30/2000`` shows the month comes first."""
    path = tmp_path / "ta_feng.csv"
    path.write_text(TA_FENG_LIKE)
    flags = ["--customer-col", "CUSTOMER_ID", "--timestamp-col", "TRANSACTION_DT", "--amount-col", "SALES_PRICE"]
    rc = main(["import-orders", str(path), *flags, "--product-col", "PRODUCT_ID", "--quantity-col", "AMOUNT"])
    out, err = capsys.readouterr()
    assert rc == 0, err
    assert "each customer's lines on one day are one order" in out
    got = orders(runtime_env).sort_values(["order_ts", "customer_id"])
    assert got[["customer_id", "amount"]].values.tolist() == [
        ["00418683", 46.0],
        ["01104905", 76.0],
        ["01104905", 166.0],
    ]
    assert got["order_ts"].dt.strftime("%Y-%m-%d").tolist() == ["2000-11-01", "2000-11-01", "2000-11-30"]


@pytest.mark.parametrize(
    ("values", "flag", "want"),
    [
        (["01.03.2024", "02.03.2024"], None, "cannot be told"),  # every day 12 or less: refused, both orders named
        (["13/03/2024", "03/13/2024"], None, "both orders occur"),
        (["01.03.2024 10:30", "13.03.2024 09:00"], None, ["2024-03-01 10:30", "2024-03-13 09:00"]),
        (["01.03.2024", "02.03.2024"], "%d.%m.%Y", ["2024-03-01 00:00", "2024-03-02 00:00"]),
        (["01.03.2024", "02.03.2024"], "%m.%d.%Y", ["2024-01-03 00:00", "2024-02-03 00:00"]),
        (["01.03.2024", "31.02.2024"], "%d.%m.%Y", "line 3, column 'order_ts': not a valid timestamp"),
    ],
)
def test_dates_written_the_local_way(tmp_path: Path, runtime_env: Runtime, capsys, values, flag, want) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "log.csv"
    path.write_text(HEADER + "".join(f"c{i},{v},1.00,A{i}\n" for i, v in enumerate(values)))
    rc, err = run_import(runtime_env, path, *(["--timestamp-format", flag] if flag else []), capsys=capsys)
    if isinstance(want, str):
        assert rc == 2 and want in err and "--timestamp-format" in err, err
        assert nothing_written(runtime_env)
    else:
        assert rc == 0, err
        assert orders(runtime_env)["order_ts"].dt.strftime("%Y-%m-%d %H:%M").tolist() == want


def test_non_merchandise_and_free_lines(tmp_path: Path, runtime_env: Runtime, capsys) -> None:  # type: ignore[no-untyped-def]
    """Postage and a quantity-0 adjustment count in the order's amount but are not products; a free item is one."""
    path = tmp_path / "lines.csv"
    path.write_text(
        "order_id,customer_id,order_ts,product_id,quantity,amount\n"
        "B1,h1,2017-01-01 11:53:26,p1,2,5.00\n"
        "B1,h1,2017-01-01 11:53:26,POST,1,3.50\n"
        "B1,h1,2017-01-01 11:53:26,p2,0,0.40\n"
        "B1,h1,2017-01-01 11:53:26,p3,1,0\n"
    )
    flags = ["--product-col", "product_id", "--quantity-col", "quantity", "--non-merchandise", "POST, M"]
    rc = main(["import-orders", str(path), "--order-id-col", "order_id", *flags])
    out, err = capsys.readouterr()
    assert rc == 0, err
    assert "2 non-merchandise line(s)" in out
    assert orders(runtime_env)["amount"].tolist() == [8.9]
    lines = runtime_env.lake.read_frame(datasets.raw("order_lines").at("2017-01-01"))
    assert sorted(lines[["product_id", "quantity", "unit_price"]].values.tolist()) == [["p1", 2, 2.5], ["p3", 1, 0.0]]


@pytest.mark.parametrize(
    ("values", "flags", "want"),
    [
        (["19.90", "5.00"], ["--decimal-comma"], "import again without --decimal-comma"),
        (["1704103200000", "1704189600000"], ["--timestamp-format", "epoch_s"], "--timestamp-format epoch_ms"),
        (["1704103200", "1704189600"], ["--timestamp-format", "epoch_ms"], "--timestamp-format epoch_s"),
    ],
)
def test_an_option_that_contradicts_the_file_is_refused(
    tmp_path: Path, runtime_env: Runtime, capsys, values, flags, want
) -> None:  # type: ignore[no-untyped-def]
    """Before: --decimal-comma silently multiplied 19.90 by 100, and an epoch unit off by 1000 was a traceback."""
    path = tmp_path / "log.csv"
    if "--decimal-comma" in flags:
        path.write_text(HEADER + "".join(f"c{i},2024-01-0{i + 1}T10:00:00,{v},A{i}\n" for i, v in enumerate(values)))
    else:
        path.write_text(HEADER + "".join(f"c{i},{v},1.00,A{i}\n" for i, v in enumerate(values)))
    rc, err = run_import(runtime_env, path, *flags, capsys=capsys)
    assert rc == 2 and want in err and "Traceback" not in err, err
    assert nothing_written(runtime_env)


def test_an_unusual_order_is_imported_and_said(tmp_path: Path, runtime_env: Runtime, capsys) -> None:  # type: ignore[no-untyped-def]
    """A twelve-billion order is kept (flagged in the manifest) and the import's output says so."""
    path = tmp_path / "log.csv"
    path.write_text(HEADER + ROWS + "c3,2024-01-02T12:00:00,12000000000.00,A3\n")
    rc = main(["import-orders", str(path), "--order-id-col", "order_id"])
    out, err = capsys.readouterr()
    assert rc == 0, err
    assert '"orders.amount be at most 1000000": {' in out and '"rows": 1' in out and '"lines": [\n' in out


def test_ids_differing_in_case_and_returns_of_unknown_orders_are_said(
    tmp_path: Path, runtime_env: Runtime, capsys
) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "log.csv"
    path.write_text(
        HEADER + "c1,2024-01-01T10:00:00,19.90,A1\nC1,2024-01-02T11:00:00,5.00,A2\n c1 ,2024-01-02T12:00:00,-5.00,X9\n"
    )
    rc = main(["import-orders", str(path), "--order-id-col", "order_id"])
    out, err = capsys.readouterr()
    assert rc == 0, err
    assert "2 customer id(s) differ from another only in upper/lower case" in out  # c1 and C1; " c1 " is c1
    assert "1 return line(s) name an order this file does not hold" in out
    assert sorted(orders(runtime_env)["customer_id"]) == ["C1", "c1"]
