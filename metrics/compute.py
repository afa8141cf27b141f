"""Running KPIs: series, comparisons (环比 / 同比 / target) and the cards managers read.

Aggregation happens inside the database (the compiled Ibis expression); only the aggregated
result — one row per period and breakdown value — reaches pandas, where the small period
shifts behind 环比 and 同比 are done.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import pandas as pd

from data.sources import TABLES
from metrics.catalogue import get_metric
from metrics.compiler import Window, compile_metric
from metrics.model import Agg, Direction, Grain, Metric, Unit
from metrics.options import resolve
from metrics.periods import period_end, period_start, periods, same_period_last_year, shift
from metrics.scope import Scope


def data_span(store, source: str) -> tuple[date | None, date | None]:
    """First and last business date held for a source."""
    col = TABLES[source].time_column
    t = store.ibis().table(source)
    row = t.aggregate(lo=t[col].min(), hi=t[col].max()).execute().iloc[0]
    conv = lambda v: None if pd.isna(v) else pd.Timestamp(v).date()  # noqa: E731
    return conv(row["lo"]), conv(row["hi"])


def metric_span(store, metric: Metric) -> tuple[date | None, date | None]:
    spans = [data_span(store, s) for s in sorted(metric.sources)]
    los = [s[0] for s in spans if s[0]]
    his = [s[1] for s in spans if s[1]]
    return (min(los) if los else None, max(his) if his else None)


def series(store, metric: Metric | str, grain: Grain, start: date, end: date, by: tuple[str, ...] = (),
           scope: Scope | None = None, options: dict[str, Any] | None = None) -> pd.DataFrame:
    """One row per period (and breakdown value): period, by…, value[, numerator, denominator]."""
    metric = get_metric(metric) if isinstance(metric, str) else metric
    carry = metric.denominator is None and metric.measure(resolve(options)).agg is Agg.LAST
    # a level (LPR, industry NPL) holds until the next release: read all history, carry it forward
    first = date(1900, 1, 1) if carry else start
    expr = compile_metric(store.ibis(), metric, grain, Window(first, end), tuple(by), scope, options)
    df = expr.execute()
    df["period"] = pd.to_datetime(df["period"]).dt.date
    if carry:
        df = _carry_forward(df, grain, start, end, tuple(by))
    return df


def _carry_forward(df: pd.DataFrame, grain: Grain, start: date, end: date, by: tuple[str, ...]) -> pd.DataFrame:
    full = periods(start, end, grain)
    groups = [((), df)] if not by else list(df.groupby(list(by), dropna=False))
    out = []
    for key, g in groups:
        g = g.set_index("period").sort_index()
        idx = sorted(set(g.index) | set(full))
        g = g.reindex(idx).ffill().loc[[p for p in idx if start <= p <= end or p in full]]
        g = g.loc[[p for p in g.index if p in set(full)]].reset_index().rename(columns={"index": "period"})
        for k, v in zip(by, key if isinstance(key, tuple) else (key,), strict=False):
            g[k] = v
        out.append(g)
    res = pd.concat(out, ignore_index=True) if out else df.iloc[0:0]
    return res.dropna(subset=["value"]).reset_index(drop=True)


def with_comparisons(df: pd.DataFrame, metric: Metric, grain: Grain, by: tuple[str, ...] = ()) -> pd.DataFrame:
    """Add prev_value (环比), yoy_value (同比), their changes, and the target."""
    if df.empty:
        return df.assign(prev_value=[], yoy_value=[], delta_prev=[], delta_yoy=[], target=[])
    keys = list(by)
    look = df[["period", *keys, "value"]]
    prev = look.assign(period=[shift(p, grain, 1) for p in look["period"]]).rename(columns={"value": "prev_value"})
    yoy_map = {}
    for p in look["period"]:
        yoy_map[p] = same_period_last_year(p, grain)
    yoy = look.rename(columns={"value": "yoy_value", "period": "_src"})
    out = df.merge(prev, on=["period", *keys], how="left")
    out["_src"] = [yoy_map[p] for p in out["period"]]
    out = out.merge(yoy, on=["_src", *keys], how="left").drop(columns="_src")
    out["delta_prev"] = [change(metric, v, p) for v, p in zip(out["value"], out["prev_value"], strict=True)]
    out["delta_yoy"] = [change(metric, v, p) for v, p in zip(out["value"], out["yoy_value"], strict=True)]
    out["target"] = metric.target
    return out


def change(metric: Metric, value: float | None, base: float | None) -> float | None:
    """Rates and percent levels: the difference (a fraction for rates → shown in 个百分点 / 基点);
    everything else: the relative change (a fraction → shown in %)."""
    if value is None or base is None or pd.isna(value) or pd.isna(base):
        return None
    if metric.unit in (Unit.RATE, Unit.PERCENT, Unit.SCORE):
        return float(value) - float(base)
    if base == 0:
        return None
    return (float(value) - float(base)) / abs(float(base))


def status(metric: Metric, value: float | None) -> str:
    """'good' / 'bad' / 'none' against the target, by the KPI's direction."""
    if metric.target is None or value is None or pd.isna(value):
        return "none"
    if metric.direction is Direction.DOWN_GOOD:
        return "good" if value <= metric.target else "bad"
    if metric.direction is Direction.UP_GOOD:
        return "good" if value >= metric.target else "bad"
    return "none"


def tone(metric: Metric, delta: float | None) -> str:
    """'good' / 'bad' / 'flat' for a change, by the KPI's direction."""
    if delta is None or pd.isna(delta) or abs(delta) < 1e-12 or metric.direction is Direction.NEUTRAL:
        return "flat"
    up = delta > 0
    return "good" if up == (metric.direction is Direction.UP_GOOD) else "bad"


@dataclass(frozen=True)
class Card:
    """A KPI card: the latest complete period with its comparisons and a sparkline."""

    metric_id: str
    period: date | None
    value: float | None
    prev_value: float | None
    yoy_value: float | None
    delta_prev: float | None
    delta_yoy: float | None
    target: float | None
    status: str
    spark: tuple[float | None, ...]
    spark_periods: tuple[date, ...]
    rank_high: int | None  # the value is the highest of the last 12 periods (1) / lowest (-1) / neither (None)


def _is_flow(metric: Metric) -> bool:
    m = metric.measure(resolve(None))
    return metric.denominator is None and m.agg in (Agg.COUNT, Agg.SUM) and not m.stock


def card(store, metric: Metric | str, grain: Grain, as_of: date | None = None, scope: Scope | None = None,
         options: dict[str, Any] | None = None, spark_n: int = 12) -> Card:
    """The card for the period containing `as_of` (default: the last date with data); for flow KPIs
    (counts, sums) the last complete period, so a partial period is never compared with a whole one."""
    metric = get_metric(metric) if isinstance(metric, str) else metric
    lo, hi = metric_span(store, metric)
    if hi is None:
        return Card(metric.id, None, None, None, None, None, None, metric.target, "none", (), (), None)
    as_of = min(as_of or hi, hi)
    current = period_start(as_of, grain)
    if as_of < period_end(current, grain) and _is_flow(metric):
        # half a month of tickets against a whole month reads as a false fall: a flow KPI (a count
        # or a sum over the period) shows the last *complete* period; levels and rates may be partial
        current = shift(current, grain, -1)
        as_of = period_end(current, grain)
    first = same_period_last_year(shift(current, grain, -(spark_n - 1)), grain)
    df = series(store, metric, grain, first, period_end(current, grain), (), scope, options)
    df = with_comparisons(df, metric, grain)
    row = df[df["period"] == current]
    spark = df[df["period"] >= shift(current, grain, -(spark_n - 1))]
    val = lambda r, c: None if r.empty or pd.isna(r.iloc[0][c]) else float(r.iloc[0][c])  # noqa: E731
    value = val(row, "value")
    rank = None
    vals = [v for v in spark["value"] if not pd.isna(v)]
    if value is not None and len(vals) >= 3:
        rank = 1 if value >= max(vals) else (-1 if value <= min(vals) else None)
    return Card(metric.id, current, value, val(row, "prev_value"), val(row, "yoy_value"), val(row, "delta_prev"),
                val(row, "delta_yoy"), metric.target, status(metric, value),
                tuple(None if pd.isna(v) else float(v) for v in spark["value"]), tuple(spark["period"]), rank)
