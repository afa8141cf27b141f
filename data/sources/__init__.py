"""Canonical sources, declared once: the registry every other part reads."""

from data.sources.branches import BRANCHES
from data.sources.counter import COUNTER_TICKETS
from data.sources.feedback import FEEDBACK_RECORDS
from data.sources.loans import LOAN_SNAPSHOT
from data.sources.market import MARKET_EVENTS, MARKET_INDICATORS, WIDE_DATE_ALIASES, WIDE_INDICATORS
from data.sources.model import Check, ColType, Column, Severity, Source
from data.sources.supervision import VIEWS

SOURCES: dict[str, Source] = {
    s.name: s
    for s in (BRANCHES, COUNTER_TICKETS, LOAN_SNAPSHOT, FEEDBACK_RECORDS, MARKET_INDICATORS, MARKET_EVENTS)
}

# What the query layer may read: the uploaded sources plus the read-only views of the plans and
# supervision records (data/sources/supervision.py). Ingest, templates and the upload page walk
# SOURCES only.
TABLES: dict[str, Source] = {**SOURCES, **VIEWS}


def get_source(name: str) -> Source:
    """The declaration of `name`; a clear error listing the valid names otherwise."""
    try:
        return SOURCES[name]
    except KeyError:
        raise KeyError(f"unknown source {name!r}; expected one of: {', '.join(SOURCES)}") from None


__all__ = ["SOURCES", "TABLES", "VIEWS", "get_source", "Source", "Column", "ColType", "Check", "Severity",
           "WIDE_INDICATORS", "WIDE_DATE_ALIASES"]
