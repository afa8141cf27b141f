"""The loop of issue 13 in headless Chromium, against the real app served as `make run` serves it,
with local accounts: an analyst creates a plan from an anomaly (one click, pre-filled), a manager
signs in apart and approves it, the steps are completed and the plan closed, and its effect
section appears; a rectification notice is issued, reported rectified, fails its re-check and is
reopened with a new deadline. The server holds the store (one writer process), so what it wrote
is read from a copy of the file and its WAL. Screenshots in tests/artifacts/ (zh and en).
"""
from __future__ import annotations

import shutil

import pytest
from conftest import PASSWORD
from helpers_browser import ARTIFACTS, idle, require_chromium, running_app

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server(scanned_demo_db, tmp_path_factory):
    require_chromium()
    from data.store import Store
    from data.users import UserStore

    tmp = tmp_path_factory.mktemp("actions")
    db = tmp / "bankpulse.duckdb"
    shutil.copy(scanned_demo_db, db)
    s = Store(db)
    users = UserStore(s)
    users.add("test-setup", "adm", "admin", password=PASSWORD)
    users.add("test-setup", "ana", "analyst", password=PASSWORD, region="*")
    users.add("test-setup", "mgr", "manager", password=PASSWORD, region="*")
    s.close()
    with running_app(db, tmp, env={"BANKPULSE_AUTH": "local"}, timeout=90) as (base, _):
        yield base, db, tmp


def snapshot(db, tmp):
    from data.store import Store

    d = tmp / "snap"
    shutil.rmtree(d, ignore_errors=True)
    d.mkdir()
    shutil.copy(db, d / db.name)
    wal = db.with_name(db.name + ".wal")
    if wal.exists():
        shutil.copy(wal, d / wal.name)
    return Store(d / db.name)


def read(server, sql: str, params: dict | None = None):
    base, db, tmp = server
    s = snapshot(db, tmp)
    try:
        return s.cursor().execute(sql, params or {}).fetchall()
    finally:
        s.close()


def signed_in_page(browser, base: str, name: str, path: str, heading: str, locale: str = "zh-CN"):
    context = browser.new_context(viewport={"width": 1400, "height": 1200}, locale=locale)
    page = context.new_page()
    page.goto(f"{base}{path}")
    page.wait_for_selector("[data-testid=stApp]", timeout=60_000)
    form = page.get_by_test_id("stForm")
    form.locator("input[type=text]").fill(name)
    form.locator("input[type=password]").fill(PASSWORD)
    page.keyboard.press("Enter")
    page.get_by_role("heading", name=heading, level=1).wait_for(timeout=60_000)
    idle(page)
    return page


def click_first_row(page, index: int = 0) -> None:
    grid = page.get_by_test_id("stDataFrame").nth(index)
    grid.wait_for(timeout=30_000)
    grid.scroll_into_view_if_needed()
    box = grid.bounding_box()
    page.mouse.click(box["x"] + 18, box["y"] + 35 + 17)
    idle(page)


def press(page, name: str) -> None:
    page.get_by_role("button", name=name, exact=True).first.click()
    idle(page)


def test_plan_from_an_anomaly_approved_done_and_measured(server, browser):
    base = server[0]
    ana = signed_in_page(browser, base, "ana", "/anomalies", "异常预警")
    scope = ana.get_by_test_id("stSelectbox").nth(3)  # 范围: an outlet's flag, so the plan has branches
    scope.click()
    scope.locator("input").fill("网点")
    ana.keyboard.press("Enter")
    idle(ana)
    for attempt in range(4):  # a click during a rerun can be lost on a busy machine
        click_first_row(ana)
        try:
            ana.get_by_role("heading", name="异常详情").wait_for(timeout=15_000)
            break
        except Exception:
            if attempt == 3:
                raise
    ana.get_by_role("link", name="据此新建调整方案").first.click()
    ana.get_by_role("heading", name="调整与整改", level=1).wait_for(timeout=60_000)
    idle(ana)
    assert "origin_kind=anomaly" in ana.url
    form = ana.get_by_test_id("stForm").first
    form.get_by_label("方案名称").fill("高峰时段增开窗口")
    form.get_by_label("调整内容").fill("周一、周五上午各增开一个综合窗口")
    form.get_by_label("必要性").fill("等候时间超标")
    form.get_by_label("可行性").fill("可从后台调配柜员")
    form.get_by_label("预期影响").fill("平均等候缩短约5分钟")
    form.get_by_label("实施步骤", exact=False).fill("调配柜员｜人力资源部｜2024-11-30\n调整排班｜运营管理部｜2024-12-15")
    for part, value in (("year", "2024"), ("month", "10"), ("day", "01")):  # a segmented date field
        seg = form.get_by_role("spinbutton", name=f"{part}, 生效日期")
        seg.click()
        seg.press_sequentially(value)
    ana.screenshot(path=str(ARTIFACTS / "actions_new_plan_zh.png"), full_page=True)
    form.get_by_role("button", name="提交方案").click()
    idle(ana)
    ana.get_by_text("已提交方案").wait_for(timeout=30_000)
    (plan_id, origin_kind), = read(server, "SELECT p.plan_id, o.origin_kind FROM ops.plans p JOIN ops.plan_origins o "
                                           "USING (plan_id) WHERE p.title = '高峰时段增开窗口'")
    assert origin_kind == "anomaly"
    ana.get_by_role("heading", name=f"方案详情 {plan_id}").wait_for(timeout=30_000)
    press(ana, "评估")
    ana.get_by_text("已执行：评估").wait_for(timeout=30_000)
    assert ana.get_by_role("button", name="批准", exact=True).count() == 0  # an analyst may not approve

    mgr = signed_in_page(browser, base, "mgr", f"/actions?plan={plan_id}", "调整与整改")
    mgr.get_by_role("heading", name=f"方案详情 {plan_id}").wait_for(timeout=30_000)
    press(mgr, "批准")
    mgr.get_by_text("已执行：批准").wait_for(timeout=30_000)
    press(mgr, "开始实施")
    mgr.get_by_text("已执行：开始实施").wait_for(timeout=30_000)
    for _ in range(2):
        step_form = mgr.get_by_test_id("stForm").filter(has_text="标记步骤完成")
        step_form.get_by_role("button", name="标记步骤完成").click()
        idle(mgr)
    press(mgr, "完成")
    mgr.get_by_text("已执行：完成").wait_for(timeout=30_000)
    (status, approved, done), = read(server, "SELECT status, approved_on, done_on FROM ops.plans WHERE plan_id = $p",
                                     {"p": plan_id})
    assert status == "done" and approved is not None and done is not None
    assert read(server, "SELECT count(*) FROM ops.plan_steps WHERE plan_id = $p AND done_on IS NULL",
                {"p": plan_id}) == [(0,)]
    mgr.get_by_text("效果评估").first.wait_for(timeout=30_000)
    # the effect section answers: an estimate with its interval, or the reason it cannot be made
    effect = mgr.get_by_text("效果估计").or_(mgr.get_by_text("无法评估")).first
    effect.wait_for(timeout=60_000)
    mgr.screenshot(path=str(ARTIFACTS / "actions_plan_done_zh.png"), full_page=True)

    en = signed_in_page(browser, base, "mgr", f"/actions?plan={plan_id}&lang=en", "Actions & rectification", "en-US")
    en.get_by_role("heading", name=f"Plan {plan_id}").wait_for(timeout=30_000)
    en.screenshot(path=str(ARTIFACTS / "actions_plan_done_en.png"), full_page=True)
    for p in (ana, mgr, en):
        p.context.close()


def test_notice_rectified_fails_its_recheck_and_reopens(server, browser):
    base = server[0]
    adm = signed_in_page(browser, base, "adm", "/actions", "调整与整改")
    adm.get_by_role("tab", name="检查与整改").click()
    idle(adm)
    adm.get_by_test_id("stExpander").filter(has_text="登记检查").locator("summary").click()
    form = adm.get_by_test_id("stForm").filter(has_text="保存检查")
    branch = read(server, "SELECT branch_id FROM main.branches WHERE level = 'outlet' ORDER BY 1 LIMIT 1")[0][0]
    form.get_by_label("检查名称").fill("大堂服务突击检查")
    form.get_by_label("检查发现", exact=False).fill(f"{branch}｜取号机故障未及时报修｜中")
    form.get_by_role("button", name="保存检查").click()
    idle(adm)
    adm.get_by_text("已登记检查").wait_for(timeout=30_000)
    adm.get_by_test_id("stExpander").filter(has_text="下发整改通知书").locator("summary").click()
    issue = adm.get_by_test_id("stForm").filter(has_text="下发")
    issue.get_by_label("责任部门").fill("运营管理部")
    issue.get_by_role("button", name="下发", exact=True).click()
    idle(adm)
    adm.get_by_text("已下发整改通知书").wait_for(timeout=30_000)
    (notice_id,), = read(server, "SELECT n.notice_id FROM ops.notices n JOIN ops.findings f USING (finding_id) "
                                 "WHERE f.text = '取号机故障未及时报修'")

    def open_notice(page):  # the link to a notice (signed in by the session cookie: no password)
        page.goto(f"{base}/actions?notice={notice_id}")
        page.wait_for_selector("[data-testid=stApp]", timeout=60_000)
        idle(page)
        page.get_by_role("heading", name=f"整改通知书 {notice_id}").wait_for(timeout=30_000)

    open_notice(adm)
    box = adm.get_by_label("整改措施 / 说明", exact=False)
    box.fill("更换取号机并建立每日巡检")
    press(adm, "报告已整改")
    adm.get_by_text("已执行：报告已整改").wait_for(timeout=30_000)
    open_notice(adm)
    adm.get_by_label("整改措施 / 说明", exact=False).fill("复查时取号机仍间歇故障")
    press(adm, "复查未通过")
    adm.get_by_text("已执行：复查未通过").wait_for(timeout=30_000)
    (status, rnd, first, deadline), = read(server, "SELECT status, round, first_deadline, deadline FROM ops.notices "
                                                  "WHERE notice_id = $n", {"n": notice_id})
    assert status == "issued" and rnd == 2 and deadline >= first
    actions = [r[0] for r in read(server, "SELECT action FROM ops.notice_history WHERE notice_id = $n "
                                          "ORDER BY happened_at", {"n": notice_id})]
    assert actions == ["issue", "rectify", "recheck_fail"]
    adm.screenshot(path=str(ARTIFACTS / "actions_notice_reopened_zh.png"), full_page=True)
    adm.context.close()
