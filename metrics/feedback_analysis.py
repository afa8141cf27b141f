"""Case-level reads of `feedback_records` for the feedback page: open complaints against their
handling limit, and the searchable case list. Plain Python over Ibis; every query starts from
`tables.scoped` (the access boundary), filters and sorts in DuckDB and returns a bounded page.

User text (search terms) only ever reaches the database as an Ibis literal (quoted by the
compiler), never spliced into SQL by hand.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import ibis
import pandas as pd

from metrics import tables
from metrics.columns import _sla_days
from metrics.options import resolve
from metrics.scope import Scope

OPEN_CASE_LIMIT = 500
PAGE_SIZES = (25, 50, 100)
EXPORT_LIMIT = 10_000
KINDS = ("complaint", "suggestion", "inquiry", "praise")
STATUSES = ("received", "in_progress", "closed", "withdrawn")
CHANNELS = ("counter_book", "hotline", "online", "app", "wechat", "regulator_12378", "letter_visit", "media", "other")

OPEN_CASE_COLUMNS = ["feedback_id", "status_flag", "days_left", "sla_days", "days_open", "received_at", "branch_id",
                     "branch_name", "channel", "cause_category", "handler_dept", "complexity", "status", "description"]
CASE_COLUMNS = ["feedback_id", "received_at", "feedback_kind", "channel", "status", "branch_id", "branch_name",
                "business_line", "cause_category", "complexity", "handler_dept", "closed_at", "satisfaction",
                "nps_score", "description"]


def _with_branch_name(backend, t):
    """The case's branch name, or the branch master's when the export left it empty."""
    b = backend.table("branches")
    look = b.select(_bid=b.branch_id, _bname=b.branch_name)
    j = t.left_join(look, t.branch_id == look._bid)
    return j.mutate(branch_name=ibis.coalesce(j.branch_name, j._bname)).drop("_bid", "_bname")


def _open_at(backend, as_of: date, scope: Scope, options: dict | None):
    """Complaints received by `as_of` and still open then (not withdrawn), with limit and days left.

    Days are calendar days from the day of receipt, as `custom.open_past_limit` counts them, so
    a case with days_left < 0 is one that KPI counts as past its limit."""
    o = resolve(options)
    t = tables.scoped(backend, "feedback_records", scope)
    recv = t.received_at.cast("date")
    t = t.filter((t.feedback_kind == "complaint") & (t.status != "withdrawn") & (recv <= as_of)
                 & (t.closed_at.isnull() | (t.closed_at.cast("date") > as_of)))
    days_open = ((ibis.literal(as_of).epoch_seconds() - t.received_at.cast("date").epoch_seconds()) / 86400.0)
    t = t.mutate(sla_days=_sla_days(t, o).cast("int64"), days_open=days_open.round().cast("int64"))
    return t.mutate(days_left=t.sla_days - t.days_open)


@dataclass(frozen=True)
class OpenSummary:
    open: int
    overdue: int
    due_soon: int  # 0 ≤ days left ≤ `soon`


def open_summary(backend, as_of: date, scope: Scope, options: dict | None = None, *, soon: int = 3) -> OpenSummary:
    """How many complaints were open at `as_of`, past their limit, and due within `soon` days."""
    t = _open_at(backend, as_of, scope, options)
    row = t.aggregate(n=t.count(), late=t.count(where=t.days_left < 0),
                      soon=t.count(where=(t.days_left >= 0) & (t.days_left <= soon))).execute().iloc[0]
    return OpenSummary(int(row["n"]), int(row["late"]), int(row["soon"]))


def open_cases(backend, as_of: date, scope: Scope, options: dict | None = None, *,
               limit: int = OPEN_CASE_LIMIT, soon: int = 3) -> pd.DataFrame:
    """Open complaints at `as_of`, most urgent first (days left ascending; negative = overdue).

    `status_flag`: "overdue" (past the limit), "due_soon" (≤ `soon` days left) or "open"."""
    t = _with_branch_name(backend, _open_at(backend, as_of, scope, options))
    t = t.mutate(status_flag=ibis.cases((t.days_left < 0, "overdue"), (t.days_left <= soon, "due_soon"),
                                        else_="open"))
    t = t.order_by([t.days_left, t.received_at, t.feedback_id]).limit(limit)
    df = t.select(*OPEN_CASE_COLUMNS).execute()
    return df.reset_index(drop=True)


def _case_filter(backend, start: date, end: date, scope: Scope, text: str | None, channels, statuses, kinds):
    t = tables.scoped(backend, "feedback_records", scope)
    day = t.received_at.cast("date")
    t = t.filter((day >= start) & (day <= end))
    if channels:
        t = t.filter(t.channel.isin(tuple(channels)))
    if statuses:
        t = t.filter(t.status.isin(tuple(statuses)))
    if kinds:
        t = t.filter(t.feedback_kind.isin(tuple(kinds)))
    q = (text or "").strip()
    if q:
        # a literal substring (no LIKE wildcards); the value is bound as an Ibis literal
        hit = (t.description.fill_null("").contains(q) | t.feedback_id.contains(q)
               | t.branch_name.fill_null("").contains(q) | t.handler_dept.fill_null("").contains(q))
        t = t.filter(hit)
    return t


def search_cases(backend, start: date, end: date, scope: Scope, *, text: str | None = None,
                 channels: tuple[str, ...] = (), statuses: tuple[str, ...] = (), kinds: tuple[str, ...] = (),
                 limit: int = 25, offset: int = 0) -> tuple[pd.DataFrame, int]:
    """One page of cases received in [start, end] (newest first) matching the filters, and the
    total number of matches. `text` is searched in the description, case id, branch name and
    handling department."""
    limit = max(1, min(int(limit), EXPORT_LIMIT))
    t = _case_filter(backend, start, end, scope, text, channels, statuses, kinds)
    total = int(t.count().execute())
    page = _with_branch_name(backend, t).order_by([ibis.desc("received_at"), "feedback_id"])
    df = page.select(*CASE_COLUMNS).limit(limit, offset=max(0, int(offset))).execute()
    return df.reset_index(drop=True), total

