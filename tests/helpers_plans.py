"""Shared plumbing of the plan and supervision tests: a real store with people, records brought
to a status through the real API, and a snapshot of everything a refused write must not change.

The store is a copy of the session's demo template (6 outlets in 3 regions; tests/conftest.py
`demo_db_template`). People on outlet 0101001 (华东区) in every role, plus a supervision-group
viewer; `far` is an analyst of 华南区 (0201001): the other region. No mocks.
"""

from __future__ import annotations

import shutil
from datetime import date, timedelta
from pathlib import Path

from data.plans import NewFinding, NewStep, PlanStore, SupervisionStore
from data.store import Store
from data.users import UserStore

PASSWORD = "correct-horse-battery"
HOME, FOREIGN = "0101001", "0201001"
# name: (role, region, branches, groups)
PEOPLE = {
    "adm": ("admin", None, "", None),
    "mgr": ("manager", None, HOME, None),
    "ana": ("analyst", None, HOME, None),
    "vw": ("viewer", None, HOME, None),
    "sup": ("viewer", None, HOME, ["supervision"]),
    "far": ("analyst", None, FOREIGN, None),
    "farmgr": ("manager", None, FOREIGN, None),
}
ROLES_WALKED = ("vw", "sup", "ana", "mgr", "adm")  # every role, and a group that grants beyond the role
TABLES = ("ops.plans", "ops.plan_origins", "ops.plan_steps", "ops.plan_history", "ops.inspections", "ops.findings",
          "ops.notices", "ops.notice_history", "ops.audit_log", "ops.users")
TODAY = date.today()


def plan_store(template: Path, tmp: Path) -> tuple[Store, dict]:
    path = tmp / "plans.duckdb"
    shutil.copy(template, path)
    store = Store(path)
    users = UserStore(store)
    for name, (role, region, branches, groups) in PEOPLE.items():
        users.add("test-setup", name, role, password=PASSWORD, region=region, branches=branches, groups=groups)
    return store, {n: users.get(n).principal() for n in PEOPLE}


def state(store: Store) -> dict:
    """(row count, order-free checksum) of every table a plan or notice write may touch, the audit log included."""
    cur = store.cursor()
    try:
        return {t: cur.execute(f"SELECT count(*), sum(hash(t)) FROM {t} t").fetchone() for t in TABLES}
    finally:
        cur.close()


def new_plan(store, who, branch: str = HOME, **over):
    kw = dict(kind="process", title="缩短柜面等候时间", change_text="高峰时段增开两个窗口",
              target_kpis=["counter.wait_avg_min"], scope_kind="branches", scope_branches=[branch],
              owner_dept="运营管理部", owner_person="张三", necessity="等候时间连续三月超标", feasibility="人员可调配",
              expected_impact="平均等候时间下降 20%", effect_start=TODAY,
              steps=[NewStep("调整排班", "运营管理部", TODAY + timedelta(days=30))])
    kw.update(over)
    return PlanStore(store).create_plan(who, **kw)


PLAN_PATH = {  # the moves that bring a new plan to each status (made by an admin)
    "proposed": [], "evaluated": ["evaluate"], "approved": ["evaluate", "approve"],
    "in_progress": ["evaluate", "approve", "start"], "done": ["evaluate", "approve", "start", "complete"],
    "reviewed": ["evaluate", "approve", "start", "complete", "review"],
    "rejected": ["reject"], "withdrawn": ["withdraw"],
}


def plan_in(store, adm, status: str, branch: str = HOME) -> str:
    ps = PlanStore(store)
    p = new_plan(store, adm, branch)
    for action in PLAN_PATH[status]:
        if action == "complete":
            ps.complete_step(p.plan_id, 1, adm)
        ps.move(p.plan_id, action, adm, "测试")
    return p.plan_id


def notice_in(store, adm, status: str, branch: str = HOME) -> str:
    sv = SupervisionStore(store)
    i = sv.create_inspection(adm, title="柜面业务检查", inspecting_dept="内控合规部", inspected_on=TODAY,
                             scope_branches=[branch], findings=[NewFinding(branch, "凭证未双人复核", "high")])
    f = sv.findings(i.inspection_id, adm)[0]
    n = sv.issue_notice(f.finding_id, adm, deadline=TODAY + timedelta(days=30), responsible_dept="运营管理部")
    if status in ("rectified", "rechecked_pass"):
        sv.move_notice(n.notice_id, "rectify", adm, measures="已落实双人复核")
    if status == "rechecked_pass":
        sv.move_notice(n.notice_id, "recheck_pass", adm, "抽查合格")
    return n.notice_id
