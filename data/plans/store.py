"""Adjustment plans (业务调整方案): create, edit, steps, status moves, reads — scoped and audited.

`PlanStore(store)` is the one writer of ops.plans, ops.plan_origins, ops.plan_steps and
ops.plan_history (migration 0006). Every write:

1. runs inside one `store.transaction()` (under the write lock, so the checks read the row
   as it is when it is written),
2. validates everything and collects ALL problems (`data.plans.checks`): permission, scope,
   fields, the transition table (`data.plans.transitions`), a stale `expected_version`,
3. refuses with `PlanError(problems)` — the transaction rolls back, nothing is written, nothing
   audited — or writes the change, one history row and one audit row (`data.audit.audit(cur=…)`)
   in the same transaction.

Argument order: what, then who — `move(plan_id, action, principal, reason)`. Reads take the
principal too and return only plans whose branches all lie inside their boundary (a plan outside
reads as absent: `get_plan` → None). Dates are `datetime.date`; a move's `on` (default today) is
the business day it happened, stored in the plan's milestone column (approved_on, done_on …).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, is_dataclass
from datetime import date, datetime

from data.audit import audit
from data.plans.checks import MAX_TITLE, PlanError, ProblemCode, Problems, not_found_problem
from data.plans.model import (
    EDITABLE_PLAN_STATUSES,
    PLAN_FIELDS,
    STEP_ADD_STATUSES,
    STEP_DONE_STATUSES,
    STEP_FIELDS,
    Origin,
    OriginKind,
    Plan,
    PlanKind,
    PlanStatus,
    Step,
)
from data.plans.scope import Master, id_list, inside, need, resolve
from data.plans.transitions import ACTION_LABELS, NEEDS_REASON, Entity, PlanAction, move_for

# Fields `update_plan` may change; the last two also after approval (the real start may slip).
EDITABLE = ("kind", "title", "change_text", "target_kpis", "scope_kind", "scope_region", "scope_branches",
            "effect_start", "owner_dept", "owner_person", "necessity", "feasibility", "expected_impact")
# a staffing suggestion of the counter page (metrics.staffing.suggestion_ref): branch:weekday:from-to
STAFFING_REF = re.compile(r"([^:]{1,40}):(\d):(\d{1,2})-(\d{1,2})")
LATE_EDITABLE = frozenset({"owner_person", "effect_start"})
MILESTONE = {PlanAction.EVALUATE: "evaluated_on", PlanAction.APPROVE: "approved_on", PlanAction.START: "started_on",
             PlanAction.COMPLETE: "done_on", PlanAction.REVIEW: "reviewed_on", PlanAction.REJECT: "closed_on",
             PlanAction.WITHDRAW: "closed_on"}


@dataclass(frozen=True)
class NewStep:
    """A step to add: what, the department in charge (责任部门), the deadline (时间节点)."""

    what: str
    dept: str
    deadline: date | str
    note: str | None = None


def _fields(x) -> dict:
    if isinstance(x, Mapping):
        return dict(x)
    if is_dataclass(x):
        return asdict(x)
    if hasattr(x, "model_dump"):
        return x.model_dump()
    return {}


def _label(status: str) -> str:
    return PlanStatus(status).zh


class PlanStore:
    """Plans on the embedded store. `channel` (web | cli) is recorded on the audit rows."""

    def __init__(self, store, channel: str = "web"):
        self.store = store
        self.q = store.query  # every statement is a named block of data/sql/plans.sql
        self.channel = channel

    # -- writes --------------------------------------------------------------------------------
    def create_plan(self, principal, *, kind, title, change_text, target_kpis, scope_kind, owner_dept,
                    scope_region=None, scope_branches=None, effect_start=None, owner_person=None, necessity=None,
                    feasibility=None, expected_impact=None, origins: Iterable = (), steps: Iterable = (),
                    proposed_on=None) -> Plan:
        """A new plan, status `proposed`, id FA-<year>-<nnnn>; origins and steps optional (Origin /
        NewStep or mappings with the same keys). Needs `plan`; every branch inside the boundary."""
        boundary = principal.boundary(self.store)
        now = datetime.now()
        with self.store.transaction() as cur:
            p = Problems()
            need(p, principal, "plan", "提出调整方案", "propose a plan")
            values = self._check(p, cur, boundary, dict(
                kind=kind, title=title, change_text=change_text, target_kpis=target_kpis, scope_kind=scope_kind,
                scope_region=scope_region, scope_branches=scope_branches, effect_start=effect_start,
                owner_dept=owner_dept, owner_person=owner_person, necessity=necessity, feasibility=feasibility,
                expected_impact=expected_impact))
            proposed = _business_day(p, "proposed_on", proposed_on)
            found = self._check_origins(p, cur, origins, set())
            new_steps = [self._check_step(p, f"steps[{i}]", s) for i, s in enumerate(steps, 1)]
            p.raise_if_any()
            prefix = f"FA-{now.year}-"
            plan_id = f"{prefix}{self.q('plans.next_plan_no', prefix=prefix).value(cur):04d}"
            self.q("plans.insert_plan", plan_id=plan_id, **values, proposed_on=proposed, now=now,
                   user=principal.name).run(cur)
            for o in found:
                self.q("plans.insert_origin", plan_id=plan_id, **o).run(cur)
            for n, s in enumerate(new_steps, 1):
                self.q("plans.insert_step", plan_id=plan_id, step_no=n, **s).run(cur)
            detail = {**values, "origins": found, "steps": new_steps}
            self._record(cur, principal, plan_id, "create", None, PlanStatus.PROPOSED, None, detail, now,
                         "plan_create")
        return self.get_plan(plan_id, principal)

    def update_plan(self, plan_id: str, principal, *, expected_version: int | None = None, **changes) -> Plan:
        """Change fields of `EDITABLE` (while proposed / evaluated; owner_person and effect_start
        until done). The scope is re-resolved only when a scope field is among the changes."""
        boundary = principal.boundary(self.store)
        now = datetime.now()
        with self.store.transaction() as cur:
            plan, p = self._open(cur, plan_id, principal, boundary, expected_version)
            need(p, principal, "plan", "修改调整方案", "edit a plan")
            for f in sorted(set(changes) - set(EDITABLE)):
                p.add(f, ProblemCode.UNKNOWN_VALUE, f"不能修改字段 {f}", f"{f} is not an editable field")
            frozen = [f for f in changes if f in EDITABLE and plan.status not in EDITABLE_PLAN_STATUSES
                      and not (f in LATE_EDITABLE and plan.status in STEP_DONE_STATUSES)]
            for f in frozen:
                p.add(f, ProblemCode.NOT_ALLOWED, f"方案“{_label(plan.status)}”后不能修改 {f}",
                      f"{f} cannot change once the plan is {plan.status}")
            current = {f: getattr(plan, f) for f in EDITABLE}
            merged = {**current, **{k: v for k, v in changes.items() if k in EDITABLE}}
            rescope = bool({"scope_kind", "scope_region", "scope_branches"} & set(changes))
            values = self._check(p, cur, boundary, merged, rescope=rescope)
            p.raise_if_any()
            before = {k: _plain(current[k]) for k in changes if k in EDITABLE}
            after = {k: _plain(values[k]) for k in changes if k in EDITABLE}
            self.q("plans.update_plan", plan_id=plan_id, **values, now=now, user=principal.name).run(cur)
            self._record(cur, principal, plan_id, "update", plan.status, plan.status, None,
                         {"from": before, "to": after}, now, "plan_update")
        return self.get_plan(plan_id, principal)

    def add_step(self, plan_id: str, principal, *, what, dept, deadline, note=None,
                 expected_version: int | None = None) -> Plan:
        """Append a step (until the plan is done). Needs `plan`."""
        boundary = principal.boundary(self.store)
        now = datetime.now()
        with self.store.transaction() as cur:
            plan, p = self._open(cur, plan_id, principal, boundary, expected_version)
            need(p, principal, "plan", "添加实施步骤", "add a step")
            if plan.status not in STEP_ADD_STATUSES:
                p.add("status", ProblemCode.NOT_ALLOWED, f"方案“{_label(plan.status)}”，不能再添加步骤",
                      f"no steps can be added to a plan that is {plan.status}")
            s = self._check_step(p, "step", NewStep(what, dept, deadline, note))
            p.raise_if_any()
            n = self.q("plans.next_step_no", plan_id=plan_id).value(cur)
            self.q("plans.insert_step", plan_id=plan_id, step_no=n, **s).run(cur)
            self.q("plans.touch_plan", plan_id=plan_id, now=now, user=principal.name).run(cur)
            self._record(cur, principal, plan_id, "add_step", plan.status, plan.status, None,
                         {"step_no": n, **s}, now, "plan_step")
        return self.get_plan(plan_id, principal)

    def complete_step(self, plan_id: str, step_no: int, principal, *, done_on=None, note=None,
                      expected_version: int | None = None) -> Plan:
        """Mark an open step done on `done_on` (default today; not in the future), while the plan is
        approved or in progress. Needs `plan`."""
        boundary = principal.boundary(self.store)
        now = datetime.now()
        with self.store.transaction() as cur:
            plan, p = self._open(cur, plan_id, principal, boundary, expected_version)
            need(p, principal, "plan", "完成实施步骤", "complete a step")
            if plan.status not in STEP_DONE_STATUSES:
                p.add("status", ProblemCode.NOT_ALLOWED, f"方案“{_label(plan.status)}”，不能完成步骤（须已批准或实施中）",
                      f"steps are completed while a plan is approved or in progress, not {plan.status}")
            step = next((s for s in plan.steps if s.step_no == step_no), None)
            if step is None:
                p.add("step_no", ProblemCode.NOT_FOUND, f"方案没有第 {step_no} 步", f"the plan has no step {step_no}")
            elif step.done_on is not None:
                p.add("step_no", ProblemCode.NOT_ALLOWED, f"第 {step_no} 步已于 {step.done_on} 完成",
                      f"step {step_no} was done on {step.done_on}")
            day = _business_day(p, "done_on", done_on)
            p.raise_if_any()
            self.q("plans.complete_step", plan_id=plan_id, step_no=step_no, done_on=day,
                   note=(str(note).strip() or None) if note else None).run(cur)
            self.q("plans.touch_plan", plan_id=plan_id, now=now, user=principal.name).run(cur)
            self._record(cur, principal, plan_id, "complete_step", plan.status, plan.status, None,
                         {"step_no": step_no, "done_on": day, "deadline": step.deadline}, now, "plan_step")
        return self.get_plan(plan_id, principal)

    def add_origin(self, plan_id: str, principal, origin, *, expected_version: int | None = None) -> Plan:
        """Link one more origin (an anomaly, topic, market event or finding) to a plan. Needs `plan`."""
        boundary = principal.boundary(self.store)
        now = datetime.now()
        with self.store.transaction() as cur:
            plan, p = self._open(cur, plan_id, principal, boundary, expected_version)
            need(p, principal, "plan", "关联方案来源", "link an origin")
            have = {(o.origin_kind.value, o.origin_ref) for o in plan.origins}
            found = self._check_origins(p, cur, [origin], have)
            p.raise_if_any()
            for o in found:
                self.q("plans.insert_origin", plan_id=plan_id, **o).run(cur)
            self.q("plans.touch_plan", plan_id=plan_id, now=now, user=principal.name).run(cur)
            self._record(cur, principal, plan_id, "add_origin", plan.status, plan.status, None,
                         {"origins": found}, now, "plan_update")
        return self.get_plan(plan_id, principal)

    def move(self, plan_id: str, action: str, principal, reason: str | None = None, *, on=None,
             expected_version: int | None = None) -> Plan:
        """Move a plan by `action` (data.plans.transitions.TRANSITIONS): refused when the table does
        not list (status, action), when the principal lacks the move's permission, or when the move's
        preconditions are missing — evaluate: the three evaluation texts; approve: at least one step
        and effect_start; complete: every step done; reject / withdraw: a reason. `on` (default
        today, never in the future, not before the plan's previous milestone) is stored in the
        milestone column (approved_on …)."""
        boundary = principal.boundary(self.store)
        now = datetime.now()
        with self.store.transaction() as cur:
            plan, p = self._open(cur, plan_id, principal, boundary, expected_version)
            act = p.choice("action", action, PlanAction, "操作")
            day = _business_day(p, "on", on)
            why = (str(reason).strip() or None) if reason is not None else None
            m = move_for(Entity.PLAN, plan.status, act) if act else None
            if act and m is None:
                p.add("action", ProblemCode.NOT_ALLOWED,
                      f"方案“{_label(plan.status)}”，不能执行“{ACTION_LABELS[act][0]}”",
                      f"cannot {act} a plan that is {plan.status}")
            elif m is not None and need(p, principal, m.permission, f"对方案执行“{ACTION_LABELS[act][0]}”",
                                        f"{act} a plan"):
                self._preconditions(p, plan, act, why, day)
            p.raise_if_any()
            self.q("plans.set_plan_status", plan_id=plan_id, status=str(m.to_status), milestone=MILESTONE[act], on=day,
                   now=now, user=principal.name).run(cur)
            feed_item = None
            if act == PlanAction.APPROVE:  # the feed's 方案批准 item, in this transaction (idempotent)
                from data.feed import plan_approved

                feed_item = plan_approved(self.store, cur, plan, principal, now)
            self._record(cur, principal, plan_id, act.value, plan.status, m.to_status, why, {"on": day}, now,
                         "plan_move", feed_item=feed_item)
        return self.get_plan(plan_id, principal)

    # -- reads ---------------------------------------------------------------------------------
    def get_plan(self, plan_id: str, principal, cur=None) -> Plan | None:
        """The plan with its origins and steps; None when it does not exist or lies outside the scope."""
        return self._get(cur, plan_id, principal.boundary(self.store))

    def list_plans(self, principal, *, status=None, kind=None, owner_dept=None, overdue: bool = False,
                   branch: str | None = None, origin: tuple[str, str] | None = None, today: date | None = None,
                   limit: int = 500, offset: int = 0, with_steps: bool = False) -> list[Plan]:
        """Plans inside the principal's boundary (filtered in SQL, before limit/offset), newest first.
        `overdue`: approved / in progress with an open step past its deadline (`today`, default
        today). `branch`: plans covering that branch (bank-wide ones too). `origin`: (kind, ref)."""
        boundary = principal.boundary(self.store)
        rows = self.q("plans.list_plans", status=_value(status), kind=_value(kind), owner_dept=owner_dept,
                      boundary=None if boundary is None else sorted(boundary), branch=branch,
                      overdue=bool(overdue), today=today or date.today(),
                      origin_kind=_value(origin[0]) if origin else None, origin_ref=origin[1] if origin else None,
                      limit=int(limit), offset=int(offset)).rows()
        plans = [Plan(**dict(zip(PLAN_FIELDS, r, strict=True))) for r in rows]
        return [self._complete(None, x) for x in plans] if with_steps else plans

    def plans_for_origin(self, origin_kind: str, origin_ref: str, principal) -> list[Plan]:
        """The plans an anomaly (a topic, a market event, a finding) led to, within the scope."""
        return self.list_plans(principal, origin=(origin_kind, origin_ref), limit=10_000)

    def plan_history(self, plan_id: str, principal) -> list[dict]:
        """The plan's history, oldest first (empty when the plan is outside the scope)."""
        if self.get_plan(plan_id, principal) is None:
            return []
        cols = ("plan_id", "happened_at", "user_name", "action", "from_status", "to_status", "reason", "detail")
        out = []
        for r in self.q("plans.plan_history", plan_id=plan_id).rows():
            d = dict(zip(cols, r, strict=True))
            d["detail"] = json.loads(d["detail"]) if d["detail"] else None
            out.append(d)
        return out

    # -- helpers -------------------------------------------------------------------------------
    def _get(self, cur, plan_id, boundary) -> Plan | None:
        row = self.q("plans.get_plan", plan_id=str(plan_id)).first(cur)
        if row is None:
            return None
        plan = Plan(**dict(zip(PLAN_FIELDS, row, strict=True)))
        return self._complete(cur, plan) if inside(plan.scope_branches, boundary) else None

    def _complete(self, cur, plan: Plan) -> Plan:
        origins = tuple(Origin(origin_kind=k, origin_ref=r, label=lab)
                        for k, r, lab in self.q("plans.plan_origins", plan_id=plan.plan_id).rows(cur))
        steps = tuple(Step(**dict(zip(STEP_FIELDS, r, strict=True)))
                      for r in self.q("plans.plan_steps", plan_id=plan.plan_id).rows(cur))
        return plan.model_copy(update={"origins": origins, "steps": steps})

    def _open(self, cur, plan_id, principal, boundary, expected_version) -> tuple[Plan, Problems]:
        """The plan to change (inside the scope) and a fresh problem list; refuses at once when absent."""
        plan = self._get(cur, plan_id, boundary)
        if plan is None:
            raise PlanError([not_found_problem("plan_id", "方案", "plan", str(plan_id))])
        p = Problems()
        if expected_version is not None and int(expected_version) != plan.version:
            p.add("version", ProblemCode.STALE, f"方案已被他人修改（版本 {plan.version}），请刷新后重试",
                  f"the plan was changed meanwhile (version {plan.version}, you had {expected_version}): reload it")
        return plan, p

    def _check(self, p: Problems, cur, boundary, f: dict, rescope: bool = True) -> dict:
        """Every field of a plan checked; returns the values as stored."""
        kind = p.choice("kind", _value(f["kind"]), PlanKind, "方案类型")
        kpis = id_list(f["target_kpis"])
        if not kpis:
            p.add("target_kpis", ProblemCode.REQUIRED, "至少选择一个目标指标", "at least one target KPI is needed")
        else:
            from metrics.catalogue import CATALOGUE

            unknown = [k for k in kpis if k not in CATALOGUE]
            if unknown:
                p.add("target_kpis", ProblemCode.UNKNOWN_KPI, f"指标目录中没有：{', '.join(unknown)}",
                      f"unknown KPI id: {', '.join(unknown)} (see bankpulse metric --list)")
        if rescope:
            sk, region, branches = resolve(p, Master(self.store, cur), boundary, _value(f["scope_kind"]),
                                           f["scope_region"], f["scope_branches"])
        else:
            sk, region, branches = f["scope_kind"], f["scope_region"], f["scope_branches"]
        return {"kind": kind.value if kind else None,
                "title": p.text("title", f["title"], "标题", limit=MAX_TITLE),
                "change_text": p.text("change_text", f["change_text"], "调整内容"),
                "target_kpis": kpis, "scope_kind": _value(sk), "scope_region": region,
                "scope_branches": None if branches is None else list(branches),
                "effect_start": p.day("effect_start", f["effect_start"], "生效日期", required=False),
                "owner_dept": p.text("owner_dept", f["owner_dept"], "牵头部门", limit=MAX_TITLE),
                "owner_person": p.text("owner_person", f["owner_person"], "负责人", required=False, limit=MAX_TITLE),
                "necessity": p.text("necessity", f["necessity"], "必要性", required=False),
                "feasibility": p.text("feasibility", f["feasibility"], "可行性", required=False),
                "expected_impact": p.text("expected_impact", f["expected_impact"], "预期影响", required=False)}

    def _check_step(self, p: Problems, field: str, step) -> dict:
        d = _fields(step)
        unknown = set(d) - {"what", "dept", "deadline", "note"}
        if unknown:
            p.add(field, ProblemCode.UNKNOWN_VALUE, f"步骤含未知字段：{', '.join(sorted(unknown))}",
                  f"unknown step fields: {', '.join(sorted(unknown))}")
        return {"what": p.text(f"{field}.what", d.get("what"), "步骤内容", limit=MAX_TITLE * 5),
                "dept": p.text(f"{field}.dept", d.get("dept"), "步骤的责任部门", limit=MAX_TITLE),
                "deadline": p.day(f"{field}.deadline", d.get("deadline"), "步骤的时间节点"),
                "note": p.text(f"{field}.note", d.get("note"), "备注", required=False)}

    def _check_origins(self, p: Problems, cur, origins, have: set) -> list[dict]:
        out = []
        for i, o in enumerate(origins, 1):
            d, field = _fields(o), f"origins[{i}]"
            kind = p.choice(f"{field}.origin_kind", _value(d.get("origin_kind")), OriginKind, "来源类型")
            ref = p.text(f"{field}.origin_ref", d.get("origin_ref"), "来源编号", limit=MAX_TITLE)
            if kind is None or ref is None:
                continue
            block = {OriginKind.ANOMALY: "plans.anomaly_exists", OriginKind.FINDING: "plans.finding_exists",
                     OriginKind.MARKET_EVENT: "plans.market_event_exists"}.get(kind)
            if kind == OriginKind.STAFFING_ADVICE and not self._staffing_ref_ok(cur, ref):
                p.add(f"{field}.origin_ref", ProblemCode.UNKNOWN_REF,
                      f"窗口配置建议的编号应为 网点:星期(1–7):起–止时(0–24)，且网点存在：{ref}",
                      f"a staffing suggestion is branch:weekday(1–7):from-to (hours 0–24) of a known branch: {ref}")
            elif block and not self.q(block, ref=ref).value(cur):
                p.add(f"{field}.origin_ref", ProblemCode.UNKNOWN_REF, f"没有{kind.zh} {ref}", f"no {kind.value} {ref}")
            elif (kind.value, ref) in have:
                p.add(field, ProblemCode.DUPLICATE, f"来源重复：{kind.zh} {ref}", f"origin given twice: {kind.value} {ref}")
            else:
                have.add((kind.value, ref))
                out.append({"origin_kind": kind.value, "origin_ref": ref,
                            "label": p.text(f"{field}.label", d.get("label"), "说明", required=False, limit=MAX_TITLE)})
        return out

    def _staffing_ref_ok(self, cur, ref: str) -> bool:
        """A staffing suggestion's reference (metrics.staffing.suggestion_ref): branch:weekday:from-to."""
        m = STAFFING_REF.fullmatch(ref)
        return bool(m and 1 <= int(m[2]) <= 7 and 0 <= int(m[3]) < int(m[4]) <= 24
                    and self.q("plans.branch_exists", ref=m[1]).value(cur))

    def _preconditions(self, p: Problems, plan: Plan, act: PlanAction, why, day) -> None:
        if act in NEEDS_REASON and not why:
            p.add("reason", ProblemCode.REQUIRED, f"“{ACTION_LABELS[act][0]}”须说明原因", f"{act} needs a reason")
        if act == PlanAction.EVALUATE:
            for f, zh in (("necessity", "必要性"), ("feasibility", "可行性"), ("expected_impact", "预期影响")):
                if not getattr(plan, f):
                    p.add(f, ProblemCode.INCOMPLETE, f"评估前须填写{zh}", f"{f} must be written before evaluating")
        if act == PlanAction.APPROVE:
            if not plan.steps:
                p.add("steps", ProblemCode.INCOMPLETE, "批准前须至少有一个实施步骤", "a plan needs a step to be approved")
            if plan.effect_start is None:
                p.add("effect_start", ProblemCode.INCOMPLETE, "批准前须填写生效日期",
                      "effect_start must be set before approval")
        if act == PlanAction.COMPLETE:
            still = [str(s.step_no) for s in plan.steps if s.done_on is None]
            if still:
                p.add("steps", ProblemCode.INCOMPLETE, f"尚有未完成的步骤：{', '.join(still)}",
                      f"open steps: {', '.join(still)}")
        last = max((d for d in (plan.proposed_on, plan.evaluated_on, plan.approved_on, plan.started_on, plan.done_on)
                    if d), default=None)
        p.not_before("on", day, last, f"日期 {day} 早于方案上一节点 {last}", f"{day} is before the plan's last milestone {last}")

    def _record(self, cur, principal, plan_id, action, from_status, to_status, reason, detail, now, audit_action,
                feed_item: int | None = None):
        self.q("plans.add_plan_history", plan_id=plan_id, now=now, user=principal.name, action=action,
               from_status=_value(from_status), to_status=_value(to_status), reason=reason,
               detail=json.dumps(detail, ensure_ascii=False, default=str, sort_keys=True)).run(cur)
        audit(self.store, principal, audit_action, target=plan_id, channel=self.channel, cur=cur,
              detail={"action": action, "from": _value(from_status), "to": _value(to_status), "reason": reason,
                      **({"feed_item": feed_item} if feed_item is not None else {})})


def _value(x):
    return getattr(x, "value", x)


def _plain(x):
    if isinstance(x, tuple):
        return list(x)
    return _value(x)


def _business_day(p: Problems, field: str, value) -> date | None:
    """The day a thing happened (default today): a date, not in the future."""
    day = p.day(field, date.today() if value is None else value, "日期")
    if day is not None and day > date.today():
        p.add(field, ProblemCode.BAD_DATE, f"日期 {day} 在今天之后", f"{day} is in the future")
    return day
