"""Adding one market / policy event from a form — through the real ingest path.

The form's fields are written as a one-row CSV with the declared Chinese headers of
`market_events` and loaded with `ingest_file`, so the event is validated like any upload
(required title and date, known type …), recorded as a batch and can be rolled back.

An event applies to the whole bank, so only a writer whose boundary is the whole bank (or who
holds the "market" permission) may add one: `may_write_bank_wide` (docs/security.md).
"""

from __future__ import annotations

import csv
import io
import tempfile
from datetime import date, datetime
from pathlib import Path

from data.ingest import IngestResult, ingest_file
from data.sources.market import MARKET_EVENTS
from data.store import Store

# the form's fields, in file order; event_id is derived on load from the date and the title
FIELDS = tuple(c.name for c in MARKET_EVENTS.columns if c.name != "event_id")


def event_csv(fields: dict) -> str:
    """The CSV text (declared Chinese headers, one row) for the given field values."""
    unknown = set(fields) - set(FIELDS) - {"event_id"}
    if unknown:
        raise ValueError(f"unknown event fields: {', '.join(sorted(unknown))}")
    cols = [c for c in MARKET_EVENTS.columns if c.name in FIELDS or (c.name == "event_id" and fields.get("event_id"))]

    def cell(col, v) -> str:
        if v is None:
            return ""
        if isinstance(v, datetime):
            return v.date().isoformat()
        if isinstance(v, date):
            return v.isoformat()
        v = str(v).strip()
        if col.values and v in col.values:  # an enum code: write its word ("-" alone reads as empty)
            v = next((s for s in col.values[v] if s.isalpha()), v)
        return v

    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow([c.label_zh for c in cols])
    w.writerow([cell(c, fields.get(c.name)) for c in cols])
    return buf.getvalue()


def add_event(store: Store, fields: dict, user: str = "web", *, may_write_bank_wide: bool = True) -> IngestResult:
    """Load one event (canonical field names → values) as its own batch; the IngestResult says how it went
    (refused with a `not_permitted` issue when `may_write_bank_wide` is False)."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    with tempfile.TemporaryDirectory(prefix="bankpulse-event-") as tmp:
        path = Path(tmp) / f"market_event_form_{stamp}.csv"
        path.write_text(event_csv(fields), encoding="utf-8-sig")
        return ingest_file(store, path, source="market_events", user=user, may_write_bank_wide=may_write_bank_wide)
