"""Server-side sign-in sessions: the token behind the sign-in cookie, and its one-time handover.

After a correct password the script `issue`s a session: a random 32-byte token (the cookie's
value) whose SHA-256 is the row's key in `ops.sessions`, with the person, the account version,
the creation time (absolute lifetime), the last use (idle timeout) and the end. The token itself
is never stored and never shown to the page: the page receives a one-time **handover code**
(60 s, single use, stored hashed) and posts it to the server's `/_bp/session` route (server.py),
which `redeem`s it for the token and sets the HttpOnly cookie. The code row holds the token
wrapped under HMAC-SHA256(code): only the holder of the code can unwrap it, so neither a copy of
the database nor a stolen, spent code yields a usable token.

Every script run `check`s the session (one primary-key lookup): unknown (forged), revoked,
past its lifetime or idle too long is refused. A role or scope change (a new account version)
is not a refusal: the caller re-reads the person and `follow`s the new version; disabling,
a password reset and "sign out everywhere" revoke every session of the person
(`revoke_user_sessions`, inside the account change's transaction).

No Streamlit here (pages/_ui/auth.py and server.py share it); auditing is the caller's.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from data.sqlfiles import sql
from data.users import AuthSettings, auth_settings

COOKIE = "bankpulse_session"
TOKEN_BYTES = 32
HANDOVER_TTL = timedelta(seconds=60)
# last_seen is written at most this often (a write per script run would serialise every click on
# the store's write lock); the idle timeout is therefore exact to within this much.
TOUCH_EVERY = timedelta(seconds=30)
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{43}$")  # 32 bytes, URL-safe base64 without padding
_WRAP = b"bankpulse-handover"


def token_hash(token: str) -> str:
    """The stored form of a token (or a code): hex SHA-256."""
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


def well_formed(token: str | None) -> bool:
    return bool(token) and _TOKEN.match(token) is not None


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _pad(code: str) -> bytes:
    return hmac.new(code.encode("ascii"), _WRAP, hashlib.sha256).digest()


def _xor(a: bytes, b: bytes) -> bytes:
    return bytes(x ^ y for x, y in zip(a, b, strict=True))


@dataclass(frozen=True)
class Session:
    token_hash: str
    user_name: str
    user_version: int
    created_at: datetime
    last_seen: datetime
    expires_at: datetime
    revoked_at: datetime | None = None
    revoked_reason: str | None = None


@dataclass(frozen=True)
class Issued:
    """A new session: its key (kept by the Streamlit session) and the code the page hands over."""

    token_hash: str
    code: str
    expires_at: datetime


@dataclass(frozen=True)
class Check:
    """The verdict on a token: `ok`, or why not (unknown | malformed | revoked | expired | idle);
    `stale` when the account changed since (re-read the person's role and scope, then `follow`)."""

    ok: bool
    reason: str
    session: Session | None = None
    stale: bool = False


@dataclass(frozen=True)
class Redeemed:
    """A handover: the token to set as the cookie, or why not (unknown | malformed | used |
    expired | revoked)."""

    ok: bool
    reason: str
    token: str | None = None
    session: Session | None = None


def revoke_user_sessions(cur, name: str, reason: str, now: datetime | None = None) -> None:
    """End every open session of `name`, on the caller's transaction (an account change)."""
    cur.execute(sql("sessions.revoke_user_sessions"), {"user": name, "reason": reason, "now": now or datetime.now()})


class SessionStore:
    """Sessions and handover codes on the embedded store (schema `ops`)."""

    def __init__(self, store, settings: AuthSettings | None = None):
        self.store = store
        self.settings = settings or auth_settings()

    # -- issuing -----------------------------------------------------------------------------
    def issue(self, name: str, version: int, now: datetime | None = None) -> Issued:
        """A fresh session for a person who has just proved their password (a new token on every
        sign-in: no fixation), and its handover code."""
        now = now or datetime.now()
        raw = secrets.token_bytes(TOKEN_BYTES)
        token, code = _b64(raw), _b64(secrets.token_bytes(TOKEN_BYTES))
        h = token_hash(token)
        expires = now + timedelta(hours=self.settings.session_max_hours)
        with self.store.transaction() as cur:
            cur.execute(sql("sessions.purge_handover"), {"now": now})
            cur.execute(sql("sessions.insert_session"), {"token_hash": h, "user": name, "version": int(version),
                                                         "now": now, "expires": expires})
            cur.execute(sql("sessions.insert_handover"), {
                "code_hash": token_hash(code), "token_hash": h, "user": name,
                "wrapped": _xor(raw, _pad(code)).hex(), "expires": now + HANDOVER_TTL})
        return Issued(h, code, expires)

    def redeem(self, code: str | None, now: datetime | None = None) -> Redeemed:
        """The token a handover code stands for, once, within 60 seconds, while its session lives."""
        now = now or datetime.now()
        if not well_formed(code):
            return Redeemed(False, "malformed")
        ch = token_hash(code)
        with self.store.transaction() as cur:
            row = cur.execute(sql("sessions.get_handover"), {"code_hash": ch}).fetchone()
            if row is None:
                return Redeemed(False, "unknown")
            _, h, user, wrapped, expires, used = row
            if used is not None:
                return Redeemed(False, "used")
            cur.execute(sql("sessions.use_handover"), {"code_hash": ch, "now": now})  # spent, whatever follows
            if expires < now:
                return Redeemed(False, "expired")
            try:
                token = _b64(_xor(bytes.fromhex(wrapped), _pad(code)))
            except (ValueError, binascii.Error):
                return Redeemed(False, "unknown")
            s = self._get(cur, h)
            if token_hash(token) != h or s is None or s.user_name != user:
                return Redeemed(False, "unknown")
        c = self._verdict(s, now)
        return Redeemed(True, "ok", token, s) if c.ok else Redeemed(False, c.reason, session=s)

    # -- checking ----------------------------------------------------------------------------
    def check_token(self, token: str | None, account_version: int | None = None,
                    now: datetime | None = None) -> Check:
        """The verdict on a cookie's token (a malformed one is never looked up)."""
        if not well_formed(token):
            return Check(False, "malformed")
        return self.check(token_hash(token), account_version, now)

    def check(self, h: str, account_version: int | None = None, now: datetime | None = None) -> Check:
        """The verdict on a session by its key: one primary-key lookup."""
        s = self._get(self.store.cursor(), h)
        if s is None:
            return Check(False, "unknown")
        c = self._verdict(s, now or datetime.now())
        if c.ok and account_version is not None and account_version != s.user_version:
            return Check(True, "ok", s, stale=True)
        return c

    def _verdict(self, s: Session, now: datetime) -> Check:
        if s.revoked_at is not None:
            return Check(False, "revoked", s)
        if now >= s.expires_at:
            return Check(False, "expired", s)
        if now - s.last_seen > timedelta(minutes=self.settings.session_timeout_min):
            return Check(False, "idle", s)
        return Check(True, "ok", s)

    @staticmethod
    def _get(cur, h: str) -> Session | None:
        row = cur.execute(sql("sessions.get_session"), {"token_hash": h}).fetchone()
        return Session(*row) if row else None

    # -- changes -----------------------------------------------------------------------------
    def touch(self, s: Session, now: datetime | None = None) -> None:
        """Mark the session used (written at most every TOUCH_EVERY)."""
        now = now or datetime.now()
        if now - s.last_seen >= TOUCH_EVERY:
            with self.store.transaction() as cur:
                cur.execute(sql("sessions.touch_session"), {"token_hash": s.token_hash, "now": now})

    def follow(self, h: str, version: int) -> None:
        """The session re-read the person after a role or scope change: it holds `version` now."""
        with self.store.transaction() as cur:
            cur.execute(sql("sessions.follow_version"), {"token_hash": h, "version": int(version)})

    def revoke(self, h: str, reason: str, now: datetime | None = None) -> None:
        with self.store.transaction() as cur:
            cur.execute(sql("sessions.revoke_session"), {"token_hash": h, "reason": reason,
                                                         "now": now or datetime.now()})

    def revoke_user(self, name: str, reason: str, now: datetime | None = None) -> int:
        """End every open session of `name`; returns how many were open."""
        now = now or datetime.now()
        n = self.open_count(name, now)
        with self.store.transaction() as cur:
            revoke_user_sessions(cur, name, reason, now)
        return n

    def open_count(self, name: str, now: datetime | None = None) -> int:
        return self.store.cursor().execute(sql("sessions.count_open_sessions"),
                                           {"user": name, "now": now or datetime.now()}).fetchone()[0]
