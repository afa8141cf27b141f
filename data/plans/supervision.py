"""Supervision: inspections (检查), their findings and 整改通知书 — scoped, validated, audited.

`SupervisionStore(store)` is the one writer of ops.inspections, ops.findings, ops.notices and
ops.notice_history (migration 0006), with the guarantees of `data.plans.store`: one transaction
per write holding the change, its history row and its audit row; every problem collected and the
write refused whole (`PlanError`); records outside the principal's boundary read as absent.

A notice belongs to one branch (its finding's). Its life (data.plans.transitions):
issued → rectified (the branch reports its measures, needs `plan`) → rechecked_pass (`supervise`);
a failed re-check (`supervise`, a reason and a new deadline) sends it back to issued with round + 1,
the new deadline in `deadline` (round 1's stays in `first_deadline`) and the old round in the history.
Creating inspections and issuing notices needs `supervise` (admin, or the `supervision` group).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from data.audit import audit
from data.plans.checks import (
    MAX_TITLE,
    PlanError,
    ProblemCode,
    Problems,
    not_found_problem,
    outside_scope_problem,
)
from data.plans.model import (
    FINDING_FIELDS,
    INSPECTION_FIELDS,
    NOTICE_FIELDS,
    Finding,
    Inspection,
    Notice,
    NoticeStatus,
    Severity,
)
from data.plans.scope import Master, id_list, need
from data.plans.store import _business_day, _fields, _value
from data.plans.transitions import ACTION_LABELS, NEEDS_REASON, Entity, NoticeAction, move_for


@dataclass(frozen=True)
class NewFinding:
    """A finding to record with an inspection: the branch, what was found, how serious."""

    branch_id: str
    text: str
    severity: str = "medium"


class SupervisionStore:
    """Inspections, findings and notices on the embedded store."""

    def __init__(self, store, channel: str = "web"):
        self.store = store
        self.q = store.query  # named blocks of data/sql/plans.sql
        self.channel = channel

    # -- writes --------------------------------------------------------------------------------
    def create_inspection(self, principal, *, title, inspecting_dept, inspected_on, scope_branches,
                          inspector=None, findings: Iterable = ()) -> Inspection:
        """An inspection of `scope_branches` (known, inside the boundary) with its findings (each on
        one of those branches); id JC-<year>-<nnnn>, findings <id>-01, -02 … Needs `supervise`."""
        boundary = principal.boundary(self.store)
        now = datetime.now()
        with self.store.transaction() as cur:
            p = Problems()
            need(p, principal, "supervise", "登记检查", "record an inspection")
            ids = id_list(scope_branches)
            if not ids:
                p.add("scope_branches", ProblemCode.REQUIRED, "须列出被检查机构", "the inspected branches are needed")
            unknown = Master(self.store, cur).unknown(ids)
            if unknown:
                p.add("scope_branches", ProblemCode.UNKNOWN_BRANCH, f"机构表中没有机构号：{', '.join(unknown)}",
                      f"unknown branch id: {', '.join(unknown)}")
            elif boundary is not None and not set(ids) <= boundary:
                p.append(outside_scope_problem("scope_branches", set(ids) - boundary))
            values = {"title": p.text("title", title, "检查名称", limit=MAX_TITLE),
                      "inspecting_dept": p.text("inspecting_dept", inspecting_dept, "检查部门", limit=MAX_TITLE),
                      "inspected_on": _business_day(p, "inspected_on", inspected_on),
                      "inspector": p.text("inspector", inspector, "检查人", required=False, limit=MAX_TITLE),
                      "scope_branches": sorted(ids)}
            found = [self._check_finding(p, f"findings[{i}]", f, ids) for i, f in enumerate(findings, 1)]
            p.raise_if_any()
            prefix = f"JC-{now.year}-"
            iid = f"{prefix}{self.q('plans.next_inspection_no', prefix=prefix).value(cur):04d}"
            self.q("plans.insert_inspection", inspection_id=iid, **values, now=now, user=principal.name).run(cur)
            for n, f in enumerate(found, 1):
                self.q("plans.insert_finding", finding_id=f"{iid}-{n:02d}", inspection_id=iid, **f).run(cur)
            audit(self.store, principal, "inspection_create", target=iid, channel=self.channel, cur=cur,
                  detail={"branches": values["scope_branches"], "findings": len(found)})
        return self.get_inspection(iid, principal)

    def issue_notice(self, finding_id: str, principal, *, deadline, responsible_dept, issued_on=None,
                     measures=None) -> Notice:
        """A 整改通知书 for a finding (one per finding), round 1, id ZG-<year>-<nnnn>; the deadline may
        not be before the issue date (default today). Needs `supervise`."""
        boundary = principal.boundary(self.store)
        now = datetime.now()
        with self.store.transaction() as cur:
            finding = self._finding(cur, finding_id, boundary)
            p = Problems()
            need(p, principal, "supervise", "下发整改通知书", "issue a rectification notice")
            if self.q("plans.notices_of_finding", finding_id=finding.finding_id).value(cur):
                p.add("finding_id", ProblemCode.DUPLICATE, f"检查发现 {finding_id} 已下发过整改通知书",
                      f"finding {finding_id} already has a notice")
            issued = _business_day(p, "issued_on", issued_on)
            due = p.day("deadline", deadline, "整改期限")
            p.not_before("deadline", due, issued, f"整改期限 {due} 早于下发日期 {issued}",
                         f"the deadline {due} is before the issue date {issued}")
            dept = p.text("responsible_dept", responsible_dept, "责任部门", limit=MAX_TITLE)
            what = p.text("measures", measures, "整改措施", required=False)
            p.raise_if_any()
            prefix = f"ZG-{now.year}-"
            nid = f"{prefix}{self.q('plans.next_notice_no', prefix=prefix).value(cur):04d}"
            self.q("plans.insert_notice", notice_id=nid, finding_id=finding.finding_id, branch_id=finding.branch_id,
                   issued_on=issued, deadline=due, responsible_dept=dept, measures=what, now=now,
                   user=principal.name).run(cur)
            self._record(cur, principal, nid, "issue", None, NoticeStatus.ISSUED, None,
                         {"finding_id": finding.finding_id, "branch_id": finding.branch_id, "deadline": due}, now,
                         "notice_issue")
        return self.get_notice(nid, principal)

    def move_notice(self, notice_id: str, action: str, principal, reason: str | None = None, *, on=None,
                    new_deadline=None, measures=None, expected_version: int | None = None) -> Notice:
        """rectify (measures given now or before; `on` not before the issue date), recheck_pass,
        recheck_fail (a reason and `new_deadline` after the re-check day: back to issued, round + 1).
        `on` defaults to today and is never in the future."""
        boundary = principal.boundary(self.store)
        now = datetime.now()
        with self.store.transaction() as cur:
            n = self._notice(cur, notice_id, boundary)
            p = Problems()
            if expected_version is not None and int(expected_version) != n.version:
                p.add("version", ProblemCode.STALE, f"通知书已被他人修改（版本 {n.version}），请刷新后重试",
                      f"the notice was changed meanwhile (version {n.version}): reload it")
            act = p.choice("action", action, NoticeAction, "操作")
            day = _business_day(p, "on", on)
            why = (str(reason).strip() or None) if reason is not None else None
            m = move_for(Entity.NOTICE, n.status, act) if act else None
            if act and m is None:
                p.add("action", ProblemCode.NOT_ALLOWED, f"通知书“{n.status.zh}”，不能执行“{ACTION_LABELS[act][0]}”",
                      f"cannot {act} a notice that is {n.status.value}")
            if m is None or not need(p, principal, m.permission, f"对通知书执行“{ACTION_LABELS[act][0]}”",
                                     f"{act} a notice"):
                p.raise_if_any()
            if act in NEEDS_REASON and not why:
                p.add("reason", ProblemCode.REQUIRED, f"“{ACTION_LABELS[act][0]}”须说明原因", f"{act} needs a reason")
            row = {"status": str(m.to_status), "deadline": n.deadline, "measures": n.measures, "round": n.round,
                   "rectified_on": n.rectified_on, "rechecked_on": n.rechecked_on, "recheck_note": n.recheck_note}
            detail: dict = {"on": day}
            match act:
                case NoticeAction.RECTIFY:
                    row["measures"] = p.text("measures", measures, "整改措施", required=False) or n.measures
                    if not row["measures"]:
                        p.add("measures", ProblemCode.REQUIRED, "报告已整改须写明整改措施",
                              "the measures taken must be written")
                    p.not_before("on", day, n.issued_on, f"整改日期 {day} 早于下发日期 {n.issued_on}",
                                 f"{day} is before the issue date {n.issued_on}")
                    row["rectified_on"] = day
                case NoticeAction.RECHECK_PASS | NoticeAction.RECHECK_FAIL:
                    p.not_before("on", day, n.rectified_on, f"复查日期 {day} 早于整改日期 {n.rectified_on}",
                                 f"{day} is before the rectification date {n.rectified_on}")
                    row.update(rechecked_on=day, recheck_note=why)
                    if act == NoticeAction.RECHECK_FAIL:
                        due = p.day("new_deadline", new_deadline, "新的整改期限")
                        if due is not None and day is not None and due <= day:
                            p.add("new_deadline", ProblemCode.BAD_DATE, f"新的整改期限 {due} 须晚于复查日期 {day}",
                                  f"the new deadline {due} must be after the re-check day {day}")
                        detail.update(result=NoticeStatus.RECHECKED_FAIL.value, old_deadline=n.deadline,
                                      new_deadline=due, old_rectified_on=n.rectified_on, round=n.round + 1)
                        row.update(deadline=due, round=n.round + 1, rectified_on=None)
            p.raise_if_any()
            self.q("plans.set_notice", notice_id=n.notice_id, **row, now=now, user=principal.name).run(cur)
            self._record(cur, principal, n.notice_id, act.value, n.status, m.to_status, why, detail, now,
                         "notice_move")
        return self.get_notice(notice_id, principal)

    # -- reads ---------------------------------------------------------------------------------
    def get_inspection(self, inspection_id: str, principal) -> Inspection | None:
        """The inspection when every inspected branch lies inside the scope (else None)."""
        row = self.q("plans.get_inspection", inspection_id=str(inspection_id)).first()
        if row is None:
            return None
        x = Inspection(**dict(zip(INSPECTION_FIELDS, row, strict=True)))
        b = principal.boundary(self.store)
        return x if b is None or set(x.scope_branches) <= b else None

    def list_inspections(self, principal, *, limit: int = 500, offset: int = 0) -> list[Inspection]:
        b = principal.boundary(self.store)
        rows = self.q("plans.list_inspections", boundary=None if b is None else sorted(b), limit=int(limit),
                      offset=int(offset)).rows()
        return [Inspection(**dict(zip(INSPECTION_FIELDS, r, strict=True))) for r in rows]

    def findings(self, inspection_id: str, principal) -> list[Finding]:
        """The findings of an inspection on branches inside the scope."""
        b = principal.boundary(self.store)
        rows = self.q("plans.findings_of", inspection_id=str(inspection_id),
                      boundary=None if b is None else sorted(b)).rows()
        return [Finding(**dict(zip(FINDING_FIELDS, r, strict=True))) for r in rows]

    def get_notice(self, notice_id: str, principal) -> Notice | None:
        try:
            return self._notice(None, notice_id, principal.boundary(self.store))
        except PlanError:
            return None

    def list_notices(self, principal, *, status=None, branch: str | None = None, inspection_id: str | None = None,
                     overdue: bool = False, today: date | None = None, limit: int = 500,
                     offset: int = 0) -> list[Notice]:
        """Notices of branches inside the boundary (in SQL, before limit/offset), earliest deadline
        first. `overdue`: still issued after the deadline (逾期未整改) on `today` (default today)."""
        b = principal.boundary(self.store)
        rows = self.q("plans.list_notices", status=_value(status), branch=branch, inspection_id=inspection_id,
                      boundary=None if b is None else sorted(b), overdue=bool(overdue), today=today or date.today(),
                      limit=int(limit), offset=int(offset)).rows()
        return [Notice(**dict(zip(NOTICE_FIELDS, r, strict=True))) for r in rows]

    def notice_history(self, notice_id: str, principal) -> list[dict]:
        if self.get_notice(notice_id, principal) is None:
            return []
        cols = ("notice_id", "happened_at", "user_name", "action", "from_status", "to_status", "reason", "detail")
        out = []
        for r in self.q("plans.notice_history", notice_id=notice_id).rows():
            d = dict(zip(cols, r, strict=True))
            d["detail"] = json.loads(d["detail"]) if d["detail"] else None
            out.append(d)
        return out

    # -- helpers -------------------------------------------------------------------------------
    def _finding(self, cur, finding_id, boundary) -> Finding:
        row = self.q("plans.get_finding", finding_id=str(finding_id)).first(cur)
        if row is None or (boundary is not None and row[2] not in boundary):
            raise PlanError([not_found_problem("finding_id", "检查发现", "finding", str(finding_id))])
        return Finding(**dict(zip(FINDING_FIELDS, row, strict=True)))

    def _notice(self, cur, notice_id, boundary) -> Notice:
        row = self.q("plans.get_notice", notice_id=str(notice_id)).first(cur)
        if row is None or (boundary is not None and row[2] not in boundary):
            raise PlanError([not_found_problem("notice_id", "整改通知书", "notice", str(notice_id))])
        return Notice(**dict(zip(NOTICE_FIELDS, row, strict=True)))

    def _check_finding(self, p: Problems, field: str, f, branches: list[str]) -> dict:
        d = _fields(f)
        branch = p.text(f"{field}.branch_id", d.get("branch_id"), "问题所在机构", limit=MAX_TITLE)
        if branch is not None and branch not in branches:
            p.add(f"{field}.branch_id", ProblemCode.UNKNOWN_BRANCH, f"机构 {branch} 不在本次检查范围内",
                  f"branch {branch} is not among the inspected branches")
        sev = p.choice(f"{field}.severity", d.get("severity", "medium"), Severity, "严重程度")
        return {"branch_id": branch, "text": p.text(f"{field}.text", d.get("text"), "问题描述"),
                "severity": sev.value if sev else None}

    def _record(self, cur, principal, notice_id, action, from_status, to_status, reason, detail, now, audit_action):
        self.q("plans.add_notice_history", notice_id=notice_id, now=now, user=principal.name, action=action,
               from_status=_value(from_status), to_status=_value(to_status), reason=reason,
               detail=json.dumps(detail, ensure_ascii=False, default=str, sort_keys=True)).run(cur)
        audit(self.store, principal, audit_action, target=notice_id, channel=self.channel, cur=cur,
              detail={"action": action, "from": _value(from_status), "to": _value(to_status), "reason": reason,
                      **{k: v for k, v in detail.items() if k in ("new_deadline", "round", "branch_id")}})
