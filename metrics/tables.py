"""The rows a measure reads: a source scoped, windowed, with its period and breakdown columns.

The lowest layer of the query layer. `compiler` (aggregates, ratios, KPIs) and `custom` (KPIs
that are not one aggregate of one table) both build on it, and so do the analyses: the access
boundary (`scoped`), the window and grain (`base_table`) and the join of the branch master for
a breakdown by one of its columns (`with_dimensions`) are each written once, here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from data.sources import TABLES
from metrics.columns import DERIVED, DIMENSIONS, SNAPSHOT_STATE
from metrics.model import Grain, Measure
from metrics.scope import Scope


class MetricQueryError(ValueError):
    """A request the catalogue cannot answer (unknown dimension for the source, …)."""


@dataclass(frozen=True)
class Window:
    start: date
    end: date


def columns_of(source: str) -> set[str]:
    """The declared columns of a source."""
    return {c.name for c in TABLES[source].columns}


def column_expr(t, source: str, name: str, options: dict):
    """A source column or a derived column, by name."""
    if name in columns_of(source):
        return t[name]
    fn = DERIVED.get((source, name))
    if fn is None:
        raise MetricQueryError(f"{source} has no column or derived column {name!r}")
    return fn(t, options)


def scoped(backend, source: str, scope: Scope):
    """The source table restricted to the scope (access boundary first, then the user's filters)."""
    t = backend.table(source)
    cols = columns_of(source)
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


def with_dimensions(backend, t, source: str, dims: tuple[str, ...]):
    """`t` (rows of `source`, or a join that still has their columns) with one column per breakdown:
    a source or derived column, or a column of the branch master joined on `branch_id`."""
    for d in dims:
        dim = DIMENSIONS.get(d)
        if dim is None or not dim.available(columns_of(source), source):
            raise MetricQueryError(f"dimension {d!r} is not available for {source}")
        if dim.via_branch:
            b = backend.table("branches")
            look = b.select(_bid=b.branch_id, **{d: b[dim.via_branch]})
            t = t.left_join(look, t.branch_id == look._bid).drop("_bid")
        else:
            t = t.mutate(**{d: column_expr(t, source, dim.columns[source], {})})
    return t


def once_per_entity(t, source: str):
    """Each entity of a snapshot source once (a flow read from snapshots, such as disbursements:
    each loan counted once, with the attributes that do not change between its snapshots)."""
    src = TABLES[source]
    entity = [k for k in src.key if k != src.time_column]
    fixed = columns_of(source) - {src.time_column, *entity, *SNAPSHOT_STATE[source]}
    return t.group_by(entity).aggregate(**{c: t[c].max() for c in t.columns if c in fixed})


def base_table(backend, m: Measure, grain: Grain, window: Window, dims: tuple[str, ...], scope: Scope):
    """Scoped rows of the measure's source with `period` and the dimension columns, in the window."""
    src = TABLES[m.source]
    t = scoped(backend, m.source, scope)
    time_col = m.time or src.time_column
    if m.distinct_loans:
        t = once_per_entity(t, m.source)
    day = t[time_col].cast("date")
    t = t.filter((day >= window.start) & (day <= window.end))
    t = t.mutate(period=t[time_col].truncate(grain.ibis_unit).cast("date"))
    if m.stock:
        t = t.mutate(_last=t[time_col].max().over(group_by=t.period))
        t = t.filter(t[time_col] == t._last).drop("_last")
    return with_dimensions(backend, t, m.source, dims)
