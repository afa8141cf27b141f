"""The data page in headless Chromium against the real app (a fresh server per module).

Covers what AppTest cannot: the first visit of a fresh server straight to /data (Streamlit's
legacy `pages/` discovery must hand over to app.py's router), a real browser upload of a GBK
CSV, the rendered history table, the language binding in the URL, and CJK glyph rendering
(screenshots in tests/artifacts/).
"""
from __future__ import annotations

import pytest
from helpers_browser import (
    ARTIFACTS,
    idle,
    require_chromium,
    running_app,
)

pytestmark = pytest.mark.browser

HEADER = ("网点编号,网点名称,业务日期,票号,业务类型,客户级别,取号时间,叫号时间,开始办理时间,完成时间,"
          "窗口号,柜员号,状态,等待时长(秒),办理时长(秒)")
ROWS = [
    "0101001,人民路网点,2025-01-03,A001,个人存取款,普通,2025-01-03 09:00:00,2025-01-03 09:05:00,"
    "2025-01-03 09:05:30,2025-01-03 09:10:00,1,T01,已办理,300,270",
    "0101001,人民路网点,2025-01-03,A002,个人存取款,普通,2025-01-03 09:01:00,2025-01-03 09:07:00,"
    "2025-01-03 09:07:30,2025-01-03 09:12:00,2,T02,已办理,360,270",
    "0101001,人民路网点,2025-01-03,A003,对公业务,VIP,2025-01-03 09:02:00,2025-01-03 09:09:00,"
    "2025-01-03 09:09:30,2025-01-03 09:15:00,3,T03,已办理,420,330",
]
FILE_NAME = "柜台叫号明细.csv"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    require_chromium()
    tmp = tmp_path_factory.mktemp("browser")
    with running_app(tmp / "bankpulse.duckdb", tmp, timeout=60) as (base, _):
        yield base, tmp


def _idle(page, timeout=30_000):
    idle(page, timeout, settle=300)


def _open(browser, url):
    page = browser.new_page(viewport={"width": 1400, "height": 1000}, locale="zh-CN")
    page.goto(url)
    page.get_by_role("heading", level=1).first.wait_for(timeout=30_000)
    _idle(page)
    return page


def test_upload_gbk_csv_in_browser(server, browser, tmp_path):
    base, _ = server
    csv = tmp_path / FILE_NAME
    csv.write_bytes(("\n".join([HEADER, *ROWS]) + "\n").encode("gbk"))
    ARTIFACTS.mkdir(parents=True, exist_ok=True)

    # first visit of a fresh server, straight to the page URL: app.py must still route it
    page = _open(browser, f"{base}/data")
    sidebar = page.get_by_test_id("stSidebar")
    # waits, not instant checks: on a busy machine the router's handover rerun may still be drawing
    page.get_by_role("heading", name="数据管理", level=1).wait_for(timeout=30_000)
    sidebar.get_by_text("语言 / Language").wait_for(timeout=30_000)
    sidebar.get_by_text("总览").wait_for(timeout=30_000)
    assert not sidebar.get_by_text("overview").count()

    page.locator("input[type=file]").first.set_input_files(str(csv))
    page.get_by_text(FILE_NAME).first.wait_for(timeout=15_000)
    _idle(page)  # the upload reruns the script; click once that run is over
    page.get_by_role("button", name="导入", exact=True).click()
    try:
        page.get_by_text("已导入为批次 1").wait_for(timeout=60_000)
    except Exception:
        page.screenshot(path=str(ARTIFACTS / "data_page_failed.png"), full_page=True)
        raise
    history = page.get_by_test_id("stDataFrame").filter(has=page.get_by_text(FILE_NAME))
    # the history grid renders on a canvas; its accessible table carries the cell text
    page.wait_for_function(
        "name => [...document.querySelectorAll('[data-testid=stDataFrame]')]"
        ".some(el => el.innerText.includes(name) || el.querySelector('table')?.innerText.includes(name))",
        arg=FILE_NAME, timeout=30_000)
    assert history.count() >= 1 or page.get_by_text(FILE_NAME).count() >= 2
    sidebar.get_by_text("数据版本：1").wait_for(timeout=30_000)
    page.wait_for_timeout(500)
    page.screenshot(path=str(ARTIFACTS / "data_page.png"), full_page=True)
    page.close()


def test_english_via_url(server, browser):
    base, _ = server
    page = _open(browser, f"{base}/data?lang=en")
    page.get_by_role("heading", name="Data", level=1).wait_for(timeout=30_000)
    page.get_by_test_id("stBaseButton-primary").filter(has_text="Load").wait_for(timeout=30_000)
    page.get_by_text("Load history").wait_for()
    page.wait_for_timeout(500)
    page.screenshot(path=str(ARTIFACTS / "data_page_en.png"), full_page=True)
    # the language stays in the URL across page switches
    page.get_by_test_id("stSidebar").get_by_text("Overview").click()
    page.get_by_role("heading", name="Overview", level=1).wait_for(timeout=30_000)
    assert "lang=en" in page.url
    page.close()


def test_language_control_switches(server, browser):
    base, _ = server
    page = _open(browser, f"{base}/data")
    page.get_by_test_id("stSidebar").get_by_text("English", exact=True).click()
    page.get_by_role("heading", name="Data", level=1).wait_for(timeout=30_000)
    assert "lang=en" in page.url
    page.close()
