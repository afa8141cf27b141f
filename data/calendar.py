"""The Chinese business calendar: working days, public holidays, 调休 make-up days, and the
days around them that behave differently (post-holiday surges, month/quarter/year ends).

Source of truth: the official notices for 2023–2026 (`data/reference/cn_holidays_2023_2026.csv`,
cross-checked against `holidays` and `chinese_calendar`). Past its last year the maintained
`holidays` package (`CN().is_working_day`, which knows 调休 once a notice is out) is used, and
past that plain weekday rules — every fallback is reported by `coverage()` so a stale calendar
is visible rather than silently wrong. The table is cheap: one row per day, built once per span.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

HOLIDAY_CSV = Path(__file__).with_name("reference") / "cn_holidays_2023_2026.csv"


@lru_cache(maxsize=1)
def official_days() -> pd.DataFrame:
    """Official holiday_off / adjusted_workday days (date, day_type, holiday_name_zh/en)."""
    df = pd.read_csv(HOLIDAY_CSV, dtype=str)
    df["date"] = pd.to_datetime(df["date"]).dt.date
    return df[["date", "day_type", "holiday_name_zh", "holiday_name_en", "notice_year"]]


def official_years() -> tuple[int, int]:
    years = official_days()["notice_year"].astype(int)
    return int(years.min()), int(years.max())


def _package_days(first: date, last: date) -> dict[date, str]:
    """Days past the official list, from the `holidays` package (may be rule-based, no 调休)."""
    try:
        import holidays
    except ImportError:  # the weekday fallback still works
        return {}
    cn = holidays.country_holidays("CN", years=range(first.year, last.year + 1))
    out = {}
    for d in pd.date_range(first, last, freq="D").date:
        working = cn.is_working_day(d)
        weekend = d.weekday() >= 5
        if not working and not weekend:
            out[d] = "holiday_off"
        elif working and weekend:
            out[d] = "adjusted_workday"
        elif not working and d in cn:
            out[d] = "holiday_off"
    return out


@lru_cache(maxsize=64)
def day_table(start: date, end: date) -> pd.DataFrame:
    """One row per day in [start, end] with the calendar features detectors and the demo use.

    Columns: date, weekday (0=Mon), day_type (workday/weekend/holiday_off/adjusted_workday),
    is_workday, holiday_name, post_holiday (first two working days after a ≥3-day break with a
    public holiday), pre_holiday (last working day before one), month_end / quarter_end /
    year_end (last two working days of the period), source (official/package/weekday).
    """
    pad = pd.Timedelta(days=21)
    days = pd.date_range(pd.Timestamp(start) - pad, pd.Timestamp(end) + pad, freq="D")
    df = pd.DataFrame({"date": days.date, "weekday": days.day_of_week})
    df["day_type"] = np.where(df["weekday"] >= 5, "weekend", "workday")
    df["source"] = "weekday"
    lo_year, hi_year = official_years()
    off = official_days().set_index("date")
    in_official = df["date"].map(lambda d: lo_year <= d.year <= hi_year)
    df.loc[in_official, "source"] = "official"
    hit = df["date"].isin(off.index)
    df.loc[hit, "day_type"] = off.loc[df.loc[hit, "date"], "day_type"].to_numpy()
    df["holiday_name"] = df["date"].map(off["holiday_name_zh"]).fillna("")
    beyond = ~in_official
    if beyond.any():
        pkg = _package_days(df.loc[beyond, "date"].min(), df.loc[beyond, "date"].max())
        for i in df.index[beyond]:
            d = df.at[i, "date"]
            if d in pkg:
                df.at[i, "day_type"] = pkg[d]
            df.at[i, "source"] = "package"
    df["is_workday"] = df["day_type"].isin(["workday", "adjusted_workday"])
    offd = ~df["is_workday"].to_numpy()
    run = np.cumsum(np.r_[True, offd[1:] != offd[:-1]])
    g = pd.DataFrame({"run": run, "off": offd, "hol": (df["day_type"] == "holiday_off").to_numpy()})
    run_len = g.groupby("run")["off"].transform("size").to_numpy()
    run_hol = g.groupby("run")["hol"].transform("any").to_numpy()
    long_break = offd & (run_len >= 3) & run_hol
    work_idx = np.flatnonzero(~offd)
    post = np.zeros(len(df), bool)
    pre = np.zeros(len(df), bool)
    ends = np.flatnonzero(long_break & np.r_[~offd[1:], False])
    starts = np.flatnonzero(long_break & np.r_[False, ~offd[:-1]])
    for i in ends:  # a handful of breaks per year
        post[work_idx[work_idx > i][:2]] = True
    for i in starts:
        before = work_idx[work_idx < i]
        if len(before):
            pre[before[-1]] = True
    df["post_holiday"], df["pre_holiday"] = post, pre
    ts = pd.to_datetime(df["date"])
    for name, key in (("month_end", ts.dt.to_period("M")), ("quarter_end", ts.dt.to_period("Q")),
                      ("year_end", ts.dt.to_period("Y"))):
        rank = df["is_workday"][::-1].groupby(key[::-1]).cumsum()[::-1]
        df[name] = df["is_workday"] & (rank <= 2)
    df["quarter_end"] &= ts.dt.month.isin([3, 6, 9, 12]).to_numpy()
    df["year_end"] &= (ts.dt.month == 12).to_numpy()
    out = df[(df["date"] >= start) & (df["date"] <= end)].reset_index(drop=True)
    return out


def is_workday(d: date) -> bool:
    return bool(day_table(d, d)["is_workday"].iloc[0])


def coverage(start: date, end: date) -> dict[str, int]:
    """How many days of the span each calendar source decided (official / package / weekday)."""
    return day_table(start, end)["source"].value_counts().to_dict()
