"""调整与整改 page (pages/actions.py) through app.py in AppTest, on the demo store with its seeded
plans, inspections and notices (data/demo/plans.py): the list and counts, a plan's detail, a
pre-filled plan born from a finding's link, a refused form that writes nothing, a move through the
declared table, and a notice's failed re-check that reopens it."""

from __future__ import annotations

import pytest
from helpers_app import open_app

from data.store import open_store

PAGE = "pages/actions.py"


def _cur(db):
    """A cursor on the app's own connection (one DuckDB connection per process)."""
    return open_store(db).cursor()


def _count(db, sql: str) -> int:
    return _cur(db).execute(sql).fetchone()[0]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_seeded_plans_and_notices_are_listed(app_db, lang):
    at = open_app(PAGE, lang)
    assert not at.exception, at.exception
    table = at.dataframe(key="ac_table").value
    assert len(table) == _count(app_db, "SELECT count(*) FROM ops.plans")
    ids = set(table.iloc[:, 0])
    assert all(i.startswith("FA-") for i in ids)
    metrics = {m.label: m.value for m in at.metric}
    open_label = "在办方案" if lang == "zh" else "Open plans"
    assert int(metrics[open_label]) == _count(
        app_db, "SELECT count(*) FROM ops.plans WHERE status IN ('proposed','evaluated','approved','in_progress')")
    notices = at.dataframe(key="ac_ntable").value
    assert len(notices) == _count(app_db, "SELECT count(*) FROM ops.notices")


def test_a_link_from_a_finding_fills_the_form_and_the_plan_keeps_its_origin(app_db):
    con = _cur(app_db)
    event_id, title = con.execute("SELECT event_id, title FROM main.market_events ORDER BY event_date LIMIT 1").fetchone()
    branch = con.execute("SELECT branch_id FROM main.branches WHERE level = 'outlet' ORDER BY 1 LIMIT 1").fetchone()[0]
    at = open_app(PAGE, query={"new": "1", "origin_kind": "market_event", "origin_ref": event_id,
                               "origin_label": title, "kpi": "credit.overdue_rate", "branches": branch})
    assert not at.exception, at.exception
    assert at.multiselect(key="ac_f_kpis").value == ["credit.overdue_rate"]
    assert at.multiselect(key="ac_f_branches").value == [branch]
    assert at.text_input(key="ac_f_owner").value == "风险管理部"  # suggested from the KPI's category
    at.text_input(key="ac_f_title").input("LPR 下调后的按揭定价调整")
    at.text_area(key="ac_f_change").input("存量按揭重定价提醒前移一个月")
    at.text_area(key="ac_f_steps").input("梳理存量按揭｜个人金融部｜2030-01-31")
    at.button(key="ac_f_create").click().run()
    assert not at.exception, at.exception
    con = _cur(app_db)
    row = con.execute("SELECT p.plan_id, p.status, o.origin_kind, o.origin_ref FROM ops.plans p "
                      "JOIN ops.plan_origins o USING (plan_id) WHERE p.title = 'LPR 下调后的按揭定价调整'").fetchone()
    steps = con.execute("SELECT count(*) FROM ops.plan_steps WHERE plan_id = $p", {"p": row[0]}).fetchone()[0]
    assert row[1:] == ("proposed", "market_event", event_id) and steps == 1


def test_a_refused_form_lists_every_problem_and_writes_nothing(app_db):
    before = _count(app_db, "SELECT count(*) FROM ops.plans")
    audit = _count(app_db, "SELECT count(*) FROM ops.audit_log")
    at = open_app(PAGE, query={"new": "1"})
    at.text_area(key="ac_f_steps").input("只有内容没有部门")
    at.button(key="ac_f_create").click().run()
    assert not at.exception, at.exception
    assert any("第 1 行" in e.value for e in at.error)  # the malformed step line, named
    at.text_area(key="ac_f_steps").input("")
    at.button(key="ac_f_create").click().run()
    text = "\n".join(e.value for e in at.error)
    for expected in ("标题", "调整内容", "目标指标", "牵头部门"):  # every missing field at once
        assert expected in text, text
    assert _count(app_db, "SELECT count(*) FROM ops.plans") == before
    assert _count(app_db, "SELECT count(*) FROM ops.audit_log") == audit


def test_a_manager_move_from_the_page_follows_the_table(app_db):
    """The evaluated plan offers 批准 / 驳回 / 撤回 to the admin; 批准 moves it and records the day."""
    at = open_app(PAGE)
    table = at.dataframe(key="ac_table").value
    row = next(i for i, s in enumerate(table.iloc[:, 3]) if s == "已评估")
    plan_id = table.iloc[row, 0]
    at.session_state["ac_selected"] = plan_id
    at.run()
    labels = {b.label for b in at.button}
    assert {"批准", "驳回", "撤回"} <= labels and "开始实施" not in labels
    next(b for b in at.button if b.label == "批准").click().run()
    assert not at.exception, at.exception
    con = _cur(app_db)
    status, approved = con.execute("SELECT status, approved_on FROM ops.plans WHERE plan_id = $p",
                                   {"p": plan_id}).fetchone()
    assert status == "approved" and approved is not None


def test_the_overview_counts_what_is_past_its_deadline(app_db):
    from datetime import date

    late_notices = _count(app_db, f"SELECT count(*) FROM ops.notices WHERE status = 'issued' "
                                  f"AND deadline < DATE '{date.today().isoformat()}'")
    late_plans = _count(app_db, f"SELECT count(DISTINCT p.plan_id) FROM ops.plans p JOIN ops.plan_steps s USING (plan_id) "
                                f"WHERE p.status IN ('approved', 'in_progress') AND s.done_on IS NULL "
                                f"AND s.deadline < DATE '{date.today().isoformat()}'")
    assert late_plans + late_notices > 0, "the seeded demo has overdue items"
    at = open_app("pages/overview.py")
    assert not at.exception, at.exception
    text = next(w.value for w in at.warning if "逾期事项" in w.value)
    assert f"{late_plans} 个调整方案" in text and f"{late_notices} 份整改通知书" in text
