"""Generic detection on a long table: `date,<key columns...>,value[,denominator][,kind]`.

`date` may carry a time (intraday series); kind is one of count/rate/amount/duration and is
inferred when absent; for a rate, value is the fraction and denominator its base count. The series
id is the key column values joined by "/". Output `{series_id: [flagged timestamps]}` — the format
bench/score.py reads.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from anomaly.base import Controls, Flag, Freq, Kind, SeriesError, SeriesInput
from anomaly.ensemble import detect

RESERVED = ("date", "value", "denominator", "kind")


def read_long(path_or_frame) -> pd.DataFrame:
    df = path_or_frame if isinstance(path_or_frame, pd.DataFrame) else pd.read_csv(path_or_frame, dtype=str)
    missing = {"date", "value"} - set(df.columns)
    if missing:
        raise SeriesError(f"missing columns: {sorted(missing)}")
    df = df.copy()
    df["date"] = pd.to_datetime(df["date"], format="mixed")  # dates with and without a time
    df["value"] = pd.to_numeric(df["value"], errors="coerce")
    if "denominator" in df:
        df["denominator"] = pd.to_numeric(df["denominator"], errors="coerce")
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
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(json.dumps({"_detector": detector, **result}, ensure_ascii=False, indent=1),
                          encoding="utf-8")
