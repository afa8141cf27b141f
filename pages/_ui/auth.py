"""Sign-in, roles and the access boundary for the web app (app.py calls `gate()` on every run).

Modes (`BANKPULSE_AUTH`, see data/users.AuthSettings):
  local  accounts in the store, argon2 hashes, lockout, idle timeout (default; works offline)
  oidc   Streamlit's native `st.login` against the provider of `.streamlit/secrets.toml` [auth];
         role and scope come from the identity token's claims (groups), see `principal_from_claims`
  none   no sign-in, everyone is the local admin "test" — for the test suite only, and refused
         unless the server listens on the loopback interface

Pages never decide who may see what: app.py shows only the pages of the role (each page's
permission in pages/_ui/pagelist.py) and refuses a deep link to any other; `filters.current()` folds `boundary()` into every Scope,
which the query layer applies. Pages ask `current_user()` for the name to record and `can()`
to show an action (a triage form, a rollback button).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import streamlit as st

from data.audit import audit
from data.sessions import SessionStore, token_hash, well_formed
from data.users import ROLE_LABELS, Principal, UserStore, auth_settings, visible_anomalies
from pages._ui import session_cookie
from pages._ui.i18n import current_lang, t, tr
from pages._ui.pagelist import page_at
from pages._ui.store import data_version, get_store

_KEY = "_auth"  # {"user": Principal, "since": datetime, "seen": datetime, "version": int, "token": str | None}
# Local sign-in keeps a server-side session (data/sessions.py) behind an HttpOnly cookie, so a
# reload or an opened link signs the person in again without the form: "token" is its key.
_HANDOVER = "_auth_handover"  # the one-time code this run's page posts to server.py for the cookie
_CLEAR = "_auth_clear_cookie"  # set by a sign-out: the next run's page has the cookie cleared
_SPENT = "_auth_cookie_spent"  # the handshake cookie this tab may not resume from (ended or refused)
_NOTICE = "_auth_notice"  # (text key, icon) of why the last session ended, shown above the sign-in form
# Sign-outs the application causes: the notice each leaves for the sign-in form.
_ENDED = {"session_timeout": ("auth.timed_out", ":material/schedule:"),
          "session_expired": ("auth.expired", ":material/schedule:"),
          "sign_out_disabled": ("auth.disabled_out", ":material/block:"),
          "sign_out_deleted": ("auth.deleted_out", ":material/block:"),
          "session_revoked": ("auth.revoked_out", ":material/logout:"),
          "session_refused": ("auth.cookie_refused", ":material/logout:")}
# Why a session row is refused → the sign-out it causes in an open tab.
_ROW_ENDED = {"revoked": "session_revoked", "expired": "session_expired", "idle": "session_timeout",
              "unknown": "session_revoked"}
TEST_USER = Principal("test", "admin", source="none", display="Test (BANKPULSE_AUTH=none)")
LOOPBACK = {None, "", "127.0.0.1", "localhost", "::1"}


# -- who is signed in ------------------------------------------------------------------------
def mode() -> str:
    return auth_settings().auth


def current_user() -> Principal | None:
    """The signed-in person of this session (None before sign-in)."""
    if mode() == "none":
        return TEST_USER if st.get_option("server.address") in LOOPBACK else None
    s = st.session_state.get(_KEY)
    return s["user"] if s else None


def user_name() -> str:
    """The name to record on a batch, a triage change or an audit row."""
    u = current_user()
    return u.name if u else "anonymous"


def can(permission: str) -> bool:
    u = current_user()
    return bool(u and u.can(permission))


def may_open(url_path: str) -> bool:
    """True when the signed-in role may open the page at `url_path` (pages not declared: no one)."""
    page = page_at(url_path)
    return page is not None and can(page.permission)


@st.cache_data(show_spinner=False, ttl=600, max_entries=256)
def _boundary(p: Principal, version: int) -> frozenset[str] | None:
    return p.boundary(get_store())


def boundary() -> frozenset[str] | None:
    """The branch ids the signed-in person may see (None: the whole bank; empty: nothing)."""
    u = current_user()
    if u is None:
        return frozenset()
    return _boundary(u, data_version())


@st.cache_data(show_spinner=False, ttl=600, max_entries=8)
def _branches(version: int):
    from data.users import branch_master

    return branch_master(get_store())


def visible(anomalies):
    """Anomaly rows (ops.anomalies) inside the signed-in person's boundary."""
    return visible_anomalies(anomalies, boundary(), _branches(data_version()))


# -- auditing --------------------------------------------------------------------------------
def record(action: str, target: str | None = None, detail: dict | str | None = None, *, outcome: str = "ok",
           scope: str | None = None, user: Principal | str | None = None) -> None:
    """Append an audit row for the signed-in person (callable off the script thread with `user=`)."""
    who = user if user is not None else (current_user() or "anonymous")
    audit(get_store(), who, action, target, scope, detail, outcome=outcome, channel="web")


def audited(build: Callable[[], bytes], action: str, target: str, detail: dict | None = None, *,
            user: Principal | None = None) -> Callable[[], bytes]:
    """Wrap a download's data callable (run on click, off the script thread) so it is audited.

    The person is captured now, on the script thread; the row is written when the bytes are built.
    """
    who, store = user or current_user() or "anonymous", get_store()

    def run() -> bytes:
        data = build()
        audit(store, who, action, target, None, {**(detail or {}), "bytes": len(data)}, channel="web")
        return data

    return run


def filters_text() -> str:
    """The sidebar filters of this run, for an export's audit row."""
    f = st.session_state.get("_filters")
    if f is None:
        return ""
    s = f.scope
    return (f"{f.start}..{f.end} grain={f.grain.value} region={s.region or ''} branch={s.branch or ''} "
            f"product={s.product or ''}")


# -- sign-in / sign-out ----------------------------------------------------------------------
def _forget_view() -> None:
    # nothing of a previous person's (or role's) view survives — nor a briefing PDF built for them
    for k in ("_filters", "branch", "region", "br_pdf"):
        st.session_state.pop(k, None)


def _sessions() -> SessionStore:
    return SessionStore(get_store())


def _start(p: Principal, version: int, *, token: str | None = None, since: datetime | None = None) -> None:
    """A new session for `p`, holding the account's version (see `_refresh`) and, for local
    sign-in, the key of its server-side session (`since`: when that session began)."""
    now = datetime.now()
    _forget_view()
    st.session_state[_KEY] = {"user": p, "since": since or now, "seen": now, "version": version, "token": token}


def sign_out(reason: str = "sign_out", detail: dict | None = None, *, everywhere: bool = True) -> None:
    """End this tab's session. `everywhere` (the default) also ends the server-side session —
    every tab of this browser, at its next interaction — and clears the cookie; without it only
    this tab ends (its own idle timeout while another tab of the browser is in use)."""
    u = current_user()
    s = st.session_state.get(_KEY) or {}
    if u is not None and mode() != "none":
        record(reason, detail=detail, user=u)
    if everywhere and s.get("token"):
        _sessions().revoke(s["token"], reason)
    for k in [k for k in st.session_state if not k.startswith("_url_seen") and k != "lang"]:
        del st.session_state[k]
    if reason in _ENDED:
        st.session_state[_NOTICE] = _ENDED[reason]
    if s.get("token"):
        st.session_state[_CLEAR] = everywhere
        st.session_state[_SPENT] = _cookie_key()  # this tab does not resume from its handshake cookie
    if mode() == "oidc":
        st.logout()


def _timeouts() -> None:
    """End a session past its absolute lifetime (however active) or idle too long; else mark it seen."""
    s = st.session_state.get(_KEY)
    if not s:
        return
    now, cfg = datetime.now(), auth_settings()
    if now - s["since"] > timedelta(hours=cfg.session_max_hours):
        sign_out("session_expired", detail={"since": s["since"].isoformat(timespec="seconds"),
                                            "max_hours": cfg.session_max_hours})
    elif now - s["seen"] > timedelta(minutes=cfg.session_timeout_min):
        # this tab was idle; the browser's session ends too unless another of its tabs kept it in use
        shared = s.get("token") and _sessions().check(s["token"]).ok
        sign_out("session_timeout", everywhere=not shared)
    else:
        s["seen"] = now


def _cookie_key() -> str | None:
    """The handshake cookie's session key (or its raw value when it is not even well formed)."""
    tok = session_cookie.token()
    return token_hash(tok) if well_formed(tok) else tok


def _resume() -> None:
    """Sign the person in from the session cookie (a reload, an opened link): one primary-key
    lookup; a forged, revoked or expired token is refused and audited, once per tab."""
    tok = session_cookie.token()
    if not tok or current_user() is not None or st.session_state.get(_SPENT) == _cookie_key():
        return
    st.session_state[_SPENT] = _cookie_key()  # one attempt per handshake cookie
    c = _sessions().check_token(tok)
    u = UserStore(get_store()).get(c.session.user_name) if c.ok else None
    if u is None or u.disabled:
        reason = c.reason if not c.ok else "deleted" if u is None else "disabled"
        if c.ok:
            _sessions().revoke(c.session.token_hash, f"user_{reason}")
        record("session_refused", detail={"via": "cookie", "reason": reason}, outcome="denied", scope="",
               user=c.session.user_name if c.session else "anonymous")
        if c.session is not None:  # a real session that ended: say so (a forged one gets the bare form)
            st.session_state[_NOTICE] = _ENDED["session_refused"]
        st.session_state[_CLEAR] = True
        return
    if u.version != c.session.user_version:  # the role or scope changed since: it is re-read here
        _sessions().follow(c.session.token_hash, u.version)
    p = u.principal()
    _start(p, u.version, token=c.session.token_hash, since=c.session.created_at)
    _sessions().touch(c.session)
    record("session_resume", detail={"via": "cookie", "since": c.session.created_at.isoformat(timespec="seconds")},
           user=p)


def _check_session() -> None:
    """The server-side session of a signed-in tab is still alive (one primary-key lookup): ended
    in another tab, by an administrator, or past its time, the tab is signed out."""
    s = st.session_state.get(_KEY)
    if not s or not s.get("token"):
        return
    c = _sessions().check(s["token"])
    if not c.ok:
        sign_out(_ROW_ENDED.get(c.reason, "session_revoked"), detail={"reason": c.reason})
        return
    if c.session.user_version != s["version"]:
        _sessions().follow(s["token"], s["version"])  # the tab re-read the person (`_refresh`)
    _sessions().touch(c.session)


def _refresh() -> None:
    """Role, scope and disabling take effect in open sessions: one primary-key lookup per run
    compares the session's account version with the row's; a new version re-reads the person
    (role and scope), a disabled or deleted account is signed out."""
    s = st.session_state.get(_KEY)
    if not s:
        return
    users = UserStore(get_store())
    old = s["user"]
    row = users.version(old.name)
    if row is not None and not row[1] and row[0] == s.get("version"):
        return  # unchanged: the common case
    u = users.get(old.name) if row is not None and not row[1] else None
    if u is None or u.disabled:
        sign_out("sign_out_deleted" if row is None else "sign_out_disabled")
        return
    new = replace(u.principal(), source=old.source)
    s["user"], s["version"] = new, u.version
    if (new.role, new.region, new.branches) != (old.role, old.region, old.branches):
        _forget_view()  # the sidebar's choices belonged to the old boundary
        record("session_refresh", detail={"from": {"role": old.role, "scope": old.scope_text()},
                                          "to": {"role": new.role, "scope": new.scope_text()}}, user=new)


def _sign_in_local() -> None:
    users = UserStore(get_store())
    with st.form("auth_login", enter_to_submit=True):
        name = st.text_input(t("auth.user"), key="auth_user", max_chars=64, autocomplete="username")
        password = st.text_input(t("auth.password"), type="password", key="auth_password", max_chars=256,
                                 autocomplete="current-password")
        submitted = st.form_submit_button(t("auth.sign_in"), type="primary", icon=":material/login:")
    if not submitted:
        return
    name = (name or "").strip()
    res = users.authenticate(name, password or "")
    st.session_state.pop("auth_password", None)
    if res.ok:
        p = res.user.principal()
        issued = _sessions().issue(p.name, res.user.version)  # a fresh token on every sign-in
        _start(p, res.user.version, token=issued.token_hash)
        st.session_state[_HANDOVER] = issued.code
        st.session_state[_SPENT] = _cookie_key()  # an older cookie of this tab is not this session
        record("sign_in", detail={"method": "password"}, user=p)
        st.rerun()
    record("sign_in_failed", target=name[:64], detail={"reason": res.reason}, outcome="failed",
           user=name[:64] or "anonymous", scope="")
    if res.reason == "locked":
        mins = max(1, int((res.locked_until - datetime.now()).total_seconds() // 60) + 1)
        st.error(t("auth.locked", n=mins), icon=":material/lock:")
    else:  # a wrong password, an unknown name and a disabled account look the same
        st.error(t("auth.bad"), icon=":material/error:")


# -- single sign-on (OIDC) -------------------------------------------------------------------
def _oidc_config() -> dict:
    try:
        return dict(st.secrets.get("bankpulse_oidc", {}))
    except Exception:  # noqa: BLE001 - no secrets.toml: defaults
        return {}


def principal_from_claims(claims: dict[str, Any], cfg: dict | None = None) -> Principal | None:
    """Role and scope from the identity token's claims, or None when no role is granted.

    Defaults (override in `[bankpulse_oidc]` of secrets.toml): the claim `groups` lists
    `bankpulse-<role>`, `bankpulse-region:<name>` and `bankpulse-branch:<id>`; `role_map`
    maps other group names to roles. The highest role granted wins.
    """
    from data.users import ROLES

    cfg = cfg or {}
    raw = claims.get(cfg.get("groups_claim", "groups")) or []
    groups = [raw] if isinstance(raw, str) else [str(g) for g in raw]
    prefix = cfg.get("role_prefix", "bankpulse-")
    role_map = {str(k): str(v) for k, v in dict(cfg.get("role_map", {})).items()}
    granted = [role_map[g] for g in groups if g in role_map]
    granted += [g[len(prefix):] for g in groups if g.startswith(prefix) and g[len(prefix):] in ROLES]
    if not granted:
        return None
    role = max(granted, key=ROLES.index)
    rp, bp = cfg.get("region_prefix", "bankpulse-region:"), cfg.get("branch_prefix", "bankpulse-branch:")
    regions = sorted(g[len(rp):] for g in groups if g.startswith(rp))
    branches = frozenset(g[len(bp):] for g in groups if g.startswith(bp))
    name = next((str(claims[c]) for c in (cfg.get("name_claim", "preferred_username"), "email", "sub")
                 if claims.get(c)), None)
    if not name:
        return None
    if role != "admin" and not regions and not branches:
        return None  # a scope is required: fail closed
    return Principal(name, role, regions[0] if regions else None, branches, "oidc",
                     str(claims.get("name") or name))


def _sign_in_oidc() -> None:
    if not st.user.is_logged_in:
        provider = auth_settings().oidc_provider
        st.button(t("auth.sso"), type="primary", icon=":material/key:", key="auth_sso",
                  on_click=st.login, args=(provider,) if provider else ())
        return
    claims = st.user.to_dict()
    p = principal_from_claims(claims, _oidc_config())
    who = str(claims.get("preferred_username") or claims.get("email") or claims.get("sub") or "unknown")
    users = UserStore(get_store())
    local = users.get(p.name) if p else None
    if p is None or (local is not None and local.disabled):
        if not st.session_state.get("_auth_denied"):
            record("sign_in_failed", target=who, detail={"method": "oidc", "reason": "no_role" if p is None
                                                         else "disabled"}, outcome="denied", user=who, scope="")
            st.session_state["_auth_denied"] = True
        st.error(t("auth.no_role"), icon=":material/block:")
        st.button(t("auth.sign_out"), on_click=st.logout, key="auth_sso_out")
        return
    _start(p, users.ensure_oidc(p).version)
    record("sign_in", detail={"method": "oidc", "issuer": claims.get("iss")}, user=p)
    st.rerun()


# -- what app.py calls -----------------------------------------------------------------------
def session() -> Principal | None:
    """The signed-in person after the session lifetime, the idle timeout, the SSO cookie and the
    account's version are checked (first in app.py): an administrator's change of role or scope
    applies from the next interaction, a disabled or deleted account is signed out."""
    m = mode()
    if m == "none":
        return TEST_USER if st.get_option("server.address") in LOOPBACK else None
    if m == "local":
        _resume()
    _timeouts()
    if m == "oidc" and current_user() is not None and not st.user.is_logged_in:
        st.session_state.pop(_KEY, None)  # signed out elsewhere (another tab)
    _refresh()
    _check_session()
    return current_user()


def gate() -> Principal | None:
    """The signed-in person, or None after drawing the sign-in form (then app.py stops)."""
    m = mode()
    if m == "none":
        if st.get_option("server.address") not in LOOPBACK:
            st.error(t("auth.none_refused"), icon=":material/block:")
            return None
        return TEST_USER
    u = current_user()
    _cookie_calls()
    if u is not None:
        return u
    st.title(t("auth.title"), anchor=False)
    notice = st.session_state.pop(_NOTICE, None)
    if notice:
        key, icon = notice if isinstance(notice, tuple) else (notice, ":material/schedule:")
        cfg = auth_settings()
        n = f"{cfg.session_max_hours:g}" if key == "auth.expired" else cfg.session_timeout_min
        st.info(t(key, n=n), icon=icon)
    with st.container(border=True, width=420):
        _sign_in_oidc() if m == "oidc" else _sign_in_local()
    st.caption(t("auth.caption"))
    return None


def _cookie_calls() -> None:
    """This run's page hands a new session over for the cookie, or has the cookie cleared."""
    code = st.session_state.pop(_HANDOVER, None)
    if code:
        session_cookie.hand_over(code)
    if st.session_state.pop(_CLEAR, False):
        session_cookie.clear()


def refuse(title: str) -> None:
    """A deep link (or a stale link) to a page this role may not open: say so, record it."""
    u = current_user()
    record("access_denied", target=title, outcome="denied", user=u or "anonymous")
    st.error(t("auth.denied", page=title), title=t("auth.denied.title"), icon=":material/block:")


def account_box() -> None:
    """Sidebar: who is signed in, role and scope, sign-out."""
    u = current_user()
    if u is None:
        return
    lang = current_lang()
    role = ROLE_LABELS.get(u.role, (u.role, u.role))[0 if lang == "zh" else 1]
    scope = tr("auth.scope.all", lang) if u.whole_bank else u.scope_text()
    with st.sidebar.container(border=True, key="auth_account"):
        st.caption(tr("auth.signed_in_as", lang, name=u.display or u.name, role=role))
        st.caption(tr("auth.scope", lang, scope=scope))
        if mode() != "none":
            st.button(tr("auth.sign_out", lang), key="auth_sign_out", on_click=sign_out, type="tertiary",
                      icon=":material/logout:")
        else:
            st.caption(tr("auth.none_mode", lang))
