"""Readers: turn an uploaded file into raw parts (header + text cells + Excel row numbers).

A CSV is one part; a workbook yields one part per sheet that holds a recognisable table
(notes sheets such as 说明, which read fine but hold no header, are skipped with a note). A sheet
that cannot be read at all (broken XML, an unsupported part) rejects the whole file: its rows
might be data, and loading the other sheets would lose them silently. Cells stay text here —
typing happens in DuckDB (see `parse.py`) — except that workbook cells already typed by Excel
are written back in canonical text (dates ISO, integral floats without '.0', long floats in
scientific notation so that a mangled ID is caught, not silently accepted).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
from dataclasses import dataclass, field
from pathlib import Path

from data.ingest.encoding import Detected, detect
from data.ingest.headers import find_header_row

CSV_SUFFIXES = {".csv", ".txt", ".tsv"}
EXCEL_SUFFIXES = {".xlsx", ".xlsm", ".xls", ".xlsb", ".ods"}


class ReadError(ValueError):
    """The file cannot be read at all (reported as one file-level issue).

    `sheet` names the workbook sheet at fault ('' for the file as a whole) and `expected` says
    what a readable file would have held, for the issue's columns of the same names.
    """

    def __init__(self, message: str, sheet: str = "", expected: str = "") -> None:
        super().__init__(message)
        self.sheet = sheet
        self.expected = expected


SHEET_EXPECTED = ("可读取的工作表（请在Excel中打开后另存再上传） / a readable worksheet (open the file in Excel, "
                  "save it and upload again)")


@dataclass
class RawPart:
    """One table found in a file."""

    sheet: str  # '' for a CSV
    header_row: int  # the Excel row number of the header (1-based)
    header: list[str]
    # CSV: the (UTF-8) file DuckDB reads, after `skip_lines` lines; workbook: the data rows
    csv_path: Path | None = None
    skip_lines: int = 0
    delimiter: str = ","
    rows: list[list[str | None]] | None = None
    n_fields: int = 0
    notes: list[str] = field(default_factory=list)
    encoding_verified: bool = True  # False: only the head was checked (encoding.detect_head)


def _cell_text(v: object) -> str | None:
    """A workbook cell as the text an export would have written."""
    if v is None or v == "":
        return None
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, dt.datetime):
        return v.strftime("%Y-%m-%d %H:%M:%S") if (v.hour, v.minute, v.second) != (0, 0, 0) else v.strftime("%Y-%m-%d")
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, dt.time):
        return v.strftime("%H:%M:%S")
    if isinstance(v, float):
        if not math.isfinite(v):
            return None
        if v.is_integer() and abs(v) < 1e15:
            return str(int(v))
        return repr(v) if abs(v) < 1e15 else f"{v:.2E}"
    return str(v)


def read_excel(path: Path, forced_source: str | None = None) -> tuple[list[RawPart], list[str]]:
    """Every sheet with a recognisable header; plus notes on sheets skipped (no header).

    Raises ReadError naming the sheet when one cannot be read: the file is rejected whole.
    """
    from python_calamine import CalamineWorkbook

    try:
        wb = CalamineWorkbook.from_path(str(path))
    except Exception as exc:  # calamine raises its own error types for broken workbooks
        raise ReadError(f"无法打开Excel文件 / cannot open the workbook: {exc}") from exc
    parts, skipped = [], []
    for name in wb.sheet_names:
        try:
            grid = wb.get_sheet_by_name(name).to_python(skip_empty_area=False)
        except Exception as exc:  # calamine's XmlError etc.: the sheet's rows are lost if we go on
            raise ReadError(f"工作表“{name}”无法读取（{exc}），整个文件未导入；应为可读取的工作表，请在Excel中打开后另存再上传"
                            f" / sheet '{name}' cannot be read ({exc}), so the whole file is rejected; expected a "
                            "readable worksheet: open the file in Excel, save it and upload again",
                            sheet=name, expected=SHEET_EXPECTED) from exc
        head = [[_cell_text(c) for c in r] for r in grid[:30]]
        h = find_header_row(head, forced_source)
        if h is None:
            skipped.append(f"工作表“{name}”中没有可识别的表头，已跳过 / sheet '{name}' has no recognisable header; skipped")
            continue
        header = [c or "" for c in head[h]]
        rows = [[_cell_text(c) for c in r] for r in grid[h + 1:]]
        width = max([len(header)] + [len(r) for r in rows[:1000]])
        parts.append(RawPart(sheet=name, header_row=h + 1, header=header, rows=rows, n_fields=width))
    return parts, skipped


def sniff_delimiter(sample: str) -> str:
    """Comma unless the header lines clearly use tabs or semicolons."""
    first = "\n".join(sample.splitlines()[:30])
    counts = {d: first.count(d) for d in (",", "\t", ";", "|")}
    best = max(counts, key=counts.get)
    return best if counts[best] > 0 else ","


def read_csv_head(utf8_path: Path, forced_source: str | None = None) -> RawPart:
    """Find the header in a UTF-8 CSV; data rows are left for DuckDB to read."""
    with utf8_path.open("r", encoding="utf-8-sig", newline="") as f:
        sample = f.read(256 * 1024)
    if not sample.strip():
        raise ReadError("文件为空 / the file is empty")
    delim = sniff_delimiter(sample)
    reader = csv.reader(io.StringIO(sample), delimiter=delim)
    records, line_after = [], []
    try:
        for rec in reader:
            records.append(rec)
            line_after.append(reader.line_num)
            if len(records) >= 30:
                break
    except csv.Error:
        pass  # a broken line in the sample: the header search uses what was read
    h = find_header_row(records, forced_source)
    if h is None:
        raise ReadError("前30行中找不到可识别的表头（请检查列名） / no recognisable header in the first 30 lines "
                        "(check the column names)")
    header = records[h]
    later = [len(r) for r in records[h + 1:]]
    width = max([len(header)] + later)
    return RawPart(sheet="", header_row=h + 1, header=header, csv_path=utf8_path, skip_lines=line_after[h],
                   delimiter=delim, n_fields=width)


def file_kind(path: Path) -> str:
    """'csv' or 'excel' by suffix and, for unknown suffixes, by the zip magic number."""
    suffix = path.suffix.lower()
    if suffix in EXCEL_SUFFIXES:
        return "excel"
    if suffix in CSV_SUFFIXES:
        return "csv"
    with path.open("rb") as f:
        magic = f.read(8)
    if magic.startswith(b"PK\x03\x04") or magic.startswith(b"\xd0\xcf\x11\xe0"):
        return "excel"
    return "csv"


def detect_encoding(path: Path) -> Detected:
    return detect(path)
