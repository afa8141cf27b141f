"""Role, scope and disabling take effect at once in open sessions; sessions have an absolute lifetime.

An account row carries a version (migration 0005) that every change of role, scope, disabled flag
or password raises; the auth gate (pages/_ui/auth.py) compares it with the session's on every run
and re-reads the person when it differs, signing out a disabled or deleted account. A session
also ends `BANKPULSE_SESSION_MAX_HOURS` (12) after sign-in however active it is.
People (tests/conftest.py): adm (admin), mgr (manager, 华南区), ana (analyst) and vw (viewer),
both on outlet 0101001 (城东支行营业部, 华东区).
"""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import streamlit
from conftest import PASSWORD
from test_auth import ALLOWED, rows, signed_in_name
from test_security import MINE, OTHERS, sign_in

from data.users import Principal, UserStore
from pages._ui.pagelist import PAGES

PAGE_URL = {p.path: p.url for p in PAGES}  # the declared pages (pages/_ui/pagelist.py)


@pytest.fixture()
def nav(monkeypatch):
    """The pages app.py lists in the navigation on the latest run (st.Page with visibility 'visible')."""
    calls: list[tuple[str, str]] = []
    original = streamlit.Page

    def page(path, *args, **kwargs):
        calls.append((str(path), kwargs.get("visibility", "visible")))
        return original(path, *args, **kwargs)

    monkeypatch.setattr(streamlit, "Page", page)

    def shown() -> set[str]:
        last = calls[-len(PAGE_URL):]
        return {PAGE_URL[p] for p, vis in last if vis == "visible"}

    return shown


def _version(store, name: str) -> int:
    return UserStore(store).get(name).version


# -- the version counter -------------------------------------------------------------------------
def test_every_user_change_bumps_the_version(secure_store):
    users = UserStore(secure_store)
    users.add("adm", "adm2", "admin", password=PASSWORD)
    v = _version(secure_store, "vw")
    assert v == 1 and users.version("vw") == (1, False)

    def bumped(change) -> None:
        nonlocal v
        change()
        assert _version(secure_store, "vw") == v + 1, change
        v += 1

    bumped(lambda: users.update("adm", "vw", role="analyst"))              # role
    bumped(lambda: users.update("adm", "vw", region="华东区"))               # region
    bumped(lambda: users.update("adm", "vw", branches=["0102001"]))         # branches
    bumped(lambda: users.set_disabled("adm", "vw"))                         # disabled
    assert users.version("vw") == (v, True)
    bumped(lambda: users.set_disabled("adm", "vw", False))                  # enabled again
    bumped(lambda: users.reset_password("adm", "vw", "another-long-password"))  # password
    # an SSO identity whose claims changed (ensure_oidc refreshes the row)
    users.ensure_oidc(Principal("sso", "viewer", None, frozenset({MINE}), "oidc"))
    s = _version(secure_store, "sso")
    users.ensure_oidc(Principal("sso", "analyst", None, frozenset({MINE}), "oidc"))
    assert _version(secure_store, "sso") == s + 1
    # signing in (right or wrong password, a lockout) is no change of the account
    for _ in range(6):
        users.authenticate("vw", "not-the-password")
    users.authenticate("vw", "another-long-password", now=datetime.now() + timedelta(hours=1))
    assert _version(secure_store, "vw") == v
    assert users.version("nobody") is None


# -- changes reach an open session -----------------------------------------------------------------
def test_demoted_admin_gets_the_viewers_pages_and_boundary_at_the_next_run(secure_store, nav):
    UserStore(secure_store).add("test-setup", "adm2", "admin", password=PASSWORD)
    at = sign_in("adm2")
    assert nav() == ALLOWED["admin"]
    assert at.session_state["_filters"].scope.branch_ids is None  # the whole bank
    # another administrator demotes them while the session is open
    UserStore(secure_store).update("adm", "adm2", role="viewer", branches=[MINE])
    at.run()
    assert not at.exception, at.exception
    assert signed_in_name(at) == "adm2"
    assert at.session_state["_auth"]["user"].role == "viewer"
    assert nav() == ALLOWED["viewer"]
    assert at.session_state["_filters"].scope.branch_ids == frozenset({MINE})
    assert at.selectbox(key="branch").options[1:] == ["城东支行营业部"]
    assert at.selectbox(key="region").options[1:] == ["华东区"]
    at.switch_page("pages/admin.py").run()
    assert any("无权打开" in e.value for e in at.error)  # the admin page is refused now
    r = rows(secure_store, "session_refresh", "adm2")
    assert len(r) == 1 and r.iloc[0]["role"] == "viewer" and r.iloc[0]["scope"] == f"branches:{MINE}"


def test_scope_change_applies_to_an_open_session(secure_store):
    at = sign_in("vw")
    assert at.session_state["_filters"].scope.branch_ids == frozenset({MINE})
    UserStore(secure_store).update("adm", "vw", branches=["0102001"])
    at.run()
    assert not at.exception, at.exception
    assert at.session_state["_filters"].scope.branch_ids == frozenset({"0102001"})
    assert at.selectbox(key="branch").options[1:] == [OTHERS["0102001"]]


def test_an_unchanged_account_costs_one_lookup_per_run(secure_store, monkeypatch):
    at = sign_in("vw")
    calls = {"version": 0, "get": 0}
    version, get = UserStore.version, UserStore.get

    def spy_version(self, name):
        calls["version"] += 1
        return version(self, name)

    def spy_get(self, name):
        calls["get"] += 1
        return get(self, name)

    monkeypatch.setattr(UserStore, "version", spy_version)
    monkeypatch.setattr(UserStore, "get", spy_get)
    at.run()
    assert signed_in_name(at) == "vw"
    assert calls == {"version": 1, "get": 0}


def test_disabled_account_is_signed_out_at_the_next_run_with_a_message(secure_store):
    at = sign_in("ana")
    assert signed_in_name(at) == "ana"
    UserStore(secure_store).set_disabled("adm", "ana")
    at.run()
    assert not at.exception, at.exception
    assert signed_in_name(at) is None
    assert at.title[0].value.startswith("登录")
    assert at.text_input(key="auth_user") is not None  # the sign-in form
    assert "停用" in at.info[0].value
    assert not at.metric and not at.dataframe
    assert len(rows(secure_store, "sign_out_disabled", "ana")) == 1


def test_deleted_account_is_signed_out(secure_store):
    at = sign_in("vw")
    with secure_store.transaction() as cur:  # no UserStore call deletes; an operator might, in SQL
        cur.execute("DELETE FROM ops.users WHERE user_name = 'vw'")
    at.run()
    assert not at.exception, at.exception
    assert signed_in_name(at) is None
    assert "不存在" in at.info[0].value
    assert len(rows(secure_store, "sign_out_deleted", "vw")) == 1


# -- absolute session lifetime ----------------------------------------------------------------------
def test_session_ends_after_its_lifetime_however_active(secure_store):
    at = sign_in("vw")
    at.session_state["_auth"]["since"] = datetime.now() - timedelta(hours=13)  # default lifetime: 12 h
    at.session_state["_auth"]["seen"] = datetime.now()  # active a moment ago
    at.run()
    assert not at.exception, at.exception
    assert signed_in_name(at) is None
    assert at.title[0].value.startswith("登录")
    assert "12" in at.info[0].value and "小时" in at.info[0].value
    r = rows(secure_store, "session_expired", "vw")
    assert len(r) == 1 and '"max_hours": 12' in r.iloc[0]["detail"]
    assert rows(secure_store, "session_timeout", "vw").empty  # not an idle timeout


def test_session_lifetime_is_configurable(secure_store, monkeypatch):
    monkeypatch.setenv("BANKPULSE_SESSION_MAX_HOURS", "2")
    at = sign_in("vw")
    at.session_state["_auth"]["since"] = datetime.now() - timedelta(hours=1, minutes=50)
    at.run()
    assert signed_in_name(at) == "vw"  # inside the lifetime
    at.session_state["_auth"]["since"] = datetime.now() - timedelta(hours=2, minutes=1)
    at.run()
    assert signed_in_name(at) is None
    assert "2 小时" in at.info[0].value
