"""The KPI catalogue: every metric, declared once, by id."""

from __future__ import annotations

from metrics.counter import COUNTER
from metrics.credit import CREDIT
from metrics.feedback import FEEDBACK
from metrics.market import MARKET
from metrics.model import Category, Metric

CATALOGUE: dict[str, Metric] = {m.id: m for m in (*COUNTER, *CREDIT, *FEEDBACK, *MARKET)}
assert len(CATALOGUE) == len(COUNTER) + len(CREDIT) + len(FEEDBACK) + len(MARKET), "duplicate metric id"

HEADLINE_IDS = (
    "counter.tickets_served", "counter.wait_avg_min", "counter.wait_p90_min", "counter.overtime_wait_rate",
    "credit.disbursed_amount", "credit.balance", "credit.overdue_rate", "credit.npl_ratio",
    "feedback.complaints", "feedback.on_time_closure_rate", "feedback.satisfaction_rate",
)


def get_metric(metric_id: str) -> Metric:
    try:
        return CATALOGUE[metric_id]
    except KeyError:
        raise KeyError(f"unknown metric {metric_id!r}; `bankpulse metric --list` lists the catalogue") from None


def by_category(category: Category) -> list[Metric]:
    return [m for m in CATALOGUE.values() if m.category is category]
