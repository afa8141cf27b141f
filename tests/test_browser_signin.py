"""Local sign-in in a real browser, served the way `make run` serves it (`streamlit run server.py`):
the HttpOnly session cookie keeps a person signed in across a reload and in a copied link, one
tab's sign-out reaches the other tabs, a disabled account's cookie stops working, a forged cookie
and a cross-site exchange are refused and audited, and the served app watches no files (its log
holds no inotify message).

The server holds the DuckDB file (one writer process), so audit rows are read from a copy of the
file and its WAL (`snapshot`). People (tests/conftest.py): adm (admin), ana and vw (analyst and
viewer of outlet 0101001).
"""
from __future__ import annotations

import json
import shutil
import urllib.error
import urllib.request

import pytest
from conftest import PASSWORD
from helpers_browser import ARTIFACTS, idle, require_chromium, running_app

from data import audit
from data.sessions import COOKIE

pytestmark = pytest.mark.browser
FILTERS = "grain=quarter&branch=0101001"


@pytest.fixture(scope="module")
def server(demo_db_template, tmp_path_factory):
    require_chromium()
    from data.store import Store
    from data.users import UserStore

    tmp = tmp_path_factory.mktemp("signin")
    db = tmp / "bankpulse.duckdb"
    shutil.copy(demo_db_template, db)
    s = Store(db)
    users = UserStore(s)
    users.add("test-setup", "adm", "admin", password=PASSWORD)
    for name, role in (("ana", "analyst"), ("vw", "viewer")):
        users.add("test-setup", name, role, password=PASSWORD, branches="0101001")
    s.close()
    with running_app(db, tmp, env={"BANKPULSE_AUTH": "local"}, timeout=90) as (base, proc):
        yield base, db, tmp, proc


def snapshot(db, tmp):
    """A copy of the server's store (file + WAL), opened apart from it: what the server wrote."""
    from data.store import Store

    d = tmp / "snap"
    shutil.rmtree(d, ignore_errors=True)
    d.mkdir()
    shutil.copy(db, d / db.name)
    wal = db.with_name(db.name + ".wal")
    if wal.exists():
        shutil.copy(wal, d / wal.name)
    return Store(d / db.name)


def rows(server, action: str):
    base, db, tmp, _ = server
    s = snapshot(db, tmp)
    try:
        return audit.search(s, action=action)
    finally:
        s.close()


def open_page(context, url: str):
    page = context.new_page()
    page.goto(url)
    page.wait_for_selector("[data-testid=stApp]", timeout=60_000)
    idle(page)
    return page


def sign_in(page, name: str) -> None:
    form = page.get_by_test_id("stForm")
    form.locator("input[type=text]").fill(name)
    form.locator("input[type=password]").fill(PASSWORD)
    page.keyboard.press("Enter")
    page.get_by_test_id("stSidebar").get_by_text(f"{name} ·").wait_for(timeout=60_000)
    idle(page)
    page.wait_for_timeout(800)  # the page's post of the handover code


def signed_in_as(page, name: str) -> bool:
    return page.get_by_test_id("stSidebar").get_by_text(f"{name} ·").count() == 1


def sign_in_form(page) -> bool:
    return page.locator("input[type=password]").count() == 1


def session_cookie(context) -> dict | None:
    return next((c for c in context.cookies() if c["name"] == COOKIE), None)


def test_reload_link_and_sign_out_across_tabs(server, browser):
    base = server[0]
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="zh-CN")
    tab1 = open_page(context, f"{base}/counter?{FILTERS}")  # a deep link before sign-in: kept
    tab1.locator("input[type=password]").wait_for(timeout=60_000)
    tab1.screenshot(path=str(ARTIFACTS / "signin_form_zh.png"))
    sign_in(tab1, "vw")
    tab1.get_by_role("heading", name="柜台业务", level=1).wait_for(timeout=60_000)
    url = tab1.url
    assert "/counter" in url and "grain=quarter" in url and "branch=0101001" in url

    c = session_cookie(context)
    assert c is not None and c["httpOnly"] and c["sameSite"] == "Strict" and not c["secure"]  # plain http here
    assert COOKIE not in tab1.evaluate("document.cookie")  # the page's scripts cannot read it

    tab1.reload()  # F5: no password, the same page and filters
    tab1.wait_for_selector("[data-testid=stApp]", timeout=60_000)
    idle(tab1)
    tab1.get_by_role("heading", name="柜台业务", level=1).wait_for(timeout=60_000)
    assert signed_in_as(tab1, "vw") and not sign_in_form(tab1) and tab1.url == url
    selected = tab1.get_by_test_id("stSidebar").locator("button[aria-checked=true]").all_inner_texts()
    assert "季" in [t.strip() for t in selected], selected
    tab1.screenshot(path=str(ARTIFACTS / "signin_reloaded_zh.png"), full_page=True)

    tab2 = open_page(context, url)  # the copied link in a new tab: the same view, no password
    tab2.get_by_role("heading", name="柜台业务", level=1).wait_for(timeout=60_000)
    assert signed_in_as(tab2, "vw") and not sign_in_form(tab2) and tab2.url == url
    en = open_page(context, f"{base}/counter?{FILTERS}&lang=en")
    en.get_by_role("heading", name="Counter", level=1).wait_for(timeout=60_000)
    assert signed_in_as(en, "vw")
    en.screenshot(path=str(ARTIFACTS / "signin_link_en.png"), full_page=True)

    tab1.get_by_role("button", name="退出登录").click()  # sign out in one tab
    tab1.locator("input[type=password]").wait_for(timeout=60_000)
    idle(tab1)
    tab1.wait_for_timeout(800)  # the page's post that clears the cookie
    assert session_cookie(context) is None

    en.get_by_test_id("stSidebar").get_by_text("中文", exact=True).click()  # the other tab's next interaction
    en.locator("input[type=password]").wait_for(timeout=60_000)
    idle(en)
    assert not signed_in_as(en, "vw")
    assert en.get_by_text("您的登录已结束").count() == 1
    en.screenshot(path=str(ARTIFACTS / "signin_signed_out_elsewhere_zh.png"))
    en.get_by_test_id("stSidebar").get_by_text("English", exact=True).click()
    idle(en)
    en.screenshot(path=str(ARTIFACTS / "signin_signed_out_elsewhere_en.png"))
    tab2.reload()  # and a reload asks for the password again
    tab2.locator("input[type=password]").wait_for(timeout=60_000)
    context.close()

    assert len(rows(server, "session_resume")) >= 3  # the reload and the two opened links
    ended = rows(server, "session_revoked")
    assert set(ended["user_name"]) == {"vw"}


def test_a_disabled_users_cookie_stops_working(server, browser):
    base = server[0]
    ana = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = open_page(ana, base)
    sign_in(page, "ana")
    assert session_cookie(ana) is not None

    admin = browser.new_context(viewport={"width": 1400, "height": 1000})
    adm = open_page(admin, f"{base}/admin")
    sign_in(adm, "adm")
    adm.get_by_role("heading", name="用户与审计", level=1).wait_for(timeout=60_000)
    adm.get_by_test_id("stSelectbox").filter(has_text="选择用户").click()
    adm.get_by_role("option", name="ana", exact=True).click()
    idle(adm)
    adm.get_by_role("button", name="停用", exact=True).click()
    adm.get_by_text("已保存").wait_for(timeout=60_000)
    adm.screenshot(path=str(ARTIFACTS / "signin_admin_disable_zh.png"))

    page.reload()  # the cookie is still in ana's browser, and refused
    page.locator("input[type=password]").wait_for(timeout=60_000)
    idle(page)
    assert not signed_in_as(page, "ana")
    assert page.get_by_text("您的登录已失效").count() == 1
    ana.close()
    admin.close()
    r = rows(server, "session_refused")
    mine = r[r["user_name"] == "ana"]
    assert len(mine) == 1 and '"reason": "revoked"' in mine.iloc[0]["detail"]
    assert mine.iloc[0]["outcome"] == "denied"


def test_a_forged_cookie_is_refused_and_audited(server, browser):
    base = server[0]
    context = browser.new_context()
    context.add_cookies([{"name": COOKIE, "value": "A" * 43, "url": base, "httpOnly": True, "sameSite": "Strict"}])
    page = open_page(context, base)
    page.locator("input[type=password]").wait_for(timeout=60_000)
    assert sign_in_form(page) and page.get_by_text("您的登录已失效").count() == 0  # the bare form
    page.get_by_test_id("stSidebar").get_by_text("English", exact=True).click()  # more runs: audited once
    idle(page)
    context.close()
    r = rows(server, "session_refused")
    forged = r[r["user_name"] == "anonymous"]
    assert len(forged) == 1 and '"reason": "unknown"' in forged.iloc[0]["detail"]


def _post(url: str, headers: dict[str, str], body: bytes = b"{}") -> int:
    req = urllib.request.Request(url, data=body, method="POST", headers={"Content-Type": "application/json",
                                                                         **headers})
    try:
        return urllib.request.urlopen(req, timeout=10).status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_the_cookie_routes_refuse_other_sites_and_bad_codes(server):
    base = server[0]
    host = base.split("//", 1)[1]
    code = json.dumps({"code": "A" * 43}).encode()
    assert _post(f"{base}/_bp/session", {"Origin": "http://evil.example"}, code) == 403
    assert _post(f"{base}/_bp/session", {}, code) == 403  # no Origin: not from our page
    assert _post(f"{base}/_bp/session", {"Origin": base, "Sec-Fetch-Site": "cross-site"}, code) == 403
    assert _post(f"{base}/_bp/session", {"Origin": base, "Host": host}, code) == 403  # same-origin, unknown code
    assert _post(f"{base}/_bp/signout", {"Origin": "http://evil.example"}) == 403
    assert _post(f"{base}/_bp/signout", {"Origin": base}) == 204
    r = rows(server, "session_refused")
    reasons = [json.loads(d)["reason"] for d in r["detail"]]
    assert reasons.count("cross_origin") >= 3 and "unknown" in reasons


def test_the_served_app_watches_no_files(server):
    *_, tmp, proc = server
    log = (tmp / "server.log").read_text()
    assert "inotify" not in log.lower(), log
    assert "--server.fileWatcherType=none" in proc.args and "--server.runOnSave=false" in proc.args
    assert "server.py" in " ".join(proc.args)
