"""Every declared page opened first, by its URL, on a fresh server: app.py routes it.

Streamlit starts a process as a legacy `pages/` app until a script calls `st.navigation`; the
first import of `pages._ui` hands that run over to app.py (pages/_ui/router.py). Without the
handover the page runs bare: no language control, a navigation of raw file names. One fresh
server per page (an empty store; sign-in off, BANKPULSE_AUTH=none).
"""

from __future__ import annotations

import pytest
from helpers_browser import idle, require_chromium, running_app

from pages._ui.pagelist import PAGES

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("p", PAGES, ids=[p.url for p in PAGES])
def test_first_visit_by_url_is_routed_by_app_py(p, browser, tmp_path):
    require_chromium()
    with running_app(tmp_path / "bankpulse.duckdb", tmp_path, timeout=60) as (base, _):
        page = browser.new_page(viewport={"width": 1400, "height": 1000}, locale="zh-CN")
        page.goto(f"{base}/{p.url}")
        page.get_by_role("heading", level=1).first.wait_for(timeout=60_000)
        idle(page)
        sidebar = page.get_by_test_id("stSidebar")
        sidebar.get_by_text("语言 / Language").wait_for(timeout=30_000)  # app.py's control
        sidebar.get_by_text("总览").wait_for(timeout=30_000)  # the declared navigation titles
        assert not sidebar.get_by_text("overview", exact=True).count()  # not v1's file names
        assert page.url.rstrip("/") == (base if p.default else f"{base}/{p.url}")
        assert not page.get_by_test_id("stException").count()
        page.close()
