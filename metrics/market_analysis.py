"""Market indicators and events for the market page: plain Ibis queries over the loaded data.

Indicator levels (LPR, the industry NPL ratio, SHIBOR …) are read over their whole history —
they are small (one row per release) and a level holds until the next release, so the page
draws them as step lines. Events carry their type, impact area and direction.
"""

from __future__ import annotations

from datetime import date

import pandas as pd

from metrics.scope import Scope
from metrics.tables import scoped

EVENT_COLUMNS = ("event_id", "event_date", "event_type", "title", "detail", "competitor_name", "impact_area",
                 "impact_direction", "source", "url")


def indicator_catalog(backend, scope: Scope | None = None) -> pd.DataFrame:
    """One row per loaded indicator code: code, name, unit, points, first, last."""
    t = scoped(backend, "market_indicators", scope or Scope())
    df = t.group_by("indicator_code").aggregate(
        name=t.indicator_name.max(), unit=t.unit.max(), points=t.count(), first=t.date.min(), last=t.date.max(),
    ).order_by("indicator_code").execute()
    for c in ("first", "last"):
        df[c] = pd.to_datetime(df[c]).dt.date
    df["points"] = df["points"].astype("int64")
    return df


def indicator_history(backend, codes: tuple[str, ...] | list[str], scope: Scope | None = None, *,
                      region: str | None = "全国", start: date | None = None, end: date | None = None) -> pd.DataFrame:
    """Every release of the given indicators: date, indicator_code, indicator_name, value, unit, region.

    `region` keeps one series per code (the national figure by default; None keeps all regions).
    """
    t = scoped(backend, "market_indicators", scope or Scope())
    t = t.filter(t.indicator_code.isin(tuple(codes) or ("\x00",)))
    if region is not None:
        t = t.filter(t.region.fill_null("全国") == region)
    if start:
        t = t.filter(t.date >= start)
    if end:
        t = t.filter(t.date <= end)
    df = t.select("date", "indicator_code", "indicator_name", "value", "unit", "region") \
          .order_by(["indicator_code", "date"]).execute()
    df["date"] = pd.to_datetime(df["date"]).dt.date
    return df


def events(backend, start: date | None = None, end: date | None = None, types: tuple[str, ...] | None = None,
           scope: Scope | None = None) -> pd.DataFrame:
    """Market and policy events (newest first), optionally in a window and of some types."""
    t = scoped(backend, "market_events", scope or Scope())
    if start:
        t = t.filter(t.event_date >= start)
    if end:
        t = t.filter(t.event_date <= end)
    if types:
        t = t.filter(t.event_type.isin(tuple(types)))
    df = t.select(*EVENT_COLUMNS).order_by([t.event_date.desc(), "event_id"]).execute()
    df["event_date"] = pd.to_datetime(df["event_date"]).dt.date
    return df


def event_types(backend, scope: Scope | None = None) -> list[str]:
    t = scoped(backend, "market_events", scope or Scope())
    return sorted(v for v in t.select("event_type").distinct().execute()["event_type"] if isinstance(v, str))
