"""Staging: raw parts into DuckDB temp tables, then typed by the parse macros.

Everything here runs on the ingest cursor (its own DuckDB connection), so temp tables are
private to one upload and vanish with it. Raw rows land as VARCHAR columns `c0..cN` with
`row_no` = the row number Excel would show; the typed table `parsed_<source>` carries, for every
declared column, the raw text (`<col>__raw`) and the typed value (`<col>`). For a CSV part
without rejected lines `raw_<i>` is a view (row_no from the rowid of the table read_csv filled),
not a copy.
"""

from __future__ import annotations

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


def parse_select(source: Source, mp: Mapping, raw_table: str, n_fields: int, problems: list[str]) -> str:
    """SELECT that types one raw part into the declared columns (unmapped columns are NULL)."""
    # Every used cell is cleaned once (k<i> = bp_clean(c<i>)) in a subquery and the `_s` parsers
    # read the cleaned value: a macro argument used in several CASE branches would otherwise be
    # cleaned once per use (same values, several times the work).
    items = ["row_no", "$sheet AS sheet"]
    # a 合计/total line has its label in one of the first cells
    probes = range(min(2, max(1, n_fields)))
    total_probe = " OR ".join(f"bp_total_row_s(k{i})" for i in probes)
    for col in source.columns:
        pos = mp.columns.get(col.name)
        raw = f"c{pos}" if pos is not None else "CAST(NULL AS VARCHAR)"
        clean = f"k{pos}" if pos is not None else "CAST(NULL AS VARCHAR)"
        expr = _typed(col, raw, mp, problems, clean)
        items.append(f"{raw} AS {ident(col.name + '__raw')}")
        items.append(f"{expr} AS {ident(col.name)}")
    nonempty = " OR ".join(f"c{p} IS NOT NULL" for p in mp.columns.values()) or "true"
    cleaned = ", ".join(f"bp_clean(c{p}) AS k{p}" for p in sorted(set(mp.columns.values()) | set(probes)))
    return (f"SELECT {', '.join(items)}, ({total_probe}) AS is_total FROM "
            f"(SELECT *, {cleaned} FROM {ident(raw_table)} WHERE ({nonempty}))")


def _typed(col, raw: str, mp: Mapping, problems: list[str], clean: str | None = None) -> str:
    """The typed expression of a column; with `clean` (the bp_clean'ed cell) the `_s` parsers."""
    if col.type is ColType.ENUM:
        key = f"bp_enum_key({raw})" if clean is None else f"bp_enum_key_s({clean})"
        cases = []
        for code, spellings in col.values.items():
            keys = sorted({s.strip().lower() for s in (*spellings, code)})
            cases.append(f"WHEN {key} IN ({', '.join(_lit(k) for k in keys)}) THEN {_lit(code)}")
        return f"CASE {' '.join(cases)} END"
    expr = _PARSER[col.type].format(raw=raw) if clean is None else _PARSER_CLEAN[col.type].format(raw=raw, clean=clean)
    factor, problem = unit_factor(col.unit, mp.units.get(col.name))
    if problem:
        problems.append(col.name)
    if factor != 1.0:
        expr = f"({expr} * {float(factor)!r})"
    return expr


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
