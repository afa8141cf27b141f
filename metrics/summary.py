"""The manager's trend summary: a few sentences about the headline KPIs, generated from the data.

Plain Python (no Streamlit): the overview page shows it and the briefing PDF will print it, so
it is deterministic and says only what the numbers say. For every headline KPI the card of the
period containing `as_of` is read (`metrics.compute.card`: value, 环比, 同比, 12-period high/low,
target); the moves are ranked by how unusual they are for that series — |环比 change| divided by
the spread (standard deviation) of the series' own earlier period-to-period changes — and the
most notable ones are written out. Credit quality (overdue / NPL ratio) and waiting times are
always mentioned. A last sentence lists any other KPI that misses its target.

  zh: "2025年9月逾期贷款率3.20%，环比上升0.80个百分点，同比上升1.10个百分点，为近12个月最高，高于目标2.00%。"
  en: "Overdue loan ratio 3.20% in Sep 2025, up 0.80 pp on the previous month and up 1.10 pp year on year,
       the highest in 12 months, above the 2.00% target."
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from datetime import date
from typing import Any

from metrics import compute
from metrics.catalogue import HEADLINE_IDS, get_metric
from metrics.format import fmt_value
from metrics.model import Agg, Direction, Grain, Metric, Unit
from metrics.periods import label, period_end, periods
from metrics.scope import Scope
from metrics.tables import scoped

# Each group is always mentioned (its most notable member).
MUST = (("credit.overdue_rate", "credit.npl_ratio"), ("counter.wait_avg_min", "counter.wait_p90_min"))
MAX_MOVES = 5  # metric sentences; one more may list the KPIs off target
MIN_MOVES = 3
NOTABLE = 1.0  # a move beyond the mandatory ones is told when |change| ≥ 1 × its usual spread

_UNIT_ZH = {Grain.DAY: "天", Grain.WEEK: "周", Grain.MONTH: "个月", Grain.QUARTER: "个季度", Grain.YEAR: "年"}
_UNIT_EN = {Grain.DAY: ("day", "days"), Grain.WEEK: ("week", "weeks"), Grain.MONTH: ("month", "months"),
            Grain.QUARTER: ("quarter", "quarters"), Grain.YEAR: ("year", "years")}

# the freshness line: sources and the column holding their business date
FRESHNESS_SOURCES = ("counter_tickets", "loan_snapshot", "feedback_records", "market_indicators", "market_events")


@dataclass(frozen=True)
class Move:
    """One headline KPI's latest card and how notable its 环比 change is."""

    metric: Metric
    card: compute.Card
    score: float  # |delta_prev| / spread of earlier changes (0 when unknown or flat)


def _score(metric: Metric, card: compute.Card) -> float:
    """|环比 change| relative to the series' own variability (earlier period-to-period changes)."""
    d = card.delta_prev
    if d is None or (isinstance(d, float) and math.isnan(d)) or abs(d) < 1e-12:
        return 0.0
    vals = list(card.spark)
    if card.period in card.spark_periods:  # the current period's own change is not part of "usual"
        vals = vals[: card.spark_periods.index(card.period)]
    changes = [compute.change(metric, v, p) for p, v in zip(vals, vals[1:], strict=False)]
    changes = [c for c in changes if c is not None]
    if len(changes) < 2:
        return 1.0  # no history to compare with: a change, of unknown weight
    spread = statistics.pstdev(changes)
    if spread < 1e-12:
        return 10.0  # a series that never moved, moved
    return abs(d) / spread


def additive(metric: Metric) -> bool:
    """A flow summed over the period (counts, amounts disbursed): a part-period is not comparable."""
    if metric.denominator is not None or isinstance(metric.numerator, dict):
        return False
    m = metric.numerator
    return m.agg in (Agg.COUNT, Agg.SUM, Agg.COUNT_DISTINCT) and not m.stock


def moves(store, grain: Grain, as_of: date | None, scope: Scope | None = None,
          options: dict[str, Any] | None = None, cards: dict[str, compute.Card] | None = None) -> list[Move]:
    """The headline cards (in catalogue order) with their notability scores; KPIs without data left out.

    A summed KPI whose period is not complete yet (the data end inside it) is left out too: half a
    month of tickets against a whole month is not a fall. `cards` reuses cards already computed for
    the same grain, as_of, scope and options (the overview page's cached ones).
    """
    out = []
    for mid in HEADLINE_IDS:
        metric = get_metric(mid)
        card = (cards or {}).get(mid) or compute.card(store, metric, grain, as_of, scope, options)
        if card.value is None or card.period is None:
            continue
        if additive(metric):
            hi = compute.metric_span(store, metric)[1]
            if hi is not None and period_end(card.period, grain) > hi:
                continue
        out.append(Move(metric, card, _score(metric, card)))
    return out


def select(ms: list[Move]) -> list[Move]:
    """The moves to tell, most notable first: the mandatory groups, then notable others, 3–5 in all."""
    order = {m.metric.id: i for i, m in enumerate(ms)}
    by_id = {m.metric.id: m for m in ms}
    rank = lambda m: (-round(m.score, 9), order[m.metric.id])  # noqa: E731  (deterministic ties)
    chosen: list[Move] = []
    for group in MUST:
        cands = sorted((by_id[i] for i in group if i in by_id), key=rank)
        if cands:
            chosen.append(cands[0])
    rest = sorted((m for m in ms if m not in chosen), key=rank)
    for m in rest:
        if len(chosen) >= MAX_MOVES:
            break
        if m.score >= NOTABLE or len(chosen) < MIN_MOVES:
            chosen.append(m)
    return sorted(chosen, key=rank)


def _change(metric: Metric, delta: float | None, lang: str) -> str | None:
    """"上升0.80个百分点" / "增长12.3%" / "持平"; "up 0.80 pp" / "up 12.3%" / "unchanged"."""
    if delta is None or (isinstance(delta, float) and math.isnan(delta)):
        return None
    zh = lang == "zh"
    if abs(delta) < 1e-12:
        return "持平" if zh else "unchanged"
    up = delta > 0
    if metric.unit is Unit.RATE:
        mag, rise = f"{abs(delta) * 100:,.2f}", ("上升", "下降")
        if mag == "0.00":
            return "基本持平" if zh else "broadly unchanged"
        return f"{rise[0] if up else rise[1]}{mag}个百分点" if zh else f"{'up' if up else 'down'} {mag} pp"
    if metric.unit is Unit.PERCENT:
        bp = f"{abs(delta) * 100:,.0f}"
        return f"{'上升' if up else '下降'}{bp}个基点" if zh else f"{'up' if up else 'down'} {bp} bp"
    if metric.unit is Unit.SCORE:
        mag = f"{abs(delta):,.1f}"
        return f"{'上升' if up else '下降'}{mag}分" if zh else f"{'up' if up else 'down'} {mag} points"
    mag = f"{abs(delta) * 100:,.1f}%"
    if mag == "0.0%":
        return "基本持平" if zh else "broadly unchanged"
    return f"{'增长' if up else '下降'}{mag}" if zh else f"{'up' if up else 'down'} {mag}"


def _target_clause(m: Move, lang: str) -> str | None:
    metric, card = m.metric, m.card
    if card.status != "bad" or metric.target is None:
        return None
    t = fmt_value(metric, metric.target, lang)
    above = metric.direction is Direction.DOWN_GOOD  # off target because it is too high
    if lang == "zh":
        return f"{'高于' if above else '低于'}目标{t}"
    return f"{'above' if above else 'below'} the {t} target"


def _extreme(m: Move, grain: Grain, lang: str) -> str | None:
    if m.card.rank_high is None:
        return None
    # the periods spanned (monthly snapshots on a weekly grain have fewer values than periods)
    n = len(periods(m.card.spark_periods[0], m.card.period, grain)) if m.card.spark_periods else len(m.card.spark)
    if lang == "zh":
        return f"为近{n}{_UNIT_ZH[grain]}{'最高' if m.card.rank_high == 1 else '最低'}"
    unit = _UNIT_EN[grain][0 if n == 1 else 1]
    return f"the {'highest' if m.card.rank_high == 1 else 'lowest'} in {n} {unit}"


def sentence(m: Move, grain: Grain, lang: str) -> str:
    """One KPI's sentence (see the module docstring)."""
    metric, card = m.metric, m.card
    when = label(card.period, grain, lang)
    value = fmt_value(metric, card.value, lang)
    prev = _change(metric, card.delta_prev, lang)
    yoy = _change(metric, card.delta_yoy, lang) if grain is not Grain.YEAR else None
    extra = [x for x in (_extreme(m, grain, lang), _target_clause(m, lang)) if x]
    if lang == "zh":
        name = metric.name_zh
        # "等候时间P90为28.1分钟": a name ending in a Latin letter or digit would run into the number
        joiner = "为" if name[-1].isascii() and name[-1].isalnum() else ""
        parts = [f"{when}{name}{joiner}{value}"]
        if prev:
            parts.append(f"环比{prev}")
        if yoy:
            parts.append(f"同比{yoy}")
        return "，".join(parts + extra) + "。"
    head = f"{metric.name_en} {value} in {when}"
    comps = []
    if prev:
        comps.append(prev if prev.endswith("unchanged") else f"{prev} on the previous {_UNIT_EN[grain][0]}")
    if yoy:
        comps.append(f"{yoy} year on year")
    parts = [head]
    if comps:
        parts.append(" and ".join(comps))
    text = ", ".join(parts + extra) + "."
    return text[0].upper() + text[1:]


def _off_target(ms: list[Move], told: list[Move], lang: str) -> str | None:
    rest = [m for m in ms if m not in told and m.card.status == "bad"]
    if not rest:
        return None
    if lang == "zh":
        items = "、".join(f"{m.metric.name_zh}（{fmt_value(m.metric, m.card.value, 'zh')}，目标"
                         f"{fmt_value(m.metric, m.metric.target, 'zh')}）" for m in rest)
        return f"另有{len(rest)}项指标未达目标：{items}。"
    items = "; ".join(f"{m.metric.name_en} {fmt_value(m.metric, m.card.value, 'en')} (target "
                      f"{fmt_value(m.metric, m.metric.target, 'en')})" for m in rest)
    return f"Also off target: {items}."


def summary_sentences(store, grain: Grain, as_of: date | None, scope: Scope | None, lang: str,
                      options: dict[str, Any] | None = None, *,
                      cards: dict[str, compute.Card] | None = None) -> list[str]:
    """3–6 sentences on the headline KPIs for the period containing `as_of` (see the module docstring).

    Empty when no headline KPI has data. Deterministic: the same data gives the same sentences.
    """
    ms = moves(store, grain, as_of, scope, options, cards)
    if not ms:
        return []
    told = select(ms)
    out = [sentence(m, grain, lang) for m in told]
    tail = _off_target(ms, told, lang)
    if tail:
        out.append(tail)
    return out


def freshness(store, scope: Scope | None = None) -> dict[str, date | None]:
    """The last business date held per source (inside the scope), aggregated in the database."""
    import pandas as pd

    from data.sources import SOURCES

    scope = scope or Scope()
    backend = store.ibis()
    out: dict[str, date | None] = {}
    for name in FRESHNESS_SOURCES:
        src = SOURCES[name]
        t = scoped(backend, name, scope)
        v = t[src.time_column].max().execute()
        out[name] = None if v is None or pd.isna(v) else pd.Timestamp(v).date()
    return out
