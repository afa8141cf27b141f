"""The sign-in session store (data/sessions.py) on a real DuckDB store: issue, handover, lookup,
idle and absolute expiry, revocation (one session, a person's, by account changes), the account
version, forged tokens, and the handover code's single use and 60-second life."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from data import audit
from data.sessions import HANDOVER_TTL, TOUCH_EVERY, SessionStore, token_hash, well_formed
from data.store import Store
from data.users import AuthSettings, UserStore

T0 = datetime(2026, 3, 2, 9, 0, 0)
PASSWORD = "correct-horse-battery"


@pytest.fixture()
def store(tmp_path):
    s = Store(tmp_path / "sessions.duckdb")
    users = UserStore(s)
    users.add("test", "adm", "admin", password=PASSWORD)
    users.add("test", "vw", "viewer", password=PASSWORD, branches="0101001")
    yield s
    s.close()


def sessions(store, idle_min: int = 30, max_hours: float = 12) -> SessionStore:
    return SessionStore(store, AuthSettings(auth="local", session_timeout_min=idle_min, session_max_hours=max_hours))


def signed_in(store, name: str = "vw", now: datetime = T0, **kw) -> tuple[SessionStore, str, str]:
    """(store, session key, cookie token) of a fresh sign-in whose code was handed over."""
    ss = sessions(store, **kw)
    issued = ss.issue(name, UserStore(store).get(name).version, now=now)
    r = ss.redeem(issued.code, now=now + timedelta(seconds=1))
    assert r.ok, r
    return ss, issued.token_hash, r.token


def test_issue_stores_only_hashes_and_the_lifetime(store):
    ss = sessions(store)
    issued = ss.issue("vw", 1, now=T0)
    r = ss.redeem(issued.code, now=T0)
    assert r.ok and well_formed(r.token) and well_formed(issued.code)
    assert token_hash(r.token) == issued.token_hash and issued.expires_at == T0 + timedelta(hours=12)
    dump = str(store.cursor().execute("SELECT * FROM ops.sessions").fetchall()) + \
        str(store.cursor().execute("SELECT * FROM ops.session_handover").fetchall())
    assert r.token not in dump and issued.code not in dump  # neither secret is stored
    s = ss.check_token(r.token, now=T0 + timedelta(minutes=1))
    assert s.ok and s.session.user_name == "vw" and s.session.user_version == 1 and not s.stale


def test_every_sign_in_gets_a_fresh_token(store):
    ss = sessions(store)
    a, b = ss.issue("vw", 1, now=T0), ss.issue("vw", 1, now=T0)
    assert a.token_hash != b.token_hash and a.code != b.code
    assert ss.redeem(a.code, now=T0).token != ss.redeem(b.code, now=T0).token


@pytest.mark.parametrize("token", ["", None, "x" * 43 + "'", "short", "A" * 43, "A" * 44, "../../etc/passwd"])
def test_forged_tokens_are_refused(store, token):
    ss, _, real = signed_in(store)
    c = ss.check_token(token, now=T0)
    assert not c.ok and c.reason in {"malformed", "unknown"} and c.session is None
    assert ss.check_token(real[:-1] + ("A" if real[-1] != "A" else "B"), now=T0).reason == "unknown"


def test_idle_timeout_counts_from_the_last_use(store):
    ss, h, token = signed_in(store, idle_min=30)
    assert ss.check_token(token, now=T0 + timedelta(minutes=29)).ok
    ss.touch(ss.check(h).session, now=T0 + timedelta(minutes=29))  # used: the clock restarts
    assert ss.check_token(token, now=T0 + timedelta(minutes=58)).ok
    c = ss.check_token(token, now=T0 + timedelta(minutes=60))
    assert not c.ok and c.reason == "idle"


def test_touch_writes_at_most_every_interval(store):
    ss, h, _ = signed_in(store)
    s = ss.check(h, now=T0).session
    ss.touch(s, now=T0 + TOUCH_EVERY / 2)
    assert ss.check(h, now=T0).session.last_seen == T0  # not written yet
    ss.touch(s, now=T0 + TOUCH_EVERY)
    assert ss.check(h, now=T0).session.last_seen == T0 + TOUCH_EVERY


def test_absolute_lifetime_however_active(store):
    ss, h, token = signed_in(store, max_hours=2)
    t = T0
    while t < T0 + timedelta(hours=2):  # active every 10 minutes
        assert ss.check_token(token, now=t).ok, t
        ss.touch(ss.check(h).session, now=t)
        t += timedelta(minutes=10)
    c = ss.check_token(token, now=T0 + timedelta(hours=2))
    assert not c.ok and c.reason == "expired"


def test_revoking_one_session_leaves_the_others(store):
    ss, h1, t1 = signed_in(store)
    _, _, t2 = signed_in(store)
    ss.revoke(h1, "sign_out", now=T0 + timedelta(minutes=1))
    c = ss.check_token(t1, now=T0 + timedelta(minutes=2))
    assert not c.ok and c.reason == "revoked" and c.session.revoked_reason == "sign_out"
    assert ss.check_token(t2, now=T0 + timedelta(minutes=2)).ok
    ss.revoke(h1, "session_timeout")  # a second end keeps the first reason
    assert ss.check(h1).session.revoked_reason == "sign_out"


@pytest.mark.parametrize("change, reason", [
    (lambda u: u.set_disabled("adm", "vw"), "user_disable"),
    (lambda u: u.reset_password("adm", "vw", "a-brand-new-password"), "user_password"),
    (lambda u: u.sign_out_everywhere("adm", "vw"), "signout_all"),
])
def test_account_changes_revoke_every_session_of_the_person(store, change, reason):
    ss, _, t1 = signed_in(store, now=datetime.now())
    _, _, t2 = signed_in(store, now=datetime.now())
    _, _, other = signed_in(store, "adm", now=datetime.now())
    change(UserStore(store))
    for t in (t1, t2):
        c = ss.check_token(t)
        assert not c.ok and c.reason == "revoked" and c.session.revoked_reason == reason
    assert ss.check_token(other).ok  # another person's session is untouched


def test_sign_out_everywhere_counts_and_is_audited(store):
    from data import audit

    for _ in range(2):
        signed_in(store, now=datetime.now())
    users = UserStore(store)
    assert users.sign_out_everywhere("adm", "vw") == 2
    assert users.sign_out_everywhere("adm", "vw") == 0
    r = audit.search(store, action="user_signout_all")
    assert list(r["target"]) == ["vw", "vw"] and list(r["detail"]) == ['{"sessions": 0}', '{"sessions": 2}']


def test_a_role_change_is_a_stale_session_that_follows(store):
    ss, h, token = signed_in(store, now=datetime.now())
    users = UserStore(store)
    users.update("adm", "vw", branches="0102001")  # version 1 → 2
    v = users.get("vw").version
    c = ss.check_token(token, account_version=v)
    assert c.ok and c.stale and c.session.user_version == 1  # the caller re-reads the person
    ss.follow(h, v)
    c = ss.check_token(token, account_version=v)
    assert c.ok and not c.stale


def test_handover_code_works_once(store):
    ss = sessions(store)
    issued = ss.issue("vw", 1, now=T0)
    assert ss.redeem(issued.code, now=T0).ok
    again = ss.redeem(issued.code, now=T0)
    assert not again.ok and again.reason == "used" and again.token is None


def test_handover_code_lives_sixty_seconds(store):
    ss = sessions(store)
    assert timedelta(seconds=60) == HANDOVER_TTL
    ok = ss.issue("vw", 1, now=T0)
    assert ss.redeem(ok.code, now=T0 + timedelta(seconds=59)).ok
    late = ss.issue("vw", 1, now=T0)
    r = ss.redeem(late.code, now=T0 + timedelta(seconds=61))
    assert not r.ok and r.reason == "expired" and r.token is None
    assert ss.redeem(late.code, now=T0 + timedelta(seconds=62)).reason == "used"  # spent by the late try


@pytest.mark.parametrize("code", [None, "", "nope", "A" * 43])
def test_forged_handover_codes_are_refused(store, code):
    ss = sessions(store)
    ss.issue("vw", 1, now=T0)
    r = ss.redeem(code, now=T0)
    assert not r.ok and r.reason in {"malformed", "unknown"} and r.token is None


def test_handover_of_a_revoked_session_is_refused(store):
    ss = sessions(store)
    issued = ss.issue("vw", 1, now=datetime.now())
    UserStore(store).set_disabled("adm", "vw")
    r = ss.redeem(issued.code)
    assert not r.ok and r.reason == "revoked" and r.token is None


def test_a_tampered_handover_row_yields_no_token(store):
    ss = sessions(store)
    issued = ss.issue("vw", 1, now=T0)
    with store.transaction() as cur:  # someone who can write the file swaps the wrapped token
        cur.execute("UPDATE ops.session_handover SET wrapped = repeat('00', 32)")
    r = ss.redeem(issued.code, now=T0)
    assert not r.ok and r.reason == "unknown"


def test_spent_and_stale_codes_are_purged(store):
    ss = sessions(store)
    a = ss.issue("vw", 1, now=T0)
    ss.redeem(a.code, now=T0)
    ss.issue("vw", 1, now=T0)
    ss.issue("vw", 1, now=T0 + timedelta(minutes=5))  # purges the spent one and the stale one
    assert store.cursor().execute("SELECT count(*) FROM ops.session_handover").fetchone()[0] == 1


def test_cli_signout_all(tmp_path, capsys):
    from cli.main import main
    from data.store import close_all, open_store

    db = str(tmp_path / "cli.duckdb")
    store = open_store(db)
    users = UserStore(store)
    users.add("test", "adm", "admin", password=PASSWORD)
    users.add("test", "vw", "viewer", password=PASSWORD, branches="0101001")
    _, _, token = signed_in(store, now=datetime.now())
    close_all()
    assert main(["--db", db, "--as", "adm", "user", "signout-all", "vw"]) == 0
    assert "ended 1 sign-in session(s)" in capsys.readouterr().out
    assert main(["--db", db, "--as", "vw", "user", "signout-all", "adm"]) != 0  # a viewer may not
    assert main(["--db", db, "user", "signout-all", "nobody"]) == 1
    store = open_store(db)
    assert sessions(store).check_token(token).reason == "revoked"
    assert list(audit.search(store)["action"]).count("user_signout_all") == 1
    close_all()


def test_admin_page_signs_a_user_out_everywhere(secure_store):
    from test_auth import sign_in

    vw = sessions(secure_store).issue("vw", UserStore(secure_store).get("vw").version)
    at = sign_in("adm")
    at.switch_page("pages/admin.py").run()
    at.selectbox(key="adm_pick").select("vw").run()
    at.button(key="adm_signout_all").click().run()
    assert not at.exception, at.exception
    assert any("1" in s.value and "vw" in s.value for s in at.success)
    assert sessions(secure_store).check(vw.token_hash).reason == "revoked"
    assert sessions(secure_store).open_count("adm") == 1  # the administrator's own session stays
