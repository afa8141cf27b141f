"""Staging: raw parts into DuckDB temp tables, then typed by the parse macros.

Everything here runs on the ingest cursor (its own DuckDB connection), so temp tables are
private to one upload and vanish with it. Raw rows land as VARCHAR columns `c0..cN` with
`row_no` = the row number Excel would show; the typed table `parsed_<source>` carries, for every
declared column, the raw text (`<col>__raw`) and the typed value (`<col>`). For a CSV part
without rejected lines `raw_<i>` is a view (row_no from the rowid of the table read_csv filled),
not a copy.
"""

from __future__ import annotations

import re

import duckdb
import numpy as np
import pyarrow as pa

from data.ingest.headers import Mapping, unit_factor
from data.ingest.issues import Code, Issue, bilingual
from data.ingest.readers import RawPart
from data.sources import ColType, Source
from data.sources.model import Severity
from data.sqlfiles import ident

_PARSER = {
    ColType.ID: "bp_id({raw})", ColType.STR: "bp_str({raw})", ColType.TEXT: "bp_text({raw})",
    ColType.DATE: "bp_date({raw})", ColType.DATETIME: "bp_ts({raw})", ColType.INT: "bp_int({raw})",
    ColType.NUMBER: "bp_num({raw})", ColType.MONEY: "bp_num({raw})", ColType.DURATION: "bp_num({raw})",
    ColType.PERCENT: "bp_num({raw})",
}
# The same parsers applied to a cell already cleaned by bp_clean ({clean}); bp_text keeps the raw cell.
_PARSER_CLEAN = {
    ColType.ID: "bp_id_s({clean})", ColType.STR: "bp_str_s({clean})", ColType.TEXT: "bp_text({raw})",
    ColType.DATE: "bp_date_s({clean})", ColType.DATETIME: "bp_ts_s({clean})", ColType.INT: "bp_int_s({clean})",
    ColType.NUMBER: "bp_num_s({clean})", ColType.MONEY: "bp_num_s({clean})", ColType.DURATION: "bp_num_s({clean})",
    ColType.PERCENT: "bp_num_s({clean})",
}


def _lit(s: str) -> str:
    """A SQL string literal for a value from a declaration (never for user text)."""
    return "'" + s.replace("'", "''") + "'"


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
        return [Issue(file=file_name, severity=Severity.ERROR, code=Code.MALFORMED_ROW,
                      expected=bilingual(f"{part.n_fields}个字段、引号成对", f"{part.n_fields} fields, balanced quotes"),
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
_READ_TYPE = {ColType.DATE: "TIMESTAMP", ColType.DATETIME: "TIMESTAMP", ColType.INT: "DOUBLE",
              ColType.NUMBER: "DOUBLE", ColType.MONEY: "DOUBLE", ColType.DURATION: "DOUBLE", ColType.PERCENT: "DOUBLE"}
_FROM_READ = {ColType.DATE: "CAST({raw} AS DATE)", ColType.INT: "bp_int_d({raw})"}


def _typed_positions(source: Source, mp: Mapping) -> dict[int, ColType]:
    """File column → declared type, for the mapped columns the typed read casts."""
    return {mp.columns[c.name]: c.type for c in source.columns if c.name in mp.columns and c.type in _READ_TYPE}


def materialise_typed(cur, part: RawPart, mp: Mapping, source: Source, table: str) -> bool:
    """The typed read of a CSV part into `table` (row_no, c0..cN). True when the reader took every
    line and every number is finite; False (nothing left behind) sends the part down the general path."""
    pos = _typed_positions(source, mp)
    if part.rows is not None or mp.wide:
        return False
    spec = "{" + ", ".join(f"'c{i}': '{_READ_TYPE.get(pos.get(i), 'VARCHAR')}'" for i in range(part.n_fields)) + "}"
    read = f"CREATE OR REPLACE TEMP TABLE {ident(table + '_r')} AS SELECT * FROM {_READ_CSV.format(spec=spec)}"
    try:
        _run_read(cur, read, part)
        clean = not cur.execute("SELECT count(*) FROM reject_errors").fetchone()[0]
        numbers = [f"c{i}" for i, t in pos.items() if _READ_TYPE[t] == "DOUBLE"]
        if clean and numbers:  # nan/inf cast fine but are refused by the parser (not finite)
            clean = not cur.execute(f"SELECT count(*) FROM {ident(table + '_r')} WHERE "
                                    + " OR ".join(f"NOT isfinite({c})" for c in numbers)).fetchone()[0]
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


# Column types whose cells are checked against their parser: a non-empty cell that parses to NULL
# is an error (TYPE, ENUM or, for IDs, ID_SCIENTIFIC); the parse records it as `<col>__bad`.
FLAGGED = frozenset({ColType.ID, ColType.DATE, ColType.DATETIME, ColType.INT, ColType.NUMBER, ColType.MONEY,
                     ColType.DURATION, ColType.PERCENT, ColType.ENUM})
BAD = "__bad"
# The cheap first try per type: DuckDB's own cast of the raw cell. Where it gives a (finite) value it
# is the value the full parser gives (the parser cleans the cell and casts it the same way first), so
# only the cells it refuses go through bp_clean and the slow spellings (`_typed`).
_FAST = {
    ColType.DATE: "CAST(TRY_CAST({raw} AS TIMESTAMP) AS DATE)", ColType.DATETIME: "TRY_CAST({raw} AS TIMESTAMP)",
    ColType.INT: "bp_int_d(bp_finite(TRY_CAST({raw} AS DOUBLE)))", ColType.NUMBER: "bp_finite(TRY_CAST({raw} AS DOUBLE))",
    ColType.MONEY: "bp_finite(TRY_CAST({raw} AS DOUBLE))", ColType.DURATION: "bp_finite(TRY_CAST({raw} AS DOUBLE))",
    ColType.PERCENT: "bp_finite(TRY_CAST({raw} AS DOUBLE))",
}


# -- low-cardinality text columns: each distinct value parsed once -------------------------------
# A branch id, a business type, a status repeat thousands of times in an export. Such a column is
# parsed as its distinct values (through parse_select itself, one column at a time) and joined back
# to the rows: the same values and flags, for a fraction of the work. Which columns qualify is
# judged on the first 20,000 rows; the choice changes speed only, never a result.
VALUES_MIN_ROWS = 50_000  # a smaller upload parses cell by cell (the extra statements cost more)
VALUES_SAMPLE = 20_000
VALUES_MAX_SHARE = 0.05  # at most one distinct value per 20 rows of the sample
_VALUE_TYPES = (ColType.ID, ColType.STR, ColType.ENUM)


def value_tables(cur, source: Source, mp: Mapping, raw_table: str, part_index: int, typed_read: bool = False) -> dict[int, str]:
    """Parse the low-cardinality text columns of a raw part by value: {position: value table}.

    Each value table holds (v: the cell as written, val: its typed value, bad: its flag, is_total:
    whether it reads as a 合计 label), for the `values` argument of `parse_select`."""
    typed_pos = _typed_positions(source, mp) if typed_read else {}
    cands = [(pos, c) for c in source.columns
             if (pos := mp.columns.get(c.name)) is not None and pos not in typed_pos and c.type in _VALUE_TYPES]
    if not cands or mp.wide:
        return {}
    if cur.execute(f"SELECT count(*) FROM {ident(raw_table)}").fetchone()[0] < VALUES_MIN_ROWS:
        return {}
    sample = f"(SELECT * FROM {ident(raw_table)} LIMIT {VALUES_SAMPLE})"
    n, *distinct = cur.execute(f"SELECT count(*), {', '.join(f'approx_count_distinct(c{p})' for p, _ in cands)} "
                               f"FROM {sample}").fetchone()
    out = {}
    for (pos, col), d in zip(cands, distinct, strict=True):
        if d > VALUES_MAX_SHARE * n:
            continue
        name = f"values_{part_index}_{pos}"
        cur.execute(f"CREATE OR REPLACE TEMP VIEW {ident(name + '_in')} AS SELECT CAST(0 AS BIGINT) AS row_no, v AS c0 "
                    f"FROM (SELECT DISTINCT c{pos} AS v FROM {ident(raw_table)} WHERE c{pos} IS NOT NULL)")
        one = parse_select(source, Mapping(source.name, columns={col.name: 0}), name + "_in", 1, [])
        bad = ident(col.name + BAD) if col.type in FLAGGED else "false"
        cur.execute(f"CREATE OR REPLACE TEMP TABLE {ident(name)} AS SELECT {ident(col.name + '__raw')} AS v, "
                    f"{ident(col.name)} AS val, {bad} AS bad, is_total FROM ({one})", {"sheet": ""})
        out[pos] = name
    return out


def parse_select(source: Source, mp: Mapping, raw_table: str, n_fields: int, problems: list[str],
                 typed_read: bool = False, values: dict[int, str] | None = None) -> str:
    """SELECT that types one raw part into the declared columns (unmapped columns are NULL).

    Output per declared column: `<col>__raw` (the cell as written; not after a typed read), `<col>`
    (typed) and, for the FLAGGED types, `<col>__bad` (a non-empty cell the parser refused); plus
    row_no, sheet, is_total. `typed_read`: the part comes from `materialise_typed` (its date and
    number columns are typed already). `values`: columns parsed by value (`value_tables`), joined.

    Stacked projections, innermost first: (1) each text cell cleaned once (k<i> = bp_clean(c<i>))
    for the ID/text parsers, the fast cast f<i> of each typed cell; (2) a typed cell's cleaned text
    only where its fast cast gave NULL (a CASE branch runs for its rows only); (3) the typed values;
    (4) the flags. Every macro is expanded once per column: a big expression costs planning time
    that a small upload notices.
    """
    typed_pos = _typed_positions(source, mp) if typed_read else {}
    values = values or {}
    # a 合计/total line has its label in one of the first cells (never in a cell the reader cast)
    probes = [i for i in range(min(2, max(1, n_fields))) if i not in typed_pos]
    total_probe = " OR ".join(f"coalesce(z{i}, false)" if i in values else f"bp_total_row_s(k{i})"
                              for i in probes) or "false"
    clean: set[int] = {i for i in probes if i not in values}
    fast: list[str] = []  # level 1
    lazy: dict[int, str] = {}  # level 2
    items = ["row_no", "$sheet AS sheet"]  # level 3
    flags = []  # level 4
    for col in source.columns:
        pos = mp.columns.get(col.name)
        raw = f"c{pos}" if pos is not None else "CAST(NULL AS VARCHAR)"
        if pos is None:  # (a parser applied to NULL would be expanded in full before it folds away)
            expr = f"CAST(NULL AS {col.sql_type})"
        elif pos in typed_pos:
            expr = _scaled(_FROM_READ.get(col.type, "{raw}").format(raw=raw), col, mp, problems)
        elif pos in values:
            expr = f"t{pos}"
        elif col.type in _FAST:
            fast.append(f"{_FAST[col.type].format(raw=raw)} AS f{pos}")
            if pos not in clean:
                lazy[pos] = f"CASE WHEN f{pos} IS NULL THEN bp_clean({raw}) END AS k{pos}"
            slow = _typed(col, raw, mp, problems, f"k{pos}", unit=False)
            expr = _scaled(f"CASE WHEN f{pos} IS NULL THEN {slow} ELSE f{pos} END", col, mp, problems)
        elif col.type is ColType.ENUM:  # plain spellings by equality first; only other cells are cleaned
            expr = _typed(col, raw, mp, problems)
        else:
            clean.add(pos)
            expr = _typed(col, raw, mp, problems, f"k{pos}")
        items.append(f"{raw} AS {ident(col.name + '__raw')}")
        items.append(f"{expr} AS {ident(col.name)}")
        if col.type in FLAGGED:
            c, r = ident(col.name), ident(col.name + "__raw")
            cleaned = f"k{pos}" if pos in clean or col.type in _FAST else f"bp_clean({r})"
            if pos is None:
                flag = "false"
            elif pos in values:
                flag = f"coalesce(b{pos}, false)"
            elif pos in typed_pos:  # a value the reader cast but the type refuses (20.5 for an integer)
                flag = f"({c} IS NULL AND {r} IS NOT NULL)"
            else:
                flag = f"CASE WHEN {c} IS NULL AND {r} IS NOT NULL THEN NOT bp_null({cleaned}) ELSE false END"
            flags.append(f"{flag} AS {ident(col.name + BAD)}")
    nonempty = " OR ".join(f"c{p} IS NOT NULL" for p in mp.columns.values()) or "true"
    level1 = "".join(f", {e}" for e in [*(f"bp_clean(c{p}) AS k{p}" for p in sorted(clean)), *fast])
    joined = "".join(f", d{p}.val AS t{p}, d{p}.bad AS b{p}, d{p}.is_total AS z{p}" for p in values)
    joins = "".join(f" LEFT JOIN {ident(t)} d{p} ON r.c{p} = d{p}.v" for p, t in values.items())
    relation = f"(SELECT r.*{joined}{level1} FROM {ident(raw_table)} r{joins} WHERE ({nonempty}))"
    if lazy:
        relation = f"(SELECT *, {', '.join(lazy.values())} FROM {relation})"
    ks = sorted(clean | set(lazy))  # the flags read the cleaned cells too
    carried = [f"k{p}" for p in ks] + [f"b{p}" for p in values]
    level3 = f"SELECT {', '.join(items + carried)}, ({total_probe}) AS is_total FROM {relation}"
    dropped = carried + ([ident(c.name + "__raw") for c in source.columns] if typed_read else [])
    exclude = f" EXCLUDE ({', '.join(dropped)})" if dropped else ""
    return f"SELECT *{exclude}, {', '.join(flags) or 'NULL AS no_flags'} FROM ({level3})"


def _typed(col, raw: str, mp: Mapping, problems: list[str], clean: str | None = None, unit: bool = True) -> str:
    """The typed expression of a column; with `clean` (the bp_clean'ed cell) the `_s` parsers.

    `unit=False` leaves out the header's unit factor (the caller applies it once, see `_scaled`).
    """
    if col.type is ColType.ENUM:
        return _enum(col, raw, clean)
    expr = _PARSER[col.type].format(raw=raw) if clean is None else _PARSER_CLEAN[col.type].format(raw=raw, clean=clean)
    return _scaled(expr, col, mp, problems) if unit else expr


def _scaled(expr: str, col, mp: Mapping, problems: list[str] | None = None) -> str:
    """`expr` times the factor of the unit the header names (万元 → 元, 分钟 → 秒 …)."""
    factor, problem = unit_factor(col.unit, mp.units.get(col.name))
    if problem and problems is not None and col.name not in problems:
        problems.append(col.name)
    return f"({expr} * {float(factor)!r})" if factor != 1.0 else expr


_PLAIN = re.compile(r"[0-9A-Za-z_\u4e00-\u9fff]+")


def _enum(col, raw: str, clean: str | None) -> str:
    """An enum cell → its code: looked up by its key (cleaned, lower-case) in the spellings; a cell
    written exactly as one of the plain spellings (letters, digits, CJK: nothing for bp_clean to
    change) is matched first by plain equality, which is most cells and much cheaper."""
    key = f"bp_enum_key({raw})" if clean is None else f"bp_enum_key_s({clean})"
    code_of_key: dict[str, str] = {}
    for code, spellings in col.values.items():
        for k in sorted({s.strip().lower() for s in (*spellings, code)}):
            code_of_key.setdefault(k, code)  # a key two codes share belongs to the first (declaration order)
    lookup = "MAP {" + ", ".join(f"{_lit(k)}: {_lit(c)}" for k, c in code_of_key.items()) + "}"
    slow = f"{lookup}[{key}]"
    exact = sorted({s for spellings in col.values.values() for s in spellings} | set(col.values))
    fast = [f"WHEN {_lit(s)} THEN {_lit(code_of_key[s.lower()])}" for s in exact
            if _PLAIN.fullmatch(s) and s.lower() in code_of_key and s.lower() not in NULL_WORDS]
    return f"CASE {raw} {' '.join(fast)} ELSE {slow} END" if fast else slow


# Plain words bp_null reads as "no value" (parse.sql); never matched as an enum spelling.
NULL_WORDS = frozenset({"n/a", "na", "null", "none", "nan", "无"})


def wide_select(mp: Mapping, raw_table: str) -> str:
    """A wide indicator table melted into the long `market_indicators` shape (raw text columns).

    Codes, names and units come from the WIDE_INDICATORS declaration, never from the file.
    """
    from data.sources import WIDE_INDICATORS

    parts = []
    for code, pos in mp.wide.items():
        _spellings, name, unit = WIDE_INDICATORS[code]
        parts.append(
            f"SELECT row_no, c{mp.columns['date']} AS c0, {_lit(code)} AS c1, {_lit(name)} AS c2, "
            f"{_lit(unit)} AS c3, c{pos} AS c4 FROM {ident(raw_table)} WHERE NOT bp_null(bp_clean(c{pos}))"
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
