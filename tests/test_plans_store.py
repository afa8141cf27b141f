"""Plan and supervision writes: validation refusals (each with its field, code and message, and
nothing written), every problem at once, the failed re-check's new round, scope escapes through
the Python API, origins both ways, groups granting `supervise`, and the audit chain."""

from __future__ import annotations

from datetime import timedelta

import pytest
from helpers_plans import FOREIGN, HOME, TODAY, new_plan, notice_in, plan_in, plan_store, state

from data import audit
from data.plans import NewFinding, NewStep, PlanError, PlanStore, SupervisionStore
from data.plans.model import NoticeStatus, PlanStatus
from data.users import UserStore


@pytest.fixture(scope="module")
def world(demo_db_template, tmp_path_factory):
    store, people = plan_store(demo_db_template, tmp_path_factory.mktemp("plans_store"))
    yield store, people
    store.close()


def _refused(store, fn, field, code, text=None):
    before = state(store)
    with pytest.raises(PlanError) as exc:
        fn()
    hits = [p for p in exc.value.problems if p.field == field and p.code.value == code]
    assert hits, exc.value
    if text:
        assert text in hits[0].message, hits[0].message
    assert state(store) == before, "a refused write changed something"
    return exc.value


CREATE_CASES = {
    "empty title": (dict(title="  "), "title", "required", "标题不能为空"),
    "unknown kpi": (dict(target_kpis=["counter.no_such"]), "target_kpis", "unknown_kpi", "counter.no_such"),
    "no kpi": (dict(target_kpis=[]), "target_kpis", "required", "at least one target KPI"),
    "unknown branch": (dict(scope_branches=["9999999"]), "scope_branches", "unknown_branch", "9999999"),
    "no branches": (dict(scope_branches=[]), "scope_branches", "required", None),
    "unknown region": (dict(scope_kind="region", scope_region="火星区"), "scope_region", "unknown_region", "火星区"),
    "unknown kind": (dict(kind="merger"), "kind", "unknown_value", "process, product_service, staffing"),
    "step without dept": (dict(steps=[NewStep("排班", "", TODAY)]), "steps[1].dept", "required", "责任部门"),
    "step bad deadline": (dict(steps=[NewStep("排班", "运营部", "2025-02-30")]), "steps[1].deadline", "bad_date",
                          "YYYY-MM-DD"),
    "empty owner": (dict(owner_dept=""), "owner_dept", "required", None),
    "unknown anomaly": (dict(origins=[{"origin_kind": "anomaly", "origin_ref": "nope"}]), "origins[1].origin_ref",
                        "unknown_ref", "nope"),
    "unknown origin kind": (dict(origins=[{"origin_kind": "rumour", "origin_ref": "x"}]), "origins[1].origin_kind",
                            "unknown_value", None),
    # a staffing suggestion (metrics.staffing.suggestion_ref) names a known branch, a weekday and hours
    "staffing ref unknown branch": (dict(origins=[{"origin_kind": "staffing_advice", "origin_ref": "9999999:1:9-11"}]),
                                    "origins[1].origin_ref", "unknown_ref", "9999999:1:9-11"),
    "staffing ref weekday 8": (dict(origins=[{"origin_kind": "staffing_advice", "origin_ref": f"{HOME}:8:9-11"}]),
                               "origins[1].origin_ref", "unknown_ref", "星期(1–7)"),
    "staffing ref hours backwards": (dict(origins=[{"origin_kind": "staffing_advice", "origin_ref": f"{HOME}:1:11-9"}]),
                                     "origins[1].origin_ref", "unknown_ref", None),
    "staffing ref free text": (dict(origins=[{"origin_kind": "staffing_advice", "origin_ref": "周一上午"}]),
                               "origins[1].origin_ref", "unknown_ref", None),
}


@pytest.mark.parametrize("case", list(CREATE_CASES))
def test_create_refusals_name_the_field_and_write_nothing(world, case):
    store, people = world
    over, field, code, text = CREATE_CASES[case]
    _refused(store, lambda: new_plan(store, people["ana"], **over), field, code, text)


def test_every_problem_is_reported_at_once(world):
    store, people = world
    err = _refused(store, lambda: new_plan(store, people["vw"], title="", target_kpis=["x.y"], scope_branches=[FOREIGN],
                                           steps=[NewStep("", "", None)]), "title", "required")
    assert {"not_permitted", "required", "unknown_kpi", "outside_scope"} <= err.codes()
    assert len(err.frame()) == len(err.problems) >= 6


def test_move_preconditions(world):
    store, people = world
    ps, adm = PlanStore(store), people["adm"]
    p = new_plan(store, people["ana"], necessity=None, effect_start=None, steps=[])
    _refused(store, lambda: ps.move(p.plan_id, "evaluate", adm), "necessity", "incomplete", "必要性")
    ps.update_plan(p.plan_id, people["ana"], necessity="需要", expected_version=p.version)
    _refused(store, lambda: ps.update_plan(p.plan_id, people["ana"], title="旧版本", expected_version=p.version),
             "version", "stale")
    ps.move(p.plan_id, "evaluate", people["ana"])
    err = _refused(store, lambda: ps.move(p.plan_id, "approve", people["mgr"]), "steps", "incomplete")
    assert "effect_start" in {x.field for x in err.problems}
    _refused(store, lambda: ps.move(p.plan_id, "reject", people["mgr"]), "reason", "required")
    _refused(store, lambda: ps.move(p.plan_id, "withdraw", people["ana"], "x", on=TODAY + timedelta(days=1)),
             "on", "bad_date", "future")
    ps.add_step(p.plan_id, people["ana"], what="培训", dept="人力资源部", deadline=TODAY - timedelta(days=1))
    ps.update_plan(p.plan_id, people["ana"], effect_start=TODAY)
    ps.move(p.plan_id, "approve", people["mgr"])
    _refused(store, lambda: ps.update_plan(p.plan_id, people["ana"], title="改"), "title", "not_allowed")
    ps.move(p.plan_id, "start", people["ana"])
    assert [x.plan_id for x in ps.list_plans(people["ana"], overdue=True)].count(p.plan_id) == 1
    _refused(store, lambda: ps.move(p.plan_id, "complete", people["ana"]), "steps", "incomplete", "1")
    done = ps.complete_step(p.plan_id, 1, people["ana"], done_on=TODAY)
    assert done.steps[0].on_time() is False
    done = ps.move(p.plan_id, "complete", people["ana"])
    assert done.status == PlanStatus.DONE and done.approved_on == done.done_on == TODAY
    actions = [h["action"] for h in ps.plan_history(p.plan_id, people["ana"])]
    assert actions[0] == "create" and "approve" in actions and actions[-1] == "complete"


def test_notice_refusals(world):
    store, people = world
    sv, adm = SupervisionStore(store), people["adm"]
    i = sv.create_inspection(adm, title="检查", inspecting_dept="内控合规部", inspected_on=TODAY,
                             scope_branches=[HOME], findings=[NewFinding(HOME, "问题", "low")])
    f = sv.findings(i.inspection_id, adm)[0]
    _refused(store, lambda: sv.issue_notice(f.finding_id, adm, issued_on=TODAY, deadline=TODAY - timedelta(days=1),
                                            responsible_dept="运营部"), "deadline", "bad_date", "早于下发日期")
    _refused(store, lambda: sv.issue_notice(f.finding_id, people["mgr"], deadline=TODAY, responsible_dept="运营部"),
             "permission", "not_permitted", "supervise")
    _refused(store, lambda: sv.create_inspection(adm, title="检查", inspecting_dept="部", inspected_on=TODAY,
                                                 scope_branches=[HOME], findings=[NewFinding(FOREIGN, "x")]),
             "findings[1].branch_id", "unknown_branch")
    n = sv.issue_notice(f.finding_id, adm, deadline=TODAY + timedelta(days=10), responsible_dept="运营部")
    _refused(store, lambda: sv.issue_notice(f.finding_id, adm, deadline=TODAY, responsible_dept="运营部"),
             "finding_id", "duplicate")
    _refused(store, lambda: sv.move_notice(n.notice_id, "rectify", people["ana"]), "measures", "required")
    sv.move_notice(n.notice_id, "rectify", people["ana"], measures="已整改")
    _refused(store, lambda: sv.move_notice(n.notice_id, "recheck_fail", adm, "仍有问题"), "new_deadline", "required")
    _refused(store, lambda: sv.move_notice(n.notice_id, "recheck_fail", adm, "仍有问题", new_deadline=TODAY),
             "new_deadline", "bad_date", "须晚于复查日期")


def test_a_failed_recheck_reopens_with_a_new_deadline_and_round_two(world):
    store, people = world
    sv, sup = SupervisionStore(store), people["sup"]
    nid = notice_in(store, people["adm"], "rectified")
    first = sv.get_notice(nid, sup)
    n = sv.move_notice(nid, "recheck_fail", sup, "复核未达标", new_deadline=TODAY + timedelta(days=45))
    assert (n.status, n.round, n.deadline, n.first_deadline) == (NoticeStatus.ISSUED, 2, TODAY + timedelta(days=45),
                                                                  first.deadline)
    assert n.rectified_on is None and n.rechecked_on == TODAY and n.recheck_note == "复核未达标"
    last = sv.notice_history(nid, sup)[-1]
    assert last["action"] == "recheck_fail" and last["detail"]["result"] == "rechecked_fail"
    assert last["detail"]["old_deadline"] == first.deadline.isoformat() and last["detail"]["round"] == 2
    sv.move_notice(nid, "rectify", people["ana"])  # the measures of round 1 stand
    assert sv.move_notice(nid, "recheck_pass", sup, "合格").status == NoticeStatus.RECHECKED_PASS


def test_scope_escapes_through_the_api(world):
    store, people = world
    ps, sv, ana, far = PlanStore(store), SupervisionStore(store), people["ana"], people["far"]
    _refused(store, lambda: new_plan(store, ana, FOREIGN), "scope_branches", "outside_scope", "outside your access scope")
    _refused(store, lambda: new_plan(store, ana, scope_kind="region", scope_region="华南区"), "scope_region",
             "outside_scope")
    _refused(store, lambda: new_plan(store, ana, scope_kind="bank"), "scope_kind", "outside_scope")
    theirs = plan_in(store, people["adm"], "evaluated", FOREIGN)
    bank = new_plan(store, people["adm"], scope_kind="bank").plan_id
    for pid in (theirs, bank):
        assert ps.get_plan(pid, ana) is None and ps.plan_history(pid, ana) == []
        _refused(store, lambda pid=pid: ps.move(pid, "withdraw", ana, "x"), "plan_id", "not_found", "within your access")
        _refused(store, lambda pid=pid: ps.update_plan(pid, ana, title="x"), "plan_id", "not_found")
        _refused(store, lambda pid=pid: ps.add_step(pid, ana, what="x", dept="y", deadline=TODAY), "plan_id",
                 "not_found")
    for _ in range(3):
        plan_in(store, people["adm"], "proposed", FOREIGN)
    mine = new_plan(store, ana).plan_id
    plan_in(store, people["adm"], "proposed", FOREIGN)  # newer than mine: a limit before the scope would drop mine
    listed = ps.list_plans(ana, limit=1)
    assert [p.plan_id for p in listed] == [mine]
    assert all(set(p.scope_branches) <= ana.boundary(store) for p in ps.list_plans(ana))
    assert theirs in {p.plan_id for p in ps.list_plans(far)} and mine not in {p.plan_id for p in ps.list_plans(far)}
    assert bank in {p.plan_id for p in ps.list_plans(people["adm"])}
    assert bank not in {p.plan_id for p in ps.list_plans(people["farmgr"])}
    nid = notice_in(store, people["adm"], "issued", FOREIGN)
    assert sv.get_notice(nid, ana) is None and nid not in {n.notice_id for n in sv.list_notices(ana)}
    _refused(store, lambda: sv.move_notice(nid, "rectify", ana, measures="x"), "notice_id", "not_found")
    _refused(store, lambda: sv.create_inspection(people["sup"], title="t", inspecting_dept="d", inspected_on=TODAY,
                                                 scope_branches=[FOREIGN]), "scope_branches", "outside_scope")
    assert sv.move_notice(nid, "rectify", far, measures="已整改").status == NoticeStatus.RECTIFIED


def test_origins_are_queryable_both_ways(world):
    store, people = world
    ps, sv, adm = PlanStore(store), SupervisionStore(store), people["adm"]
    i = sv.create_inspection(adm, title="检查", inspecting_dept="内控合规部", inspected_on=TODAY, scope_branches=[HOME],
                             findings=[NewFinding(HOME, "排队过长", "medium")])
    fid = sv.findings(i.inspection_id, adm)[0].finding_id
    p = new_plan(store, people["ana"], origins=[{"origin_kind": "finding", "origin_ref": fid, "label": "检查发现"}])
    p = ps.add_origin(p.plan_id, people["ana"], {"origin_kind": "topic", "origin_ref": "wait-time"})
    assert {(o.origin_kind.value, o.origin_ref) for o in p.origins} == {("finding", fid), ("topic", "wait-time")}
    assert [x.plan_id for x in ps.plans_for_origin("finding", fid, people["ana"])] == [p.plan_id]
    assert ps.plans_for_origin("finding", fid, people["far"]) == []
    s = new_plan(store, people["ana"], kind="staffing",
                 origins=[{"origin_kind": "staffing_advice", "origin_ref": f"{HOME}:1:9-11", "label": "周一 9–11 点"}])
    assert [x.plan_id for x in ps.plans_for_origin("staffing_advice", f"{HOME}:1:9-11", people["ana"])] == [s.plan_id]
    assert ps.plans_for_origin("staffing_advice", f"{HOME}:1:9-11", people["far"]) == []
    _refused(store, lambda: ps.add_origin(p.plan_id, people["ana"], {"origin_kind": "topic", "origin_ref": "wait-time"}),
             "origins[1]", "duplicate")


def test_the_supervision_group_grants_supervise_and_bumps_the_version(world):
    store, people = world
    users = UserStore(store)
    assert people["sup"].can("supervise") and not people["vw"].can("supervise")
    v0 = users.get("vw").version
    u = users.update("adm", "vw", groups=["supervision"])
    assert u.version == v0 + 1 and u.principal().can("supervise")
    u = users.update("adm", "vw", groups="")
    assert not u.principal().can("supervise")
    from data.users import UserError

    with pytest.raises(UserError, match="unknown group"):
        users.update("adm", "vw", groups=["wizards"])


def test_every_accepted_change_is_audited_and_the_chain_verifies(world):
    store, people = world
    n = len(audit.search(store, limit=100_000))
    pid = plan_in(store, people["adm"], "done")  # create + 3 moves + a step + complete
    rows = audit.search(store, text=pid, limit=100)
    assert len(audit.search(store, limit=100_000)) == n + 6 == n + len(rows)
    assert set(rows["action"]) == {"plan_create", "plan_move", "plan_step"}
    assert audit.verify(store).ok
