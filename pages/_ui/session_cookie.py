"""The sign-in cookie, Streamlit side (local accounts; server.py sets and clears it).

A script cannot set a cookie: it runs behind a websocket. `token()` is the cookie as the browser
sent it when this tab connected (`st.context.cookies`, read-only, so it does not change until the
next reload); `hand_over(code)` has the page post a new session's one-time code to server.py's
`/_bp/session`, which answers with the HttpOnly cookie; `clear()` has it post `/_bp/signout`,
which revokes the session and clears the cookie. The posted values are our own random codes
(URL-safe base64), never user input; they are JSON-encoded into the script all the same.
"""

from __future__ import annotations

import json

import streamlit as st

from data.sessions import COOKIE


def token() -> str | None:
    """The session cookie the browser sent at the websocket handshake (None: none, or AppTest)."""
    try:
        value = st.context.cookies.get(COOKIE)
    except Exception:  # noqa: BLE001 - no client context (bare script runs)
        return None
    return value if isinstance(value, str) else None  # AppTest's context is a stand-in


def _url(route: str) -> str:
    base = (st.get_option("server.baseUrlPath") or "").strip("/")
    return f"{'/' + base if base else ''}/_bp/{route}"


def _post(route: str, body: dict) -> None:
    call = (f"fetch({json.dumps(_url(route))}, {{method: 'POST', credentials: 'same-origin', "
            f"headers: {{'Content-Type': 'application/json'}}, body: {json.dumps(json.dumps(body))}}})"
            ".catch(() => {});")  # `streamlit run app.py` has no route: the tab's sign-in simply lasts
    with st.container(key=f"bp_cookie_{route}", height=1, border=False):
        st.html(f"<script>{call}</script>", unsafe_allow_javascript=True)


def hand_over(code: str) -> None:
    """Exchange `code` for the cookie (right after a correct password)."""
    _post("session", {"code": code})


def clear() -> None:
    """Revoke the cookie's session and clear the cookie (after a sign-out)."""
    _post("signout", {})
