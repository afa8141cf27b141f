"""Business-day calendar for the demo, read from the official 2023–2026 holiday list.

Outside the list's years it falls back to plain weekday rules. Gives each day a type
(workday / weekend / holiday_off / adjusted_workday) and marks the first two working days
after a ≥3-day break that contains a public holiday (the post-holiday queue surge).
"""
from __future__ import annotations

from datetime import date
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

HOLIDAY_CSV = Path(__file__).parent.parent / "reference" / "cn_holidays_2023_2026.csv"


@lru_cache(maxsize=1)
def _holiday_rows() -> pd.DataFrame:
    df = pd.read_csv(HOLIDAY_CSV, dtype=str)
    df["date"] = pd.to_datetime(df["date"])
    return df[["date", "day_type", "holiday_name_zh"]]


def day_table(start: date, end: date) -> pd.DataFrame:
    """One row per calendar day: date, weekday (0=Mon), day_type, is_workday, holiday_name, post_holiday."""
    pad = pd.Timedelta(days=14)  # look back so breaks that straddle `start` are seen
    days = pd.date_range(pd.Timestamp(start) - pad, pd.Timestamp(end), freq="D")
    df = pd.DataFrame({"date": days, "weekday": days.day_of_week})
    df["day_type"] = np.where(df["weekday"] >= 5, "weekend", "workday")
    hol = _holiday_rows().set_index("date")
    m = df["date"].isin(hol.index)
    df.loc[m, "day_type"] = hol.loc[df.loc[m, "date"], "day_type"].to_numpy()
    df["holiday_name"] = df["date"].map(hol["holiday_name_zh"]).fillna("")
    df["is_workday"] = df["day_type"].isin(["workday", "adjusted_workday"])
    # runs of consecutive non-working days; a run of ≥3 days with a holiday_off day is a "long holiday"
    off = ~df["is_workday"].to_numpy()
    run_id = np.cumsum(np.r_[True, off[1:] != off[:-1]])
    g = pd.DataFrame({"run": run_id, "off": off, "hol": (df["day_type"] == "holiday_off").to_numpy()})
    run_len = g.groupby("run")["off"].transform("size").to_numpy()
    run_hol = g.groupby("run")["hol"].transform("any").to_numpy()
    long_break_end = off & (run_len >= 3) & run_hol & np.r_[~off[1:], False]
    # first two working days after such a break
    post = np.zeros(len(df), dtype=bool)
    work_idx = np.flatnonzero(~off)
    for i in np.flatnonzero(long_break_end):  # a few dozen breaks, not per-row work
        nxt = work_idx[work_idx > i][:2]
        post[nxt] = True
    df["post_holiday"] = post
    return df[df["date"] >= pd.Timestamp(start)].reset_index(drop=True)
