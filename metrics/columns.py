"""Derived columns and dimensions the declarations may name, as Ibis expressions.

Each entry is a function of (table, options) → expression, written once so that every KPI and
every backend (DuckDB now, Spark later) computes it the same way. Only portable Ibis operations
are used: arithmetic, CASE, epoch seconds, date truncation.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ibis

Expr = Callable[[Any, dict], Any]

NPL_CLASSES = ("substandard", "doubtful", "loss")


def _handling_days(t, o):
    return (t.closed_at.epoch_seconds() - t.received_at.epoch_seconds()) / 86400.0


def _calendar_days(t, o):
    """Calendar days from the day of receipt to the day of closure: a limit of N days ends with the
    N-th day after receipt (the same day count `custom.open_past_limit` uses), not after N × 24 hours."""
    return (t.closed_at.cast("date").epoch_seconds() - t.received_at.cast("date").epoch_seconds()) / 86400.0


def _sla_days(t, o):
    return ibis.cases(
        (t.complexity == "very_complex", o["sla_very_complex_days"]),
        (t.complexity == "complex", o["sla_complex_days"]),
        else_=o["sla_simple_days"],
    )


DERIVED: dict[tuple[str, str], Expr] = {
    ("counter_tickets", "wait_min"): lambda t, o: t.wait_seconds / 60.0,
    ("counter_tickets", "service_min"): lambda t, o: t.service_seconds / 60.0,
    ("counter_tickets", "weekday"): lambda t, o: t.business_date.day_of_week.index() + 1,
    ("counter_tickets", "hour"): lambda t, o: t.ticket_time.hour(),
    ("loan_snapshot", "is_npl"): lambda t, o: t.risk_class.isin(NPL_CLASSES),
    ("loan_snapshot", "cohort"): lambda t, o: t.disbursement_date.truncate("Q"),
    ("loan_snapshot", "five_class_violation"): lambda t, o: (
        ((t.days_past_due > 0) & (t.risk_class == "normal"))
        | ((t.days_past_due > 90) & t.risk_class.isin(("normal", "special_mention")))
        | ((t.days_past_due > 270) & t.risk_class.isin(("normal", "special_mention", "substandard")))
        | ((t.days_past_due > 360) & (t.risk_class != "loss"))
    ),
    ("feedback_records", "handling_days"): _handling_days,
    ("feedback_records", "first_reply_days"): lambda t, o: (
        t.replied_at.epoch_seconds() - t.received_at.epoch_seconds()) / 86400.0,
    ("feedback_records", "sla_days"): _sla_days,
    # a complaint whose outcome is known: closed, or its limit passed by the end of the query
    # window (open cases still within their limit are not late yet and must not count against it)
    ("feedback_records", "matured"): lambda t, o: (t.status == "closed") | (
        t.received_at.cast("date").epoch_seconds() + _sla_days(t, o) * 86400
        < ibis.date(o["_as_of"]).epoch_seconds()),
    ("feedback_records", "on_time"): lambda t, o: (t.status == "closed") & (_calendar_days(t, o) <= _sla_days(t, o)),
    ("feedback_records", "nps_class"): lambda t, o: ibis.cases(
        (t.nps_score >= 9, 1), (t.nps_score <= 6, -1), else_=0),
    # supervision (data/sources/supervision.py): a notice or step is *due* once its deadline is on or
    # before the query's as-of day; a notice is rectified on time when its first reported
    # rectification is on or before the deadline it was issued with (re-check quality is the
    # separate 复查通过率)
    ("sup_notices", "due"): lambda t, o: t.first_deadline <= ibis.date(o["_as_of"]),
    ("sup_notices", "rectified_in_time"): lambda t, o: (
        t.first_rectified_on.notnull() & (t.first_rectified_on <= t.first_deadline)),
    ("sup_steps", "due"): lambda t, o: (t.deadline <= ibis.date(o["_as_of"])) | t.done_on.notnull(),
}


# the columns of a snapshot source that change from one snapshot to the next: a flow counted from
# snapshots (each loan once, metrics.tables.once_per_entity) keeps only the others, which describe
# the loan itself
SNAPSHOT_STATE: dict[str, tuple[str, ...]] = {
    "loan_snapshot": ("outstanding_balance", "overdue_principal", "overdue_interest", "days_past_due", "risk_class"),
}


# derived columns that read the query's as-of date (options["_as_of"], the window's last day): their
# values change as the window ends later, so whatever is kept of them must carry that date
READS_AS_OF: frozenset[tuple[str, str]] = frozenset({("feedback_records", "matured"), ("sup_notices", "due"),
                                                     ("sup_steps", "due")})


class Dimension:
    """A breakdown: a source column, or (region) a column of the branch master joined in."""

    def __init__(self, key: str, zh: str, en: str, columns: dict[str, str] | None = None,
                 via_branch: str | None = None):
        self.key, self.label_zh, self.label_en = key, zh, en
        self.columns = columns or {}  # source -> column
        self.via_branch = via_branch  # branch-master column reached through branch_id

    def available(self, source_columns: set[str], source: str) -> bool:
        if self.via_branch:
            return "branch_id" in source_columns
        return source in self.columns

    def label(self, lang: str) -> str:
        return self.label_zh if lang == "zh" else self.label_en


_ALL_BRANCH = {s: "branch_id" for s in ("counter_tickets", "loan_snapshot", "feedback_records", "sup_notices",
                                         "sup_rechecks", "sup_steps", "sup_plans")}
DIMENSIONS: dict[str, Dimension] = {d.key: d for d in (
    Dimension("branch", "网点", "Branch", _ALL_BRANCH),
    Dimension("region", "区域", "Region", via_branch="region"),
    Dimension("sub_branch", "支行", "Sub-branch", via_branch="parent_id"),
    Dimension("service_type", "业务类型", "Service type", {"counter_tickets": "service_type"}),
    Dimension("customer_tier", "客户级别", "Customer tier", {"counter_tickets": "customer_tier"}),
    Dimension("product", "贷款品种", "Product", {"loan_snapshot": "product"}),
    Dimension("segment", "客户类型", "Customer segment", {"loan_snapshot": "customer_segment"}),
    Dimension("industry", "贷款投向", "Industry", {"loan_snapshot": "industry"}),
    Dimension("approver", "审批人", "Approver", {"loan_snapshot": "approver_id"}),
    Dimension("loan_officer", "客户经理", "Loan officer", {"loan_snapshot": "loan_officer"}),
    Dimension("guarantee", "担保方式", "Guarantee", {"loan_snapshot": "guarantee_type"}),
    Dimension("cohort", "发放季度", "Disbursement cohort", {"loan_snapshot": "cohort"}),
    Dimension("channel", "渠道", "Channel", {"feedback_records": "channel"}),
    Dimension("kind", "类型", "Kind", {"feedback_records": "feedback_kind"}),
    Dimension("category", "投诉原因", "Cause", {"feedback_records": "cause_category"}),
    Dimension("business_line", "业务类别", "Business line", {"feedback_records": "business_line"}),
    Dimension("indicator", "指标", "Indicator", {"market_indicators": "indicator_code"}),
)}
