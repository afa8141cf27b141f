"""CSV exports that open cleanly in Excel: every download and `--report` goes through here.

UTF-8 with a BOM so Excel on Chinese Windows reads the Chinese text, and every string cell that
Excel would take for a formula (= + - @ tab CR at the start) prefixed with ' (CSV injection).
"""

from __future__ import annotations

import re

import pandas as pd

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?\d+(\.\d+)?%?")  # "-20", "+3.5": data, not formulas


def sanitize_cell(value):
    """`value`, with a leading ' when it is a string Excel would run as a formula.

    A plain signed number ("-20") is left alone: Excel reads it as a number, and prefixing it
    would corrupt templates and exports that are loaded back.
    """
    if isinstance(value, str) and value.startswith(_FORMULA_START) and not _PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


def sanitize_frame(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of `df` with every string cell (and header) made formula-safe."""
    out = df.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].map(sanitize_cell)
    out.columns = [sanitize_cell(str(c)) for c in out.columns]
    return out


def to_csv_bytes(df: pd.DataFrame) -> bytes:
    """`df` as formula-safe CSV bytes in UTF-8 with a BOM (utf-8-sig), no index."""
    return sanitize_frame(df).to_csv(index=False).encode("utf-8-sig")


def to_xlsx_bytes(df: pd.DataFrame, sheet: str = "Sheet1") -> bytes:
    """`df` as an .xlsx workbook (one sheet, no index): strings stay strings (never formulas or
    numbers), NaN as empty cells; the same formula-safe cells as the CSV."""
    import io

    import xlsxwriter

    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True, "strings_to_formulas": False, "strings_to_numbers": False,
                                   "nan_inf_to_errors": False})
    ws = wb.add_worksheet(sheet[:31])
    safe = sanitize_frame(df)
    ws.write_row(0, 0, list(safe.columns))
    for r, row in enumerate(safe.itertuples(index=False), 1):
        for c, v in enumerate(row):
            if v is None or v is pd.NA or (isinstance(v, float) and v != v):
                continue
            ws.write(r, c, v.isoformat() if hasattr(v, "isoformat") else v)
    wb.close()
    return buf.getvalue()
