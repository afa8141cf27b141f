"""Every monitoring page in a real browser: it renders, a filter change lands in the URL, a reload
of that URL shows the same view, and a screenshot of each page is kept for a person to look at.

The server runs the real app (headless Chromium via Playwright, /usr/bin/chromium) on a small demo
store; sign-in is off for this run (BANKPULSE_AUTH=none, the test-only mode bound to 127.0.0.1).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from helpers_browser import ARTIFACTS
from helpers_browser import idle as _idle

pytestmark = pytest.mark.browser

PAGES = [  # url path, Chinese title, English title
    ("", "总览", "Overview"),
    ("counter", "柜台业务", "Counter"),
    ("credit", "信贷", "Credit"),
    ("feedback", "客户反馈", "Feedback"),
    ("market", "市场", "Market"),
    ("anomalies", "异常预警", "Anomalies"),
    ("briefing", None, None),
]


def _goto(browser, url):
    page = browser.new_page(viewport={"width": 1400, "height": 1100}, locale="zh-CN")
    page.goto(url)
    page.wait_for_selector("[data-testid=stApp]", timeout=60_000)
    _idle(page)
    return page


@pytest.mark.parametrize(("path", "zh", "en"), PAGES)
def test_page_filter_in_url_survives_reload(demo_server, browser, path, zh, en):
    base, _db = demo_server
    page = _goto(browser, f"{base}/{path}")
    if zh:
        page.get_by_role("heading", name=zh, level=1).wait_for(timeout=60_000)
    assert not page.get_by_test_id("stException").count()
    sidebar = page.get_by_test_id("stSidebar")
    grain = sidebar.get_by_text("季", exact=True)
    if grain.count():  # pages with the shared filters: switch the grain to quarter
        grain.first.click()
        _idle(page)
        assert "grain=quarter" in page.url
    page.screenshot(path=str(ARTIFACTS / f"page_{path or 'overview'}_zh.png"), full_page=True)
    url = page.url
    page.reload()
    page.wait_for_selector("[data-testid=stApp]", timeout=60_000)
    _idle(page)
    assert page.url == url
    if grain.count():
        # the reloaded view has the quarter grain selected again (the active segment of the control)
        selected = sidebar.locator("button[aria-checked=true]")
        assert "季" in [t.strip() for t in selected.all_inner_texts()], selected.all_inner_texts()
    assert not page.get_by_test_id("stException").count()
    # the same page in English, from the URL
    page.goto(f"{base}/{path}?lang=en")
    page.wait_for_selector("[data-testid=stApp]", timeout=60_000)
    _idle(page)
    if en:
        page.get_by_role("heading", name=en, level=1).wait_for(timeout=60_000)
    assert not page.get_by_test_id("stException").count()
    page.screenshot(path=str(ARTIFACTS / f"page_{path or 'overview'}_en.png"), full_page=True)
    page.close()


del shutil, Path
