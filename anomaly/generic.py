"""Generic detection on a long table: `date,<key columns...>,value[,denominator][,kind]`.

`date` may carry a time (intraday series); kind is one of count/rate/amount/duration and is
inferred when absent; for a rate, value is the fraction and denominator its base count. The series
id is the key column values joined by "/". Output `{series_id: [flagged timestamps]}` — the format
bench/score.py reads.
"""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import pandas as pd

from anomaly.base import Controls, Flag, Freq, Kind, SeriesError, SeriesInput
from anomaly.ensemble import detect

RESERVED = ("date", "value", "denominator", "kind")
EXPECTED = "date,<key columns…>,value[,denominator][,kind]"
SHOWN = 20  # problems listed in the message (all are counted)


class LongInputError(SeriesError):
    """A long table that cannot be read: every problem found, each with its row and column."""

    def __init__(self, name: str, problems: list[str]):
        self.name, self.problems = name, problems
        more = f"\n  … 另有 {len(problems) - SHOWN} 处 / {len(problems) - SHOWN} more" if len(problems) > SHOWN else ""
        super().__init__(f"{name}: {len(problems)} 处问题 / {len(problems)} problem(s) "
                         f"(应为 / expected {EXPECTED}):\n  " + "\n  ".join(problems[:SHOWN]) + more)


def read_long(path_or_frame) -> pd.DataFrame:
    """The table with `date` parsed and the numbers as floats; refuses it, listing every problem
    (row as in the file, column, the cell as written), when a column is missing, a date is not a
    date, a number is not a number or a kind is not one of count/rate/amount/duration. Empty value
    cells are allowed: an unknown point, not a zero."""
    frame = isinstance(path_or_frame, pd.DataFrame)
    name = "table" if frame else Path(path_or_frame).name
    df = path_or_frame.copy() if frame else _read_csv(Path(path_or_frame), name)
    df.columns = [str(c).strip() for c in df.columns]
    missing = [c for c in ("date", "value") if c not in df.columns]
    if missing:
        raise LongInputError(name, [f"缺少列 / missing column: {c}" for c in missing])
    problems: list[tuple[int, str]] = []
    # each row's line in the file; a frame handed in directly: its header counts as line 1
    row = pd.Index(df.attrs.get("lines") or range(2, len(df) + 2))
    text = df["date"].astype("string").str.strip()
    when = pd.to_datetime(text, format="mixed", errors="coerce")
    for r, v in zip(row[when.isna().to_numpy()], text[when.isna()], strict=True):
        problems.append((r, f"第 {r} 行 date 列 / row {r}, column date: {v!r} 不是日期 / is not a date "
                            "(2025-01-03 或 / or 2025-01-03 08:00)"))
    out = df.assign(date=when)
    for col in [c for c in ("value", "denominator") if c in df.columns]:
        raw = df[col].astype("string").str.strip()
        num = pd.to_numeric(raw.replace("", pd.NA), errors="coerce")
        bad = num.isna() & raw.fillna("").ne("")
        for r, v in zip(row[bad.to_numpy()], raw[bad], strict=True):
            problems.append((r, f"第 {r} 行 {col} 列 / row {r}, column {col}: {v!r} 不是数值 / is not a number"))
        out[col] = num.astype(float)
    if "kind" in df.columns:
        kinds = df["kind"].astype("string").str.strip().str.lower()
        bad = kinds.fillna("").ne("") & ~kinds.isin([k.value for k in Kind])
        for r, v in zip(row[bad.to_numpy()], df["kind"][bad], strict=True):
            problems.append((r, f"第 {r} 行 kind 列 / row {r}, column kind: {v!r} 应为 / should be "
                                + "/".join(k.value for k in Kind)))
        out["kind"] = kinds.replace("", pd.NA)
    if problems:  # in file order (a stable sort keeps the columns' order within a row)
        raise LongInputError(name, [msg for _, msg in sorted(problems, key=lambda p: p[0])])
    return out


def _read_csv(path: Path, name: str) -> pd.DataFrame:
    """The file as text cells, in the encoding the uploads use (UTF-8 with or without BOM, GBK —
    the bank's exports; data.ingest.encoding.detect decides, with its message when neither). A row
    with more or fewer cells than the header is an error with its line (pandas would quietly turn
    extra cells into an index or drop them)."""
    from data.ingest.encoding import detect as detect_encoding

    if path.stat().st_size == 0:
        raise LongInputError(name, ["文件为空 / the file is empty"])
    enc = detect_encoding(path)
    if enc.encoding is None:
        raise LongInputError(name, [enc.problem])
    with path.open(encoding=enc.encoding, newline="") as f:
        reader = csv.reader(f)
        header = next((r for r in reader if any(c.strip() for c in r)), None)
        if header is None:
            raise LongInputError(name, ["没有表头和数据 / no header and no rows"])
        rows, lines, problems = [], [], []
        for row in reader:
            if not any(c.strip() for c in row):
                continue  # a blank line
            if len(row) != len(header):
                problems.append(f"第 {reader.line_num} 行 / row {reader.line_num}: {len(row)} 个单元格，表头有 "
                                f"{len(header)} 列 / {len(row)} cells, the header has {len(header)} columns")
            rows.append(row)
            lines.append(reader.line_num)
    if problems:
        raise LongInputError(name, problems)
    df = pd.DataFrame(rows, columns=header, dtype=str) if rows else pd.DataFrame(columns=header, dtype=str)
    df.attrs["lines"] = lines  # each row's line in the file (blank lines skipped), for messages
    return df


def iter_series(df: pd.DataFrame):
    keys = [c for c in df.columns if c not in RESERVED]
    groups = df.groupby(keys, sort=True, dropna=False) if keys else [((), df)]
    for key, g in groups:
        key = key if isinstance(key, tuple) else (key,)
        sid = "/".join(str(k) for k in key) if keys else "series"
        g = g.sort_values("date")
        kind = None
        if "kind" in g and g["kind"].notna().any():
            kind = Kind(str(g["kind"].dropna().iloc[0]).strip().lower())
        den = None
        if "denominator" in g and g["denominator"].notna().any():
            den = pd.Series(g["denominator"].to_numpy(float), index=pd.DatetimeIndex(g["date"]))
        vals = pd.Series(g["value"].to_numpy(float), index=pd.DatetimeIndex(g["date"]))
        yield SeriesInput(vals, den, kind, sid)


def fmt_ts(t: pd.Timestamp, freq: Freq) -> str:
    if freq is Freq.DAILY and t == t.normalize():
        return t.strftime("%Y-%m-%d")
    return t.strftime("%Y-%m-%d %H:%M:%S")


def scan(path_or_frame, controls: Controls | None = None) -> dict[str, list[Flag]]:
    return {s.series_id: detect(s, controls) for s in iter_series(read_long(path_or_frame))}


def detect_long(path_or_frame, controls: Controls | None = None) -> dict[str, list[str]]:
    out = {}
    for s in iter_series(read_long(path_or_frame)):
        out[s.series_id] = [fmt_ts(f.date, s.freq) for f in detect(s, controls)]
    return out


def write_flags(result: dict[str, list[str]], path, detector: str = "bankpulse") -> None:
    """Write the flags atomically: a temporary file beside the target, renamed over it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(json.dumps({"_detector": detector, **result}, ensure_ascii=False, indent=1), encoding="utf-8")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
