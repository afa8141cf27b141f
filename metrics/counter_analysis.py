"""Counter (柜台业务) analyses beyond the KPI catalogue: the wait-time distribution, the
weekday × hour pattern of arrivals and waits, and the branch master lookup.

Plain Python + Ibis: every aggregate runs inside the database on the scoped ticket table
(`metrics.tables.scoped`, so the access boundary always applies); only the small result
(a few dozen buckets, 7 × ~12 cells) reaches pandas.
"""

from __future__ import annotations

from datetime import date

import ibis
import pandas as pd

from metrics.scope import Scope
from metrics.tables import scoped

SOURCE = "counter_tickets"


def _window(store, start: date, end: date, scope: Scope | None):
    t = scoped(store.ibis(), SOURCE, scope or Scope())
    return t.filter((t.business_date >= start) & (t.business_date <= end))


def wait_histogram(store, start: date, end: date, scope: Scope | None = None, *, bucket_min: int = 5,
                   cap_min: int = 60) -> pd.DataFrame:
    """Called tickets by wait, in `bucket_min`-minute buckets; waits of `cap_min` or more share the last one.

    Columns: bucket (lower bound in minutes), upper (None for the open last bucket), tickets, share.
    Every bucket from 0 to `cap_min` is present (0 tickets where none fell in it).
    """
    t = _window(store, start, end, scope)
    t = t.filter(t.call_time.notnull() & t.wait_seconds.notnull())
    minutes = t.wait_seconds / 60.0
    raw = (minutes / bucket_min).floor().cast("int64") * bucket_min
    t = t.mutate(bucket=ibis.ifelse(raw >= cap_min, cap_min, ibis.greatest(raw, 0)))
    got = t.group_by("bucket").aggregate(tickets=t.count()).execute()
    frame = pd.DataFrame({"bucket": list(range(0, cap_min + 1, bucket_min))})
    out = frame.merge(got, on="bucket", how="left").fillna({"tickets": 0})
    out["tickets"] = out["tickets"].astype("int64")
    out["upper"] = [b + bucket_min if b < cap_min else None for b in out["bucket"]]
    total = int(out["tickets"].sum())
    out["share"] = out["tickets"] / total if total else 0.0
    return out[["bucket", "upper", "tickets", "share"]]


def heatmap(store, start: date, end: date, scope: Scope | None = None) -> pd.DataFrame:
    """Arrivals and waits by weekday (1 = Monday … 7 = Sunday) and hour of the ticket.

    Columns: weekday, hour, tickets (issued), days (business days of that weekday with tickets),
    arrivals_per_day (tickets ÷ days: the average arrivals in that hour on such a day),
    avg_wait_min (mean wait of the called tickets; None when none was called).
    """
    t = _window(store, start, end, scope)
    t = t.mutate(weekday=t.business_date.day_of_week.index() + 1, hour=t.ticket_time.hour())
    cells = t.group_by(["weekday", "hour"]).aggregate(
        tickets=t.count(),
        avg_wait_min=(t.wait_seconds / 60.0).mean(where=t.call_time.notnull()),
    )
    days = t.group_by("weekday").aggregate(days=t.business_date.nunique())
    j = cells.join(days, "weekday")
    expr = j.select("weekday", "hour", "tickets", "days",
                    arrivals_per_day=j.tickets.cast("float64") / j.days.cast("float64"),
                    avg_wait_min=j.avg_wait_min).order_by(["weekday", "hour"])
    df = expr.execute()
    for c in ("weekday", "hour", "tickets", "days"):
        df[c] = df[c].astype("int64")
    return df


def branch_master(store, scope: Scope | None = None) -> pd.DataFrame:
    """branch_id, branch_name, region of the outlets in scope (the branch master: a small table)."""
    backend = store.ibis()
    b = backend.table("branches")
    s = scope or Scope()
    if s.branch_ids is not None:
        b = b.filter(b.branch_id.isin(tuple(sorted(s.branch_ids)) or ("\x00",)))
    expr = b.select("branch_id", branch_name=b.branch_name.fill_null(b.branch_id), region=b.region,
                    level=b.level).order_by("branch_id")
    return expr.execute()
