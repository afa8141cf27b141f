"""The demo's plans (data/demo/plans.py): every status, notices in every state, and the planted
effects of a large demo turned into the completed plans behind them (exercised here with a story
naming the small demo's own outlets, as story.json does for ≥ 12 outlets)."""

from __future__ import annotations

import shutil
from datetime import date

from data.demo.plans import seed_plans
from data.store import Store


def test_the_seeded_demo_has_every_status(demo_db):
    s = Store(demo_db, read_only=True)
    try:
        plans = dict(s.cursor().execute("SELECT status, count(*) FROM ops.plans GROUP BY 1").fetchall())
        notices = s.cursor().execute("SELECT status, round FROM ops.notices").fetchall()
        assert set(plans) == {"proposed", "evaluated", "approved", "in_progress", "reviewed", "rejected", "withdrawn"}
        assert {st for st, _ in notices} == {"issued", "rectified", "rechecked_pass"}
        assert ("issued", 2) in notices  # a failed re-check, reopened
        bad = s.cursor().execute("SELECT count(*) FROM ops.plans WHERE proposed_on > coalesce(evaluated_on, proposed_on) "
                                 "OR evaluated_on > coalesce(approved_on, evaluated_on)").fetchone()[0]
        assert bad == 0  # milestones in order
    finally:
        s.close()


def test_planted_effects_become_completed_plans(demo_db, tmp_path):
    db = tmp_path / "d.duckdb"
    shutil.copy(demo_db, db)
    s = Store(db)
    try:
        outlets = [b for (b,) in s.cursor().execute(
            "SELECT branch_id FROM main.branches WHERE level = 'outlet' ORDER BY 1").fetchall()]
        story = {"effects": [
            {"id": "staffing_2025-06-02", "kind": "staffing", "metric_id": "counter.wait_avg_min",
             "branch_ids": outlets[:2], "start": "2025-06-02", "title_zh": "两网点高峰增配柜员",
             "description_zh": "高峰时段增开窗口"},
            {"id": "process_2025-10-01", "kind": "process", "metric_id": "credit.disbursed_count",
             "branch_ids": outlets[1:], "start": "2025-10-01", "title_zh": "审批人贷款二次审查",
             "description_zh": "对该审批人权限内的贷款增加二次审查"}]}
        before = s.cursor().execute("SELECT count(*) FROM ops.plans").fetchone()[0]
        seeded = seed_plans(s, story, end=date(2025, 12, 31))
        rows = s.cursor().execute(
            "SELECT kind, status, effect_start, target_kpis, scope_branches FROM ops.plans "
            "WHERE title IN ('两网点高峰增配柜员', '审批人贷款二次审查') ORDER BY effect_start").fetchall()
        assert seeded.plans == 2 + 7 and s.cursor().execute("SELECT count(*) FROM ops.plans").fetchone()[0] == before + 9
        assert [(k, st, e) for k, st, e, _, _ in rows] == [("staffing", "done", date(2025, 6, 2)),
                                                          ("process", "done", date(2025, 10, 1))]
        assert rows[0][3] == ["counter.wait_avg_min"] and rows[0][4] == outlets[:2]
    finally:
        s.close()
