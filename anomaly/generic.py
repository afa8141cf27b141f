"""Generic detection on a long table: `date,<key columns...>,value[,denominator][,kind]`.

`date` may carry a time (intraday series); kind is one of count/rate/amount/duration and is
inferred when absent; for a rate, value is the fraction and denominator its base count. The series
id is the key column values joined by "/". Output `{series_id: [flagged timestamps]}` — the format
bench/score.py reads.
"""

from __future__ import annotations

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
    df = path_or_frame.copy() if frame else pd.read_csv(path_or_frame, dtype=str, keep_default_na=False)
    df.columns = [str(c).strip() for c in df.columns]
    missing = [c for c in ("date", "value") if c not in df.columns]
    if missing:
        raise LongInputError(name, [f"缺少列 / missing column: {c}" for c in missing])
    problems: list[tuple[int, str]] = []
    row = pd.RangeIndex(len(df)) + 2  # the header is line 1
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
