"""The audit trail: who did what, when, to what, within which scope — append-only.

`audit(store, user, action, target, scope, detail)` is the only writer. Rows are never updated
or deleted by the application (there is no statement for it), and each row stores
sha256(previous row's hash + its own content): `verify(store)` walks the chain and reports the
first row that was changed, inserted or removed behind the application's back.

Audited actions (see docs/security.md): sign_in, sign_in_failed, sign_out, session_timeout,
session_expired, session_refresh, sign_out_disabled, sign_out_deleted, session_resume,
session_refused, session_revoked, access_denied, upload, rollback, triage, noise_controls, export,
briefing_download, subscription_add, subscription_remove, briefing_delivery, user_add, user_update, user_disable, user_enable, user_password,
user_signout_all, scan, cli, plan_create, plan_update, plan_step, plan_move, inspection_create,
notice_issue, notice_move, scorecard_version, feed_notice, feed_meeting, feed_pin, feed_read, feed_auto
(data/feed.py).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pandas as pd

from data.sqlfiles import sql

GENESIS = "0" * 64
COLUMNS = ["audit_id", "happened_at", "user_name", "role", "channel", "action", "outcome", "target", "scope", "detail"]


def _who(user) -> tuple[str, str | None, str | None]:
    """(name, role, scope text) of a Principal, or of a plain name (system actors)."""
    name = getattr(user, "name", None)
    if name is None:
        return str(user), None, None
    return name, getattr(user, "role", None), user.scope_text() if hasattr(user, "scope_text") else None


def _digest(prev: str, row: dict) -> str:
    body = json.dumps([row[c] for c in COLUMNS], ensure_ascii=False, default=str, separators=(",", ":"))
    return hashlib.sha256((prev + body).encode("utf-8")).hexdigest()


def audit(store, user, action: str, target: str | None = None, scope: str | None = None,
          detail: dict[str, Any] | str | None = None, *, outcome: str = "ok", channel: str = "web",
          cur=None) -> int:
    """Append one row; returns its id. `scope` defaults to the user's boundary (all | region:R | branches:…).

    `cur`: the cursor of the caller's open `store.transaction()` — the audit row then commits or
    rolls back with the change it records (data/plans). Without it the row is its own transaction.
    """
    if cur is not None:
        return _append(cur, user, action, target, scope, detail, outcome, channel)
    with store.transaction() as own:
        return _append(own, user, action, target, scope, detail, outcome, channel)


def _append(cur, user, action, target, scope, detail, outcome, channel) -> int:
    name, role, boundary = _who(user)
    text = detail if isinstance(detail, str) or detail is None else json.dumps(detail, ensure_ascii=False,
                                                                                   default=str, sort_keys=True)
    head = cur.execute(sql("users.audit_last_hash")).fetchone()
    prev = head[0] if head else GENESIS
    row = {"audit_id": cur.execute(sql("users.audit_next_id")).fetchone()[0],
           # second precision: the hash must survive a round trip through the store unchanged
           "happened_at": datetime.now().replace(microsecond=0), "user_name": name, "role": role,
           "channel": channel, "action": action, "outcome": outcome,
           "target": None if target is None else str(target)[:500],
           "scope": scope if scope is not None else boundary, "detail": text}
    cur.execute(sql("users.audit_insert"), {
        "id": row["audit_id"], "at": row["happened_at"], "user": name, "role": role, "channel": channel,
        "action": action, "outcome": outcome, "target": row["target"], "scope": row["scope"], "detail": text,
        "prev_hash": prev, "row_hash": _digest(prev, row)})
    return row["audit_id"]


def search(store, *, user: str | None = None, action: str | None = None, outcome: str | None = None,
           since: datetime | None = None, until: datetime | None = None, text: str | None = None,
           limit: int = 5000) -> pd.DataFrame:
    """Audit rows, newest first (every filter optional; values are bound, never formatted in)."""
    return store.cursor().execute(sql("users.audit_search"), {
        "user": user or None, "action": action or None, "outcome": outcome or None, "since": since,
        "until": until, "text": text or None, "limit": int(limit)}).df()


def actions(store) -> list[str]:
    return [r[0] for r in store.cursor().execute(sql("users.audit_actions")).fetchall()]


@dataclass(frozen=True)
class Verification:
    ok: bool
    rows: int
    first_bad: int | None = None
    reason: str = ""


def verify(store) -> Verification:
    """Walk the hash chain; the first row whose link or content does not match breaks it."""
    prev = GENESIS
    rows = store.cursor().execute(sql("users.audit_all")).fetchall()
    for n, r in enumerate(rows, 1):
        row = dict(zip([*COLUMNS, "prev_hash", "row_hash"], r, strict=True))
        if row["prev_hash"] != prev:
            return Verification(False, n, row["audit_id"], "a row before it was removed or inserted")
        if _digest(prev, row) != row["row_hash"]:
            return Verification(False, n, row["audit_id"], "the row was changed")
        prev = row["row_hash"]
    return Verification(True, len(rows))
