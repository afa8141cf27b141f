"""Issue 16's staffing flow in headless Chromium, against the real app served as `make run` serves it,
with local accounts: a manager of one region opens the counter page, reads the staffing section,
turns the largest shortage into a staffing plan with one click (the form arrives filled in) and
submits it; the stored plan has kind staffing and origin staffing_advice with the suggestion's
reference, computed apart here from metrics.staffing for the manager's boundary; back on the
counter page (English) the suggestion names the plan. Screenshots in tests/artifacts/.
"""
from __future__ import annotations

import shutil

import pytest
from conftest import PASSWORD
from helpers_browser import ARTIFACTS, idle, require_chromium, running_app
from playwright.sync_api import expect

pytestmark = pytest.mark.browser
BRANCH = "0201001"  # the manager's branch: their boundary is its region


@pytest.fixture(scope="module")
def server(demo_db, tmp_path_factory):
    require_chromium()
    from data.store import Store
    from data.users import UserStore

    tmp = tmp_path_factory.mktemp("staffing")
    db = tmp / "bankpulse.duckdb"
    shutil.copy(demo_db, db)
    s = Store(db)
    UserStore(s).add("test-setup", "mgr", "manager", password=PASSWORD, branches=BRANCH)
    s.close()
    with running_app(db, tmp, env={"BANKPULSE_AUTH": "local"}, timeout=90) as (base, _):
        yield base, db, tmp


def snapshot(db, tmp):
    """The server's store as it is now (a copy of the file and its WAL: the server holds the writer)."""
    from data.store import Store

    d = tmp / "snap"
    shutil.rmtree(d, ignore_errors=True)
    d.mkdir()
    shutil.copy(db, d / db.name)
    wal = db.with_name(db.name + ".wal")
    if wal.exists():
        shutil.copy(wal, d / wal.name)
    return Store(d / db.name)


def expected_first(db, tmp):
    """The manager's largest shortage on the page's default window, and its plan title (metrics.staffing)."""
    from data.users import UserStore
    from metrics import staffing
    from metrics.scope import Scope
    from pages._ui.filters import _default_window

    s = snapshot(db, tmp)
    try:
        bound = UserStore(s).get("mgr").principal().boundary(s)
        first, last = s.query("reads.data_span").first()
        start, end = _default_window(last, first)
        adv = staffing.advice(s, start, end, Scope(branch_ids=bound), staffing.target_from_settings())
        top = staffing.suggestions(adv).iloc[0]
        name = s.cursor().execute("SELECT branch_name FROM main.branches WHERE branch_id = $b",
                                  {"b": top["branch_id"]}).fetchone()[0]
        return bound, top, staffing.plan_texts(top, name, staffing.target_from_settings())
    finally:
        s.close()


def test_a_manager_turns_a_staffing_suggestion_into_a_plan(server, browser):
    from metrics import staffing

    base, db, tmp = server
    bound, top, (title, change) = expected_first(db, tmp)
    assert top["kind"] == "shortage" and top["branch_id"] in bound

    context = browser.new_context(viewport={"width": 1400, "height": 1400}, locale="zh-CN")
    page = context.new_page()
    page.goto(f"{base}/counter")
    page.wait_for_selector("[data-testid=stApp]", timeout=60_000)
    form = page.get_by_test_id("stForm")
    form.locator("input[type=text]").fill("mgr")
    form.locator("input[type=password]").fill(PASSWORD)
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="柜台业务", level=1).wait_for(timeout=60_000)
    idle(page)
    section = page.get_by_role("heading", name="窗口配置建议")
    section.wait_for(timeout=60_000)
    section.scroll_into_view_if_needed()
    text = staffing.suggestion_text(top)
    page.get_by_text(text).first.wait_for(timeout=30_000)
    page.get_by_test_id("stPlotlyChart").nth(5).scroll_into_view_if_needed()  # the surplus / shortage heat map
    page.screenshot(path=str(ARTIFACTS / "counter_staffing_zh.png"), full_page=True)

    links = page.get_by_role("link", name="据此新建调整方案")
    assert links.count() >= 1
    links.first.click()
    page.get_by_role("heading", name="调整与整改", level=1).wait_for(timeout=60_000)
    idle(page)
    assert "origin_kind=staffing_advice" in page.url
    form = page.get_by_test_id("stForm").first
    # the fields fill in as the form's widgets mount: wait for the values rather than read them at once
    expect(form.get_by_label("方案名称")).to_have_value(title, timeout=30_000)
    expect(form.get_by_label("调整内容")).to_have_value(change, timeout=30_000)
    assert form.get_by_role("combobox", name="调整类型").input_value() == "人员配置调整"  # the kind, from the link
    form.get_by_label("必要性").fill("高峰时段排队超过服务标准")
    page.screenshot(path=str(ARTIFACTS / "actions_staffing_plan_zh.png"), full_page=True)
    form.get_by_role("button", name="提交方案").click()
    idle(page)
    page.get_by_text("已提交方案").wait_for(timeout=30_000)

    s = snapshot(db, tmp)
    try:
        rows = s.cursor().execute(
            "SELECT p.plan_id, p.kind, p.title, p.change_text, p.scope_branches, p.necessity, o.origin_ref "
            "FROM ops.plans p JOIN ops.plan_origins o USING (plan_id) WHERE o.origin_kind = 'staffing_advice'"
        ).fetchall()
    finally:
        s.close()
    assert len(rows) == 1
    plan_id, kind, got_title, got_change, branches, necessity, ref = rows[0]
    assert (kind, got_title, got_change, ref) == ("staffing", title, change, staffing.suggestion_ref(top))
    assert list(branches) == [top["branch_id"]] and necessity == "高峰时段排队超过服务标准"

    # back on the counter page, in English: the suggestion names the plan it led to
    page.goto(f"{base}/counter?lang=en")
    page.wait_for_selector("[data-testid=stApp]", timeout=60_000)
    page.get_by_role("heading", name="Staffing advice").wait_for(timeout=60_000)
    idle(page)
    page.get_by_text(staffing.suggestion_text(top, "en")).first.wait_for(timeout=30_000)
    page.get_by_text(f"Plans made from this: {plan_id}").first.wait_for(timeout=30_000)
    page.get_by_role("heading", name="Staffing advice").scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "counter_staffing_en.png"), full_page=True)
    context.close()
