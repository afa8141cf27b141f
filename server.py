"""BankPulse served: `streamlit run server.py` (what `make run` does) serves app.py through st.App
with two small routes of its own — the sign-in cookie of local accounts (docs/security.md, 1).

    POST /_bp/session   {"code": "<one-time handover code>"}  → sets the HttpOnly session cookie
    POST /_bp/signout                                          → revokes the cookie's session, clears it

Streamlit's script cannot set a cookie (it talks over a websocket; `st.context.cookies` is what
the browser sent at the handshake, read-only). So after a correct password the script issues a
session and a one-time code (data/sessions.py) and its page posts the code here, same-origin; this
route sets the cookie. On a reload or an opened link the websocket handshake carries the cookie,
and pages/_ui/auth.py signs the person in from it. Both routes refuse a request that is not
same-origin (Origin must name this host; Sec-Fetch-Site, when sent, must be same-origin) and the
cookie is SameSite=Strict: another site can neither use nor plant a session.

`streamlit run app.py` still works (development): there is no route, the page's post fails
quietly and sign-in lasts as long as the tab, as before.
"""

from __future__ import annotations

import json
from datetime import datetime
from urllib.parse import urlsplit

import streamlit as st
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from streamlit import config

BASE = "/" + (config.get_option("server.baseUrlPath") or "").strip("/")
PREFIX = BASE.rstrip("/") + "/_bp"


def _store():
    from data.store import open_store

    return open_store()


def _audit(user: str, action: str, detail: dict, outcome: str = "denied") -> None:
    from data.audit import audit

    audit(_store(), user, action, detail=detail, outcome=outcome, channel="web", scope="")


def same_origin(request: Request) -> bool:
    """The request came from a page of this very host (CSRF: besides SameSite=Strict)."""
    site = request.headers.get("sec-fetch-site")
    if site is not None and site != "same-origin":
        return False
    origin = request.headers.get("origin")
    return bool(origin) and urlsplit(origin).netloc == request.headers.get("host")


def _secure(request: Request) -> bool:
    from data.users import auth_settings

    match auth_settings().cookie_secure:
        case "always":
            return True
        case "never":
            return False
        case "auto":
            return request.url.scheme == "https" or bool(config.get_option("server.sslCertFile"))


def _refused() -> Response:
    return Response(status_code=403, headers={"Cache-Control": "no-store"})


async def session(request: Request) -> Response:
    """Exchange a handover code for the session cookie (once, within 60 s, same-origin only)."""
    from data.sessions import COOKIE, SessionStore

    if not same_origin(request):
        await run_in_threadpool(_audit, "anonymous", "session_refused",
                                {"route": "session", "reason": "cross_origin",
                                 "origin": request.headers.get("origin")})
        return _refused()
    try:
        code = json.loads(await request.body() or b"{}").get("code")
    except (ValueError, AttributeError):
        code = None
    r = await run_in_threadpool(lambda: SessionStore(_store()).redeem(code if isinstance(code, str) else None))
    if not r.ok:
        user = r.session.user_name if r.session else "anonymous"
        await run_in_threadpool(_audit, user, "session_refused", {"route": "session", "reason": r.reason})
        return _refused()
    resp = Response(status_code=204, headers={"Cache-Control": "no-store"})
    max_age = int((r.session.expires_at - datetime.now()).total_seconds())
    resp.set_cookie(COOKIE, r.token, max_age=max(max_age, 0), path=BASE, httponly=True, samesite="strict",
                    secure=_secure(request))
    return resp


async def signout(request: Request) -> Response:
    """Revoke the session of the cookie (the script has already, this is the safety net) and clear it."""
    from data.sessions import COOKIE, SessionStore, token_hash, well_formed

    if not same_origin(request):
        return _refused()
    token = request.cookies.get(COOKIE)
    if well_formed(token):
        await run_in_threadpool(lambda: SessionStore(_store()).revoke(token_hash(token), "sign_out"))
    resp = Response(status_code=204, headers={"Cache-Control": "no-store"})
    resp.delete_cookie(COOKIE, path=BASE, httponly=True, samesite="strict", secure=_secure(request))
    return resp


app = st.App("app.py", routes=[Route(f"{PREFIX}/session", session, methods=["POST"]),
                               Route(f"{PREFIX}/signout", signout, methods=["POST"])])
