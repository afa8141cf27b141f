"""Calendar periods of a grain: start, end, labels and the shifts behind 环比 and 同比."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd

from metrics.model import Grain


def period_start(d: date, grain: Grain) -> date:
    match grain:
        case Grain.DAY:
            return d
        case Grain.WEEK:
            return d - timedelta(days=d.weekday())
        case Grain.MONTH:
            return d.replace(day=1)
        case Grain.QUARTER:
            return d.replace(month=(d.month - 1) // 3 * 3 + 1, day=1)
        case Grain.YEAR:
            return d.replace(month=1, day=1)


def shift(start: date, grain: Grain, n: int) -> date:
    """The start of the period `n` periods after the one starting at `start`."""
    match grain:
        case Grain.DAY:
            return start + timedelta(days=n)
        case Grain.WEEK:
            return start + timedelta(weeks=n)
        case Grain.MONTH | Grain.QUARTER | Grain.YEAR:
            months = {Grain.MONTH: 1, Grain.QUARTER: 3, Grain.YEAR: 12}[grain] * n
            m = start.year * 12 + start.month - 1 + months
            return date(m // 12, m % 12 + 1, 1)


def period_end(start: date, grain: Grain) -> date:
    return shift(start, grain, 1) - timedelta(days=1)


def same_period_last_year(start: date, grain: Grain) -> date:
    """同比: the same period one year earlier (ISO week number kept for weeks)."""
    if grain is Grain.WEEK:
        iso = start.isocalendar()
        try:
            return date.fromisocalendar(iso.year - 1, iso.week, 1)
        except ValueError:  # week 53 in a 52-week year
            return date.fromisocalendar(iso.year - 1, 52, 1)
    if grain is Grain.DAY:
        try:
            return start.replace(year=start.year - 1)
        except ValueError:  # 29 February
            return start.replace(year=start.year - 1, day=28)
    return start.replace(year=start.year - 1)


def periods(first: date, last: date, grain: Grain) -> list[date]:
    out, p = [], period_start(first, grain)
    while p <= last:
        out.append(p)
        p = shift(p, grain, 1)
    return out


def label(start: date, grain: Grain, lang: str = "zh") -> str:
    """2025年9月 / Sep 2025; 2025年第38周 / 2025-W38; 2025年第3季度 / 2025 Q3."""
    if isinstance(start, pd.Timestamp):
        start = start.date()
    zh = lang == "zh"
    match grain:
        case Grain.DAY:
            return f"{start.year}年{start.month}月{start.day}日" if zh else start.isoformat()
        case Grain.WEEK:
            iso = start.isocalendar()
            return f"{iso.year}年第{iso.week}周" if zh else f"{iso.year}-W{iso.week:02d}"
        case Grain.MONTH:
            return f"{start.year}年{start.month}月" if zh else start.strftime("%b %Y")
        case Grain.QUARTER:
            q = (start.month - 1) // 3 + 1
            return f"{start.year}年第{q}季度" if zh else f"{start.year} Q{q}"
        case Grain.YEAR:
            return f"{start.year}年" if zh else str(start.year)


def parse_period(text: str) -> tuple[date, Grain]:
    """'2025-09' → month, '2025-W38' → week, '2025-Q3' → quarter, '2025' → year, '2025-09-03' → day."""
    s = text.strip().upper()
    if "-W" in s:
        y, w = s.split("-W")
        return date.fromisocalendar(int(y), int(w), 1), Grain.WEEK
    if "-Q" in s or "Q" in s:
        y, q = s.replace("-", "").split("Q")
        return date(int(y), (int(q) - 1) * 3 + 1, 1), Grain.QUARTER
    parts = s.split("-")
    if len(parts) == 1:
        return date(int(parts[0]), 1, 1), Grain.YEAR
    if len(parts) == 2:
        return date(int(parts[0]), int(parts[1]), 1), Grain.MONTH
    return date.fromisoformat(s), Grain.DAY
