"""考核 in headless Chromium, against the real app served as `make run` serves it, with local
accounts: a manager of 华东区 opens the scorecard, sees their region's outlets with their bank-wide
ranks, drills from 解放路网点's score to its criteria and on to a KPI's trend at that outlet; the
numbers are those of the hand-computed world (tests/helpers_scorecard.py). Screenshots in
tests/artifacts/."""
from __future__ import annotations

import pytest
from conftest import PASSWORD
from helpers_browser import ARTIFACTS, idle, require_chromium, running_app
from helpers_scorecard import A, build_world

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    require_chromium()
    from data.users import UserStore

    tmp = tmp_path_factory.mktemp("scorecard_browser")
    store = build_world(tmp)
    UserStore(store).add("test-setup", "mgr", "manager", password=PASSWORD, branches=A)
    db = store.path
    store.close()
    with running_app(db, tmp, env={"BANKPULSE_AUTH": "local"}, timeout=90) as (base, _):
        yield base


def _choose(page, label: str, option: str) -> None:
    page.get_by_test_id("stSelectbox").filter(has_text=label).click()
    page.get_by_role("option", name=option, exact=True).click()
    idle(page)


def test_a_manager_drills_from_a_branch_score_to_a_kpi(server):
    from helpers_browser import chromium

    with chromium() as browser:
        context = browser.new_context(viewport={"width": 1400, "height": 1400}, locale="zh-CN")
        page = context.new_page()
        page.goto(f"{server}/scorecard")
        page.wait_for_selector("[data-testid=stApp]", timeout=60_000)
        form = page.get_by_test_id("stForm")
        form.locator("input[type=text]").fill("mgr")
        form.locator("input[type=password]").fill(PASSWORD)
        page.keyboard.press("Enter")
        page.get_by_role("heading", name="考核", level=1).wait_for(timeout=60_000)
        idle(page)
        _choose(page, "考核期间", "2025年2月")
        ranking = page.get_by_test_id("stDataFrame").first
        ranking.wait_for(timeout=30_000)
        page.get_by_text("得分与排名").wait_for()
        # the drill-down: 解放路网点, third of the three scored outlets of the bank
        _choose(page, "查看明细", "解放路网点（0101002）")
        page.get_by_role("heading", name="解放路网点 的得分明细").wait_for(timeout=30_000)
        metrics = page.get_by_test_id("stMetric")
        assert "22.5" in metrics.nth(0).inner_text()
        assert "第3名 / 共3个" in metrics.nth(1).inner_text()
        # … and on to a KPI: the outlet's CSAT over the last twelve months
        _choose(page, "查看指标走势", "客户满意度")
        chart = page.get_by_test_id("stPlotlyChart")
        chart.wait_for(timeout=30_000)
        assert "客户满意度" in chart.inner_text()
        page.get_by_text("解放路网点近12期的客户满意度").wait_for()
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "scorecard_drill_zh.png"), full_page=True)
        context.close()
