"""Sign-in, lockout, idle timeout, roles per page, first-run admin, `bankpulse user` (AppTest + CLI).

The suite runs with BANKPULSE_AUTH=none (tests/conftest.py); these tests switch to `local` (the
`secure_store` fixture) or `oidc`, on a small demo store with four people: adm (admin), mgr
(manager of 华南区), ana (analyst, branch 0101001), vw (viewer, branch 0101001).
"""
from __future__ import annotations

from datetime import datetime, timedelta

import helpers_app
import pytest
from conftest import PASSWORD
from streamlit.testing.v1 import AppTest

from data import audit
from data.users import ROLES, Principal, UserStore, boundary_for, branch_master, ensure_admin
from pages._ui.auth import principal_from_claims
from pages._ui.pagelist import PAGES as DECLARED

PAGES = {p.url: p.permission for p in DECLARED}  # url → the permission it needs (pages/_ui/pagelist.py)
PAGE_FILES = {p.url: p.path for p in DECLARED}
ALLOWED = {  # what each role may open (issue 12's role table; 调整与整改 is read by all, issue 13; 考核 and 工作动态, issue 16)
    "viewer": {"overview", "counter", "credit", "feedback", "market", "anomalies", "actions", "scorecard", "feed"},
    "analyst": {"overview", "counter", "credit", "feedback", "market", "anomalies", "actions", "scorecard", "feed",
                "briefing", "data"},
    "manager": {"overview", "counter", "credit", "feedback", "market", "anomalies", "actions", "scorecard", "feed",
                "briefing", "data"},
    "admin": set(PAGE_FILES),
}
ROLE_OF = {"adm": "admin", "mgr": "manager", "ana": "analyst", "vw": "viewer"}


def open_app(query: dict | None = None) -> AppTest:
    return helpers_app.open_app(query=query, timeout=90)


def sign_in(name: str, password: str = PASSWORD, at: AppTest | None = None, query: dict | None = None) -> AppTest:
    """Fill the sign-in form the way a person does."""
    at = at or open_app(query)
    at.text_input(key="auth_user").set_value(name)
    at.text_input(key="auth_password").set_value(password)
    at.form_submit_button[0].click().run()
    assert not at.exception, at.exception
    return at


def signed_in_name(at: AppTest) -> str | None:
    s = at.session_state.get("_auth")
    return s["user"].name if s else None


def rows(store, action: str, user: str | None = None):
    return audit.search(store, action=action, user=user)


# -- sign-in -------------------------------------------------------------------------------------
def test_app_requires_sign_in(secure_store):
    at = open_app()
    assert not at.exception
    assert at.title[0].value.startswith("登录")
    assert not at.metric and not at.dataframe  # nothing of the data before sign-in
    assert signed_in_name(at) is None


def test_sign_in_and_out_are_audited(secure_store):
    at = sign_in("ana")
    assert signed_in_name(at) == "ana"
    assert at.title[0].value == "总览"
    r = rows(secure_store, "sign_in", "ana")
    assert len(r) == 1 and r.iloc[0]["scope"] == "branches:0101001" and r.iloc[0]["role"] == "analyst"
    at.button(key="auth_sign_out").click().run()
    assert signed_in_name(at) is None
    assert at.title[0].value.startswith("登录")
    assert len(rows(secure_store, "sign_out", "ana")) == 1


def test_wrong_password_unknown_user_look_the_same_and_are_audited(secure_store):
    at = sign_in("ana", "wrong-password-123")
    bad = at.error[0].value
    at2 = sign_in("nobody-here", "whatever-password")
    assert at2.error[0].value == bad  # no hint whether the account exists
    failed = rows(secure_store, "sign_in_failed")
    assert set(failed["target"]) == {"ana", "nobody-here"} and set(failed["outcome"]) == {"failed"}


def test_lockout_after_repeated_failures(secure_store):
    at = open_app()
    for _ in range(5):
        at = sign_in("vw", "not-the-password", at=at)
    assert "锁定" in at.error[0].value
    at = sign_in("vw", PASSWORD, at=at)  # even the right password is refused while locked
    assert signed_in_name(at) is None and "锁定" in at.error[0].value
    u = UserStore(secure_store).get("vw")
    assert u.locked_until is not None and u.locked_until > datetime.now() + timedelta(minutes=10)
    assert len(rows(secure_store, "sign_in_failed")) == 6


def test_lockout_expires_and_admin_reset_clears_it(secure_store):
    users = UserStore(secure_store)
    for _ in range(5):
        users.authenticate("vw", "nope-nope-nope")
    assert users.authenticate("vw", PASSWORD).reason == "locked"
    later = datetime.now() + timedelta(minutes=16)
    assert users.authenticate("vw", PASSWORD, now=later).ok
    for _ in range(5):
        users.authenticate("vw", "nope-nope-nope")
    users.reset_password("adm", "vw", "a-brand-new-password")
    assert users.authenticate("vw", "a-brand-new-password").ok


def test_idle_session_times_out(secure_store, monkeypatch):
    at = sign_in("vw")
    assert signed_in_name(at) == "vw"
    at.session_state["_auth"]["seen"] = datetime.now() - timedelta(minutes=31)  # default timeout: 30 min
    at.run()
    assert signed_in_name(at) is None
    assert at.title[0].value.startswith("登录")
    assert "30" in at.info[0].value
    assert len(rows(secure_store, "session_timeout", "vw")) == 1
    # an active session is not timed out
    monkeypatch.setenv("BANKPULSE_SESSION_TIMEOUT_MIN", "5")
    at = sign_in("vw")
    at.session_state["_auth"]["seen"] = datetime.now() - timedelta(minutes=4)
    at.run()
    assert signed_in_name(at) == "vw"


def test_disabled_account_cannot_sign_in_and_open_session_ends(secure_store):
    at = sign_in("ana")
    UserStore(secure_store).set_disabled("adm", "ana")
    at.run()
    assert signed_in_name(at) is None
    at = sign_in("ana")
    assert signed_in_name(at) is None
    assert rows(secure_store, "user_disable").iloc[0]["target"] == "ana"


def test_passwords_are_argon2_hashes(secure_store):
    u = UserStore(secure_store).get("vw")
    assert u.password_hash.startswith("$argon2id$") and PASSWORD not in u.password_hash
    assert "password_hash" not in repr(u) and PASSWORD not in repr(u)


# -- roles: every page for every role ----------------------------------------------------------
@pytest.mark.parametrize("person", ["adm", "mgr", "ana", "vw"])
def test_each_role_opens_its_pages_and_is_refused_the_others(secure_store, person):
    role = ROLE_OF[person]
    at = sign_in(person)
    for url, path in PAGE_FILES.items():
        at.switch_page(path).run()
        assert not at.exception, (person, url, at.exception)
        denied = [e for e in at.error if "无权" in (e.proto.title if hasattr(e.proto, "title") else "")
                  or "无权打开" in e.value]
        if url in ALLOWED[role]:
            assert not denied, (person, url)
        else:
            assert denied, (person, url)
            assert not at.dataframe and not at.metric, (person, url)  # the page itself never ran
    refused = rows(secure_store, "access_denied", person)
    assert len(refused) == len(set(PAGE_FILES) - ALLOWED[role])
    assert set(refused["outcome"]) <= {"denied"}


def test_page_table_matches_the_role_table():
    for role in ROLES:
        p = Principal("x", role, region="*")
        assert {u for u, need in PAGES.items() if p.can(need)} == ALLOWED[role]


def test_viewer_sees_no_triage_form_and_no_rollback(secure_store):
    at = sign_in("vw")
    at.switch_page("pages/anomalies.py").run()
    assert not at.exception
    assert not [f for f in at.form_submit_button]  # read-only
    at = sign_in("ana")
    at.switch_page("pages/data.py").run()
    assert not at.exception
    assert "data_rollback" not in [b.key for b in at.button]  # analysts upload, admins roll back
    at = sign_in("adm")
    at.switch_page("pages/data.py").run()
    assert "data_rollback" in [b.key for b in at.button]


# -- first run, the user command ----------------------------------------------------------------
def test_first_run_creates_an_admin_with_a_random_password_once(tmp_path):
    from data.store import Store

    a, b = Store(tmp_path / "a.duckdb"), Store(tmp_path / "b.duckdb")
    pa, pb = ensure_admin(a), ensure_admin(b)
    assert pa and pb and pa != pb and len(pa) >= 16  # random, never a fixed default
    assert ensure_admin(a) is None  # only when no account exists
    assert UserStore(a).authenticate("admin", pa).ok
    a.close()
    b.close()


def test_cli_user_commands(tmp_path, capsys, monkeypatch):
    from cli.main import main

    db = str(tmp_path / "u.duckdb")
    assert main(["--db", db, "user", "ensure-admin"]) == 0
    out = capsys.readouterr().out
    pw = out.split("(shown once): ")[1].split()[0]
    assert main(["--db", db, "user", "ensure-admin"]) == 0 and "(shown once)" not in capsys.readouterr().out
    assert main(["--db", db, "--as", "admin", "user", "add", "carol", "--role", "analyst", "--branches",
                 "0101001"]) == 0
    carol_pw = capsys.readouterr().out.split("(shown once): ")[1].split()[0]
    assert main(["--db", db, "user", "list", "--json"]) == 0
    listing = capsys.readouterr().out
    assert "carol" in listing and "argon2" not in listing and pw not in listing
    # an analyst may not manage users
    assert main(["--db", db, "--as", "carol", "user", "add", "dave", "--role", "admin"]) == 1
    assert main(["--db", db, "user", "disable", "carol"]) == 0
    from data.store import open_store

    store = open_store(db)
    assert not UserStore(store).authenticate("carol", carol_pw).ok
    assert main(["--db", db, "user", "enable", "carol"]) == 0
    assert main(["--db", db, "user", "reset-password", "carol"]) == 0
    new = capsys.readouterr().out.split("(shown once): ")[1].split()[0]
    store = open_store(db)
    assert UserStore(store).authenticate("carol", new).ok
    # the last administrator cannot be disabled
    assert main(["--db", db, "user", "disable", "admin"]) == 1
    store = open_store(db)
    actions = list(audit.search(store)["action"])
    for a in ("user_add", "user_disable", "user_enable", "user_password", "cli"):
        assert a in actions
    assert audit.verify(store).ok


def test_cli_can_require_as(tmp_path, monkeypatch, capsys):
    from cli.main import main

    db = str(tmp_path / "r.duckdb")
    monkeypatch.setenv("BANKPULSE_CLI_REQUIRE_AS", "true")
    assert main(["--db", db, "user", "ensure-admin"]) == 0  # the bootstrap needs no one
    assert main(["--db", db, "batches"]) == 2
    assert main(["--db", db, "--as", "admin", "batches"]) == 0


# -- single sign-on: claims → role and scope ------------------------------------------------------
def test_claims_map_to_role_and_scope():
    p = principal_from_claims({"sub": "1", "preferred_username": "li.ming", "name": "李明",
                               "groups": ["bankpulse-viewer", "bankpulse-manager", "bankpulse-region:华南区", "other"]})
    assert (p.name, p.role, p.region, p.source) == ("li.ming", "manager", "华南区", "oidc")
    p = principal_from_claims({"email": "a@b.cn", "groups": ["bankpulse-analyst", "bankpulse-branch:0101001"]})
    assert (p.name, p.role, p.branches) == ("a@b.cn", "analyst", frozenset({"0101001"}))
    assert principal_from_claims({"sub": "x", "groups": ["staff"]}) is None  # no role: no entry
    assert principal_from_claims({"sub": "x", "groups": ["bankpulse-viewer"]}) is None  # no scope: no entry
    p = principal_from_claims({"sub": "x", "roles": ["BP-Admins"]}, {"groups_claim": "roles", "role_map": {"BP-Admins": "admin"}})
    assert p.role == "admin" and p.whole_bank


def test_oidc_mode_signs_in_from_st_user(secure_store, monkeypatch):
    monkeypatch.setenv("BANKPULSE_AUTH", "oidc")
    at = helpers_app.open_app(user={"is_logged_in": False}, timeout=90)
    assert not at.exception
    assert at.button(key="auth_sso")  # the single sign-on button, no password form
    assert not at.text_input
    at = helpers_app.open_app(user={"is_logged_in": True, "sub": "s1", "preferred_username": "zhang",
                                    "email": "zhang@bank.cn", "groups": ["bankpulse-viewer", "bankpulse-branch:0101001"]},
                              timeout=90)
    assert not at.exception
    assert signed_in_name(at) == "zhang"
    assert at.session_state["_auth"]["user"].role == "viewer"
    at.switch_page("pages/admin.py").run()
    assert any("无权打开" in e.value for e in at.error)
    r = rows(secure_store, "sign_in", "zhang")
    assert len(r) == 1 and "oidc" in r.iloc[0]["detail"]
    assert UserStore(secure_store).get("zhang").source == "oidc"  # listed on the admin page
    # no role in the claims: refused, audited
    at = helpers_app.open_app(user={"is_logged_in": True, "sub": "s2", "email": "x@bank.cn", "groups": ["staff"]},
                              timeout=90)
    assert signed_in_name(at) is None and at.error
    assert rows(secure_store, "sign_in_failed", "x@bank.cn").iloc[0]["outcome"] == "denied"


def test_none_mode_is_refused_off_loopback(secure_store, monkeypatch):
    from streamlit import config

    monkeypatch.setenv("BANKPULSE_AUTH", "none")
    config.set_option("server.address", "0.0.0.0")
    try:
        at = open_app()
        assert at.error and "127.0.0.1" in at.error[0].value
        assert not at.metric
    finally:
        config.set_option("server.address", "127.0.0.1")


def test_boundaries():
    import pandas as pd

    b = pd.DataFrame({"branch_id": ["R", "S1", "O1", "O2", "S2", "O3"],
                      "region": [None, "东", "东", "东", "南", "南"], "parent_id": [None, "R", "S1", "S1", "R", "S2"]})
    assert boundary_for(b, "viewer", None, frozenset({"S1"})) == {"S1", "O1", "O2"}  # a sub-branch and its outlets
    assert boundary_for(b, "viewer", None, frozenset({"O3"})) == {"O3"}
    assert boundary_for(b, "manager", None, frozenset({"O3"})) == {"S2", "O3"}  # the whole region
    assert boundary_for(b, "analyst", "东", frozenset()) == {"S1", "O1", "O2"}
    assert boundary_for(b, "viewer", None, frozenset({"nope"})) == {"nope"}  # matches no data: sees nothing
    assert Principal("a", "admin").boundary(None) is None


def test_branch_master_reads_the_demo(secure_store):
    assert {"华东区", "华南区", "华北区"} <= set(branch_master(secure_store)["region"].dropna())
