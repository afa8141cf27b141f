"""Canonical sources, declared once: the registry every other part reads."""

from data.sources.branches import BRANCHES
from data.sources.counter import COUNTER_TICKETS
from data.sources.feedback import FEEDBACK_RECORDS
from data.sources.loans import LOAN_SNAPSHOT
from data.sources.market import MARKET_EVENTS, MARKET_INDICATORS, WIDE_DATE_ALIASES, WIDE_INDICATORS
from data.sources.model import Check, ColType, Column, Severity, Source

SOURCES: dict[str, Source] = {
    s.name: s
    for s in (BRANCHES, COUNTER_TICKETS, LOAN_SNAPSHOT, FEEDBACK_RECORDS, MARKET_INDICATORS, MARKET_EVENTS)
}


def get_source(name: str) -> Source:
    """The declaration of `name`; a clear error listing the valid names otherwise."""
    try:
        return SOURCES[name]
    except KeyError:
        raise KeyError(f"unknown source {name!r}; expected one of: {', '.join(SOURCES)}") from None


__all__ = ["SOURCES", "get_source", "Source", "Column", "ColType", "Check", "Severity",
           "WIDE_INDICATORS", "WIDE_DATE_ALIASES"]
