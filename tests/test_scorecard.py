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

import pandas as pd
import pytest
from helpers_scorecard import ADMIN, APR, DEFINITION, FEB, JAN, MAR, A, B, C, D, build_world

from data.users import Principal
from metrics.model import Grain
from metrics.scorecard import export_frame, fmt_measure, score_period, scorecard
from metrics.scorecard_def import UnitKind, parse_or_raise
from metrics.scorecard_versions import definition_for, save


@pytest.fixture(scope="module")
def sc_store(tmp_path_factory):
    store = build_world(tmp_path_factory.mktemp("scorecard"))
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
    assert (s[A].rank, s[D].rank, s[B].rank) == (1, 2, 3) and pd.isna(s[C].rank)
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


def test_trend_against_the_previous_period(sc_store):
    """March: only A has data — CSAT 3/4 (Δ −0.25: measured, capped at 0 points), satisfaction 0.75
    (12.5 of 20); 50 of 100 weight measured → 25.0. February's 92.5 (rank 1) is its trend base.
    February's own trend: January had too little measured weight everywhere, so no base (not 0)."""
    mar = _by_unit(scorecard(sc_store, MAR, Grain.MONTH, UnitKind.BRANCH))
    a = mar[A]
    assert a.score == pytest.approx(25.0) and a.prev_score == pytest.approx(92.5)
    assert a.delta == pytest.approx(-67.5) and (a.rank, a.ranked, a.prev_rank) == (1, 1, 1)
    assert pd.isna(mar[B].score) and mar[B].prev_score == pytest.approx(22.5) and pd.isna(mar[B].delta)
    feb = _by_unit(scorecard(sc_store, FEB, Grain.MONTH, UnitKind.BRANCH))
    assert all(pd.isna(r.prev_score) and pd.isna(r.delta) and pd.isna(r.prev_rank) for r in feb.values())


def test_every_rule_and_both_capped_ends_by_hand():
    """The pure scoring on a table of values: linear inside, at and beyond both ends, threshold met
    and missed, a down-is-good KPI, missing data, and the coverage threshold."""
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
    """A third version from 2025-04 (saved on "2025-04-02"): January to March and the first quarter,
    already scored, keep version 2 and their scores; April scores with version 3."""
    before = scorecard(sc_store, FEB, Grain.MONTH, UnitKind.BRANCH).scores
    changed = DEFINITION.replace("weight = 30\ntarget = 5", "weight = 10\ntarget = 5").replace(
        "weight = 20\ntarget = 0.9", "weight = 40\ntarget = 0.9").replace("version = 7", "version = 8")
    v, issues = save(sc_store, ADMIN, changed, APR, today=date(2025, 4, 2))
    assert issues == [] and v.version_id == 3
    after = scorecard(sc_store, FEB, Grain.MONTH, UnitKind.BRANCH)
    assert after.version_id == 2
    assert after.scores["score"].tolist() == pytest.approx(before["score"].tolist(), nan_ok=True)
    assert definition_for(sc_store, Grain.MONTH, APR)[1].version_id == 3
    assert definition_for(sc_store, Grain.MONTH, MAR)[1].version_id == 2
    assert definition_for(sc_store, Grain.QUARTER, date(2025, 1, 1))[1].version_id == 2
    assert definition_for(sc_store, Grain.QUARTER, APR)[1].version_id == 3
    pins = sc_store.cursor().execute("SELECT grain, period_start, version_id FROM ops.scorecard_periods "
                                     "ORDER BY grain, period_start").fetchall()
    assert pins == [("month", JAN, 2), ("month", FEB, 2), ("month", MAR, 2), ("quarter", JAN, 2)]
    # a version may not reach back into an ended period, nor be saved by someone without the right
    _, issues = save(sc_store, Principal("vw", "viewer", branches=frozenset({A})), changed, MAR,
                     today=date(2025, 4, 2))
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
