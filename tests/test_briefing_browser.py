"""The briefing page in headless Chromium: click the download, get a valid PDF with the right title.

app.py's navigation is the lead's; until it lists pages/briefing.py this test serves the page
through a two-line router script (the same st.navigation + page.run the app does).
"""
from __future__ import annotations

import pytest
from helpers_browser import (
    ROOT,
    require_chromium,
    running_app,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]



@pytest.fixture(scope="module")
def server(tmp_path_factory):
    require_chromium()
    from tests.test_briefing import build_briefing_db

    db = build_briefing_db(tmp_path_factory)
    tmp = tmp_path_factory.mktemp("briefing_browser")
    app = tmp / "briefing_app.py"
    app.write_text(
        "import streamlit as st\n"
        f"st.navigation([st.Page({str(ROOT / 'pages' / 'briefing.py')!r}, title='简报', url_path='briefing',"
        " default=True)]).run()\n", encoding="utf-8")
    with running_app(db, tmp, script=app, env={"PYTHONPATH": str(ROOT)}, timeout=60) as (base, _):
        yield base, tmp, db


def test_download_builds_a_pdf_with_the_title(server, browser):
    from pypdf import PdfReader

    base, tmp, _ = server
    page = browser.new_page(accept_downloads=True, viewport={"width": 1400, "height": 1000})
    page.goto(base, wait_until="networkidle")
    build = page.get_by_role("button", name="生成PDF")
    build.wait_for(timeout=60_000)
    preview = page.get_by_text("摘要预览")
    preview.wait_for(timeout=30_000)
    build.click()  # built on the click with its progress bar; only then is the PDF offered
    download = page.get_by_role("button", name="下载PDF")
    download.wait_for(timeout=120_000)
    page.get_by_text("已生成（").first.wait_for(timeout=30_000)  # the bar's last text: size and time
    with page.expect_download(timeout=60_000) as info:
        download.click()
    dl = info.value
    path = tmp / dl.suggested_filename
    dl.save_as(path)
    page.screenshot(path=str(tmp / "briefing_page.png"), full_page=True)
    data = path.read_bytes()
    assert data[:5] == b"%PDF-" and data.rstrip().endswith(b"%%EOF")
    assert path.name.startswith("BankPulse_briefing_") and path.suffix == ".pdf"
    reader = PdfReader(str(path))
    assert len(reader.pages) >= 3
    from metrics.periods import label, parse_period

    code = path.name.split("_")[2]  # BankPulse_briefing_<period>_<scope>_<lang>.pdf
    period = label(*parse_period(code), "zh")
    assert reader.metadata.title == f"BankPulse 经营简报 {period} 全行", (reader.metadata.title, period)
