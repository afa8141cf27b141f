"""File writers that mimic how Chinese bank systems export: GBK CSV (Excel "CSV" on a Chinese
Windows), UTF-8-with-BOM CSV (Excel "CSV UTF-8") and .xlsx with title rows and text-typed IDs.

All writers are byte-deterministic (the xlsx creation time is given, 08:00 the morning after the
demo's last day) so a seed and an as-of date reproduce the files exactly.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import xlsxwriter


def created_at(as_of: date) -> datetime:
    """The creation time the demo's workbooks carry: 08:00 the day after the last day of data (the
    morning the exports would have been pulled), fixed so the bytes depend on the as-of date only."""
    return datetime.combine(as_of + timedelta(days=1), time(8, 0, 0))


def _as_arrow_text(s: pd.Series) -> pa.Array:
    """Column → Arrow string array ('' for missing), no per-row Python."""
    arr = pa.Array.from_pandas(s)
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if pa.types.is_floating(arr.type):
        # shortest round-trip repr, like pandas/Excel ("3.45", not "3.4500000001")
        arr = pa.array(np.where(s.isna(), "", s.to_numpy(dtype=float, na_value=0.0).astype(str)), pa.string())
    if arr.type != pa.large_string():
        arr = pc.cast(arr, pa.large_string())
    return pc.fill_null(arr, "")


def write_csv(df: pd.DataFrame, path: Path, encoding: str) -> Path:
    """Write a CSV with Windows line ends; `encoding` is "gbk" or "utf-8-sig" (BOM) or "utf-8".

    Fast path: columns are joined element-wise in Arrow (no per-row Python); falls back to pandas'
    writer when a value needs CSV quoting.
    """
    n, k = len(df), len(df.columns)
    header = ",".join(map(str, df.columns))
    text = None
    if n and k > 1:
        lines = pc.binary_join_element_wise(*[_as_arrow_text(df[c]) for c in df.columns], pa.scalar(",", pa.large_string()))
        text = header + "\r\n" + "\r\n".join(lines.to_pylist()) + "\r\n"
        if text.count(",") != (k - 1) * (n + 1) or '"' in text or text.count("\n") != n + 1:
            text = None  # some value contains a separator/quote/newline: let pandas quote it
    if text is None:
        text = df.to_csv(index=False, lineterminator="\r\n", na_rep="")
    path.write_bytes(text.encode(encoding))  # strict: fails loudly if a character is not GBK
    return path


def new_workbook(path: Path, created: datetime) -> xlsxwriter.Workbook:
    wb = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False, "strings_to_formulas": False,
                                         "strings_to_urls": False})
    wb.set_properties({"created": created, "author": "BankPulse demo"})
    return wb


def write_sheet(wb: xlsxwriter.Workbook, name: str, df: pd.DataFrame, *, title: str | None = None,
                blank_rows: int = 0, text_cols: tuple[str, ...] = (), date_cols: tuple[str, ...] = (),
                num_formats: dict[str, str] | None = None) -> None:
    """One table on a sheet: optional title row, `blank_rows` empty rows, then header + data.

    `text_cols` are written as string cells (long IDs with leading zeros); `date_cols` as real
    Excel dates; other columns keep their dtype (numbers as numbers, NaN as empty cells).
    """
    ws = wb.add_worksheet(name)
    r0 = 0
    if title:
        ws.write_string(0, 0, title, wb.add_format({"bold": True, "font_size": 14}))
        r0 = 1
    r0 += blank_rows
    hdr = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
    datef = wb.add_format({"num_format": "yyyy-mm-dd"})
    num_formats = num_formats or {}
    for j, col in enumerate(df.columns):
        ws.write_string(r0, j, str(col), hdr)
        ws.set_column(j, j, max(10, min(40, len(str(col)) * 2 + 2)))
        fmt = wb.add_format({"num_format": num_formats[col]}) if col in num_formats else None
        vals = df[col].tolist()
        if col in text_cols:
            for i, v in enumerate(vals):
                if isinstance(v, str) and v:
                    ws.write_string(r0 + 1 + i, j, v)
        elif col in date_cols:
            for i, v in enumerate(vals):
                if v is not None and not pd.isna(v):
                    ws.write_datetime(r0 + 1 + i, j, pd.Timestamp(v).to_pydatetime(), datef)
        else:
            for i, v in enumerate(vals):
                if v is None or (isinstance(v, float) and v != v) or v is pd.NA:
                    continue
                if isinstance(v, str):
                    if v:
                        ws.write_string(r0 + 1 + i, j, v)
                elif fmt is not None:
                    ws.write_number(r0 + 1 + i, j, v, fmt)
                else:
                    ws.write_number(r0 + 1 + i, j, v)
    ws.freeze_panes(r0 + 1, 0)


def write_notes_sheet(wb: xlsxwriter.Workbook, name: str, lines: list[str]) -> None:
    ws = wb.add_worksheet(name)
    ws.set_column(0, 0, 90)
    for i, line in enumerate(lines):
        ws.write_string(i, 0, line)
