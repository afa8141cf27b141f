"""The anomaly store and triage: operational state, behind this small interface (schema ops).

Ids are stable hashes of what an anomaly *is* (KPI, scope, grain, period, kind), so a re-scan
refreshes the row it found before — never a duplicate — and keeps its triage. Status moves
new → acknowledged → explained | false_alarm → resolved; every change is appended to the
history with who and when. Marking a false alarm also makes that KPI and scope less sensitive.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime

import pandas as pd

from anomaly.base import MOST_SEVERE_FIRST, Severity

STATUSES = ("new", "acknowledged", "explained", "false_alarm", "resolved")
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "new": ("acknowledged", "explained", "false_alarm"),
    "acknowledged": ("explained", "false_alarm"),
    "explained": ("resolved", "acknowledged"),
    "false_alarm": ("resolved", "acknowledged"),
    "resolved": ("acknowledged",),  # reopen
}
STATUS_LABELS = {
    "new": ("新发现", "New"), "acknowledged": ("已确认", "Acknowledged"), "explained": ("已查明原因", "Explained"),
    "false_alarm": ("误报", "False alarm"), "resolved": ("已解决", "Resolved"),
}
FALSE_ALARM_STEP = 1.15  # each false alarm raises the threshold multiplier by 15 %
MAX_SENSITIVITY = 3.0


class TriageError(ValueError):
    """A status change that is not allowed, with the reason in both languages."""


def anomaly_id(metric_id: str, scope_kind: str, scope_value: str, grain: str, period: date, kind: str) -> str:
    key = "|".join([metric_id, scope_kind, scope_value, grain, period.isoformat(), kind])
    return hashlib.sha1(key.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class NoiseControls:
    sensitivity: float = 1.0
    min_change: float | None = None
    min_denominator: float | None = None
    false_alarms: int = 0


def visible_scopes(store, boundary: frozenset[str]) -> tuple[list[str], list[str]]:
    """(branch ids, region names) whose anomaly rows a person with `boundary` may see — the rule
    of `data.users.visible_anomalies` (their branches; regions lying wholly inside), as lists
    the list query filters on."""
    from data.users import branch_master, visible_anomalies

    branches = branch_master(store)
    regions = sorted(r for r in branches["region"].dropna().unique() if isinstance(r, str))
    probe = pd.DataFrame({"scope_kind": "region", "scope_value": regions}, columns=["scope_kind", "scope_value"])
    full = visible_anomalies(probe, boundary, branches)["scope_value"] if len(probe) else []
    return sorted(boundary), sorted(full)


def _raise_in_feed(store, cur, rows: pd.DataFrame, now: datetime) -> int:
    """The feed's 严重异常 items for the high-severity flags among `rows` (data/feed.py), in the
    scan's transaction; a flag that has its item already is skipped (idempotent on anomaly_id)."""
    from data.feed import anomalies_raised
    from metrics.catalogue import CATALOGUE

    high = rows[rows["severity"] == Severity.HIGH.value]
    if high.empty:
        return 0

    def name(mid: str, lang: str) -> str:
        m = CATALOGUE.get(mid)
        return m.name(lang) if m is not None else mid

    where = [str(lab or val) for lab, val in zip(high["scope_label"], high["scope_value"], strict=True)]
    flags = pd.DataFrame({
        "anomaly_id": high["anomaly_id"].to_numpy(), "scope_kind": high["scope_kind"].to_numpy(),
        "scope_value": high["scope_value"].to_numpy(),
        "title": [f"严重异常：{w} · {name(m, 'zh')}" for w, m in zip(where, high["metric_id"], strict=True)],
        "title_en": [f"High-severity anomaly: {w} · {name(m, 'en')}" for w, m in zip(where, high["metric_id"],
                                                                                        strict=True)],
        "body": high["sentence_zh"].to_numpy(), "body_en": high["sentence_en"].to_numpy()})
    return anomalies_raised(store, cur, flags, now)


class AnomalyStore:
    """Anomalies, their history and the per-KPI noise controls."""

    def __init__(self, store):
        self.store = store
        self.q = store.query  # every statement is a named block of data/sql/anomaly.sql, through the gate

    # -- scan side -------------------------------------------------------------------------
    def upsert(self, cur, row: dict, now: datetime) -> bool:
        """Insert or refresh; True when the anomaly is new."""
        existed = self.q("anomaly.anomaly_exists", id=row["anomaly_id"]).value(cur)
        self.q("anomaly.upsert_anomaly", **row, now=now).run(cur)
        _raise_in_feed(self.store, cur, pd.DataFrame([row]), now)
        if not existed:
            self.q("anomaly.add_history", id=row["anomaly_id"], now=now, user="scan", action="detected",
                   from_status=None, to_status="new", owner=None, note=None).run(cur)
        return not existed

    COLUMNS = ("anomaly_id", "metric_id", "category", "scope_kind", "scope_value", "scope_label", "grain", "period",
               "period_end", "observed", "expected", "lower", "upper", "denominator", "score", "severity", "direction",
               "tone", "detector", "anomaly_kind", "sentence_zh", "sentence_en", "cause", "cause_json")

    def upsert_many(self, cur, rows: list[dict], now: datetime) -> set[str]:
        """Insert or refresh many anomalies in one statement; returns the ids that are new."""
        if not rows:
            return set()
        df = pd.DataFrame(rows, columns=list(self.COLUMNS)).drop_duplicates("anomaly_id", keep="last")
        for c in ("observed", "expected", "lower", "upper", "denominator", "score"):
            df[c] = pd.to_numeric(df[c], errors="coerce").astype("float64")
        for c in ("cause", "cause_json", "scope_label", "sentence_zh", "sentence_en"):
            df[c] = df[c].astype(object)
        cur.register("new_rows", df)
        try:
            old = {r[0] for r in self.q("anomaly.existing_ids").rows(cur)}
            self.q("anomaly.upsert_anomalies", now=now).run(cur)
            _raise_in_feed(self.store, cur, df, now)
            new = set(df["anomaly_id"]) - old
            if new:
                cur.register("new_ids", pd.DataFrame({"anomaly_id": sorted(new)}))
                self.q("anomaly.add_detected_history", now=now).run(cur)
                cur.unregister("new_ids")
        finally:
            cur.unregister("new_rows")
        return new

    def all_controls(self) -> dict[tuple[str, str, str], NoiseControls]:
        rows = self.q("anomaly.all_controls").rows()
        return {(r[0], r[1], r[2]): NoiseControls(r[3], r[4], r[5], r[6]) for r in rows}

    def record_scan(self, cur, **fields) -> None:
        self.q("anomaly.record_scan", **fields).run(cur)

    # -- user side -------------------------------------------------------------------------
    def get(self, anomaly_id: str) -> dict | None:
        df = self.q("anomaly.get_anomaly", id=anomaly_id).df()
        return None if df.empty else df.iloc[0].to_dict()

    def _filters(self, status, severity, category, scope_kind, metric, since, boundary) -> dict:
        params = {"status": status, "severity": severity, "category": category, "scope_kind": scope_kind,
                  "metric": metric, "since": since, "branch_ids": None, "regions": None}
        if boundary is not None:
            params["branch_ids"], params["regions"] = visible_scopes(self.store, boundary)
        return params

    def list(self, *, status=None, severity=None, category=None, scope_kind=None, metric=None, since=None,
             limit: int = 500, offset: int = 0, boundary: frozenset[str] | None = None) -> pd.DataFrame:
        """Most severe and recent first; `boundary` (a person's branch ids, None: the whole bank)
        filters in the query, before `limit`/`offset`, so nobody's own flags fall off the end."""
        params = self._filters(status, severity, category, scope_kind, metric, since, boundary)
        return self.q("anomaly.list_anomalies", **params, limit=limit, offset=offset,
                      severity_order=list(MOST_SEVERE_FIRST)).df()

    def count(self, *, status=None, severity=None, category=None, scope_kind=None, metric=None, since=None,
              boundary: frozenset[str] | None = None) -> int:
        """How many rows `list` pages through with the same filters."""
        params = self._filters(status, severity, category, scope_kind, metric, since, boundary)
        return int(self.q("anomaly.count_anomalies", **params).value())

    def chart_flags(self, metric_id: str, scope_kind: str, scope_value: str, start: date, end: date) -> pd.DataFrame:
        """A KPI's anomalies of one scope in [start, end], false alarms left out, to mark on its chart
        (period, value, sentence_zh, sentence_en, status, severity)."""
        return self.q("anomaly.chart_flags", metric=metric_id, scope_kind=scope_kind, scope_value=scope_value,
                      start=start, end=end).df()

    def history(self, anomaly_id: str) -> pd.DataFrame:
        return self.q("anomaly.history", id=anomaly_id).df()

    def controls(self, metric_id: str, scope_kind: str, scope_value: str) -> NoiseControls:
        row = self.q("anomaly.get_controls", metric=metric_id, scope_kind=scope_kind, scope_value=scope_value).first()
        return NoiseControls(*row) if row else NoiseControls()

    def set_controls(self, metric_id: str, scope_kind: str, scope_value: str, controls: NoiseControls,
                     user) -> None:
        """`user`: a data.users.Principal (or a plain name); the change is audited."""
        from data.audit import audit

        with self.store.transaction() as cur:
            self._put_controls(cur, metric_id, scope_kind, scope_value, controls, getattr(user, "name", user))
        audit(self.store, user, "noise_controls", target=f"{metric_id} {scope_kind}:{scope_value}",
              detail={"sensitivity": controls.sensitivity, "min_change": controls.min_change,
                      "min_denominator": controls.min_denominator})

    def _put_controls(self, cur, metric_id, scope_kind, scope_value, c: NoiseControls, user) -> None:
        self.q("anomaly.put_controls", metric=metric_id, scope_kind=scope_kind, scope_value=scope_value,
               sensitivity=c.sensitivity, min_change=c.min_change, min_denominator=c.min_denominator,
               false_alarms=c.false_alarms, now=datetime.now(), user=user).run(cur)

    def transition(self, anomaly_id: str, to_status: str, user, *, owner_dept: str | None = None,
                   note: str | None = None) -> dict:
        """Move an anomaly to `to_status` (validated), record who/when, adapt noise controls.

        `user`: a data.users.Principal (or a plain name); the change is also audited.
        """
        from data.audit import audit

        actor, user = user, getattr(user, "name", user)
        if to_status not in STATUSES:
            raise TriageError(f"未知状态 / unknown status {to_status!r}")
        now = datetime.now()
        with self.store.transaction() as cur:
            row = self.q("anomaly.get_anomaly", id=anomaly_id).df(cur)
            if row.empty:
                raise TriageError(f"异常 {anomaly_id} 不存在 / anomaly {anomaly_id} does not exist")
            a = row.iloc[0].to_dict()
            current = a["status"]
            if to_status != current and to_status not in TRANSITIONS[current]:
                allowed = "、".join(STATUS_LABELS[s][0] for s in TRANSITIONS[current])
                raise TriageError(f"不能从“{STATUS_LABELS[current][0]}”改为“{STATUS_LABELS[to_status][0]}”（可改为：{allowed}） / "
                                  f"cannot move from {current} to {to_status}")
            self.q("anomaly.set_status", status=to_status, owner=owner_dept, note=note, now=now, user=user,
                   id=anomaly_id).run(cur)
            self.q("anomaly.add_history", id=anomaly_id, now=now, user=user,
                   action="status" if to_status != current else "note", from_status=current, to_status=to_status,
                   owner=owner_dept, note=note).run(cur)
            if to_status == "false_alarm" and current != "false_alarm":
                key = (a["metric_id"], a["scope_kind"], a["scope_value"])
                r = self.q("anomaly.get_controls", metric=key[0], scope_kind=key[1], scope_value=key[2]).first(cur)
                c = NoiseControls(*r) if r else NoiseControls()
                c = NoiseControls(min(MAX_SENSITIVITY, c.sensitivity * FALSE_ALARM_STEP), c.min_change,
                                  c.min_denominator, c.false_alarms + 1)
                self._put_controls(cur, *key, c, user)
        audit(self.store, actor, "triage", target=anomaly_id,
              detail={"metric": a["metric_id"], "scope": f"{a['scope_kind']}:{a['scope_value']}", "from": current,
                      "to": to_status, "owner": owner_dept, "note": note})
        return self.get(anomaly_id)
