"""The ingest fast paths give exactly what the general path gives.

Three optimisations sit in front of the general parse (data/ingest/stage.py, encoding.py):
- the *typed read*: a single-part CSV is read with DuckDB's CSV reader casting the date and number
  columns itself; any line it refuses sends the file down the general path;
- *cast first*: in the general path a typed cell goes through bp_clean and the slow spellings only
  when DuckDB's plain cast of it fails; plain enum spellings are matched by equality first;
- the *head-only encoding check*: a file whose first MB is UTF-8 is read as UTF-8 and decided
  again from the whole file only if DuckDB meets bytes that are not.
Each is checked against the reference: the value tables of test_ingest_values.py (the macros'
own spec), and loads of the same files with the typed read switched off
(BANKPULSE_INGEST_TYPED_READ), compared field by field — status, counts, every issue, every row.
"""

from __future__ import annotations

import codecs
from datetime import datetime
from pathlib import Path

import duckdb
import pytest
from helpers_ingest import LINEAGE, SAMPLES, write_csv
from test_ingest_values import DATES, INTS, NUMBERS, TIMESTAMPS

from data.ingest import ingest_file
from data.ingest.encoding import HEAD, TranscodeError, detect, detect_head, to_utf8
from data.ingest.headers import Mapping
from data.ingest.parsing import _enum, parse_select
from data.settings import Settings
from data.sources import SOURCES, ColType
from data.sqlfiles import ident, sql
from data.store import Store

# -- cast first: the general path against the macros' value tables -------------------------------

CASES = [("business_date", DATES), ("ticket_time", TIMESTAMPS), ("service_seconds", NUMBERS),
         ("queue_len_at_ticket", INTS)]


@pytest.mark.parametrize(("column", "table"), CASES, ids=[c for c, _ in CASES])
def test_cast_first_parse_gives_the_macro_values(column, table):
    con = duckdb.connect()
    con.execute(sql("parse.create_macros"))
    raws = [r for r, _ in table]
    con.execute("CREATE TEMP TABLE raw AS SELECT * FROM (SELECT unnest($v) AS c0, generate_subscripts($v, 1) AS row_no)",
                {"v": raws})
    src = SOURCES["counter_tickets"]
    select = parse_select(src, Mapping(src.name, columns={column: 0}), "raw", 1, [])
    got = {r[0]: r[1:] for r in con.execute(
        f"SELECT row_no, {ident(column)}, {ident(column + '__bad')} FROM ({select}) p", {"sheet": ""}).fetchall()}
    for i, (raw, expected) in enumerate(table, start=1):
        if raw is None or not str(raw).strip():
            continue  # an empty row is not staged at all
        value, bad = got[i]
        if isinstance(expected, float):
            assert value == pytest.approx(expected), raw
        else:
            if column == "business_date" and isinstance(expected, datetime):
                expected = expected.date()
            assert value == expected, raw
        # a cell that is neither a value nor a "no value" token is flagged for the TYPE rule
        null_token = con.execute("SELECT bp_null(bp_clean($v))", {"v": raw}).fetchone()[0]
        assert bad is (expected is None and not null_token), raw


def enum_variants(col) -> list[str]:
    out = set()
    for code, spellings in col.values.items():
        for s in (*spellings, code):
            out |= {s, s.upper(), s.lower(), f" {s} ", f"'{s}", s + "　", f"\t{s}"}
    return sorted(out | {"", "-", "无", "nonsense"})


ENUMS = [(s.name, c) for s in SOURCES.values() for c in s.columns if c.type is ColType.ENUM]


@pytest.mark.parametrize(("source", "col"), ENUMS, ids=[f"{s}.{c.name}" for s, c in ENUMS])
def test_enum_equality_first_matches_the_key_lookup(source, col):
    con = duckdb.connect()
    con.execute(sql("parse.create_macros"))
    fast = _enum(col, "v", None)
    slow = fast[fast.index(" ELSE ") + len(" ELSE "):-len(" END")] if fast.startswith("CASE v WHEN") else fast
    assert fast != slow or not col.values, "the equality-first lookup was not generated"
    rows = con.execute(f"SELECT v, {fast}, {slow} FROM (SELECT unnest($v) AS v)", {"v": enum_variants(col)}).fetchall()
    assert [r for r in rows if r[1] != r[2]] == []
    assert any(r[1] is not None for r in rows)


# -- the typed read: loads compared with the general path ----------------------------------------

@pytest.fixture(scope="module")
def stores(tmp_path_factory):
    base = tmp_path_factory.mktemp("fastpath")
    made = {}
    for typed in (True, False):
        s = Store(base / f"typed_{typed}.duckdb", settings=Settings(ingest_typed_read=typed))
        made[typed] = s
    yield made
    for s in made.values():
        s.close()


def outcome(store: Store, res) -> dict:
    """Everything a load decides: result fields, issues, the live table, quarantine, branches."""
    cur = store.cursor()
    try:
        table = SOURCES[res.source].table if res.source else None
        rows = cur.execute(f"SELECT * EXCLUDE ({', '.join(LINEAGE[:1])}) FROM main.{ident(table)} ORDER BY ALL").fetchall() \
            if table else []
        quarantine = cur.execute("SELECT * EXCLUDE (batch_id) FROM ops.quarantine WHERE batch_id = $b ORDER BY ALL",
                                 {"b": res.batch_id}).fetchall() if res.batch_id else []
        branches = cur.execute("SELECT branch_id, branch_name FROM main.branches ORDER BY ALL").fetchall()
    finally:
        cur.close()
    return {"status": res.status, "source": res.source, "encoding": res.encoding, "rows_in": res.rows_in,
            "rows_loaded": res.rows_loaded, "rows_updated": res.rows_updated, "rows_rejected": res.rows_rejected,
            "rows_warned": res.rows_warned, "issues": res.issues.to_dict("records"), "rows": rows,
            "quarantine": quarantine, "branches": branches}


def both(stores, path: Path, **kw) -> tuple[dict, object]:
    """Load `path` into both stores; the two outcomes must be equal. Returns it and the typed result."""
    fast = ingest_file(stores[True], path, **kw)
    general = ingest_file(stores[False], path, **kw)
    assert general.typed_read is False
    a, b = outcome(stores[True], fast), outcome(stores[False], general)
    assert a == b
    return a, fast


def tickets(rows: list[dict]) -> list[list]:
    header, (base, *_) = SAMPLES["counter_tickets"]
    header = [*header, "等待人数", "办理时长(秒)"]
    out = [header]
    for i, over in enumerate(rows):
        r = dict(zip(header, [*base, "", ""], strict=True))
        r["票号"] = f"X{i:04d}"
        r.update(over)
        out.append([r[h] for h in header])
    return out


def test_clean_file_takes_the_typed_read_and_loads_the_same(stores, tmp_path):
    f = write_csv(tmp_path / "clean.csv", tickets([{}, {"叫号时间": "2025-01-03 09:40:00", "完成时间": "2025-01-03 09:50:00"}, {"等待人数": "3"}]))
    out, fast = both(stores, f)
    assert fast.typed_read and out["status"] == "loaded" and out["rows_loaded"] == 3


# One file per cell spelling: a file whose every cell the reader casts takes the typed read, any
# other the general path — either way the outcome must be the general path's.
SPELLINGS = ([("业务日期", r) for r, _ in DATES] + [("取号时间", r) for r, _ in TIMESTAMPS]
             + [("办理时长(秒)", r) for r, _ in NUMBERS] + [("等待人数", r) for r, _ in INTS]
             + [("叫号时间", "2025-01-03 09:15:30.250"), ("完成时间", "2025-01-03T09:40"),
                ("等待人数", "+4"), ("等待人数", "0004"), ("办理时长(秒)", ".5"), ("办理时长(秒)", "5."),
                ("办理时长(秒)", "1E2"), ("办理时长(秒)", "-inf"), ("办理时长(秒)", "NaN"),
                ("取号时间", "2025-01-03 09:00:00+08"), ("取号时间", "2025-1-3 9:00:00")])


@pytest.mark.parametrize(("header", "raw"), SPELLINGS, ids=[f"{h}={r!r}" for h, r in SPELLINGS])
def test_every_spelling_loads_the_same_either_way(stores, tmp_path, header, raw):
    rows = [{header: "" if raw is None else raw}, {"票号": "Y0001"}]
    both(stores, write_csv(tmp_path / "one.csv", tickets(rows)), allow_partial=True)


def test_issue_rows_show_the_cells_as_written_after_a_typed_read(stores, tmp_path):
    """Warnings and errors the typed read finds (a domain check, a range, a fractional count)
    read the cells as written from the text read — '21601.50', not 21601.5."""
    rows = [{"取号时间": "2025-01-03 09:00:00", "叫号时间": "2025-01-03 15:00:01.000", "完成时间": "2025-01-03 15:10:00"},  # waited > 6 h: warning
            {"等待人数": "2.5"},  # not a whole number: error
            {"办理时长(秒)": "-30.50"},  # below the range: error
            {"网点编号": "0109999"}]  # unknown branch: warning
    out, fast = both(stores, write_csv(tmp_path / "issues.csv", tickets(rows)), allow_partial=True)
    assert fast.typed_read
    shown = {(i["code"], i["value"]) for i in out["issues"]}
    assert ("type", "2.5") in shown and ("range", "-30.50") in shown
    assert out["status"] == "partial" and out["rows_rejected"] == 2 and len(out["quarantine"]) == 2


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk"])
@pytest.mark.parametrize("source", list(SAMPLES))
def test_every_source_sample_loads_the_same_either_way(stores, tmp_path, source, encoding):
    header, rows = SAMPLES[source]
    both(stores, write_csv(tmp_path / f"{source}.csv", [header, *rows], encoding))


def test_demo_exports_load_the_same_either_way(stores, tmp_path):
    """The seeded demo's files (GBK, BOM, xlsx, every source) — what `make run` loads."""
    from helpers_demo import AS_OF

    from data.demo.generate import generate
    from data.demo.spec import DemoSpec

    files = generate(DemoSpec(seed=3, branches=3, years=1, as_of=AS_OF), tmp_path / "demo")
    taken = 0
    for f in sorted(files, key=lambda p: (not p.name.startswith("branches"), p.name)):
        _, fast = both(stores, f)
        taken += fast.typed_read
    assert taken >= 3  # the clean CSV exports went the fast way


# -- the head-only encoding check ----------------------------------------------------------------

def big_rows(n: int) -> list[list[str]]:
    header, (base, *_) = SAMPLES["counter_tickets"]
    return [header] + [[*base[:3], f"Z{i:06d}", *base[4:]] for i in range(n)]


def test_head_only_check_decides_utf8_files_it_can(tmp_path):
    small = write_csv(tmp_path / "small.csv", big_rows(5))
    assert detect_head(small).verified  # the whole file was the head
    big = write_csv(tmp_path / "big.csv", big_rows(12_000))
    assert big.stat().st_size > HEAD
    d = detect_head(big)
    assert d.encoding == "utf-8" and not d.verified
    assert detect_head(write_csv(tmp_path / "g.csv", big_rows(5), "gbk")) is None


def test_non_utf8_bytes_past_the_head_are_decided_from_the_whole_file(stores, tmp_path):
    """UTF-8 Chinese for over a MB, then GBK lines: rejected as mixed at the first GBK line,
    exactly as the whole-file detection says — nothing loaded."""
    rows = big_rows(12_000)
    head = write_csv(tmp_path / "h.csv", rows).read_bytes()
    tail = "".join(",".join(r) + "\n" for r in big_rows(3)[1:]).replace("Z0000", "G0000").encode("gbk")
    f = tmp_path / "mixed.csv"
    f.write_bytes(head + tail)
    whole = detect(f)
    assert whole.encoding is None and whole.bad_line == len(rows) + 1
    res = ingest_file(stores[True], f)
    assert res.status == "rejected" and res.issues.loc[0, "code"] == "encoding"
    assert str(len(rows) + 1) in res.issues.loc[0, "message"]


def test_ascii_head_then_gbk_is_loaded_as_gbk(stores, tmp_path):
    """A file that is plain ASCII for over a MB and GBK after: the whole-file decision (GBK) wins."""
    header = "branch_id,business_date,ticket_no,ticket_time,status\n"
    lines = [f"0101001,2025-01-03,A{i:06d},2025-01-03 09:00:00,served\n" for i in range(30_000)]
    gbk = "0101001,2025-01-03,B000001,2025-01-03 09:00:00,已办理\n".encode("gbk")
    f = tmp_path / "late_gbk.csv"
    f.write_bytes((header + "".join(lines)).encode("ascii") + gbk)
    assert f.stat().st_size > HEAD and detect_head(f) is not None
    res = ingest_file(stores[True], f)
    assert res.status == "loaded" and res.encoding == detect(f).label == "GBK/GB18030"
    assert res.rows_loaded == 30_001
    cur = stores[True].cursor()
    assert cur.execute("SELECT status FROM main.counter_tickets WHERE ticket_no = 'B000001'").fetchone() == ("served",)
    cur.close()


def test_bom_is_still_read_past_the_head(tmp_path):
    f = tmp_path / "bom.csv"
    f.write_bytes(codecs.BOM_UTF8 + "".join(",".join(r) + "\n" for r in big_rows(12_000)).encode())
    d = detect_head(f)
    assert d.encoding == "utf-8-sig" and d.label == "UTF-8 (BOM)" and not d.verified


# -- GBK transcoding in two halves ---------------------------------------------------------------

def test_two_process_transcode_equals_one_and_names_the_bad_line(tmp_path):
    rows = big_rows(3000)
    text = "".join(",".join(r) + "\n" for r in rows)
    src = tmp_path / "g.csv"
    src.write_bytes(text.encode("gb18030"))
    one, two = to_utf8(src, "gb18030", tmp_path / "one.csv"), to_utf8(src, "gb18030", tmp_path / "two.csv", parallel_min=1)
    assert two.read_bytes() == one.read_bytes() == text.encode("utf-8")
    assert not list(tmp_path.glob("*.part2"))
    for bad_line in (10, 2900):  # a byte that is not GB18030 in the first half, then in the second
        raw = bytearray(src.read_bytes())
        at = raw.index(b"\n".join(r.encode("gb18030") for r in [",".join(rows[bad_line - 1])]))
        raw[at + 3] = 0xFF
        broken = tmp_path / f"bad{bad_line}.csv"
        broken.write_bytes(bytes(raw))
        for parallel_min in (1, 1 << 40):
            with pytest.raises(TranscodeError) as exc:
                to_utf8(broken, "gb18030", tmp_path / "x.csv", parallel_min=parallel_min)
            assert exc.value.line == bad_line


# -- low-cardinality columns parsed by value -----------------------------------------------------

def test_parsing_by_value_equals_parsing_cell_by_cell():
    """value_tables + the join give every row the value, flag and total mark the cell-by-cell parse gives."""
    from data.ingest.parsing import VALUES_MIN_ROWS, value_tables

    src = SOURCES["counter_tickets"]
    ids = ["0101001", " 0101001", "'0101002", "０１０１００３", "1.23E+18", "12345.0", "-", "无", None, "合计"]
    names = ["人民路网点", " 人民路网点 ", "解放路网点　", "'城东支行", "--", None, "Total", "小计"]
    statuses = ["已办理", "办理完成", "Served", "  served ", "SERVED", "过号", "弃号", "xyz", "无", "", None, "３"]
    dates = ["2025-01-03", "2025年1月3日", "45660", "bad", None]
    n = VALUES_MIN_ROWS + 1000
    con = duckdb.connect()
    con.execute(sql("parse.create_macros"))
    con.execute("CREATE TEMP TABLE raw AS SELECT i + 2 AS row_no, $a[1 + i % 10] AS c0, $b[1 + i % 8] AS c1, "
                "'A' || (i % 500) AS c2, $c[1 + i % 12] AS c3, $d[1 + i % 5] AS c4 FROM range($n) t(i)",
                {"a": ids, "b": names, "c": statuses, "d": dates, "n": n})
    mp = Mapping(src.name, columns={"branch_id": 0, "branch_name": 1, "ticket_no": 2, "status": 3, "business_date": 4})
    values = value_tables(con, src, mp, "raw", 0)
    assert set(values) == {0, 1, 2, 3}  # the date column is not a text column
    by_cell = parse_select(src, mp, "raw", 5, [])
    by_value = parse_select(src, mp, "raw", 5, [], values=values)
    assert by_cell != by_value
    for a, b in ((by_cell, by_value), (by_value, by_cell)):
        assert con.execute(f"SELECT count(*) FROM (({a}) EXCEPT ALL ({b}))", {"sheet": ""}).fetchone()[0] == 0
    assert con.execute(f"SELECT count(*) FROM ({by_value})", {"sheet": ""}).fetchone()[0] == n
    # and the interesting cases are really there
    flagged = con.execute(f"SELECT count_if(branch_id__bad), count_if(status__bad), count_if(is_total) FROM ({by_value})",
                          {"sheet": ""}).fetchone()
    assert all(flagged)


def test_high_cardinality_columns_are_parsed_cell_by_cell():
    from data.ingest.parsing import VALUES_MIN_ROWS, value_tables

    src = SOURCES["counter_tickets"]
    con = duckdb.connect()
    con.execute(sql("parse.create_macros"))
    con.execute("CREATE TEMP TABLE raw AS SELECT i + 2 AS row_no, 'T' || i AS c0, '0101001' AS c1 FROM range($n) t(i)",
                {"n": VALUES_MIN_ROWS + 10})
    assert value_tables(con, src, Mapping(src.name, columns={"ticket_no": 0, "branch_id": 1}), "raw", 0) == {1: "values_0_1"}
    con.execute("CREATE OR REPLACE TEMP TABLE raw AS SELECT * FROM raw LIMIT 1000")
    assert value_tables(con, src, Mapping(src.name, columns={"ticket_no": 0, "branch_id": 1}), "raw", 0) == {}
