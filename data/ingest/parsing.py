"""Typing: the SELECT that turns a raw part's text cells into the declared columns.

The parse macros (data/sql/parse.sql) define what every spelling of a value means; this module
builds, from a source declaration and a header mapping, the one statement that applies them to a
raw part — with the shortcuts that make a million rows cheap and change no result: DuckDB's own
cast tried first, plain enum spellings matched by equality, low-cardinality columns parsed once
per distinct value, the columns a typed read already cast taken as they are, and a flag per
column (`<col>__bad`) so validation need not parse anything again.
"""

from __future__ import annotations

import re

from data.ingest.headers import Mapping, unit_factor
from data.sources import ColType, Source
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


def lit(s: str) -> str:
    """A SQL string literal for a value from a declaration (never for user text)."""
    return "'" + s.replace("'", "''") + "'"


# What the typed read (stage.materialise_typed) has DuckDB's reader cast, and how each is taken.
READ_TYPE = {ColType.DATE: "TIMESTAMP", ColType.DATETIME: "TIMESTAMP", ColType.INT: "DOUBLE",
              ColType.NUMBER: "DOUBLE", ColType.MONEY: "DOUBLE", ColType.DURATION: "DOUBLE", ColType.PERCENT: "DOUBLE"}
_FROM_READ = {ColType.DATE: "CAST({raw} AS DATE)", ColType.INT: "bp_int_d({raw})"}


def typed_positions(source: Source, mp: Mapping) -> dict[int, ColType]:
    """File column → declared type, for the mapped columns the typed read casts."""
    return {mp.columns[c.name]: c.type for c in source.columns if c.name in mp.columns and c.type in READ_TYPE}


# Column types whose cells are checked against their parser: a non-empty cell that parses to NULL
# is an error (TYPE, ENUM or, for IDs, ID_SCIENTIFIC); the parse records it as `<col>__bad`.
FLAGGED = frozenset({ColType.ID, ColType.DATE, ColType.DATETIME, ColType.INT, ColType.NUMBER, ColType.MONEY,
                     ColType.DURATION, ColType.PERCENT, ColType.ENUM})
BAD = "__bad"
# The cheap first try per type: DuckDB's own cast of the raw cell. Where it gives a (finite) value it
# is the value the full parser gives (the parser cleans the cell and casts it the same way first), so
# only the cells it refuses go through bp_clean and the slow spellings (`_typed`).
_FAST = {
    ColType.DATE: "CAST(bp_finite(TRY_CAST({raw} AS TIMESTAMP)) AS DATE)",
    ColType.DATETIME: "bp_finite(TRY_CAST({raw} AS TIMESTAMP))",
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
    typed_pos = typed_positions(source, mp) if typed_read else {}
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


def possible_flags(cur, source: Source, mp: Mapping, typed_read: bool = False,
                   values: dict[int, str] | None = None) -> set[str]:
    """The columns of a part whose `<col>__bad` flag can be true (the others need no flag column).

    Not a column the typed read cast (its value is the reader's, never NULL for a non-empty cell;
    an integer column excepted: 20.5 casts but is no integer), nor a column parsed by value none
    of whose values was refused."""
    typed_pos = typed_positions(source, mp) if typed_read else {}
    values = values or {}
    out = set()
    for col in source.columns:
        pos = mp.columns.get(col.name)
        if col.type not in FLAGGED or pos is None or (pos in typed_pos and col.type is not ColType.INT):
            continue
        if pos in values and not cur.execute(f"SELECT coalesce(bool_or(bad), false) FROM {ident(values[pos])}").fetchone()[0]:
            continue
        out.add(col.name)
    return out


def parse_select(source: Source, mp: Mapping, raw_table: str, n_fields: int, problems: list[str],
                 typed_read: bool = False, values: dict[int, str] | None = None, flags: set[str] | None = None) -> str:
    """SELECT that types one raw part into the declared columns (unmapped columns are NULL).

    Output per declared column: `<col>__raw` (the cell as written; not after a typed read), `<col>`
    (typed) and, for the FLAGGED types, `<col>__bad` (a non-empty cell the parser refused); plus
    row_no, sheet, is_total. `typed_read`: the part comes from `materialise_typed` (its date and
    number columns are typed already). `values`: columns parsed by value (`value_tables`), joined.
    `flags`: the columns that get a flag (default: every FLAGGED column of the part; the pipeline
    passes `possible_flags` of all parts — a flag that is false everywhere is not worth writing).

    Stacked projections, innermost first: (1) each text cell cleaned once (k<i> = bp_clean(c<i>))
    for the ID/text parsers, the fast cast f<i> of each typed cell; (2) a typed cell's cleaned text
    only where its fast cast gave NULL (a CASE branch runs for its rows only); (3) the typed values;
    (4) the flags. Every macro is expanded once per column: a big expression costs planning time
    that a small upload notices.
    """
    typed_pos = typed_positions(source, mp) if typed_read else {}
    values = values or {}
    # a 合计/total line has its label in one of the first cells (never in a cell the reader cast)
    probes = [i for i in range(min(2, max(1, n_fields))) if i not in typed_pos]
    total_probe = " OR ".join(f"coalesce(z{i}, false)" if i in values else f"bp_total_row_s(k{i})"
                              for i in probes) or "false"
    clean: set[int] = {i for i in probes if i not in values}
    fast: list[str] = []  # level 1
    lazy: dict[int, str] = {}  # level 2
    items = ["row_no", "$sheet AS sheet"]  # level 3
    flag_items: list[str] = []  # level 4
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
        if col.type in FLAGGED and (col.name in flags if flags is not None else pos is not None):
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
            flag_items.append(f"{flag} AS {ident(col.name + BAD)}")
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
    return f"SELECT *{exclude}{''.join(', ' + f for f in flag_items)} FROM ({level3})"


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
    lookup = "MAP {" + ", ".join(f"{lit(k)}: {lit(c)}" for k, c in code_of_key.items()) + "}"
    slow = f"{lookup}[{key}]"
    exact = sorted({s for spellings in col.values.values() for s in spellings} | set(col.values))
    fast = [f"WHEN {lit(s)} THEN {lit(code_of_key[s.lower()])}" for s in exact
            if _PLAIN.fullmatch(s) and s.lower() in code_of_key and s.lower() not in NULL_WORDS]
    return f"CASE {raw} {' '.join(fast)} ELSE {slow} END" if fast else slow


# Plain words bp_null reads as "no value" (parse.sql); never matched as an enum spelling.
NULL_WORDS = frozenset({"n/a", "na", "null", "none", "nan", "无"})
