"""The KPI catalogue: every metric, declared once, by id."""

from __future__ import annotations

from metrics.counter import COUNTER
from metrics.credit import CREDIT
from metrics.feedback import FEEDBACK
from metrics.market import MARKET
from metrics.model import Category, Metric
from metrics.supervision import SUPERVISION

CATALOGUE: dict[str, Metric] = {m.id: m for m in (*COUNTER, *CREDIT, *FEEDBACK, *MARKET, *SUPERVISION)}
assert len(CATALOGUE) == len(COUNTER) + len(CREDIT) + len(FEEDBACK) + len(MARKET) + len(SUPERVISION), "duplicate metric id"

# The headline KPIs are the ones declared `headline=True`, in declaration order (the order the
# overview cards, the summary and the briefing show them in): no second list to keep in step.
HEADLINE_IDS: tuple[str, ...] = tuple(m.id for m in CATALOGUE.values() if m.headline)


def get_metric(metric_id: str) -> Metric:
    try:
        return CATALOGUE[metric_id]
    except KeyError:
        raise KeyError(f"unknown metric {metric_id!r}; `bankpulse metric --list` lists the catalogue") from None


def by_category(category: Category) -> list[Metric]:
    return [m for m in CATALOGUE.values() if m.category is category]


def headlines(category: Category | None = None) -> list[Metric]:
    """The headline KPIs (of one category, or all), in declaration order."""
    return [m for m in CATALOGUE.values() if m.headline and (category is None or m.category is category)]
