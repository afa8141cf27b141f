"""The SQL value parsers (data/sql/parse.sql) on every spelling of DOMAIN.md §2.2.

The macros are what types every uploaded cell, so they are tested directly on a DuckDB
connection, table-driven: raw text in, typed value (or NULL) out.
"""

from __future__ import annotations

from datetime import date, datetime

import duckdb
import pytest

from data.sqlfiles import sql


@pytest.fixture(scope="module")
def con():
    c = duckdb.connect()
    c.execute(sql("parse.create_macros"))
    yield c
    c.close()


def one(con, expr: str, v):
    return con.execute(f"SELECT {expr}", {"v": v}).fetchone()[0]


D = date(2025, 1, 3)

DATES = [
    ("2025-01-03", D),
    ("2025/1/3", D),
    ("2025/01/03", D),
    ("2025.1.3", D),
    ("2025.01.03", D),
    ("20250103", D),
    ("20250103.0", D),
    ("2025年1月3日", D),
    ("2025年01月03日", D),
    ("2025-01-03 09:15:30", D),
    ("2025/1/3 9:15", D),
    ("45660", D),
    ("45660.5", D),
    ("45660.0", D),
    ("２０２５－０１－０３", D),
    ("２０２５年１月３日", D),
    ("２０２５０１０３", D),
    (" 2025-01-03 ", D),
    ("'2025-01-03", D),
    ("\t2025/1/3", D),
    ("2024-02-29", date(2024, 2, 29)),
    ("2023-02-29", None),
    ("2025-13-01", None),
    ("20251301", None),
    ("infinity", None),
    ("-infinity", None),
    ("INF", None),
    ("not a date", None),
    ("", None),
    ("-", None),
    ("--", None),
    ("/", None),
    ("—", None),
    (None, None),
]


@pytest.mark.parametrize(("raw", "expected"), DATES)
def test_bp_date(con, raw, expected):
    assert one(con, "bp_date($v)", raw) == expected


TIMESTAMPS = [
    ("2025-01-03 09:15:30", datetime(2025, 1, 3, 9, 15, 30)),
    ("2025/1/3 9:15", datetime(2025, 1, 3, 9, 15)),
    ("2025/1/3 9:15:30", datetime(2025, 1, 3, 9, 15, 30)),
    ("2025-01-03T09:15:30", datetime(2025, 1, 3, 9, 15, 30)),
    ("2025年1月3日 9:15", datetime(2025, 1, 3, 9, 15)),
    ("2025-01-03", datetime(2025, 1, 3)),
    ("20250103", datetime(2025, 1, 3)),
    ("45660", datetime(2025, 1, 3)),
    ("45660.5", datetime(2025, 1, 3, 12, 0)),
    ("45660.25", datetime(2025, 1, 3, 6, 0)),
    ("２０２５－０１－０３　０９：１５：３０", datetime(2025, 1, 3, 9, 15, 30)),
    ("2025-01-03 25:00:00", None),
    ("infinity", None),
    ("-INF", None),
    ("9:15", None),
    ("abc", None),
    ("", None),
]


@pytest.mark.parametrize(("raw", "expected"), TIMESTAMPS)
def test_bp_ts(con, raw, expected):
    assert one(con, "bp_ts($v)", raw) == expected


NUMBERS = [
    ("1234.56", 1234.56),
    ("1,234.56", 1234.56),
    ("1,234,567", 1234567.0),
    ("１２３", 123.0),
    ("１，２３４", 1234.0),
    ("１２３．５", 123.5),
    ("12.3%", 12.3),
    ("１２．３％", 12.3),
    ("(1,234.00)", -1234.0),
    ("（１２）", -12.0),
    ("-5", -5.0),
    ("¥12", 12.0),
    ("￥1,000", 1000.0),
    ("¥1,234.56", 1234.56),
    ("￥1,000元", 1000.0),
    (" 42 ", 42.0),
    ("'42", 42.0),
    ("1e3", 1000.0),
    ("0", 0.0),
    ("--", None),
    ("-", None),
    ("/", None),
    ("—", None),
    ("", None),
    ("   ", None),
    (None, None),
    ("abc", None),
    ("12abc", None),
    ("1.2.3", None),
    ("inf", None),
    ("nan", None),
    ("N/A", None),
]


@pytest.mark.parametrize(("raw", "expected"), NUMBERS)
def test_bp_num(con, raw, expected):
    got = one(con, "bp_num($v)", raw)
    if expected is None:
        assert got is None
    else:
        assert got == pytest.approx(expected)


INTS = [
    ("7", 7), ("20.0", 20), ("1,200", 1200), ("１２", 12), ("(3)", -3),
    ("20.5", None), ("abc", None), ("--", None), ("", None),
]


@pytest.mark.parametrize(("raw", "expected"), INTS)
def test_bp_int(con, raw, expected):
    assert one(con, "bp_int($v)", raw) == expected


IDS = [
    # raw, bp_id, bp_id_mangled
    ("0101001", "0101001", False),
    ("000123", "000123", False),
    ("'000123", "000123", False),
    ("\t000123", "000123", False),
    ("'\t0101001", "0101001", False),
    ("622500202301150001", "622500202301150001", False),
    ("'622500202301150001", "622500202301150001", False),
    ("12345.0", "12345", False),
    ("12345.00", "12345", False),
    ("12345.5", "12345.5", False),
    ("A023", "A023", False),
    ("TS202501030001", "TS202501030001", False),
    ("１２３", "123", False),
    ("1.23E+18", None, True),
    ("1.23e+18", None, True),
    ("6.2250020230115E17", None, True),
    ("1E+18", None, True),
    ("-", None, False),
    ("--", None, False),
    ("", None, False),
    (None, None, False),
]


@pytest.mark.parametrize(("raw", "expected", "mangled"), IDS)
def test_bp_id(con, raw, expected, mangled):
    assert one(con, "bp_id($v)", raw) == expected
    assert one(con, "bp_id_mangled($v)", raw) is mangled


STRS = [
    (" 人民路网点 ", "人民路网点"), ("--", None), ("/", None), ("无", None), ("", None),
    ("'abc", "abc"), ("ＡＢＣ１２３", "ＡＢＣ123"),
]


@pytest.mark.parametrize(("raw", "expected"), STRS)
def test_bp_str(con, raw, expected):
    assert one(con, "bp_str($v)", raw) == expected


@pytest.mark.parametrize(("raw", "expected"), [
    ("  排队等了一个多小时  ", "排队等了一个多小时"), ("--", "--"), ("", None), ("a\nb", "a\nb"),
])
def test_bp_text_keeps_text_verbatim(con, raw, expected):
    assert one(con, "bp_text($v)", raw) == expected


@pytest.mark.parametrize(("raw", "expected"), [
    ("合计", True), ("总计：", True), ("小计", True), ("Total", True), ("SUM", True), ("０１０１００１", False),
    ("0101001", False), ("合同", False), ("", False), (None, False),
])
def test_bp_total_row(con, raw, expected):
    assert one(con, "bp_total_row($v)", raw) is expected
