"""Accounts, roles and access boundaries (operational state, schema `ops`).

Roles are cumulative: viewer (read within scope) < analyst (+ upload, triage, briefing, plan) <
manager (+ every branch of their region, approve) < admin (+ users, rollback, settings, audit, the branch
master, market events, supervise). Groups add permissions beyond the role (`GROUP_GRANTS`): a
member of `supervision` may `supervise` (inspections, 整改通知书, re-checks) whatever their role.
A role says what a person may *do*; the scope says which branches' data they may *see*:

    admin                          the whole bank
    manager                        every branch of their region (and of the regions of their branches)
    viewer / analyst               their branches (a sub-branch id includes its outlets), or a region
    anyone with neither            nothing (fail closed) — except admin

`Principal.boundary(store)` turns that into the `branch_ids` of `metrics.scope.Scope`, which the
query layer (`metrics.compiler.scoped`) applies to every analytical query. Passwords are hashed
with argon2id (argon2-cffi); repeated failures lock the account for a while.

No Streamlit here: the web app (pages/_ui/auth.py) and the CLI (`--as USER`) share it.
"""

from __future__ import annotations

import contextlib
import json
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

import pandas as pd
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from data.sqlfiles import sql

ROLES = ("viewer", "analyst", "manager", "admin")
ROLE_LABELS = {"viewer": ("查看者", "Viewer"), "analyst": ("分析员", "Analyst"),
               "manager": ("管理者", "Manager"), "admin": ("系统管理员", "Administrator")}
# What each role may do (cumulative). "read" = see analytical pages within the scope.
PERMISSIONS: dict[str, frozenset[str]] = {}
_GRANTS = {
    "viewer": {"read", "export", "scorecard"},
    "analyst": {"upload", "triage", "briefing", "scan", "plan"},
    "manager": {"approve", "post"},
    "admin": {"users", "rollback", "settings", "audit", "demo", "master", "market", "supervise", "deliver",
              "scorecard_admin"},
}
# "plan": propose, edit, evaluate and carry out adjustment plans, report a notice rectified
# (data/plans); "approve" also approves / rejects / reviews plans; "post": notices, meeting records and
# pins of the work-dynamics feed (data/feed.py; everyone with "read" reads it); "supervise": inspections,
# 整改通知书 and their re-checks (data/plans/transitions.py holds the table of moves).
# "briefing" also lets a person manage their own briefing subscriptions; "deliver": run the scheduled
# delivery (`bankpulse deliver`, `bankpulse scheduler`) and manage everyone's subscriptions (data/subscriptions.py).
# "scorecard": see the scorecard (考核) within the scope — one's own units' scores and ranks, the details
# only inside the boundary; "scorecard_admin": save a new version of its definition (metrics/scorecard_versions.py).
# "master": load the branch master (add, re-parent, close outlets: it redraws every boundary);
# "market": add bank-wide market / policy events. Both need the whole bank (docs/security.md,
# "Writes stay inside the boundary"); `Principal.write_rights` applies that.
_acc: set[str] = set()
for _r in ROLES:
    _acc |= _GRANTS[_r]
    PERMISSIONS[_r] = frozenset(_acc)

# Groups grant permissions beyond the role (ops.users.groups, migration 0007).
GROUP_GRANTS: dict[str, frozenset[str]] = {"supervision": frozenset({"supervise"})}
GROUP_LABELS = {"supervision": ("监督检查", "Supervision")}

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{1,63}$")
MIN_PASSWORD = 12


class AuthSettings(BaseSettings):
    """Sign-in settings (`BANKPULSE_AUTH=local|oidc|none`, …), read from the environment / `.env`."""

    model_config = SettingsConfigDict(env_prefix="BANKPULSE_", env_file=".env", env_file_encoding="utf-8",
                                      frozen=True, extra="ignore")

    auth: Literal["local", "oidc", "none"] = Field(
        default="local", description="local accounts (default, offline) | oidc (st.login) | none (tests only)")
    session_timeout_min: int = Field(default=30, ge=1, description="Sign out after this many idle minutes")
    session_max_hours: float = Field(default=12, gt=0, description="Sign out this many hours after sign-in, "
                                     "however active the session")
    lockout_after: int = Field(default=5, ge=1, description="Failed sign-ins before an account is locked")
    lockout_min: int = Field(default=15, ge=1, description="Minutes an account stays locked")
    oidc_provider: str | None = Field(default=None, description="[auth.<name>] of secrets.toml (None: [auth])")
    cli_require_as: bool = Field(default=False, description="CLI data commands need --as USER")
    cookie_secure: Literal["auto", "always", "never"] = Field(
        default="auto", description="Mark the sign-in cookie Secure: auto (when the request came over TLS, "
        "directly or as X-Forwarded-Proto from a trusted proxy) | always (TLS ends at a proxy) | never")


def auth_settings() -> AuthSettings:
    return AuthSettings()


class UserError(ValueError):
    """A user change that is not allowed, with the reason in both languages."""


# -- hashing ---------------------------------------------------------------------------------
_HASHER = PasswordHasher()  # argon2id, the library's current recommended parameters
_DUMMY = _HASHER.hash("bankpulse-not-a-password")  # same work for unknown users (no timing oracle)


def hash_password(password: str) -> str:
    check_password(password)
    return _HASHER.hash(password)


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise UserError(f"密码至少 {MIN_PASSWORD} 个字符 / the password needs at least {MIN_PASSWORD} characters")


def random_password() -> str:
    return secrets.token_urlsafe(15)  # 20 characters, ~120 bits


# -- principals ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Principal:
    """Who is acting: name, role and scope (region and/or branches)."""

    name: str
    role: str
    region: str | None = None
    branches: frozenset[str] = field(default_factory=frozenset)
    source: str = "local"  # local | oidc | none | cli
    display: str | None = None
    groups: frozenset[str] = field(default_factory=frozenset)

    def can(self, permission: str) -> bool:
        """The role grants it, or one of the person's groups does (`GROUP_GRANTS`)."""
        if permission in PERMISSIONS.get(self.role, frozenset()):
            return True
        return any(permission in GROUP_GRANTS.get(g, frozenset()) for g in self.groups)

    @property
    def whole_bank(self) -> bool:
        return self.role == "admin" or (self.region == "*")

    def scope_text(self) -> str:
        """The boundary as recorded in the audit trail: all | region:R | branches:A,B."""
        if self.whole_bank:
            return "all"
        parts = []
        if self.region:
            parts.append(f"region:{self.region}")
        if self.branches:
            parts.append("branches:" + ",".join(sorted(self.branches)))
        return ";".join(parts) or "none"

    def write_rights(self, store) -> dict:
        """The keywords `ingest_file` takes for this writer: the boundary computed now, from the
        current master (before any load), and whether they may redraw the master / add market events."""
        bound = self.boundary(store)
        return {"boundary": bound, "may_change_master": bound is None and self.can("master"),
                "may_write_bank_wide": bound is None or self.can("market")}

    def boundary(self, store) -> frozenset[str] | None:
        """The branch ids this person may see (None: the whole bank)."""
        if self.whole_bank:
            return None
        return boundary_for(branch_master(store), self.role, self.region, self.branches)


def branch_master(store) -> pd.DataFrame:
    try:
        return store.cursor().execute(sql("users.branch_master")).df()
    except Exception:  # noqa: BLE001 - no branch table yet: nothing to see
        return pd.DataFrame(columns=["branch_id", "region", "parent_id"])


def boundary_for(branches: pd.DataFrame, role: str, region: str | None, ids: frozenset[str]) -> frozenset[str]:
    """Branch ids inside the scope of a non-admin: own branches (+ outlets), own region; a manager
    gets every branch of their region and of the regions their branches belong to."""
    b = branches
    own = set(ids)
    own |= set(b.loc[b["parent_id"].isin(list(ids)), "branch_id"])  # a sub-branch's outlets
    regions = {region} if region else set()
    if role == "manager":
        regions |= set(b.loc[b["branch_id"].isin(list(ids)), "region"].dropna())
    if regions:
        own |= set(b.loc[b["region"].isin(list(regions)), "branch_id"])
    return frozenset(str(x) for x in own)


def visible_anomalies(df: pd.DataFrame, boundary: frozenset[str] | None, branches: pd.DataFrame) -> pd.DataFrame:
    """Anomaly rows a person may see: all for the whole bank; else branch-level rows of their
    branches and region-level rows of regions that lie entirely inside the boundary (a bank-wide
    aggregate, or a region's, would reveal other branches' figures)."""
    if boundary is None or df.empty:
        return df
    full = {r for r, ids in branches.groupby("region")["branch_id"] if set(ids) <= boundary} if len(branches) else set()
    keep = ((df["scope_kind"] == "branch") & df["scope_value"].isin(list(boundary))) | \
        ((df["scope_kind"] == "region") & df["scope_value"].isin(list(full)))
    return df[keep]


# -- the store -------------------------------------------------------------------------------
@dataclass(frozen=True)
class User:
    user_name: str
    display_name: str | None
    role: str
    region: str | None
    branches: str | None
    password_hash: str | None = field(repr=False)
    source: str = "local"
    disabled: bool = False
    failed_logins: int = 0
    locked_until: datetime | None = None
    created_at: datetime | None = None
    created_by: str | None = None
    updated_at: datetime | None = None
    updated_by: str | None = None
    last_login: datetime | None = None
    version: int = 1  # +1 on every change of role, scope, groups, disabled flag or password (sessions compare it)
    groups: str = ""  # comma-separated group names (GROUP_GRANTS), '' = none

    @property
    def branch_set(self) -> frozenset[str]:
        return frozenset(b for b in (self.branches or "").split(",") if b)

    @property
    def group_set(self) -> frozenset[str]:
        return frozenset(g for g in (self.groups or "").split(",") if g)

    def principal(self) -> Principal:
        return Principal(self.user_name, self.role, self.region or None, self.branch_set, self.source,
                         self.display_name, self.group_set)

    def public(self) -> dict:
        """The account without its hash (listings, the admin page, JSON)."""
        return {"user_name": self.user_name, "display_name": self.display_name, "role": self.role,
                "region": self.region, "branches": self.branches, "groups": self.groups, "source": self.source,
                "disabled": self.disabled,
                "failed_logins": self.failed_logins, "locked_until": self.locked_until,
                "created_at": self.created_at, "created_by": self.created_by, "last_login": self.last_login}


@dataclass(frozen=True)
class LoginResult:
    ok: bool
    reason: str  # ok | bad_credentials | locked | disabled
    user: User | None = None
    locked_until: datetime | None = None


def _norm_branches(branches) -> str:
    if branches is None:
        return ""
    items = branches.split(",") if isinstance(branches, str) else list(branches)
    return ",".join(sorted({str(b).strip() for b in items if str(b).strip()}))


def _norm_groups(groups) -> str:
    """Group names as stored: sorted, comma-separated; unknown names are refused."""
    text = _norm_branches(groups)
    unknown = [g for g in text.split(",") if g and g not in GROUP_GRANTS]
    if unknown:
        raise UserError(f"未知用户组 / unknown group {', '.join(unknown)}; one of: {', '.join(GROUP_GRANTS)}")
    return text


def _check_profile(name: str, role: str, region: str | None, branches: str) -> None:
    if not _NAME.match(name or ""):
        raise UserError(f"用户名只能包含字母、数字和 _ . @ -（2–64 个字符） / invalid user name {name!r}")
    if role not in ROLES:
        raise UserError(f"未知角色 / unknown role {role!r}; one of: {', '.join(ROLES)}")
    if role != "admin" and not region and not branches:
        raise UserError("非管理员须指定区域或机构（--region / --branches） / a non-admin needs a region or branches")


class UserStore:
    """Accounts on the embedded store. Every change is audited by the caller's actor."""

    def __init__(self, store, settings: AuthSettings | None = None, channel: str = "web"):
        self.store = store
        self.settings = settings or auth_settings()
        self.channel = channel

    # -- reads -------------------------------------------------------------------------------
    def get(self, name: str) -> User | None:
        row = self.store.cursor().execute(sql("users.get_user"), {"name": name}).fetchone()
        return User(*row) if row else None

    def list(self) -> list[User]:
        return [User(*r) for r in self.store.cursor().execute(sql("users.list_users")).fetchall()]

    def count(self) -> int:
        return self.store.cursor().execute(sql("users.count_users")).fetchone()[0]

    def version(self, name: str) -> tuple[int, bool] | None:
        """(version, disabled) of an account, None when it does not exist: what an open session
        checks on every run (one primary-key lookup) to notice a change of role, scope, password
        or the disabled flag."""
        row = self.store.cursor().execute(sql("users.user_version"), {"name": name}).fetchone()
        return (int(row[0] or 0), bool(row[1])) if row else None

    # -- changes -----------------------------------------------------------------------------
    def add(self, actor: Principal | str, name: str, role: str, *, password: str | None = None,
            region: str | None = None, branches=None, display: str | None = None, source: str = "local",
            groups=None) -> User:
        from data.audit import audit

        branches = _norm_branches(branches)
        groups = _norm_groups(groups)
        _check_profile(name, role, region, branches)
        if self.get(name) is not None:
            raise UserError(f"用户 {name} 已存在 / user {name} already exists")
        pw_hash = hash_password(password) if source == "local" else None
        if source == "local" and not password:
            raise UserError("本地账户需要密码 / a local account needs a password")
        with self.store.transaction() as cur:
            cur.execute(sql("users.insert_user"), {"name": name, "display": display, "role": role,
                                                   "region": region or None, "branches": branches, "hash": pw_hash,
                                                   "source": source, "now": datetime.now(), "by": _name(actor),
                                                   "groups": groups})
        audit(self.store, actor, "user_add", target=name, channel=self.channel,
              detail={"role": role, "region": region, "branches": branches, "source": source, "groups": groups})
        return self.get(name)

    def update(self, actor: Principal | str, name: str, *, role: str | None = None, region: str | None = None,
               branches=None, display: str | None = None, groups=None) -> User:
        """Change role, scope, display name or groups (None: keep; groups given replace the set)."""
        from data.audit import audit

        u = self._must(name)
        groups = u.groups or "" if groups is None else _norm_groups(groups)
        role = role or u.role
        region = u.region if region is None else (region or None)
        branches = u.branches or "" if branches is None else _norm_branches(branches)
        _check_profile(name, role, region, branches)
        self._keep_an_admin(u, role=role)
        with self.store.transaction() as cur:
            cur.execute(sql("users.update_profile"), {"name": name, "display": display or u.display_name,
                                                      "role": role, "region": region, "branches": branches,
                                                      "groups": groups, "now": datetime.now(), "by": _name(actor)})
        audit(self.store, actor, "user_update", target=name, channel=self.channel,
              detail={"from": {"role": u.role, "region": u.region, "branches": u.branches, "groups": u.groups},
                      "to": {"role": role, "region": region, "branches": branches, "groups": groups}})
        return self.get(name)

    def set_disabled(self, actor: Principal | str, name: str, disabled: bool = True) -> User:
        from data.audit import audit
        from data.sessions import revoke_user_sessions

        u = self._must(name)
        if disabled:
            self._keep_an_admin(u, disabled=True)
        with self.store.transaction() as cur:
            cur.execute(sql("users.set_disabled"), {"name": name, "disabled": disabled, "now": datetime.now(),
                                                    "by": _name(actor)})
            if disabled:  # the sign-in cookies stop working at once (data/sessions.py)
                revoke_user_sessions(cur, name, "user_disable")
        audit(self.store, actor, "user_disable" if disabled else "user_enable", target=name, channel=self.channel)
        return self.get(name)

    def reset_password(self, actor: Principal | str, name: str, password: str | None = None) -> str:
        """Set a new password (random when not given); returns it. Clears any lockout."""
        from data.audit import audit
        from data.sessions import revoke_user_sessions

        u = self._must(name)
        if u.source != "local":
            raise UserError(f"{name} 通过单点登录认证，没有本地密码 / {name} signs in through SSO: no local password")
        password = password or random_password()
        with self.store.transaction() as cur:
            cur.execute(sql("users.set_password"), {"name": name, "hash": hash_password(password),
                                                    "now": datetime.now(), "by": _name(actor)})
            revoke_user_sessions(cur, name, "user_password")  # a reset ends every signed-in browser
        audit(self.store, actor, "user_password", target=name, channel=self.channel)
        return password

    def sign_out_everywhere(self, actor: Principal | str, name: str) -> int:
        """End every sign-in session of `name` (each browser's cookie stops working, open tabs are
        signed out at their next interaction); returns how many were open. Audited."""
        from data.audit import audit
        from data.sessions import SessionStore

        self._must(name)
        n = SessionStore(self.store, self.settings).revoke_user(name, "signout_all")
        audit(self.store, actor, "user_signout_all", target=name, channel=self.channel, detail={"sessions": n})
        return n

    def ensure_oidc(self, p: Principal) -> User:
        """Record (or refresh) an SSO identity, so the admin page lists it and can disable it."""
        u = self.get(p.name)
        if u is None:
            with self.store.transaction() as cur:
                cur.execute(sql("users.insert_user"), {
                    "name": p.name, "display": p.display, "role": p.role, "region": p.region,
                    "branches": _norm_branches(p.branches), "hash": None, "source": "oidc", "now": datetime.now(),
                    "by": "oidc", "groups": ""})
        elif (u.role, u.region or None, u.branch_set) != (p.role, p.region, p.branches) and u.source == "oidc":
            with self.store.transaction() as cur:
                cur.execute(sql("users.update_profile"), {"name": p.name, "display": p.display, "role": p.role,
                                                          "region": p.region, "branches": _norm_branches(p.branches),
                                                          "groups": u.groups or "", "now": datetime.now(),
                                                          "by": "oidc"})
        return self.get(p.name)

    # -- sign-in -----------------------------------------------------------------------------
    def authenticate(self, name: str, password: str, now: datetime | None = None) -> LoginResult:
        """Check a password, count failures, lock after `lockout_after` in a row (not audited here)."""
        now = now or datetime.now()
        u = self.get(name) if name else None
        if u is None or u.source != "local" or not u.password_hash:
            with contextlib.suppress(VerificationError):  # the same argon2 work: timing reveals no names
                _HASHER.verify(_DUMMY, password or "x")
            return LoginResult(False, "bad_credentials")
        if u.locked_until is not None and u.locked_until > now:
            return LoginResult(False, "locked", u, u.locked_until)
        try:
            _HASHER.verify(u.password_hash, password or "")
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            failures = (0 if u.locked_until is not None else u.failed_logins) + 1
            until = now + timedelta(minutes=self.settings.lockout_min) if failures >= self.settings.lockout_after \
                else None
            with self.store.transaction() as cur:
                cur.execute(sql("users.login_failed"), {"name": name, "failures": failures, "locked_until": until})
            if until is not None:
                return LoginResult(False, "locked", u, until)
            return LoginResult(False, "bad_credentials", u)
        if u.disabled:
            return LoginResult(False, "disabled", u)
        with self.store.transaction() as cur:
            cur.execute(sql("users.login_ok"), {"name": name, "now": now})
            if _HASHER.check_needs_rehash(u.password_hash):
                cur.execute(sql("users.rehash"), {"name": name, "hash": _HASHER.hash(password)})
        return LoginResult(True, "ok", self.get(name))

    # -- helpers -----------------------------------------------------------------------------
    def _must(self, name: str) -> User:
        u = self.get(name)
        if u is None:
            raise UserError(f"没有用户 {name} / no user {name}")
        return u

    def _keep_an_admin(self, u: User, *, role: str | None = None, disabled: bool = False) -> None:
        if u.role != "admin" or u.disabled or (role == "admin" and not disabled):
            return
        others = [x for x in self.list() if x.role == "admin" and not x.disabled and x.user_name != u.user_name]
        if not others:
            raise UserError("至少要保留一个启用的管理员 / at least one enabled administrator must remain")


def ensure_admin(store, name: str = "admin") -> str | None:
    """First run: create `name` as admin with a random password when no account exists.

    Returns the password (to print once) or None when accounts already exist.
    """
    users = UserStore(store)
    if users.count():
        return None
    password = random_password()
    users.add("system:first-run", name, "admin", password=password, display="Administrator")
    return password


def _name(actor: Principal | str) -> str:
    return actor.name if isinstance(actor, Principal) else str(actor)


def as_json(users: list[User]) -> str:
    return json.dumps([{k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in u.public().items()}
                       for u in users], ensure_ascii=False, indent=2)
