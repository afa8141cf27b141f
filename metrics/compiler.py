"""Declarations → Ibis expressions.

`compile_metric` builds, for one KPI, a window [start, end], a grain, breakdown dimensions, a
scope and options, one Ibis table expression with columns `period`, the dimension keys,
`value`, and for ratios `numerator` and `denominator`. Nothing is executed here; the caller
runs the expression on its backend (DuckDB now; Spark via Spark Connect at scale), so every
page, the briefing, the scan and the CLI read the same numbers.

Portable by construction: only reductions with `where=` (conditional aggregates), exact
quantiles, window max, date truncation, joins and CASE are used.

The rows a measure reads (scope, window, period, breakdown columns) come from `metrics.tables`,
which `metrics.custom` builds on too; this module adds the aggregates and the ratios.
"""

from __future__ import annotations

from typing import Any

import ibis

from data.sources import TABLES
from metrics.columns import DIMENSIONS, READS_AS_OF
from metrics.custom import CUSTOM
from metrics.model import Agg, Filter, Grain, Measure, Metric, Op
from metrics.options import resolve
from metrics.scope import Scope
from metrics.tables import MetricQueryError, Window, base_table, column_expr

# this module's interface; anomaly.extract also takes DIMENSIONS and base_table from here
__all__ = ["DIMENSIONS", "MetricQueryError", "Window", "base_table", "column_expr", "compile_metric",
           "measure_table", "reads_as_of", "reduction", "where_of"]


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


def _base_key(m: Measure, source_time: str | None) -> tuple:
    return (m.source, m.time or source_time, m.stock, m.distinct_loans)


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
            return col.argmax(t[m.time or TABLES[m.source].time_column], where=where)
        case Agg.CUSTOM:
            raise MetricQueryError("custom measures are compiled by metrics.custom")


def measure_table(backend, m: Measure, grain: Grain, window: Window, dims: tuple[str, ...], scope: Scope,
                  options: dict, name: str = "value"):
    """(period, dims…, <name>) for one measure."""
    options = {"_as_of": window.end, **options}
    if m.agg is Agg.CUSTOM:
        return CUSTOM[m.custom](backend, m, grain, window, dims, scope, options).rename({name: "value"})
    t = base_table(backend, m, grain, window, dims, scope)
    return t.group_by(["period", *dims]).aggregate(**{name: reduction(t, m, options)})


def compile_metric(backend, metric: Metric, grain: Grain, window: Window, dims: tuple[str, ...] = (),
                   scope: Scope | None = None, options: dict[str, Any] | None = None):
    """The KPI as an Ibis table: period, dims…, value[, numerator, denominator]."""
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
    src_time = {m.source: TABLES[m.source].time_column for m in (num, den)}
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
