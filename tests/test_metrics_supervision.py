"""The supervision KPIs (metrics/supervision.py) against hand-computed values.

A small bank of two regions; the records are written through data/plans (PlanStore,
SupervisionStore) with explicit days, then each KPI is read through the catalogue like any other:

    notice  branch   issued  first deadline  rectified        re-check
    N1      0101001  01-15   02-15           02-10 (in time)  02-20 pass
    N2      0101002  01-15   02-15           02-25 (late)     03-01 fail → new deadline 03-20, open
    N3      0201001  01-20   02-28           —                —
    plan A  0101001+0101002  approved 01-20, done 02-26 (37 days); steps due 02-10 (done 02-08) and
            02-20 (done 02-25, late)
    plan B  0201001  approved 02-01, in progress; step due 03-10, not done
"""

from __future__ import annotations

import math
from datetime import date

import pytest
from helpers_ingest import write_csv

from data.ingest import ingest_file
from data.plans import NewFinding, NewStep, PlanStore, SupervisionStore
from data.store import Store
from data.users import Principal
from metrics.compute import series
from metrics.model import Grain
from metrics.scope import Scope

ADMIN = Principal("admin", "admin")
BRANCHES = [["机构号", "机构名称", "机构层级", "上级机构号", "所属区域", "开放窗口数"],
            ["0101000", "城东支行", "支行", "", "华东区", "0"],
            ["0101001", "人民路网点", "网点", "0101000", "华东区", "6"],
            ["0101002", "解放路网点", "网点", "0101000", "华东区", "4"],
            ["0201000", "城南支行", "支行", "", "华南区", "0"],
            ["0201001", "中山路网点", "网点", "0201000", "华南区", "5"]]
EVAL = {"necessity": "等候时间超标", "feasibility": "人员可调配", "expected_impact": "平均等候缩短约5分钟"}


@pytest.fixture(scope="module")
def sup_store(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("sup")
    store = Store(tmp / "s.duckdb")
    assert ingest_file(store, write_csv(tmp / "b.csv", BRANCHES)).status == "loaded"
    sup = SupervisionStore(store)
    insp = sup.create_inspection(ADMIN, title="2025年一季度柜面服务检查", inspecting_dept="内控合规部",
                                 inspected_on="2025-01-10", scope_branches=["0101001", "0101002", "0201001"],
                                 findings=[NewFinding("0101001", "叫号系统未按规定分区", "medium"),
                                           NewFinding("0101002", "大堂引导缺位", "medium"),
                                           NewFinding("0201001", "高峰期窗口开放不足", "high")])
    f1, f2, f3 = (f.finding_id for f in sup.findings(insp.inspection_id, ADMIN))
    n1 = sup.issue_notice(f1, ADMIN, issued_on="2025-01-15", deadline="2025-02-15", responsible_dept="运营管理部")
    n2 = sup.issue_notice(f2, ADMIN, issued_on="2025-01-15", deadline="2025-02-15", responsible_dept="运营管理部")
    sup.issue_notice(f3, ADMIN, issued_on="2025-01-20", deadline="2025-02-28", responsible_dept="运营管理部")
    sup.move_notice(n1.notice_id, "rectify", ADMIN, on="2025-02-10", measures="重新划分叫号区")
    sup.move_notice(n1.notice_id, "recheck_pass", ADMIN, on="2025-02-20")
    sup.move_notice(n2.notice_id, "rectify", ADMIN, on="2025-02-25", measures="增设引导岗")
    sup.move_notice(n2.notice_id, "recheck_fail", ADMIN, "引导岗未落实", on="2025-03-01", new_deadline="2025-03-20")

    plans = PlanStore(store)
    a = plans.create_plan(ADMIN, kind="process", title="优化叫号分流", change_text="高峰期增设快速通道",
                          target_kpis=["counter.wait_avg_min"], scope_kind="branches",
                          scope_branches=["0101001", "0101002"], owner_dept="运营管理部", effect_start="2025-02-01",
                          proposed_on="2025-01-12",
                          steps=[NewStep("调整叫号规则", "运营管理部", "2025-02-10"),
                                 NewStep("培训大堂经理", "人力资源部", "2025-02-20")], **EVAL)
    plans.move(a.plan_id, "evaluate", ADMIN, on="2025-01-18")
    plans.move(a.plan_id, "approve", ADMIN, on="2025-01-20")
    plans.move(a.plan_id, "start", ADMIN, on="2025-01-21")
    plans.complete_step(a.plan_id, 1, ADMIN, done_on="2025-02-08")
    plans.complete_step(a.plan_id, 2, ADMIN, done_on="2025-02-25")
    plans.move(a.plan_id, "complete", ADMIN, on="2025-02-26")
    b = plans.create_plan(ADMIN, kind="staffing", title="高峰期增配柜员", change_text="周一上午增开两个窗口",
                          target_kpis=["counter.wait_avg_min"], scope_kind="branches", scope_branches=["0201001"],
                          owner_dept="人力资源部", effect_start="2025-02-10", proposed_on="2025-01-25",
                          steps=[NewStep("调配柜员", "人力资源部", "2025-03-10")], **EVAL)
    plans.move(b.plan_id, "evaluate", ADMIN, on="2025-01-30")
    plans.move(b.plan_id, "approve", ADMIN, on="2025-02-01")
    plans.move(b.plan_id, "start", ADMIN, on="2025-02-02")
    yield store
    store.close()


def _values(store, metric_id: str, by: tuple = (), scope: Scope | None = None) -> dict:
    df = series(store, metric_id, Grain.MONTH, date(2025, 1, 1), date(2025, 3, 31), by, scope)
    key = (lambda r: (r["period"].month, *[r[b] for b in by])) if by else (lambda r: r["period"].month)
    return {key(r): r["value"] for _, r in df.iterrows() if not (isinstance(r["value"], float) and math.isnan(r["value"]))}


def test_rectified_on_time_rate(sup_store):
    assert _values(sup_store, "supervision.rectified_on_time_rate") == {2: pytest.approx(1 / 3)}
    assert _values(sup_store, "supervision.rectified_on_time_rate", ("region",)) == {
        (2, "华东区"): pytest.approx(0.5), (2, "华南区"): 0.0}


def test_rectified_on_time_rate_counts_only_due_notices(sup_store):
    """As of 2025-02-20 the notice due 02-28 is not due yet: 1 of the 2 due ones was on time."""
    df = series(sup_store, "supervision.rectified_on_time_rate", Grain.MONTH, date(2025, 2, 1), date(2025, 2, 20))
    assert df["value"].tolist() == [pytest.approx(0.5)]


def test_recheck_pass_rate(sup_store):
    assert _values(sup_store, "supervision.recheck_pass_rate") == {2: 1.0, 3: 0.0}


def test_overdue_open_notices(sup_store):
    assert _values(sup_store, "supervision.overdue_open_notices") == {3: 2}
    assert _values(sup_store, "supervision.overdue_open_notices", ("branch",)) == {(3, "0101002"): 1, (3, "0201001"): 1}


def test_steps_on_time_rate_counts_a_two_branch_plan_once(sup_store):
    assert _values(sup_store, "supervision.steps_on_time_rate") == {2: 0.5, 3: 0.0}
    assert _values(sup_store, "supervision.steps_on_time_rate", ("branch",)) == {
        (2, "0101001"): 0.5, (2, "0101002"): 0.5, (3, "0201001"): 0.0}


def test_plan_delivery_days(sup_store):
    assert _values(sup_store, "supervision.plan_delivery_days") == {2: 37.0}
    assert _values(sup_store, "supervision.plan_delivery_days", ("region",)) == {(2, "华东区"): 37.0}


def test_a_scoped_reader_sees_their_branches_only(sup_store):
    """The boundary applies as for every KPI: 华南区's reader gets its one notice, computed for it."""
    scope = Scope(branch_ids=frozenset({"0201000", "0201001"}))
    assert _values(sup_store, "supervision.overdue_open_notices", scope=scope) == {3: 1}
    assert _values(sup_store, "supervision.rectified_on_time_rate", scope=scope) == {2: 0.0}
    assert _values(sup_store, "supervision.plan_delivery_days", scope=scope) == {}


def test_notice_counts_are_shown_in_fen():
    """份 is the measure word of a notice (笔 is for transactions and loans, 件 for complaints)."""
    from metrics.catalogue import get_metric
    from metrics.format import fmt_value

    assert fmt_value(get_metric("supervision.overdue_open_notices"), 2) == "2份"
    assert fmt_value(get_metric("feedback.complaints"), 3) == "3件"
    assert fmt_value(get_metric("counter.tickets_served"), 4) == "4笔"
    assert fmt_value(get_metric("supervision.overdue_open_notices"), 2, "en") == "2"
