"""The demo's adjustment plans, inspections and rectification notices (DOMAIN.md §1.5).

Written after the demo's files are loaded (and scanned), through the same API the page and the
CLI use (data/plans), so every record passed the declared transition table and its checks, is in
the history and in the audit trail (as user `demo`). The set is believable and covers every state:

- the **planted effects** of data/demo/effects.py (story.json `effects`) become the plans that
  caused them — a staffing plan at the two understaffed outlets, the approval-process fix after
  the overdue story — completed, with their origin (the flag the scan raised, when there is one)
  and the effective date the effect estimate compares around;
- plans in every other status (proposed, evaluated, approved, in progress with an overdue step,
  done and reviewed, rejected, withdrawn) at real outlets, with steps and deadlines; the approved
  ones name the market event they answer as their origin (the scorecard's market response speed);
- two inspections whose findings became notices in every state: issued (one past its deadline),
  rectified and awaiting the re-check, passed, and failed then reopened with a new deadline.

Days are placed relative to the demo's last day, so the records keep their shape for any range.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from data.plans import NewFinding, NewStep, PlanStore, SupervisionStore
from data.users import Principal

DEMO = Principal("demo", "admin", display="演示数据 / demo data")
EVAL = {
    "staffing": ("高峰时段等候时间持续超过服务标准，客户投诉集中在排队时间长。",
                 "可从相邻网点调配柜员并开放备用窗口，无需新增编制。",
                 "高峰期平均等候时间缩短约4分钟，排队类投诉下降。"),
    "process": ("个别审批人审批的贷款逾期率明显高于同批次，审批环节存在把关不严。",
                "对该审批人权限内的贷款增加二次审查，流程改造由授信审批部牵头即可完成。",
                "新发放贷款质量回到同业水平，短期内新发放笔数有所下降。"),
    "product_service": ("客户反映手机银行转账限额调整流程繁琐。", "限额调整可改为线上自助办理。",
                        "相关投诉减少，柜面非现金业务量下降。"),
}


@dataclass(frozen=True)
class Seeded:
    plans: int
    inspections: int
    notices: int


def _flag_for(store, metric_id: str, branch_ids) -> tuple[str, str] | None:
    """The most severe worsening flag of a KPI at one of the branches (the plan's origin), if any."""
    row = store.query("actions.worst_flag", metric_id=metric_id, branches=list(branch_ids)).first()
    return (row[0], row[1]) if row else None


def _outlets(store) -> list[tuple[str, str]]:
    """(branch_id, region) of every outlet, in id order."""
    b = store.query("reads.branch_master").df()
    b = b[b["level"] == "outlet"]
    return list(zip(b["branch_id"], b["region"], strict=True))


def _plan(plans: PlanStore, *, kind, title, change, kpi, branches, owner, start, steps, status, origin=None,
          approved=None, evaluated=None, reason=None) -> str:
    """One plan walked through the table to `status`; step done days as given (None = open)."""
    nec, fea, imp = EVAL[kind]
    first = evaluated or (approved - timedelta(days=5) if approved else None)
    p = plans.create_plan(DEMO, proposed_on=first - timedelta(days=10) if first else None, kind=kind, title=title, change_text=change, target_kpis=[kpi],
                          scope_kind="branches", scope_branches=list(branches), owner_dept=owner,
                          effect_start=start, necessity=nec, feasibility=fea, expected_impact=imp,
                          origins=[origin] if origin else [],
                          steps=[NewStep(w, d, dl) for w, d, dl, _ in steps])
    pid = p.plan_id
    evaluated = evaluated or (approved - timedelta(days=5) if approved else None)
    path = {"proposed": [], "evaluated": ["evaluate"], "approved": ["evaluate", "approve"],
            "in_progress": ["evaluate", "approve", "start"], "done": ["evaluate", "approve", "start", "complete"],
            "reviewed": ["evaluate", "approve", "start", "complete", "review"],
            "rejected": ["evaluate", "reject"], "withdrawn": ["withdraw"]}[status]
    day = {"evaluate": evaluated, "approve": approved, "reject": approved, "start": approved and approved + timedelta(days=1),
           "withdraw": evaluated}
    for action in path:
        if action == "complete":
            for n, (_, _, _, done) in enumerate(steps, 1):
                if done is not None:
                    plans.complete_step(pid, n, DEMO, done_on=done)
            on = max(d for *_, d in steps if d is not None) + timedelta(days=1)
        elif action == "review":
            on = max(d for *_, d in steps if d is not None) + timedelta(days=45)
        else:
            on = day[action]
        plans.move(pid, action, DEMO, reason if action in ("reject", "withdraw") else None, on=on)
    if status == "in_progress":
        for n, (_, _, _, done) in enumerate(steps, 1):
            if done is not None:
                plans.complete_step(pid, n, DEMO, done_on=done)
    return pid


def seed_plans(store, story: dict | None = None, *, end: date) -> Seeded:
    """Write the demo's plans, inspections and notices; `end` is the demo's last day."""
    plans, sup = PlanStore(store, channel="demo"), SupervisionStore(store, channel="demo")
    outlets = _outlets(store)
    if not outlets:
        return Seeded(0, 0, 0)
    ids = [b for b, _ in outlets]

    def at(i: int) -> str:
        return ids[i % len(ids)]

    def d(days_before_end: int) -> date:
        return end - timedelta(days=days_before_end)

    n = 0
    # -- the plans behind the planted effects -------------------------------------------------
    for e in (story or {}).get("effects", []):
        start = date.fromisoformat(e["start"])
        kind = "staffing" if e["kind"] == "staffing" else "process"
        flag = _flag_for(store, e["metric_id"], e["branch_ids"])
        origin = {"origin_kind": "anomaly", "origin_ref": flag[0], "label": flag[1]} if flag else None
        owner = "人力资源部" if kind == "staffing" else "授信审批部"
        steps = ([("从相邻网点调配柜员", "人力资源部", start - timedelta(days=10), start - timedelta(days=12)),
                  ("开放备用窗口并调整排班", "运营管理部", start - timedelta(days=1), start - timedelta(days=2)),
                  ("跟踪高峰时段等候时间", "运营管理部", start + timedelta(days=60), start + timedelta(days=58))]
                 if kind == "staffing" else
                 [("梳理该审批人权限内在审业务", "授信审批部", start - timedelta(days=14), start - timedelta(days=15)),
                  ("上线二次审查流程", "授信审批部", start - timedelta(days=1), start - timedelta(days=1)),
                  ("评估新发放贷款质量", "风险管理部", start + timedelta(days=75), start + timedelta(days=70))])
        _plan(plans, kind=kind, title=e["title_zh"], change=e["description_zh"], kpi=e["metric_id"],
              branches=e["branch_ids"], owner=owner, start=start, steps=steps, status="done", origin=origin,
              approved=start - timedelta(days=30))
        n += 1

    # -- plans in every other state -----------------------------------------------------------
    wait = "counter.wait_avg_min"
    others = [
        ("staffing", "周一上午增开理财窗口", "周一9–11点增开一个理财业务窗口，由综合柜员轮岗。", wait, [at(2)], "运营管理部",
         d(20), [("排定轮岗表", "运营管理部", d(-10), None)], "proposed", None),
        ("product_service", "手机银行限额线上自助调整", "转账限额调整由柜面办理改为手机银行自助办理。",
         "feedback.complaints", [at(3)], "网络金融部", d(15),
         [("需求评审", "网络金融部", d(-20), None), ("上线试点", "网络金融部", d(-60), None)], "evaluated", None),
        ("process", "简化开户资料审核", "个人开户取消重复填写的纸质声明，改为系统勾选确认。", "counter.service_avg_min",
         [at(4)], "运营管理部", d(5), [("修订操作规程", "运营管理部", d(-25), None)], "approved", d(8)),
        ("staffing", "午间高峰弹性排班", "11:30–13:30 实行弹性午休，保证至少三个窗口开放。", wait, [at(1), at(5)],
         "运营管理部", d(40),
         [("发布排班方案", "运营管理部", d(45), d(46)), ("首月执行评估", "运营管理部", d(10), None)], "in_progress", d(50)),
        ("process", "投诉首次答复时限压缩至1天", "投诉受理后当日首次联系客户，系统自动提醒。", "feedback.first_reply_days_avg",
         [at(6)], "消费者权益保护部", d(90),
         [("配置系统提醒", "消费者权益保护部", d(95), d(97)), ("培训受理人员", "消费者权益保护部", d(80), d(78))],
         "reviewed", d(110)),
        ("product_service", "取消小额账户管理费", "日均余额低于300元的账户不再收取账户管理费。", "feedback.complaints",
         [at(7)], "个人金融部", d(30), [("测算收入影响", "计划财务部", d(20), None)], "rejected", d(35)),
        ("staffing", "临时抽调柜员支援新开网点", "抽调两名柜员支援新开网点三个月。", wait, [at(8)], "人力资源部", d(25),
         [("确定人选", "人力资源部", d(15), None)], "withdrawn", None),
    ]
    for kind, title, change, kpi, branches, owner, start, steps, status, approved in others:
        # the approved ones answer the latest market event two weeks before their approval (市场响应速度)
        ev = store.query("actions.latest_event_before", day=approved - timedelta(days=14)).first() if approved \
            and status in ("approved", "in_progress", "reviewed") else None
        origin = {"origin_kind": "market_event", "origin_ref": ev[0], "label": ev[1]} if ev else None
        _plan(plans, kind=kind, title=title, change=change, kpi=kpi, branches=branches, owner=owner, start=start,
              steps=steps, status=status, approved=approved, evaluated=d(60) if approved is None else None,
              origin=origin,
              reason={"rejected": "收入影响过大，暂缓", "withdrawn": "新开网点推迟开业"}.get(status))
        n += 1

    # -- inspections and notices --------------------------------------------------------------
    i1 = sup.create_inspection(DEMO, title="柜面服务规范现场检查", inspecting_dept="内控合规部", inspected_on=d(100),
                               scope_branches=sorted({at(0), at(1), at(2)}), inspector="王敏",
                               findings=[NewFinding(at(0), "高峰时段开放窗口少于排班要求", "high"),
                                         NewFinding(at(1), "大堂引导岗长时间空岗", "medium"),
                                         NewFinding(at(2), "叫号机分区设置与业务不符", "low")])
    i2 = sup.create_inspection(DEMO, title="信贷审批合规专项检查", inspecting_dept="内控合规部", inspected_on=d(70),
                               scope_branches=sorted({at(3), at(4)}), inspector="李强",
                               findings=[NewFinding(at(3), "部分贷款审批意见未说明风险缓释措施", "high"),
                                         NewFinding(at(4), "贷后检查记录不完整", "medium")])
    f = [x.finding_id for i in (i1, i2) for x in sup.findings(i.inspection_id, DEMO)]
    n1 = sup.issue_notice(f[0], DEMO, issued_on=d(95), deadline=d(65), responsible_dept="运营管理部")
    sup.move_notice(n1.notice_id, "rectify", DEMO, on=d(70), measures="按排班表开放窗口，网点负责人每日核查")
    sup.move_notice(n1.notice_id, "recheck_pass", DEMO, on=d(50))
    n2 = sup.issue_notice(f[1], DEMO, issued_on=d(95), deadline=d(60), responsible_dept="运营管理部")
    sup.move_notice(n2.notice_id, "rectify", DEMO, on=d(58), measures="安排专人值守大堂")
    sup.move_notice(n2.notice_id, "recheck_fail", DEMO, "复查时仍有30分钟空岗", on=d(40), new_deadline=d(10))
    sup.issue_notice(f[2], DEMO, issued_on=d(95), deadline=d(-15), responsible_dept="运营管理部")
    n4 = sup.issue_notice(f[3], DEMO, issued_on=d(65), deadline=d(20), responsible_dept="授信审批部")
    sup.move_notice(n4.notice_id, "rectify", DEMO, on=d(22), measures="补充审批意见并组织审批人培训")
    sup.issue_notice(f[4], DEMO, issued_on=d(65), deadline=d(30), responsible_dept="风险管理部")
    return Seeded(plans=n, inspections=2, notices=5)
