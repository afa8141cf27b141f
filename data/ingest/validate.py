"""Validation of a typed upload: every problem, as rows of one issue table.

Each rule is one small SQL query over the staged tables, built from the source declaration;
all of them run and their rows are collected (a rule that itself fails becomes one more issue
instead of hiding the others). Type and vocabulary problems are judged on the parsed table,
before derivations fill gaps; required values, ranges, keys and domain checks on the derived
view, which is what would be loaded.
"""

from __future__ import annotations

from dataclasses import dataclass

from data.ingest.issues import Code
from data.ingest.parsing import BAD, FLAGGED
from data.sources import ColType, Source
from data.sources.model import Severity
from data.sqlfiles import ident

EXPECTED = {
    ColType.ID: ("文本编号（不能是科学计数法）", "a text identifier (not scientific notation)"),
    ColType.DATE: ("日期，如 2025-01-03、2025/1/3、2025年1月3日、20250103", "a date such as 2025-01-03, 2025/1/3, 2025年1月3日 or 20250103"),
    ColType.DATETIME: ("日期时间，如 2025-01-03 09:15:30", "a date-time such as 2025-01-03 09:15:30"),
    ColType.INT: ("整数", "a whole number"),
    ColType.NUMBER: ("数字，如 1,234.56", "a number such as 1,234.56"),
    ColType.MONEY: ("金额，如 1,234.56 或 (1,234.00)", "an amount such as 1,234.56 or (1,234.00)"),
    ColType.DURATION: ("时长（数字）", "a duration (a number)"),
    ColType.PERCENT: ("百分数，如 3.45 或 3.45%", "a percentage such as 3.45 or 3.45%"),
}


@dataclass(frozen=True)
class Rule:
    """One validation query: it yields (row_no, sheet, column, value, expected, message) rows.

    `table`/`where`, when set, say that the rule yields a row exactly for the rows of `table`
    where `where` is true: `probe_sql` then tests many rules in one scan, and a rule that finds
    nothing need not run (most uploads have no problem at all).
    """

    code: Code
    severity: Severity
    sql: str
    table: str = ""
    where: str = ""
    probe: str = ""  # a cheaper query answering "could this rule find anything?" (one boolean)


def _rule(code: Code, severity: Severity, select: str, table: str, where: str, shown: str = "") -> Rule:
    """A rule whose rows are `table`'s rows where `where` holds; `select` reads them from `shown`
    (the same rows with the cells as written, when `table` lacks them)."""
    return Rule(code, severity, f"{select} FROM {shown or table} WHERE {where}", table, where)


def probe_sql(rules: list[Rule]) -> list[tuple[list[int], str]]:
    """One query per table: `SELECT count_if(where_1) > 0, ... FROM table`, with the indexes (into
    `rules`) of the rules each column answers for."""
    by_table: dict[str, list[int]] = {}
    for i, r in enumerate(rules):
        if r.table:
            by_table.setdefault(r.table, []).append(i)
    return [(idx, f"SELECT {', '.join(f'count_if({rules[i].where}) > 0' for i in idx)} FROM {t}")
            for t, idx in by_table.items()]


def _q(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def rules(source: Source, parsed: str, view: str, mapped: set[str], shown_parsed: str = "",
          shown_view: str = "", flagged: set[str] | None = None) -> list[Rule]:
    """The validation rules of `source` for columns present in the upload (`mapped`).

    `flagged`: the columns with a `<col>__bad` flag (default: every mapped FLAGGED column); a
    column without one has no cell the parser refused, so its type rule cannot find anything.

    Conditions read `parsed` / `view` (typed values and `<col>__bad` flags); the rows a rule
    returns show the cells as written (`<col>__raw`) from `shown_parsed` / `shown_view` when given
    (after a typed read the parsed table has no text copies; see stage.shown_sql).
    """
    out: list[Rule] = []
    P, V = ident(parsed), ident(view)
    SP, SV = ident(shown_parsed or parsed), ident(shown_view or view)
    if flagged is None:
        flagged = {c.name for c in source.columns if c.name in mapped and c.type in FLAGGED}
    for col in source.columns:
        c, raw, bad = ident(col.name), ident(col.name + "__raw"), ident(col.name + BAD)
        label = _q(col.name)
        if col.name in flagged and col.type in EXPECTED:
            zh, en = EXPECTED[col.type]
            if col.type is ColType.ID:
                out.append(_rule(Code.ID_SCIENTIFIC, Severity.ERROR,
                    f"SELECT row_no, sheet, {label}, {raw}, {_q(zh + ' / ' + en)}, "
                    f"{_q('编号被Excel转成了科学计数法，位数已丢失；请把该列设为文本后重新导出 / Excel turned this ID into scientific notation and lost digits; export the column as text')}",
                    P, f"NOT is_total AND {bad}", SP))  # an ID the parser refuses is a mangled one
            else:
                out.append(_rule(Code.TYPE, Severity.ERROR,
                    f"SELECT row_no, sheet, {label}, {raw}, {_q(zh + ' / ' + en)}, "
                    f"{_q('无法识别的值 / value not understood')}",
                    P, f"NOT is_total AND {bad}", SP))
        if col.name in flagged and col.type is ColType.ENUM:
            allowed = "、".join(s[0] for s in col.values.values())
            out.append(_rule(Code.ENUM, Severity.ERROR,
                f"SELECT row_no, sheet, {label}, {raw}, {_q('以下之一 / one of: ' + allowed)}, "
                f"{_q('不在取值范围内 / not an accepted value')}",
                P, f"NOT is_total AND {bad}", SP))
        if col.required and (col.name in mapped or col.derive_sql):
            out.append(_rule(Code.REQUIRED, Severity.ERROR,
                f"SELECT row_no, sheet, {label}, {raw}, {_q('必填 / required')}, "
                f"{_q('必填项为空 / required value is empty')}",
                # a cell the parser refused is reported as such, not as empty too
                V, f"{c} IS NULL AND NOT {bad}" if col.name in flagged else f"{c} IS NULL", SV))
        if col.min_value is not None or col.max_value is not None:
            lo = -1e308 if col.min_value is None else col.min_value
            hi = 1e308 if col.max_value is None else col.max_value
            rng = f"{col.min_value if col.min_value is not None else '-∞'} … {col.max_value if col.max_value is not None else '∞'}"
            # a value computed from other columns ("prefer") is judged by the domain checks; the
            # range applies to what the file itself says
            table, shown = (P, SP) if col.derive_mode == "prefer" else (V, SV)
            out.append(_rule(Code.RANGE, Severity.ERROR,
                f"SELECT row_no, sheet, {label}, coalesce({raw}, CAST({c} AS VARCHAR)), {_q('范围 / range ' + rng)}, "
                f"{_q('超出允许范围 / outside the allowed range')}",
                table, f"NOT is_total AND ({c} < {lo!r} OR {c} > {hi!r})", shown))
    keys = ", ".join(ident(k) for k in source.key)
    key_label = "+".join(source.key)
    not_null = " AND ".join(f"{ident(k)} IS NOT NULL" for k in source.key)
    out.append(Rule(Code.DUPLICATE_KEY, Severity.ERROR,
        f"SELECT row_no, sheet, {_q(key_label)}, concat_ws('|', {keys}), "
        f"'唯一 / unique', '与第 ' || first_row || ' 行重复 / duplicate of row ' || first_row "
        f"FROM (SELECT row_no, sheet, {keys}, min(row_no) OVER w AS first_row, count(*) OVER w AS n "
        f"FROM {V} WHERE {not_null} WINDOW w AS (PARTITION BY {keys})) WHERE n > 1 AND row_no <> first_row",
        # a grouping finds out whether any key repeats at a fraction of the window's cost
        probe=f"SELECT EXISTS (SELECT 1 FROM {V} WHERE {not_null} GROUP BY {keys} HAVING count(*) > 1)"))
    for chk in source.checks:
        if not set(chk.columns) & mapped:
            continue
        shown = ident(chk.columns[0] + "__raw")
        out.append(_rule(Code.CHECK, chk.severity,
            f"SELECT row_no, sheet, {_q(','.join(chk.columns))}, {shown}, {_q(chk.code)}, "
            f"{_q(chk.message_zh + ' / ' + chk.message_en)}", V, f"coalesce({chk.violation_sql}, false)", SV))
    out.append(_rule(Code.TOTAL_ROW, Severity.INFO,
        "SELECT row_no, sheet, '', NULL, '', '合计行，已跳过 / total row, skipped'", P, "is_total"))
    return out


def unknown_branches_sql(source: Source, view: str) -> list[str]:
    """Queries listing branch ids absent from the branch master (first row where each appears)."""
    out = []
    for ref in source.branch_refs:
        r = ident(ref)
        out.append(
            f"SELECT min(row_no) AS row_no, arg_min(sheet, row_no) AS sheet, {_q(ref)} AS col, {r} AS value "
            f"FROM {ident(view)} v WHERE {r} IS NOT NULL AND NOT EXISTS "
            f"(SELECT 1 FROM main.branches b WHERE b.branch_id = v.{r}) GROUP BY {r}"
        )
    return out
