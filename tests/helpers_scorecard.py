"""The small real store of the scorecard tests (tests/test_scorecard.py has the hand-computed table):
four outlets in two regions, feedback, market events, plans and notices through the real ingest and
data/plans, and the test definition saved as version 2 from 2025-01."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from helpers_ingest import write_csv

from data.ingest import ingest_file
from data.plans import NewFinding, NewStep, PlanStore, SupervisionStore
from data.store import Store
from data.users import Principal
from metrics.scorecard_versions import save

ADMIN = Principal("admin", "admin")
FEB, JAN, MAR, APR = date(2025, 2, 1), date(2025, 1, 1), date(2025, 3, 1), date(2025, 4, 1)
A, B, C, D = "0101001", "0101002", "0201001", "0201002"
BRANCHES = [["机构号", "机构名称", "机构层级", "上级机构号", "所属区域", "开放窗口数"],
            ["0101000", "城东支行", "支行", "", "华东区", "0"],
            [A, "人民路网点", "网点", "0101000", "华东区", "6"],
            [B, "解放路网点", "网点", "0101000", "华东区", "4"],
            ["0201000", "城南支行", "支行", "", "华南区", "0"],
            [C, "中山路网点", "网点", "0201000", "华南区", "5"],
            [D, "滨江路网点", "网点", "0201000", "华南区", "5"]]
# (branch, month, satisfied follow-ups, dissatisfied follow-ups)
CSAT = [(A, 1, 2, 2), (A, 2, 4, 0), (B, 1, 3, 1), (B, 2, 1, 3), (C, 2, 3, 1), (D, 1, 3, 1), (D, 2, 3, 1), (A, 3, 3, 1)]
EVAL = {"necessity": "市场变化", "feasibility": "可行", "expected_impact": "改善"}

DEFINITION = """
version = 7
name_zh = "测试考核"
name_en = "Test scorecard"

[branch]
min_coverage = 50
[[branch.criteria]]
measure = "scorecard.csat_change"
group = "satisfaction"
weight = 30
target = 0.10
floor = -0.10
[[branch.criteria]]
measure = "feedback.satisfaction_rate"
group = "satisfaction"
weight = 20
target = 0.9
floor = 0.5
[[branch.criteria]]
measure = "scorecard.market_response_days"
group = "market"
weight = 30
target = 5
floor = 25
[[branch.criteria]]
measure = "supervision.rectified_on_time_rate"
group = "rectification"
weight = 20
target = 1.0
rule = "threshold"

[region]
min_coverage = 50
[[region.criteria]]
measure = "scorecard.csat_change"
group = "satisfaction"
weight = 30
target = 0.10
floor = -0.10
[[region.criteria]]
measure = "feedback.satisfaction_rate"
group = "satisfaction"
weight = 20
target = 0.9
floor = 0.5
[[region.criteria]]
measure = "scorecard.market_response_days"
group = "market"
weight = 30
target = 5
floor = 25
[[region.criteria]]
measure = "supervision.rectified_on_time_rate"
group = "rectification"
weight = 20
target = 1.0
rule = "threshold"
"""


def _plan(plans, title, branches, event, approved_on):
    p = plans.create_plan(ADMIN, kind="product_service", title=title, change_text="调整产品定价",
                          target_kpis=["feedback.satisfaction_rate"], scope_kind="branches", scope_branches=branches,
                          owner_dept="零售业务部", effect_start="2025-03-01", proposed_on="2025-01-21",
                          origins=[{"origin_kind": "market_event", "origin_ref": event}],
                          steps=[NewStep("调整定价", "零售业务部", "2025-03-31")], **EVAL)
    plans.move(p.plan_id, "evaluate", ADMIN, on="2025-01-22")
    plans.move(p.plan_id, "approve", ADMIN, on=approved_on)


def build_world(tmp: Path) -> Store:
    store = Store(tmp / "s.duckdb")
    assert ingest_file(store, write_csv(tmp / "b.csv", BRANCHES)).status == "loaded"
    rows, n = [["工单号", "受理渠道", "受理时间", "类型", "被投诉网点", "回访满意度"]], 0
    for branch, month, good, bad in CSAT:
        for verdict in ["满意"] * good + ["不满意"] * bad:
            n += 1
            rows.append([f"T{n:04d}", "电话", f"2025-{month:02d}-10 10:00:00", "投诉", branch, verdict])
    assert ingest_file(store, write_csv(tmp / "f.csv", rows), source="feedback_records").status == "loaded"
    events = [["编号", "日期", "标题", "类别"], ["EV1", "2025-02-01", "LPR报价下调", "政策利率"],
              ["EV2", "2025-01-20", "同业推出新产品", "同业动态"]]
    assert ingest_file(store, write_csv(tmp / "e.csv", events), source="market_events").status == "loaded"
    plans = PlanStore(store)
    _plan(plans, "响应LPR下调", [A, B], "EV1", "2025-02-11")
    _plan(plans, "应对同业新产品", [D], "EV2", "2025-02-14")
    sup = SupervisionStore(store)
    insp = sup.create_inspection(ADMIN, title="柜面检查", inspecting_dept="内控合规部", inspected_on="2025-01-10",
                                 scope_branches=[A, B], findings=[NewFinding(A, "分区不当", "medium"),
                                                                  NewFinding(B, "引导缺位", "medium")])
    f1, f2 = (f.finding_id for f in sup.findings(insp.inspection_id, ADMIN))
    n1 = sup.issue_notice(f1, ADMIN, issued_on="2025-01-15", deadline="2025-02-15", responsible_dept="运营管理部")
    n2 = sup.issue_notice(f2, ADMIN, issued_on="2025-01-15", deadline="2025-02-15", responsible_dept="运营管理部")
    sup.move_notice(n1.notice_id, "rectify", ADMIN, on="2025-02-10", measures="重新分区")
    sup.move_notice(n2.notice_id, "rectify", ADMIN, on="2025-02-25", measures="增设引导岗")
    # the test definition is version 2, from 2025-01 on (today is "2025-01-05" for the save)
    v, issues = save(store, ADMIN, DEFINITION, JAN, today=date(2025, 1, 5), note="测试")
    assert issues == [] and v.version_id == 2
    return store
