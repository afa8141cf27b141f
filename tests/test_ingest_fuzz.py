"""Broken files never crash the ingest, and a rejected file never changes the store.

Hypothesis derives broken uploads from valid exports (truncation, byte flips, mixed encodings,
wrong cell types, stray quotes/newlines/delimiters, 1 MB fields) plus junk; each goes through
`ingest_file` on a real store that already holds data.
"""

from __future__ import annotations

import functools
import io
import itertools

import pytest
from helpers_ingest import SAMPLES, csv_text, n_batches, store_state, write_xlsx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from data.ingest import ingest_file
from data.ingest.issues import ISSUE_COLUMNS
from data.store import Store

STATUSES = {"loaded", "partial", "already_loaded", "rejected"}
FUZZ_SOURCES = ["counter_tickets", "loan_snapshot", "feedback_records", "market_events"]
_seq = itertools.count()


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    d = tmp_path_factory.mktemp("fuzz")
    s = Store(d / "x.duckdb")
    for source in ("branches", "loan_snapshot"):
        header, rows = SAMPLES[source]
        (d / f"{source}.csv").write_text(csv_text([header, *rows]), encoding="utf-8")
        assert ingest_file(s, d / f"{source}.csv").status == "loaded"
    s.fuzz_dir = d  # where the examples write their files
    yield s
    s.close()


def valid_text(source: str) -> str:
    header, rows = SAMPLES[source]
    return csv_text([header, *rows])


@functools.cache
def xlsx_bytes(source: str) -> bytes:
    """A valid workbook, built once per source (openpyxl stamps the time: keep draws reproducible)."""
    header, rows = SAMPLES[source]
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(header)
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


# -- strategies: each draws (suffix, bytes) ---------------------------------------------------

sources = st.sampled_from(FUZZ_SOURCES)
encodings = st.sampled_from(["utf-8", "utf-8-sig", "gbk"])


@st.composite
def truncated(draw):
    data = valid_text(draw(sources)).encode(draw(encodings))
    return ".csv", data[: draw(st.integers(0, len(data)))]


@st.composite
def byte_flips(draw):
    data = bytearray(valid_text(draw(sources)).encode(draw(encodings)))
    for _ in range(draw(st.integers(1, 8))):
        data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
    return ".csv", bytes(data)


@st.composite
def mixed_encodings(draw):
    text = valid_text(draw(sources))
    cut = draw(st.integers(0, len(text)))
    a, b = draw(st.permutations(["utf-8", "gbk"]))
    return ".csv", text[:cut].encode(a) + text[cut:].encode(b, errors="replace")


def _edit_cell(draw, value_strategy):
    source = draw(sources)
    header, rows = SAMPLES[source]
    rows = [list(r) for r in rows]
    for _ in range(draw(st.integers(1, 4))):
        i = draw(st.integers(0, len(rows) - 1))
        j = draw(st.integers(0, len(header) - 1))
        rows[i][j] = draw(value_strategy)
    return source, header, rows


cell_values = st.one_of(
    st.text(max_size=30),
    st.sampled_from(["abc", "1.23E+18", "-1", "99999999999999999999", "2025-02-30", "NaN", "inf", "(1,2)", "合计",
                     "=SUM(A1:A3)", "０１０１", "'", "\t", "¥", "--", "1e400", "2025年13月1日", "45660.5"]),
    st.integers(-10**20, 10**20).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
)


@st.composite
def wrong_types(draw):
    _, header, rows = _edit_cell(draw, cell_values)
    return ".csv", csv_text([header, *rows]).encode(draw(encodings), errors="replace")


@st.composite
def injected_syntax(draw):
    """Quotes, newlines and delimiters written raw into cells (not CSV-escaped)."""
    junk = st.text(alphabet=st.sampled_from(['"', "\n", "\r", ",", "\t", ";", "a", "中", "'", " "]), min_size=1,
                   max_size=6)
    source, header, rows = _edit_cell(draw, junk)
    text = "\n".join(",".join(r) for r in [header, *rows]) + draw(st.sampled_from(["\n", "", "\r\n", '"']))
    return ".csv", text.encode(draw(encodings), errors="replace")


@st.composite
def huge_field(draw):
    source, header, rows = _edit_cell(draw, st.just("x"))
    i = draw(st.integers(0, len(rows) - 1))
    j = draw(st.integers(0, len(header) - 1))
    rows[i][j] = draw(st.sampled_from(["字", "9", "a,", '"'])) * (1024 * 1024 // 2)
    return ".csv", csv_text([header, *rows]).encode("utf-8")


@st.composite
def header_only_or_empty(draw):
    header, _ = SAMPLES[draw(sources)]
    return ".csv", draw(st.sampled_from([b"", b"\n", b"\xef\xbb\xbf", ",".join(header).encode("utf-8"),
                                         (",".join(header) + "\n").encode("gbk"), b"\n\n\n,,,\n"]))


@st.composite
def junk(draw):
    suffix = draw(st.sampled_from([".csv", ".xlsx", ".xls", ".txt"]))
    return suffix, draw(st.binary(max_size=2048))


@st.composite
def broken_xlsx(draw):
    data = xlsx_bytes(draw(sources))
    if draw(st.booleans()):
        return ".xlsx", data[: draw(st.integers(0, len(data)))]
    data = bytearray(data)
    for _ in range(draw(st.integers(1, 8))):
        data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
    return ".xlsx", bytes(data)


broken_files = st.one_of(truncated(), byte_flips(), mixed_encodings(), wrong_types(), injected_syntax(),
                         huge_field(), header_only_or_empty(), junk(), broken_xlsx())


def check_upload(store, suffix: str, data: bytes, **kw):
    path = store.fuzz_dir / f"upload_{next(_seq)}{suffix}"
    path.write_bytes(data)
    before, batches = store_state(store), n_batches(store)
    r = ingest_file(store, path, **kw)  # must never raise
    assert r.status in STATUSES
    assert list(r.issues.columns) == ISSUE_COLUMNS
    if r.status == "rejected":
        assert (r.issues["severity"] == "error").any(), "a rejection says why"
        assert store_state(store) == before
        assert n_batches(store) == batches
    elif r.status == "already_loaded":
        assert store_state(store) == before
    else:
        assert n_batches(store) == batches + 1
    return r


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(case=broken_files, partial=st.booleans())
def test_broken_files_never_crash_and_rejections_change_nothing(store, case, partial):
    suffix, data = case
    check_upload(store, suffix, data, allow_partial=partial)


# Every kind at least once, deterministically (hypothesis may not draw each kind in 40 examples).
FIXED = {
    "empty": (".csv", b""),
    "bom_only": (".csv", b"\xef\xbb\xbf"),
    "header_only": (".csv", (",".join(SAMPLES["counter_tickets"][0]) + "\r\n").encode("gbk")),
    "binary_csv": (".csv", bytes(range(256)) * 8),
    "binary_xlsx": (".xlsx", bytes(range(256)) * 8),
    "zip_not_xlsx": (".xlsx", b"PK\x03\x04" + b"\x00" * 100),
    "text_as_xlsx": (".xlsx", valid_text("loan_snapshot").encode("utf-8")),
    "xlsx_as_csv": (".csv", None),
    "huge_field": (".csv", csv_text([SAMPLES["market_events"][0], ["EV9", "2025-01-01", "监管", "x" * (1 << 20), "",
                                                                    "", ""]]).encode()),
    "unterminated_quote": (".csv", (valid_text("market_events") + '"EV9,2025-01-01,监管,"未闭合\n').encode()),
    "stray_cr": (".csv", valid_text("loan_snapshot").replace("个人住房贷款", "个人\r住房").encode()),
    "quoted_newline_and_bad_row": (".csv", (valid_text("feedback_records")
                                            + 'TS9,热线,2025-01-03 09:00:00,投诉,0101001,x,"多\n行",已受理,,,extra\n').encode()),
    "nul_bytes": (".csv", valid_text("market_events").encode().replace(b",", b"\x00,", 3)),
    "utf16_bom": (".csv", valid_text("market_events").encode("utf-16")),  # decoded, not rejected
    "mixed_utf8_gbk": (".csv", valid_text("counter_tickets")[:60].encode() + valid_text("counter_tickets")[60:].encode("gbk")),
}


@pytest.mark.parametrize("kind", list(FIXED))
@pytest.mark.parametrize("partial", [False, True])
def test_fixed_broken_files(store, tmp_path, kind, partial):
    suffix, data = FIXED[kind]
    if data is None:
        data = write_xlsx(tmp_path / "w.xlsx", {"S": [SAMPLES["market_events"][0]]}).read_bytes()
    r = check_upload(store, suffix, data, allow_partial=partial)
    if kind in ("empty", "bom_only", "header_only", "binary_csv", "binary_xlsx", "zip_not_xlsx", "text_as_xlsx",
                "xlsx_as_csv") or (kind == "unterminated_quote" and not partial):
        assert r.status == "rejected", (kind, r.issues)
    if kind == "unterminated_quote":
        assert "malformed_row" in set(r.issues["code"])
