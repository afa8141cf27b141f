"""The scorecard (metrics/scorecard.py) against hand-computed scores on a small real store.

Four outlets in two regions; the records go in through the real ingest (branch master, feedback,
market events) and data/plans (plans, notices), then a test definition is scored for 2025-02:

    criterion (weight)                        rule       target  floor
    scorecard.csat_change (30)                linear     +0.10   −0.10
    feedback.satisfaction_rate (20)           linear      0.90    0.50
    scorecard.market_response_days (30)       linear      5       25
    supervision.rectified_on_time_rate (20)   threshold   1.0     —        min_coverage 50

    outlet      CSAT Jan  CSAT Feb  Δ      market response        notice (due 02-15)
    A 0101001   2/4       4/4       +0.50  EV1 02-01 → 02-11: 10   rectified 02-10 (on time)
    B 0101002   3/4       1/4       −0.50  EV1 (same plan): 10     rectified 02-25 (late)
    C 0201001   —         3/4       —      —                       —
    D 0201002   3/4       3/4        0     EV2 01-20 → 02-14: 25   —

    A: 30 (Δ capped at the target) + 20 (1.0 capped) + 30·(10−25)/(5−25) = 22.5 + 20 → 92.5
    B: 0 (capped at the floor) + 0 (0.25 < floor) + 22.5 + 0 (threshold missed) → 22.5
    C: only satisfaction measured, 20 of 100 weight < 50 → no score (not 0); its 12.5 points shown
    D: 15 + 12.5 + 0 (at the floor, measured) = 27.5 of 80 measured weight → 34.375
    rank: A 1, D 2, B 3; C unranked.
    region 华东区 (A+B): CSAT 5/8 both months → Δ 0: 15; 0.625: 6.25; EV1 10 days: 22.5; 1 of 2 on time: 0 → 43.75
    region 华南区 (C+D): Jan 3/4, Feb 6/8 → Δ 0: 15; 0.75: 12.5; EV2 25 days: 0; no notice → 27.5/80 → 34.375
"""

from __future__ import annotations

from datetime import date

import pytest
from helpers_ingest import write_csv

from data.ingest import ingest_file
from data.plans import NewFinding, NewStep, PlanStore, SupervisionStore
from data.store import Store
from data.users import Principal
from metrics.model import Grain
from metrics.scorecard import export_frame, fmt_measure, score_period, scorecard
from metrics.scorecard_def import UnitKind, parse_or_raise
from metrics.scorecard_versions import definition_for, save

ADMIN = Principal("admin", "admin")
FEB, JAN, MAR = date(2025, 2, 1), date(2025, 1, 1), date(2025, 3, 1)
A, B, C, D = "0101001", "0101002", "0201001", "0201002"
BRANCHES = [["机构号", "机构名称", "机构层级", "上级机构号", "所属区域", "开放窗口数"],
            ["0101000", "城东支行", "支行", "", "华东区", "0"],
            [A, "人民路网点", "网点", "0101000", "华东区", "6"],
            [B, "解放路网点", "网点", "0101000", "华东区", "4"],
            ["0201000", "城南支行", "支行", "", "华南区", "0"],
            [C, "中山路网点", "网点", "0201000", "华南区", "5"],
            [D, "滨江路网点", "网点", "0201000", "华南区", "5"]]
# (branch, month, satisfied follow-ups, dissatisfied follow-ups)
CSAT = [(A, 1, 2, 2), (A, 2, 4, 0), (B, 1, 3, 1), (B, 2, 1, 3), (C, 2, 3, 1), (D, 1, 3, 1), (D, 2, 3, 1)]
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


@pytest.fixture(scope="module")
def sc_store(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("scorecard")
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
    yield store
    store.close()


def _by_unit(sc):
    return {r.unit: r for r in sc.scores.itertuples()}


def test_branch_scores_are_the_hand_computed_ones(sc_store):
    sc = scorecard(sc_store, FEB, Grain.MONTH, UnitKind.BRANCH)
    s = _by_unit(sc)
    assert sc.version_id == 2 and sc.definition.version == 7
    assert s[A].score == pytest.approx(92.5) and s[B].score == pytest.approx(22.5)
    assert s[D].score == pytest.approx(34.375)
    assert s[C].score != s[C].score  # NaN: no score, not 0
    assert s[C].coverage == pytest.approx(20) and s[C].points == pytest.approx(12.5)
    assert (s[A].rank, s[D].rank, s[B].rank) == (1, 2, 3) and s[C].rank != s[C].rank
    assert {r.ranked for r in s.values()} == {3}
    assert list(sc.scores["unit"]) == [A, D, B, C]  # best first, the unscored last


def test_drill_down_holds_the_numbers_that_made_each_score(sc_store):
    sc = scorecard(sc_store, FEB, Grain.MONTH, UnitKind.BRANCH)
    a = sc.unit_detail(A).set_index("measure")
    assert a.loc["scorecard.csat_change", "value"] == pytest.approx(0.5)  # capped at the target
    assert a.loc["scorecard.csat_change", "base"] == pytest.approx(0.5)  # January's CSAT
    assert a.loc["scorecard.csat_change", "points"] == pytest.approx(30)
    assert a.loc["scorecard.market_response_days", "value"] == pytest.approx(10)
    assert a.loc["scorecard.market_response_days", "points"] == pytest.approx(22.5)
    assert a.loc["supervision.rectified_on_time_rate", ["numerator", "denominator"]].tolist() == [1, 1]
    b = sc.unit_detail(B).set_index("measure")
    assert b.loc["scorecard.csat_change", "points"] == 0 and b.loc["feedback.satisfaction_rate", "points"] == 0
    assert b.loc["supervision.rectified_on_time_rate", "points"] == 0  # threshold missed
    c = sc.unit_detail(C).set_index("measure")
    assert c["points"].isna().sum() == 3 and c.loc["feedback.satisfaction_rate", "points"] == pytest.approx(12.5)
    d = sc.unit_detail(D).set_index("measure")
    assert d.loc["scorecard.market_response_days", "value"] == 25
    assert d.loc["scorecard.market_response_days", "points"] == 0  # at the floor: measured, no points
    assert d.loc["scorecard.csat_change", "points"] == pytest.approx(15)


def test_region_scores(sc_store):
    s = _by_unit(scorecard(sc_store, FEB, Grain.MONTH, UnitKind.REGION))
    assert s["华东区"].score == pytest.approx(43.75) and s["华南区"].score == pytest.approx(34.375)
    assert (s["华东区"].rank, s["华南区"].rank) == (1, 2)


def test_trend_uses_the_previous_period(sc_store):
    """January: A's only measured criterion is CSAT 0.5 (at the floor: 0 of 20) → 20 % coverage, no score;
    D: CSAT 0.75 → 12.5 of 20 → also below the coverage: the trend says so rather than inventing one."""
    s = _by_unit(scorecard(sc_store, FEB, Grain.MONTH, UnitKind.BRANCH))
    assert all(r.prev_score != r.prev_score for r in s.values())
    assert all(r.delta != r.delta for r in s.values())


def test_every_rule_and_both_capped_ends_by_hand():
    """The pure scoring on a table of values: linear inside, at and beyond both ends, threshold met
    and missed, a down-is-good KPI, missing data, and the coverage threshold."""
    import pandas as pd

    d = parse_or_raise(DEFINITION.replace("min_coverage = 50", "min_coverage = 60", 1))
    units = pd.DataFrame({"unit": ["u1", "u2", "u3"], "label": ["一", "二", "三"], "region": ["r", "r", "r"]})
    vals = pd.DataFrame([
        ("u1", "scorecard.csat_change", 0.0), ("u1", "feedback.satisfaction_rate", 0.95),
        ("u1", "scorecard.market_response_days", 30.0), ("u1", "supervision.rectified_on_time_rate", 1.0),
        ("u2", "scorecard.csat_change", -0.2), ("u2", "feedback.satisfaction_rate", 0.7),
        ("u2", "scorecard.market_response_days", 2.0), ("u2", "supervision.rectified_on_time_rate", 0.99),
        ("u3", "feedback.satisfaction_rate", 0.9), ("u3", "scorecard.market_response_days", 15.0),
    ], columns=["unit", "measure", "value"]).assign(numerator=None, denominator=None, n=None, base=None)
    scores, detail = score_period(d, UnitKind.BRANCH, units, vals)
    pts = detail.set_index(["unit", "measure"])["points"]
    # u1: 30·0.5 + 20 (capped above) + 0 (beyond the floor of a down-is-good KPI) + 20 (threshold met) = 55
    assert pts["u1"].tolist() == pytest.approx([15, 20, 0, 20])
    # u2: 0 (below the floor) + 20·0.5 + 30 (capped: 2 days beats the 5-day target) + 0 (0.99 < 1.0) = 40
    assert pts["u2"].tolist() == pytest.approx([0, 10, 30, 0])
    s = scores.set_index("unit")
    assert s.loc["u1", "score"] == pytest.approx(55) and s.loc["u2", "score"] == pytest.approx(40)
    # u3: 20 + 30·0.5 = 35 of 50 measured weight — 50 % < min_coverage 60: no score, not 0
    assert s.loc["u3", "coverage"] == 50 and pd.isna(s.loc["u3", "score"])
    scores50, _ = score_period(d.model_copy(update={"units": {
        UnitKind.BRANCH: d.units[UnitKind.BRANCH].model_copy(update={"min_coverage": 50})}}), UnitKind.BRANCH, units, vals)
    assert scores50.set_index("unit").loc["u3", "score"] == pytest.approx(70)  # 35 / 50 × 100
    assert s["rank"].tolist()[:2] == [1, 2]


def test_versioning_keeps_scored_periods(sc_store):
    """A third version from 2025-03 (saved on "2025-03-02"): February, already scored, keeps version 2
    and its scores; March scores with version 3."""
    before = scorecard(sc_store, FEB, Grain.MONTH, UnitKind.BRANCH).scores
    changed = DEFINITION.replace("weight = 30\ntarget = 5", "weight = 10\ntarget = 5").replace(
        "weight = 20\ntarget = 0.9", "weight = 40\ntarget = 0.9").replace("version = 7", "version = 8")
    v, issues = save(sc_store, ADMIN, changed, MAR, today=date(2025, 3, 2))
    assert issues == [] and v.version_id == 3
    after = scorecard(sc_store, FEB, Grain.MONTH, UnitKind.BRANCH)
    assert after.version_id == 2
    assert after.scores["score"].tolist() == pytest.approx(before["score"].tolist(), nan_ok=True)
    assert definition_for(sc_store, Grain.MONTH, MAR)[1].version_id == 3
    assert definition_for(sc_store, Grain.QUARTER, date(2025, 1, 1))[1].version_id == 2  # Q1 not ended: v2 from 01
    pins = sc_store.cursor().execute("SELECT grain, period_start, version_id FROM ops.scorecard_periods "
                                     "WHERE period_start = DATE '2025-02-01'").fetchall()
    assert pins == [("month", date(2025, 2, 1), 2)]
    # a version may not reach back into an ended period, nor be saved by someone without the right
    _, issues = save(sc_store, Principal("vw", "viewer", branches=frozenset({A})), changed, FEB,
                     today=date(2025, 3, 2))
    assert {i.where for i in issues} == {"user", "effective_from"}
    audit = sc_store.cursor().execute("SELECT count(*) FROM ops.audit_log WHERE action = 'scorecard_version'").fetchone()
    assert audit == (2,)


def test_a_branch_reader_sees_their_score_and_rank_only(sc_store):
    mine = scorecard(sc_store, FEB, Grain.MONTH, UnitKind.BRANCH, boundary=frozenset({B}))
    assert mine.scores["unit"].tolist() == [B]
    r = mine.scores.iloc[0]
    assert r["score"] == pytest.approx(22.5) and (r["rank"], r["ranked"]) == (3, 3)
    assert set(mine.detail["unit"]) == {B}
    regions = scorecard(sc_store, FEB, Grain.MONTH, UnitKind.REGION, boundary=frozenset({B}))
    assert regions.scores.empty and regions.detail.empty  # a region shows only to who sees all of it
    east = scorecard(sc_store, FEB, Grain.MONTH, UnitKind.REGION, boundary=frozenset({"0101000", A, B}))
    assert east.scores["unit"].tolist() == ["华东区"] and east.scores.iloc[0]["rank"] == 1


def test_export_and_formatting(sc_store):
    sc = scorecard(sc_store, FEB, Grain.MONTH, UnitKind.BRANCH, boundary=frozenset({A}))
    df = export_frame(sc, "en")
    assert len(df) == 4 and set(df["unit"]) == {A} and df["score"].iloc[0] == pytest.approx(92.5)
    assert fmt_measure("scorecard.csat_change", 0.5) == "+50.00个百分点"
    assert fmt_measure("scorecard.csat_change", -0.012, "en") == "-1.20 pp"
    assert fmt_measure("scorecard.market_response_days", 10) == "10.0天"
    assert fmt_measure("feedback.satisfaction_rate", 0.75) == "75.00%"
    assert fmt_measure("feedback.satisfaction_rate", None) == "—"
