"""Declarations → Ibis expressions.

`compile_metric` builds, for one KPI, a window [start, end], a grain, breakdown dimensions, a
scope and options, one Ibis table expression with columns `period`, the dimension keys,
`value`, and for ratios `numerator` and `denominator`. Nothing is executed here; the caller
runs the expression on its backend (DuckDB now; Spark via Spark Connect at scale), so every
page, the briefing, the scan and the CLI read the same numbers.

Portable by construction: only reductions with `where=` (conditional aggregates), exact
quantiles, window max, date truncation, joins and CASE are used.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import ibis

from data.sources import SOURCES
from metrics.columns import DERIVED, DIMENSIONS
from metrics.model import Agg, Filter, Grain, Measure, Metric, Op
from metrics.scope import Scope


class MetricQueryError(ValueError):
    """A request the catalogue cannot answer (unknown dimension for the source, …)."""


def _columns(source: str) -> set[str]:
    return {c.name for c in SOURCES[source].columns}


def column_expr(t, source: str, name: str, options: dict):
    """A source column or a derived column, by name."""
    if name in _columns(source):
        return t[name]
    fn = DERIVED.get((source, name))
    if fn is None:
        raise MetricQueryError(f"{source} has no column or derived column {name!r}")
    return fn(t, options)


def _predicate(t, source: str, f: Filter, options: dict):
    col = column_expr(t, source, f.column, options)
    value = f.value if f.param is None else options[f.param] * f.param_scale
    match f.op:
        case Op.EQ:
            return col == value
        case Op.NE:
            return col != value
        case Op.IN:
            return col.isin(tuple(value))
        case Op.NOT_IN:
            return ~col.isin(tuple(value))
        case Op.GT:
            return col > value
        case Op.GE:
            return col >= value
        case Op.LT:
            return col < value
        case Op.LE:
            return col <= value
        case Op.NOT_NULL:
            return col.notnull()
        case Op.IS_NULL:
            return col.isnull()


def reads_as_of(m: Measure) -> bool | None:
    """Whether a measure's value depends on the as-of date (it reads a derived column listed in
    columns.READS_AS_OF, in its column or its filters); None for a custom measure (its function
    may read anything)."""
    from metrics.columns import READS_AS_OF

    if m.agg is Agg.CUSTOM:
        return None
    return any((m.source, c) in READS_AS_OF for c in (m.column, *(f.column for f in m.where)) if c)


def where_of(t, m: Measure, options: dict):
    """The measure's filters as one boolean expression (None when it has none)."""
    pred = None
    for f in m.where:
        p = _predicate(t, m.source, f, options)
        pred = p if pred is None else pred & p
    return pred


def scoped(backend, source: str, scope: Scope):
    """The source table restricted to the scope (access boundary first, then the user's filters)."""
    t = backend.table(source)
    cols = _columns(source)
    if "branch_id" in cols:
        b = backend.table("branches")
        if scope.branch_ids is not None:
            t = t.filter(t.branch_id.isin(tuple(sorted(scope.branch_ids)) or ("\x00",)))
        if scope.region:
            t = t.filter(t.branch_id.isin(b.filter(b.region == scope.region).branch_id))
        if scope.branch:
            t = t.filter(t.branch_id.isin(
                b.filter((b.branch_id == scope.branch) | (b.parent_id == scope.branch)).branch_id))
    if scope.product and "product" in cols:
        t = t.filter(t["product"] == scope.product)
    return t


@dataclass(frozen=True)
class Window:
    start: date
    end: date


def _base_key(m: Measure, source_time: str | None) -> tuple:
    return (m.source, m.time or source_time, m.stock, m.distinct_loans)


def base_table(backend, m: Measure, grain: Grain, window: Window, dims: tuple[str, ...], scope: Scope):
    """Scoped rows of the measure's source with `period` and the dimension columns, in the window."""
    src = SOURCES[m.source]
    t = scoped(backend, m.source, scope)
    time_col = m.time or src.time_column
    if m.distinct_loans:
        # a flow read from snapshots: each loan once (its attributes do not change between snapshots)
        keep = [c for c in t.columns if c not in ("loan_id", "snapshot_date", "outstanding_balance",
                                                   "overdue_principal", "overdue_interest", "days_past_due",
                                                   "risk_class", "batch_id", "source_file", "source_row")]
        t = t.group_by("loan_id").aggregate(**{c: t[c].max() for c in keep})
    day = t[time_col].cast("date")
    t = t.filter((day >= window.start) & (day <= window.end))
    t = t.mutate(period=t[time_col].truncate(grain.ibis_unit).cast("date"))
    if m.stock:
        t = t.mutate(_last=t[time_col].max().over(group_by=t.period))
        t = t.filter(t[time_col] == t._last).drop("_last")
    for d in dims:
        dim = DIMENSIONS.get(d)
        if dim is None or not dim.available(_columns(m.source), m.source):
            raise MetricQueryError(f"dimension {d!r} is not available for {m.source}")
        if dim.via_branch:
            b = backend.table("branches")
            look = b.select(_bid=b.branch_id, **{d: b[dim.via_branch]})
            t = t.left_join(look, t.branch_id == look._bid).drop("_bid")
        else:
            t = t.mutate(**{d: column_expr(t, m.source, dim.columns[m.source], {})})
    return t


def reduction(t, m: Measure, options: dict, backend=None):
    """The measure's aggregate over the rows of `t` (conditional: `where=` carries the filters)."""
    where = where_of(t, m, options)
    match m.agg:
        case Agg.COUNT:
            return t.count(where=where) if where is not None else t.count()
        case Agg.SUM:
            return column_expr(t, m.source, m.column, options).sum(where=where).fill_null(0)
        case Agg.MEAN:
            return column_expr(t, m.source, m.column, options).mean(where=where)
        case Agg.QUANTILE:
            return column_expr(t, m.source, m.column, options).quantile(m.q, where=where)
        case Agg.COUNT_DISTINCT:
            return column_expr(t, m.source, m.column, options).nunique(where=where)
        case Agg.LAST:
            col = column_expr(t, m.source, m.column, options)
            return col.argmax(t[m.time or SOURCES[m.source].time_column], where=where)
        case Agg.CUSTOM:
            raise MetricQueryError("custom measures are compiled by metrics.custom")


def measure_table(backend, m: Measure, grain: Grain, window: Window, dims: tuple[str, ...], scope: Scope,
                  options: dict, name: str = "value"):
    """(period, dims…, <name>) for one measure."""
    options = {"_as_of": window.end, **options}
    if m.agg is Agg.CUSTOM:
        from metrics.custom import CUSTOM

        return CUSTOM[m.custom](backend, m, grain, window, dims, scope, options).rename({name: "value"})
    t = base_table(backend, m, grain, window, dims, scope)
    return t.group_by(["period", *dims]).aggregate(**{name: reduction(t, m, options)})


def compile_metric(backend, metric: Metric, grain: Grain, window: Window, dims: tuple[str, ...] = (),
                   scope: Scope | None = None, options: dict[str, Any] | None = None):
    """The KPI as an Ibis table: period, dims…, value[, numerator, denominator]."""
    from metrics.options import resolve

    scope = scope or Scope()
    options = {**resolve(options), "_as_of": window.end}  # "as of" for derived columns (matured cases)
    for d in dims:
        if d not in metric.dimensions:
            raise MetricQueryError(f"{metric.id} cannot be broken down by {d!r}; allowed: {', '.join(metric.dimensions)}")
    num = metric.measure(options)
    keys = ["period", *dims]
    if metric.denominator is None:
        out = measure_table(backend, num, grain, window, dims, scope, options)
        return out.select(*keys, value=out.value.cast("float64") * metric.multiplier).order_by(keys)
    den = metric.denominator
    src_time = {m.source: SOURCES[m.source].time_column for m in (num, den)}
    same_base = (_base_key(num, src_time[num.source]) == _base_key(den, src_time[den.source])
                 and Agg.CUSTOM not in (num.agg, den.agg))
    if same_base:
        t = base_table(backend, num, grain, window, dims, scope)
        agg = t.group_by(keys).aggregate(numerator=reduction(t, num, options), denominator=reduction(t, den, options))
    else:
        n = measure_table(backend, num, grain, window, dims, scope, options, "numerator")
        d = measure_table(backend, den, grain, window, dims, scope, options, "denominator")
        # null-safe keys: a breakdown value may be NULL (an outlet without a sub-branch, a loan without a
        # product); plain equality would drop that group's numerator and report 0
        j = d.left_join(n, [d[k].identical_to(n[k]) for k in keys])
        agg = j.select(*[d[k] for k in keys], numerator=j.numerator.fill_null(0), denominator=j.denominator)
    numerator = agg.numerator.cast("float64")
    denominator = agg.denominator.cast("float64")
    value = ibis.ifelse(denominator > 0, numerator / denominator * metric.multiplier, ibis.null("float64"))
    return agg.select(*keys, value=value, numerator=numerator, denominator=denominator).order_by(keys)


def periods_back(start: date, grain: Grain) -> date:
    """The start of the period before the one containing `start` (for opening snapshots)."""
    from metrics.periods import period_start, shift

    return shift(period_start(start, grain), grain, -1)
