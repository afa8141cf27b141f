"""Single sign-on end to end, offline: the real app (st.login) against a local mock OpenID Connect
provider (oidc-provider-mock), driven in headless Chromium.

The provider knows two people: li (viewer of outlet 0101001, by the `groups` claim) and guest (no
BankPulse group). li signs in, sees only the pages of a viewer, is refused a deep link to the
admin page, and signs out; guest is refused. The sign-ins land in the audit trail.
"""
from __future__ import annotations

import pytest
from helpers_browser import (
    free_port,
    require_chromium,
    running_app,
)

pytestmark = pytest.mark.browser



@pytest.fixture(scope="module")
def sso(tmp_path_factory, demo_db_template):
    require_chromium()
    oidc = pytest.importorskip("oidc_provider_mock")
    import shutil

    tmp = tmp_path_factory.mktemp("oidc")
    db = tmp / "bankpulse.duckdb"
    shutil.copy(demo_db_template, db)
    users = [oidc.User(sub="li", claims={"preferred_username": "li", "name": "Li Ming", "email": "li@bank.example",
                                         "groups": ["bankpulse-viewer", "bankpulse-branch:0101001"]}),
             oidc.User(sub="guest", claims={"email": "guest@bank.example", "groups": ["staff"]})]
    port = free_port()
    with oidc.run_server_in_thread(user_claims=users) as provider:
        issuer = f"http://localhost:{provider.server_port}"
        secrets = tmp / "secrets.toml"
        secrets.write_text(
            "[auth]\n"
            f'redirect_uri = "http://localhost:{port}/oauth2callback"\n'
            'cookie_secret = "test-only-cookie-secret-0123456789abcdef"\n'
            'client_id = "bankpulse"\n'
            'client_secret = "test-only-client-secret"\n'
            f'server_metadata_url = "{issuer}/.well-known/openid-configuration"\n', encoding="utf-8")
        with running_app(db, tmp, env={"BANKPULSE_AUTH": "oidc"}, port=port, host="localhost", timeout=60,
                         extra_args=(f"--secrets.files={secrets}",)) as (base, proc):
            yield base, db, proc


def _sign_in(page, base: str, who: str) -> None:
    page.goto(base)
    page.get_by_role("button", name="使用单点登录").click()
    page.wait_for_url("**/oauth2/authorize**", timeout=30_000)
    page.locator(f"button[name=sub][value={who}]").click()
    page.wait_for_url(f"{base}/**", timeout=30_000)


def test_oidc_sign_in_roles_and_deep_link(sso, browser):
    from playwright.sync_api import expect

    base, db, server = sso
    page = browser.new_page()
    _sign_in(page, base, "li")
    sidebar = page.get_by_test_id("stSidebar")
    expect(sidebar.get_by_text("Li Ming · 查看者")).to_be_visible(timeout=60_000)
    nav = page.get_by_test_id("stSidebarNav")
    expect(nav.get_by_text("柜台业务")).to_be_visible()
    for hidden in ("数据管理", "用户与审计", "简报"):
        expect(nav.get_by_text(hidden, exact=True)).to_have_count(0)
    # the branch filter offers their outlet only
    page.goto(f"{base}/admin")
    expect(page.get_by_text("无权访问")).to_be_visible(timeout=60_000)
    page.goto(f"{base}/?branch=0201001")
    expect(sidebar.get_by_text("Li Ming · 查看者")).to_be_visible(timeout=60_000)
    page.get_by_role("button", name="退出登录").click()
    # st.logout ends the session at the provider too (RP-initiated logout); the mock asks first
    page.wait_for_url("**/oauth2/end_session**", timeout=30_000)
    page.get_by_role("button", name="End session").click()
    page.goto(base)
    expect(page.get_by_role("button", name="使用单点登录")).to_be_visible(timeout=60_000)

    guest = browser.new_page()
    _sign_in(guest, base, "guest")
    expect(guest.get_by_text("未被授予本系统的角色")).to_be_visible(timeout=60_000)
    import duckdb

    server.terminate()  # DuckDB: one process holds the file
    server.wait(timeout=15)
    con = duckdb.connect(str(db), read_only=True)
    rows = con.execute("SELECT user_name, action, outcome FROM ops.audit_log ORDER BY audit_id").fetchall()
    con.close()
    assert ("li", "sign_in", "ok") in rows
    assert ("li", "access_denied", "denied") in rows
    assert ("li", "sign_out", "ok") in rows
    assert ("guest@bank.example", "sign_in_failed", "denied") in rows
