"""Staging: raw parts into DuckDB temp tables (typing them is data/ingest/parsing.py).

Everything here runs on the ingest cursor (its own DuckDB connection), so temp tables are
private to one upload and vanish with it. The general path lands raw rows as VARCHAR columns
`c0..cN` with `row_no` = the row number Excel would show (for a CSV part without rejected lines
`raw_<i>` is a view: row_no from the rowid of the table read_csv filled, not a copy). A clean
single-part CSV is first tried with the typed read (`materialise_typed`); the cells as written are
then read only if an issue row needs them (`Shown`).
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

from data.ingest.headers import Mapping
from data.ingest.issues import Code, Issue, bilingual
from data.ingest.parsing import READ_TYPE, lit, typed_positions
from data.ingest.readers import RawPart
from data.sources import Source
from data.sources.model import Severity
from data.sqlfiles import ident

# Structural problems are collected (store_rejects), not raised: every broken line is reported.
# The line ending is left to DuckDB (Excel on Windows writes CRLF; forcing '\n' read such a
# file as zero rows). The parallel scanner cannot combine null_padding with quoted newlines
# (multi-line 投诉内容 cells), so such a file is read again single-threaded (`_run_read`).
_READ_CSV = (
    "read_csv($path, auto_detect=false, header=false, skip=$skip, delim=$delim, quote='\"', escape='\"', "
    "columns={spec}, null_padding=true, store_rejects=true, strict_mode=true, max_line_size=8388608, "
    "comment='', encoding='utf-8', parallel=$parallel)"
)


class EncodingRecheck(Exception):
    """The reader met bytes that are not UTF-8 in a part whose encoding was judged from its head
    only: the pipeline decides the encoding again from the whole file (encoding.detect)."""


def _not_utf8(part: RawPart, error_types) -> bool:
    return not part.encoding_verified and any(t == "INVALID ENCODING" or "Invalid unicode" in t for t in error_types)


def _spec(part: RawPart) -> str:
    return "{" + ", ".join(f"'c{i}': 'VARCHAR'" for i in range(part.n_fields)) + "}"


def _run_read(cur, statement: str, part: RawPart, extra: dict | None = None) -> None:
    """Run a statement reading `part` with _READ_CSV: parallel first, single-threaded if DuckDB asks."""
    params = {"path": str(part.csv_path), "skip": part.skip_lines, "delim": part.delimiter, **(extra or {})}
    for parallel in (True, False):
        cur.execute("DROP TABLE IF EXISTS reject_errors; DROP TABLE IF EXISTS reject_scans")
        try:
            cur.execute(statement, {**params, "parallel": parallel})
            return
        except duckdb.Error as exc:
            if not parallel or "parallel" not in str(exc):
                raise


def first_bad_line(part: RawPart) -> tuple[int | None, str | None]:
    """(line number in the file, its text) of the first record with the wrong number of fields or
    broken quoting, read with Python's csv module; (None, None) when it finds none.

    Only used after DuckDB gave up on the whole file ("state machine reached an invalid state"
    names no line): the person still needs to know where to look. A lone CR ends a record here,
    as it does in Excel, so a stray CR inside a cell shows up as a short record at its line.
    """
    if part.csv_path is None:
        return None, None
    with open(part.csv_path, encoding="utf-8", errors="replace", newline="") as fh:
        for _ in range(part.skip_lines):
            if not fh.readline():
                return None, None
        reader = csv.reader(fh, delimiter=part.delimiter, strict=True)
        start = 1
        try:
            for fields in reader:
                if fields and len(fields) != part.n_fields:
                    return part.skip_lines + start, part.delimiter.join(fields)
                start = reader.line_num + 1
        except csv.Error as exc:
            return part.skip_lines + start, str(exc)
    return _first_other_line_end(part.csv_path, part.delimiter)


# A record ends at CRLF, LF or a lone CR (as Excel and DuckDB read it). A quote opens a quoted
# cell only at the start of a field (after the delimiter or a line end): `;"` in the middle of a
# cell is a literal character to DuckDB as to Excel. Inside a quoted cell `""` is an escaped quote.
_ENDING_OR_QUOTE = re.compile(rb'"|\r\n|\n|\r')
_SHOWN_ENDING = {b"\r\n": "CRLF", b"\n": "LF", b"\r": "CR"}
_QUOTE = ord('"')


def _first_other_line_end(path, delimiter: str = ",") -> tuple[int | None, str | None]:
    """The first line ending in another way than line 1 (LF vs CRLF vs CR): DuckDB refuses a file
    whose line endings change midway, although every record has the right fields.

    Endings inside a quoted cell do not count (a multi-line 投诉内容 may hold any), and a lone CR
    counts wherever it stands: `\\r\\r,人民路网点,…\\n` after an LF header is two empty CR lines
    and then a record, which DuckDB refuses and a `readline()` split on LF alone never sees.
    """
    data = Path(path).read_bytes()  # only on the failure path, for a file DuckDB could not read
    field_starts = {ord("\n"), ord("\r"), *delimiter.encode()}
    quoted, line, ending, escaped_at = False, 1, None, -1
    for m in _ENDING_OR_QUOTE.finditer(data):
        token, at = m.group(), m.start()
        if token[0] == _QUOTE:
            if at == escaped_at:  # the second quote of an escaped "" inside a quoted cell
                continue
            if quoted:
                if at + 1 < len(data) and data[at + 1] == _QUOTE:
                    escaped_at = at + 1
                else:
                    quoted = False
            elif at == 0 or data[at - 1] in field_starts:
                quoted = True
            continue
        if quoted:
            continue
        if ending is None:
            ending = token
        elif token != ending:
            return line, f"{_SHOWN_ENDING[token]} ≠ {_SHOWN_ENDING[ending]}"
        line += 1
    return None, None


def materialise(cur, part: RawPart, table: str, file_name: str) -> list[Issue]:
    """Create temp table `table` (row_no, c0..cN) from a raw part; returns structural issues."""
    cols = [f"c{i}" for i in range(part.n_fields)]
    if part.rows is not None:
        first = part.header_row + 1
        keep = [(first + i, r) for i, r in enumerate(part.rows) if any(c not in (None, "") for c in r)]
        arrays = {"row_no": pa.array([k for k, _ in keep], pa.int64())}
        for j, c in enumerate(cols):
            arrays[c] = pa.array([r[j] if j < len(r) else None for _, r in keep], pa.string())
        arrow = pa.table(arrays)  # noqa: F841 - read by DuckDB's replacement scan below
        cur.execute(f"CREATE OR REPLACE TEMP TABLE {ident(table)} AS SELECT * FROM arrow")
        return []
    read = f"CREATE OR REPLACE TEMP TABLE {ident(table + '_r')} AS SELECT * FROM {_READ_CSV.format(spec=_spec(part))}"
    try:
        _run_read(cur, read, part)
    except duckdb.Error as exc:  # a file DuckDB cannot parse at all: one file-level error, never a crash
        if _not_utf8(part, [str(exc)]):
            raise EncodingRecheck from exc
        empty = ", ".join(f"CAST(NULL AS VARCHAR) AS {c}" for c in cols)
        cur.execute(f"CREATE OR REPLACE TEMP TABLE {ident(table)} AS SELECT CAST(NULL AS BIGINT) AS row_no, "
                    f"{empty} WHERE false")
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        line, raw = first_bad_line(part)
        return [Issue(file=file_name, severity=Severity.ERROR, code=Code.MALFORMED_ROW, row=line,
                      value=(raw or "")[:200], expected=bilingual(f"{part.n_fields}个字段、引号成对", f"{part.n_fields} fields, balanced quotes"),
                      message=bilingual("文件的CSV格式有误，无法读取", f"malformed CSV file: {first_line[:300]}"))]
    rejects = cur.execute(
        "SELECT line, error_type, csv_line, error_message FROM reject_errors ORDER BY line"
    ).fetchall()
    if _not_utf8(part, [r[1] for r in rejects]):
        raise EncodingRecheck
    issues = [
        Issue(file=file_name, severity=Severity.ERROR, code=Code.MALFORMED_ROW, row=int(line),
              value=(raw or "")[:200], expected=bilingual(f"{part.n_fields}个字段、引号成对", f"{part.n_fields} fields, balanced quotes"),
              message=bilingual("该行的CSV格式有误", f"malformed CSV line: {etype} {msg}"))
        for line, etype, raw, msg in rejects
    ]
    first = part.skip_lines + 1
    if not rejects:
        # the k-th record read is row first + k: a view over the read table (no copy of the rows)
        cur.execute(f"CREATE OR REPLACE TEMP VIEW {ident(table)} AS "
                    f"SELECT CAST(rowid AS BIGINT) + {int(first)} AS row_no, * FROM {ident(table + '_r')}")
        return issues
    n = cur.execute(f"SELECT count(*) FROM {ident(table + '_r')}").fetchone()[0]
    # Good rows keep their place: the k-th good row is the k-th record number not rejected.
    bad = np.array(sorted({int(r[0]) for r in rejects}), dtype=np.int64)
    candidates = np.arange(first, first + n + len(bad), dtype=np.int64)
    row_nos = np.setdiff1d(candidates, bad, assume_unique=True)[:n]
    rn = pa.table({"k": pa.array(np.arange(n, dtype=np.int64)), "row_no": pa.array(row_nos)})  # noqa: F841
    cur.execute(f"CREATE OR REPLACE TEMP TABLE {ident(table)} AS SELECT rn.row_no, r.* EXCLUDE (k) FROM "
                f"(SELECT CAST(rowid AS BIGINT) AS k, * FROM {ident(table + '_r')}) r JOIN rn USING (k)")
    cur.execute(f"DROP TABLE {ident(table + '_r')}")
    return issues


# -- the typed read: one pass for a clean CSV ----------------------------------------------------
# Most exports are clean: every date and number in its column is one DuckDB's CSV reader casts by
# itself. For a single-part CSV the pipeline first reads the file with the typed columns cast by
# the reader (as fast as reading gets: no text copy of those cells, no parse expressions); only a
# file where the reader refuses something — a cell it cannot cast, a malformed line, bytes that are
# not UTF-8 — or holds a non-finite number goes down the general path (text cells + parse
# macros), which then reports every problem. Where the reader accepts a cell, its value is the
# value the general path gives: both are DuckDB's cast of the same text (tests/test_ingest_fastpath.py
# loads every test file both ways and compares). The cells as written, which only issue rows
# show, are read on demand (`shown_sql`).
def materialise_typed(cur, part: RawPart, mp: Mapping, source: Source, table: str) -> bool:
    """The typed read of a CSV part into `table` (row_no, c0..cN). True when the reader took every
    line and every number is finite; False (nothing left behind) sends the part down the general path."""
    pos = typed_positions(source, mp)
    if part.rows is not None or mp.wide:
        return False
    spec = "{" + ", ".join(f"'c{i}': '{READ_TYPE.get(pos.get(i), 'VARCHAR')}'" for i in range(part.n_fields)) + "}"
    read = f"CREATE OR REPLACE TEMP TABLE {ident(table + '_r')} AS SELECT * FROM {_READ_CSV.format(spec=spec)}"
    try:
        _run_read(cur, read, part)
        clean = not cur.execute("SELECT count(*) FROM reject_errors").fetchone()[0]
        # nan, inf and 'infinity' dates cast fine but the parser refuses them (not finite)
        if clean and pos:
            clean = not cur.execute(f"SELECT count(*) FROM {ident(table + '_r')} WHERE "
                                    + " OR ".join(f"NOT isfinite(c{i})" for i in pos)).fetchone()[0]
    except duckdb.Error:
        clean = False
    if not clean:
        cur.execute(f"DROP TABLE IF EXISTS {ident(table + '_r')}")
        return False
    cur.execute(f"CREATE OR REPLACE TEMP VIEW {ident(table)} AS "
                f"SELECT CAST(rowid AS BIGINT) + {int(part.skip_lines + 1)} AS row_no, * FROM {ident(table + '_r')}")
    return True


def shown_sql(source: Source, mp: Mapping, table: str, text_table: str, shown: str) -> str:
    """CREATE VIEW `shown`: `table` (a typed-read parse, or the view over it) with every declared
    column's cell as written (`<col>__raw`), from the text read `text_table` of the same part."""
    raw = ", ".join(f"{'c' + str(mp.columns[c.name]) if c.name in mp.columns else 'CAST(NULL AS VARCHAR)'} "
                    f"AS {ident(c.name + '__raw')}" for c in source.columns)
    return (f"CREATE OR REPLACE TEMP VIEW {ident(shown)} AS SELECT t.*, r.* EXCLUDE (row_no) FROM {ident(table)} t "
            f"LEFT JOIN (SELECT row_no, {raw} FROM {ident(text_table)}) r ON t.row_no = r.row_no")


class Shown:
    """Where issue rows read the cells as written: the parsed table and its derived view themselves
    after a text read; after a typed read, views that join them with a text read of the same part,
    made on first use — only a file with something to report pays for that second read."""

    def __init__(self, cur, source: Source, mp: Mapping, parsed: str, view: str, typed_part: RawPart | None,
                 file_name: str):
        self._cur, self._source, self._mp, self._part, self._file = cur, source, mp, typed_part, file_name
        self._tables = (parsed, view)
        self.parsed, self.view = (parsed, view) if typed_part is None else (f"shown_{parsed}", f"shown_{view}")
        self._ready = typed_part is None

    def ensure(self) -> list[Issue]:
        """Create the views if needed; the issues of the text read (none: the typed read took every line)."""
        if self._ready:
            return []
        issues = materialise(self._cur, self._part, "text_0", self._file)
        for table, shown in zip(self._tables, (self.parsed, self.view), strict=True):
            self._cur.execute(shown_sql(self._source, self._mp, table, "text_0", shown))
        self._ready = True
        return issues


def wide_select(mp: Mapping, raw_table: str) -> str:
    """A wide indicator table melted into the long `market_indicators` shape (raw text columns).

    Codes, names and units come from the WIDE_INDICATORS declaration, never from the file.
    """
    from data.sources import WIDE_INDICATORS

    parts = []
    for code, pos in mp.wide.items():
        _spellings, name, unit = WIDE_INDICATORS[code]
        parts.append(
            f"SELECT row_no, c{mp.columns['date']} AS c0, {lit(code)} AS c1, {lit(name)} AS c2, "
            f"{lit(unit)} AS c3, c{pos} AS c4 FROM {ident(raw_table)} WHERE NOT bp_null(bp_clean(c{pos}))"
        )
    return " UNION ALL ".join(parts)


WIDE_MAPPING_COLUMNS = {"date": 0, "indicator_code": 1, "indicator_name": 2, "unit": 3, "value": 4}


def derived_view(source: Source, parsed: str, view: str) -> str:
    """CREATE VIEW applying each column's derivation (fallback or prefer) over the parsed table."""
    repl = []
    for col in source.columns:
        if col.derive_sql:
            d = col.derive_sql
            expr = f"coalesce({ident(col.name)}, {d})" if col.derive_mode == "fallback" else \
                f"coalesce({d}, {ident(col.name)})"
            repl.append(f"CAST({expr} AS {col.sql_type}) AS {ident(col.name)}")
    body = f"SELECT * REPLACE ({', '.join(repl)}) FROM {ident(parsed)}" if repl else f"SELECT * FROM {ident(parsed)}"
    return f"CREATE OR REPLACE TEMP VIEW {ident(view)} AS {body} WHERE NOT is_total"
