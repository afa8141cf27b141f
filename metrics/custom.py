"""KPIs whose measures are not one aggregate of one table, written once in portable Ibis.

Each function returns (period, dims…, value) like `compiler.measure_table`, from the rows of
`metrics.tables` (the layer below the compiler: this module does not import the compiler).
"""

from __future__ import annotations

import ibis

from metrics.columns import NPL_CLASSES, _handling_days, _sla_days
from metrics.model import Grain, Measure
from metrics.periods import period_end, period_start, periods, shift
from metrics.tables import base_table, scoped, with_dimensions


def window_capacity_seconds(backend, m: Measure, grain: Grain, window, dims, scope, options):
    """Σ open windows × opening minutes × 60 over the branch-days with at least one ticket."""
    t = base_table(backend, m, grain, window, dims, scope)
    days = t.select("branch_id", "business_date", "period", *dims).distinct()
    b = backend.table("branches")
    cap = b.select(_bid=b.branch_id, _cap=(b.open_windows.fill_null(0) * b.opening_minutes.fill_null(480) * 60.0))
    j = days.left_join(cap, days.branch_id == cap._bid)
    return j.group_by(["period", *dims]).aggregate(value=j._cap.sum())


def _snapshot_pairs(backend, grain: Grain, window, scope):
    """Each period's closing snapshot date and the previous period's closing date."""
    t = scoped(backend, "loan_snapshot", scope)
    first = shift(period_start(window.start, grain), grain, -1)  # the period before the window's first
    day = t.snapshot_date
    dates = t.filter(day >= first).filter(day <= window.end).select(
        snapshot_date=day, period=day.truncate(grain.ibis_unit).cast("date")).distinct()
    closing = dates.group_by("period").aggregate(close=dates.snapshot_date.max())
    w = ibis.window(order_by=closing.period)
    pairs = closing.mutate(open=closing.close.lag().over(w))
    return t, pairs.filter((pairs.period >= window.start) & pairs.open.notnull())


def _migration(backend, grain, window, dims, scope, numerator: bool):
    t, pairs = _snapshot_pairs(backend, grain, window, scope)
    start = t.join(pairs, t.snapshot_date == pairs.open).filter(t.risk_class == "special_mention")
    start = with_dimensions(backend, start, "loan_snapshot", dims)  # the loan's breakdown at the opening snapshot
    start = start.select("loan_id", "period", start_bal=start.outstanding_balance, **{d: start[d] for d in dims},
                         _bid=start.branch_id)
    end = t.join(pairs, t.snapshot_date == pairs.close).select(
        _lid=t.loan_id, _period=pairs.period, end_bal=t.outstanding_balance, end_class=t.risk_class)
    j = start.left_join(end, (start.loan_id == end._lid) & (start.period == end._period))
    kept = ibis.least(j.end_bal.fill_null(0), j.start_bal)
    agg = kept.sum(where=j.end_class.isin(NPL_CLASSES)) if numerator else kept.sum()
    return j.group_by(["period", *dims]).aggregate(value=agg.fill_null(0))


def sm_migration_down(backend, m, grain, window, dims, scope, options):
    """期初关注类贷款向下迁徙金额: special-mention loans at the opening snapshot now substandard or worse."""
    return _migration(backend, grain, window, dims, scope, numerator=True)


def sm_migration_base(backend, m, grain, window, dims, scope, options):
    """期初关注类贷款余额 − 期间减少金额 (balance still outstanding at the closing snapshot)."""
    return _migration(backend, grain, window, dims, scope, numerator=False)


def open_past_limit(backend, m, grain, window, dims, scope, options):
    """Complaints still open at each period end whose handling limit had passed by then."""
    t = scoped(backend, "feedback_records", scope)
    t = t.filter((t.feedback_kind == "complaint") & (t.status != "withdrawn"))
    ends = ibis.memtable({"period": periods(window.start, window.end, grain),
                          "period_end": [period_end(p, grain) for p in periods(window.start, window.end, grain)]})
    t = t.mutate(_sla=_sla_days(t, options), _recv=t.received_at.cast("date"))
    t = with_dimensions(backend, t, "feedback_records", dims)
    j = t.join(ends, t._recv <= ends.period_end)
    open_then = j.closed_at.isnull() | (j.closed_at.cast("date") > j.period_end)
    late = (j.period_end.epoch_seconds() - j._recv.epoch_seconds()) / 86400.0 > j._sla
    j = j.filter(open_then & late)
    return j.group_by(["period", *dims]).aggregate(value=j.count())


def notices_overdue_open(backend, m, grain, window, dims, scope, options):
    """整改通知书 open at each period end past their deadline: issued by then, deadline before it and
    the current round not reported rectified by then. The deadline and rectification are the
    notice's current round as recorded (a notice reopened after a failed re-check counts with its
    new deadline)."""
    t = scoped(backend, "sup_notices", scope)
    ps = periods(window.start, window.end, grain)
    ends = ibis.memtable({"period": ps, "period_end": [period_end(p, grain) for p in ps]})
    t = with_dimensions(backend, t, "sup_notices", dims)
    j = t.join(ends, t.issued_on <= ends.period_end)
    open_then = j.settled_on.isnull() | (j.settled_on > j.period_end)
    j = j.filter(open_then & (j.deadline < j.period_end))
    return j.group_by(["period", *dims]).aggregate(value=j.count())


def plan_delivery_days(backend, m, grain, window, dims, scope, options):
    """Mean days from approval to completion over the plans completed in the period, each plan once
    (a plan covering several branches is one plan at region and bank level)."""
    t = base_table(backend, m, grain, window, dims, scope)
    t = t.filter(t.approved_on.notnull() & t.done_on.notnull())
    plans = t.select("plan_id", "period", "delivery_days", *dims).distinct()
    return plans.group_by(["period", *dims]).aggregate(value=plans.delivery_days.mean())


CUSTOM = {
    "notices_overdue_open": notices_overdue_open,
    "plan_delivery_days": plan_delivery_days,
    "window_capacity_seconds": window_capacity_seconds,
    "sm_migration_down": sm_migration_down,
    "sm_migration_base": sm_migration_base,
    "open_past_limit": open_past_limit,
}

__all__ = ["CUSTOM", "_handling_days"]
