"""Business-day calendar for the demo: the app's own calendar (data/calendar.py), so the demo's
holiday dips, 调休 Saturdays and post-holiday surges sit exactly where the detectors expect them.

Inside the official notices' years (data/reference/cn_holidays_2023_2026.csv: 2023–2026) every day
is the real arrangement. Past them data/calendar.py falls back to the `holidays` package (the
statutory holidays by rule, no 调休 make-up Saturdays) and then to plain weekday rules; the demo
does not invent an arrangement. `coverage(spec)` says how many of the demo's days each source
decided — the generator writes it to story.json and `bankpulse demo` prints a note when any day is
not from an official notice.
"""
from __future__ import annotations

from datetime import date

import pandas as pd

from data import calendar as cal

COLUMNS = ["date", "weekday", "day_type", "is_workday", "holiday_name", "post_holiday", "source"]


def day_table(start: date, end: date) -> pd.DataFrame:
    """One row per calendar day: date (Timestamp), weekday (0=Mon), day_type, is_workday, holiday_name,
    post_holiday (first two working days after a ≥3-day break with a public holiday), source
    (official / package / weekday)."""
    df = cal.day_table(start, end)[COLUMNS].copy()  # the cached table is shared: never change it in place
    df["date"] = pd.to_datetime(df["date"])
    return df


def coverage(start: date, end: date) -> dict[str, int]:
    """Days of [start, end] per calendar source, every source present (0 when none)."""
    got = cal.coverage(start, end)
    return {src: int(got.get(src, 0)) for src in ("official", "package", "weekday")}


def official_years() -> tuple[int, int]:
    """The first and last year the official notices cover."""
    return cal.official_years()
