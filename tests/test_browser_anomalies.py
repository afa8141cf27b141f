"""The 异常预警 Anomalies page in headless Chromium against the real app (the shared `demo_server`).

Covers what AppTest cannot: selecting a row of the anomaly list (a canvas data grid), the detail
panel (series with its band, explanation), acknowledging through the triage form and seeing the
new status in the list. Screenshots in tests/artifacts/ (zh and en).
"""
from __future__ import annotations

import pytest
from helpers_browser import ARTIFACTS, idle

pytestmark = pytest.mark.browser

_idle = idle


def _open(browser, url, heading):
    page = browser.new_page(viewport={"width": 1400, "height": 1100}, locale="zh-CN")
    page.goto(url)
    page.get_by_role("heading", name=heading, level=1).wait_for(timeout=60_000)
    _idle(page)
    return page


def _select_first_row(page, heading: str | None = None):
    """Select the first data row (a canvas grid: click its selection cell); with `heading`, retry
    until the details below the list appear (a click during a rerun can be lost on a busy machine)."""
    for attempt in range(4):
        _click_first_row(page)
        if heading is None:
            return
        try:
            page.get_by_role("heading", name=heading).wait_for(timeout=15_000)
            return
        except Exception:
            if attempt == 3:
                raise
            page.wait_for_timeout(1000)


def _click_first_row(page):
    """Click the row-selection cell of the first data row of the list (a canvas grid)."""
    grid = page.get_by_test_id("stDataFrame").first
    grid.wait_for(timeout=30_000)
    grid.scroll_into_view_if_needed()
    box = grid.bounding_box()
    page.mouse.click(box["x"] + 18, box["y"] + 35 + 17)  # header row ≈ 35 px, data rows ≈ 35 px
    _idle(page)


def test_select_and_acknowledge(demo_server, browser):
    base, db = demo_server
    page = _open(browser, f"{base}/anomalies", "异常预警")
    page.get_by_text("在上表中选择一条异常查看详情。").wait_for(timeout=30_000)
    _select_first_row(page, "异常详情")
    page.get_by_text("指标走势与预期区间").wait_for()
    # the triage form: new → acknowledged, with an owner
    form = page.get_by_test_id("stForm").first
    box = form.get_by_test_id("stSelectbox").first
    box.click()
    box.locator("input").fill("已确认")
    page.keyboard.press("Enter")
    page.wait_for_timeout(300)
    assert "已确认" in box.inner_text() + box.locator("input").input_value()
    form.get_by_label("责任部门").fill("运营管理部")
    form.get_by_role("button", name="保存").click()
    _idle(page)
    # the list shows the new status: filter it by 已确认 and find exactly that anomaly
    status = page.get_by_test_id("stSelectbox").first
    status.click()
    status.locator("input").fill("已确认")
    page.keyboard.press("Enter")
    _idle(page)
    page.get_by_text("共 1 条").wait_for(timeout=30_000)
    _select_first_row(page, "异常详情")
    page.get_by_text("处理记录").click()
    page.wait_for_timeout(800)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "anomalies_zh.png"), full_page=True)
    page.close()


def test_english_details(demo_server, browser):
    base, _ = demo_server
    page = _open(browser, f"{base}/anomalies?lang=en", "Anomalies")
    _select_first_row(page, "Anomaly details")
    page.get_by_text("Series with its expected band").wait_for()
    page.wait_for_timeout(800)
    # the chart's axis follows the series, not a heavy-tailed band (a wait in minutes, not millions)
    plot = page.locator(".js-plotly-plot").first
    plot.wait_for(timeout=30_000)
    top = plot.evaluate("el => el._fullLayout.yaxis.range[1]")
    # the series and the expectation (traces 2 and 3; 0 and 1 draw the band), as plotly.js decoded them
    observed = plot.evaluate("el => Math.max(...[2, 3].flatMap(i => Array.from(el._fullData[i].y))"
                             ".filter(v => Number.isFinite(v)))")
    assert top < 3 * max(observed, 1e-9), (top, observed)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "anomalies_en.png"), full_page=True)
    page.close()
