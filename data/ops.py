"""Operational state: upload batches, their issues and quarantined rows.

Kept behind this small interface, apart from the analytical tables: at scale the analytics
move to a distributed engine while this state moves to PostgreSQL. Methods take the cursor of
the caller's transaction so that a batch record commits or rolls back together with its rows
on the embedded store; a PostgreSQL implementation would pair its own transaction with the
load (write the batch as 'loading', flip it to 'loaded' after the analytical commit).
Later issues put more operational state beside it, each behind its own small interface: users and
audit (data/users.py, data/audit.py), sign-in sessions (data/sessions.py), plans (data/plans/), and
briefing subscriptions with their delivery ledger (data/subscriptions.py, re-exported here).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import date, datetime

import pandas as pd

from data.sqlfiles import sql
from data.subscriptions import SubscriptionStore  # noqa: F401 - operational state, re-exported


@dataclass(frozen=True)
class Batch:
    """One load."""

    batch_id: int
    file_name: str
    sha256: str
    source: str
    sheets: str
    encoding: str
    rows_in: int
    rows_loaded: int
    rows_updated: int
    rows_rejected: int
    rows_warned: int
    status: str  # loaded | partial | rolled_back
    user_name: str
    created_at: datetime
    min_date: date | None = None
    max_date: date | None = None
    rolled_back_at: datetime | None = None
    rolled_back_by: str | None = None

    def as_dict(self) -> dict:
        d = asdict(self)
        for k, v in d.items():
            if isinstance(v, datetime | date):
                d[k] = v.isoformat()
        return d


_FIELDS = list(Batch.__dataclass_fields__)


class OpsStore:
    """Batches, batch issues and quarantine on the embedded DuckDB store (schema `ops`)."""

    def next_batch_id(self, cur) -> int:
        return cur.execute(sql("ops.next_batch_id")).fetchone()[0]

    def active_batch_for(self, cur, sha256: str, source: str) -> Batch | None:
        row = cur.execute(sql("ops.active_batch_for"), {"sha": sha256, "source": source}).fetchone()
        return Batch(*row) if row else None

    def record_batch(self, cur, batch: Batch) -> None:
        cur.execute(sql("ops.insert_batch"), {k: getattr(batch, k) for k in _FIELDS})

    def record_issues(self, cur, batch_id: int, issues: pd.DataFrame) -> None:
        if issues.empty:
            return
        frame = issues.assign(batch_id=batch_id)[  # noqa: F841 - read by DuckDB below
            ["batch_id", "file", "sheet", "row", "column", "value", "expected", "severity", "code", "message"]
        ].astype({"row": "Int64"})
        cur.execute(sql("ops.insert_issues_from_frame"))

    def record_quarantine(self, cur, batch_id: int, source: str, file_name: str, rows: pd.DataFrame,
                          reasons: dict[int, str]) -> None:
        """Keep rejected rows of a partial load with their raw cells and reasons."""
        if rows.empty:
            return
        q = pd.DataFrame({  # noqa: F841 - read by DuckDB below
            "batch_id": batch_id, "source": source, "file_name": file_name, "sheet": rows["sheet"],
            "row_no": rows["row_no"],
            "raw_json": [json.dumps(r, ensure_ascii=False) for r in rows.drop(columns=["row_no", "sheet"]).to_dict("records")],
            "reasons": [reasons.get(int(n), "") for n in rows["row_no"]],
        })
        cur.execute("INSERT INTO ops.quarantine SELECT * FROM q")

    def bump_data_version(self, cur) -> None:
        cur.execute(sql("ops.bump_data_version"))

    def list_batches(self, cur, limit: int = 1000) -> list[Batch]:
        return [Batch(*r) for r in cur.execute(sql("ops.list_batches"), {"limit": limit}).fetchall()]

    def get_batch(self, cur, batch_id: int) -> Batch | None:
        row = cur.execute(sql("ops.get_batch"), {"id": batch_id}).fetchone()
        return Batch(*row) if row else None

    def mark_rolled_back(self, cur, batch_id: int, user: str) -> None:
        cur.execute(sql("ops.mark_rolled_back"), {"id": batch_id, "user": user, "at": datetime.now()})

    def batch_issues(self, cur, batch_id: int) -> pd.DataFrame:
        return cur.execute(sql("ops.batch_issues"), {"id": batch_id}).df()

    def quarantine(self, cur, batch_id: int) -> pd.DataFrame:
        return cur.execute(sql("ops.quarantine_rows"), {"id": batch_id}).df()


OPS = OpsStore()
