"""Briefing subscriptions and their delivery ledger (operational state, schema `ops`, migration 0011).

A subscription: who receives the briefing (an account), its scope (`all` | `region:NAME` |
`branch:ID`, inside that person's boundary), the period kind (week / month / quarter), the
language, the delivery day and time, the address. A person manages their own (permission
`briefing`); an administrator (`deliver`) manages everyone's. Every change is audited.

The ledger makes a delivery happen exactly once: `claim` writes the (subscription, period) row as
'sending' in a transaction before anything is built or sent (its primary key refuses a second
claim), `finish` records the outcome with its audit row in one transaction; a 'failed' row is
claimed again once its backoff has passed, until the declared attempts are used up ('gave_up').
A claim that never finished (the process stopped in between) is reported, never re-sent on its
own: the mail may have left.

No Streamlit and nothing of `briefing/` here (layers point one way): building and sending is
`briefing/delivery.py`'s.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time
from enum import StrEnum

from data.users import Principal, UserStore, branch_master


class Kind(StrEnum):
    """The period kinds a subscription may ask for."""

    WEEK = "week"
    MONTH = "month"
    QUARTER = "quarter"


class Status(StrEnum):
    """A ledger row's state."""

    SENDING = "sending"  # claimed, outcome not yet recorded
    SENT = "sent"
    FAILED = "failed"  # retried after the backoff
    GAVE_UP = "gave_up"  # the declared attempts are used up
    REFUSED = "refused"  # the person may no longer receive it (disabled, role, scope)


LANGS = ("zh", "en")
WEEKDAYS = range(1, 8)  # ISO: 1 Monday … 7 Sunday
MONTH_DAYS = range(1, 29)  # every month has them
_EMAIL = re.compile(r"^[^@\s<>,;\"']+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")


class SubscriptionError(ValueError):
    """A subscription that cannot be added or removed; `issues` lists every reason (field, zh, en)."""

    def __init__(self, issues: list[tuple[str, str, str]]):
        self.issues = issues
        super().__init__("; ".join(f"{f}: {zh} / {en}" for f, zh, en in issues))


@dataclass(frozen=True)
class Subscription:
    subscription_id: int
    user_name: str
    scope: str
    grain: str
    lang: str
    send_day: int
    send_time: time
    email: str
    created_at: datetime
    created_by: str
    removed_at: datetime | None = None
    removed_by: str | None = None

    @property
    def kind(self) -> Kind:
        return Kind(self.grain)

    def as_dict(self) -> dict:
        return {k: (v.isoformat() if isinstance(v, datetime | date | time) else v)
                for k, v in self.__dict__.items()}


@dataclass(frozen=True)
class Delivery:
    """One ledger row."""

    subscription_id: int
    period_start: date
    period_code: str
    status: str
    attempts: int
    claimed_at: datetime
    finished_at: datetime | None
    next_attempt_at: datetime | None
    transport: str | None
    recipient: str | None
    bytes: int | None
    error: str | None


def parse_time(text: str | time) -> time:
    """'08:00' or '8:30' → a time of day (ValueError otherwise)."""
    if isinstance(text, time):
        return text.replace(second=0, microsecond=0)
    m = re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*", str(text or ""))
    if not m or int(m[1]) > 23 or int(m[2]) > 59:
        raise ValueError(text)
    return time(int(m[1]), int(m[2]))


def scope_issue(store, scope: str, boundary: frozenset[str] | None) -> tuple[str, str] | None:
    """Why `scope` is not a scope of a person with `boundary` (zh, en), or None when it is.

    A region must exist and lie wholly inside the boundary, a branch must exist inside it; `all`
    is always the person's own boundary (the briefing builder applies it)."""
    s = (scope or "").strip()
    if s == "all":
        return None
    kind, _, value = s.partition(":")
    b = branch_master(store)
    if kind == "region" and value:
        ids = set(b.loc[b["region"] == value, "branch_id"])
        if not ids:
            return f"没有这个区域：{value}", f"unknown region {value!r}"
        if boundary is not None and not ids <= boundary:
            return f"超出数据范围：{s}", f"outside the data scope: {s}"
        return None
    if kind == "branch" and value:
        if value not in set(b["branch_id"]):
            return f"没有这个机构：{value}", f"unknown branch {value!r}"
        if boundary is not None and value not in boundary:
            return f"超出数据范围：{s}", f"outside the data scope: {s}"
        return None
    return "范围须为 all、region:区域名 或 branch:机构号", f"the scope must be all, region:NAME or branch:ID: {s!r}"


def may_manage(actor: Principal, owner: str) -> bool:
    """A person manages their own subscriptions (`briefing`); an administrator everyone's (`deliver`)."""
    return actor.can("deliver") or (actor.name == owner and actor.can("briefing"))


class SubscriptionStore:
    """Subscriptions and the delivery ledger on the embedded store."""

    def __init__(self, store, channel: str = "web"):
        self.store = store
        self.channel = channel

    # -- subscriptions -----------------------------------------------------------------------
    def add(self, actor: Principal, user: str, *, scope: str, grain: str, lang: str, send_day: int,
            send_time: str | time, email: str) -> Subscription:
        """Validate everything (every problem reported at once), then write and audit in one transaction."""
        from data.audit import audit

        issues: list[tuple[str, str, str]] = []
        u = UserStore(self.store).get(user) if user else None
        if u is None or u.disabled:
            issues.append(("user", f"没有可用的用户 {user}", f"no usable account {user!r}"))
        elif not may_manage(actor, user):
            issues.append(("user", f"无权为 {user} 订阅", f"{actor.name} may not manage the subscriptions of {user}"))
        elif not u.principal().can("briefing"):
            issues.append(("user", f"{user} 无简报权限", f"{user} may not receive briefings (role {u.role})"))
        if grain not in {k.value for k in Kind}:
            issues.append(("grain", "期间类型须为 week、month 或 quarter", f"the period kind must be week, month or quarter: {grain!r}"))
        if lang not in LANGS:
            issues.append(("lang", "语言须为 zh 或 en", f"the language must be zh or en: {lang!r}"))
        days = WEEKDAYS if grain == Kind.WEEK else MONTH_DAYS
        try:
            send_day = int(send_day)
        except (TypeError, ValueError):
            send_day = -1
        if send_day not in days:
            issues.append(("day", f"发送日须为 {days.start}–{days.stop - 1}",
                           f"the delivery day must be {days.start}–{days.stop - 1} for a {grain}"))
        try:
            at = parse_time(send_time)
        except ValueError:
            issues.append(("time", "发送时间须为 时:分（如 08:00）", f"the delivery time must be HH:MM: {send_time!r}"))
            at = None
        email = (email or "").strip()
        if not _EMAIL.match(email):
            issues.append(("email", "邮箱地址无效", f"not an e-mail address: {email!r}"))
        if u is not None and not u.disabled:
            why = scope_issue(self.store, scope, u.principal().boundary(self.store))
            if why:
                issues.append(("scope", *why))
        if issues:
            audit(self.store, actor, "subscription_add", target=user, outcome="denied", channel=self.channel,
                  detail={"issues": [f for f, _, _ in issues], "scope": scope})
            raise SubscriptionError(issues)
        now = datetime.now()
        with self.store.transaction() as cur:
            sid = self.store.query("subscriptions.next_id").value(cur)
            self.store.query("subscriptions.insert", id=sid, user=user, scope=scope.strip(), grain=grain, lang=lang,
                             send_day=send_day, send_time=at, email=email, now=now, by=actor.name).run(cur)
            audit(self.store, actor, "subscription_add", target=f"{sid} {user}", channel=self.channel, cur=cur,
                  detail={"scope": scope, "grain": grain, "lang": lang, "day": send_day, "time": at.isoformat("minutes"),
                          "email": email})
        return self.get(sid)

    def get(self, sid: int) -> Subscription | None:
        row = self.store.query("subscriptions.get", id=int(sid)).first()
        return Subscription(*row) if row else None

    def list(self, actor: Principal | None = None, *, everyone: bool = False) -> list[Subscription]:
        """The live subscriptions `actor` manages: their own, or everyone's for an administrator
        asking for `everyone` (actor None: everyone's, the delivery run)."""
        mine = actor is not None and not (everyone and actor.can("deliver"))
        return [Subscription(*r) for r in
                self.store.query("subscriptions.list_active", user=actor.name if mine else None).rows()]

    def remove(self, actor: Principal, sid: int) -> Subscription:
        """End a subscription the actor manages (someone else's looks the same as none: no oracle)."""
        from data.audit import audit

        s = self.get(sid)
        if s is None or s.removed_at is not None or not may_manage(actor, s.user_name):
            audit(self.store, actor, "subscription_remove", target=str(sid), outcome="denied", channel=self.channel)
            raise SubscriptionError([("id", f"没有可删除的订阅 {sid}", f"no subscription {sid} of yours to remove")])
        with self.store.transaction() as cur:
            self.store.query("subscriptions.remove", id=int(sid), now=datetime.now(), by=actor.name).run(cur)
            audit(self.store, actor, "subscription_remove", target=f"{sid} {s.user_name}", channel=self.channel,
                  cur=cur, detail={"scope": s.scope, "grain": s.grain, "email": s.email})
        return self.get(sid)

    # -- the ledger --------------------------------------------------------------------------
    def claim(self, sid: int, period_start: date, code: str, now: datetime, max_attempts: int) -> int | None:
        """Claim (subscription, period) for one attempt; returns its number, or None when it is not
        ours to send (sent, refused, given up, claimed by a run still going, or in its backoff)."""
        with self.store.transaction() as cur:
            row = self.store.query("subscriptions.claim_new", id=sid, period_start=period_start, code=code,
                                   now=now).first(cur)
            if row is None:
                row = self.store.query("subscriptions.claim_retry", id=sid, period_start=period_start, now=now,
                                       max_attempts=int(max_attempts)).first(cur)
        return None if row is None else int(row[0])

    def finish(self, sid: int, period_start: date, status: Status, now: datetime, *, audit_row: dict,
               next_at: datetime | None = None, transport: str | None = None, recipient: str | None = None,
               size: int | None = None, error: str | None = None) -> None:
        """Record the attempt's outcome and its audit row (`audit_row`: the keywords of `data.audit.audit`
        without store and cursor) in one transaction."""
        from data.audit import audit

        with self.store.transaction() as cur:
            self.store.query("subscriptions.finish", id=sid, period_start=period_start, status=str(status), now=now,
                             next_at=next_at, transport=transport, recipient=recipient, bytes=size,
                             error=None if error is None else error[:1000]).run(cur)
            audit(self.store, cur=cur, **audit_row)

    def delivery(self, sid: int, period_start: date) -> Delivery | None:
        row = self.store.query("subscriptions.get_delivery", id=sid, period_start=period_start).first()
        return Delivery(*row) if row else None

    def recent(self, actor: Principal | None = None, limit: int = 50):
        """The latest ledger rows (a DataFrame) of the actor's own subscriptions, or everyone's for an
        administrator (or actor None)."""
        mine = actor is not None and not actor.can("deliver")
        return self.store.query("subscriptions.recent", user=actor.name if mine else None, limit=int(limit)).df()

    def stuck(self, before: datetime) -> list[tuple]:
        """Claims older than `before` with no outcome: (subscription, person, period, attempts, claimed_at)."""
        return self.store.query("subscriptions.stuck", before=before).rows()
