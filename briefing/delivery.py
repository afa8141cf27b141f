"""Scheduled, scoped delivery of the briefing: `deliver(store, now, due_only)` (`bankpulse deliver`).

For every live subscription (data/subscriptions.py) the period is the **last complete** one of its
kind on `now`'s day (last week, last month, last quarter). With `due_only` a subscription is due
from its delivery moment on: the `send_day` of the period that follows (ISO weekday for a week,
day of the month for a month or quarter) at `send_time`.

Each delivery is one pass of: claim the (subscription, period) row in a transaction (a second
claim finds it and stops — a re-run sends nothing twice) → check the person may still receive it
→ build the PDF **inside that person's own boundary** (the briefing builder with their principal's
`boundary`, exactly what they would get on the briefing page; never one PDF cut afterwards) →
send (briefing/transport.py) → record the outcome and its audit row (`briefing_delivery`) in one
transaction. A failure is retried by a later run after `deliver_retry_min × 2^(attempt-1)`
minutes, `deliver_max_attempts` attempts in all; it and every other failure are in the `Report`
(the CLI exits 1 listing them; the briefing page shows the last deliveries).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from briefing.content import BriefingError, BriefingRequest, build_document
from briefing.fonts import FontMissingError
from briefing.spec import DEFAULT_SPEC
from briefing.transport import Outgoing, SendError, transport
from data.settings import Settings, get_settings
from data.subscriptions import Kind, Status, Subscription, SubscriptionStore
from data.users import UserStore
from metrics.model import Grain
from metrics.periods import period_start, shift

STUCK_AFTER = timedelta(hours=1)  # a claim this old without an outcome: the run that made it stopped
_GRAIN = {Kind.WEEK: Grain.WEEK, Kind.MONTH: Grain.MONTH, Kind.QUARTER: Grain.QUARTER}


def last_complete(kind: Kind, today: date) -> date:
    """The first day of the last period of `kind` that ended before `today`."""
    g = _GRAIN[Kind(kind)]
    return shift(period_start(today, g), g, -1)


def due_at(sub: Subscription, start: date) -> datetime:
    """When the period starting at `start` is delivered: its send day in the period after it."""
    nxt = shift(start, _GRAIN[sub.kind], 1)
    return datetime.combine(nxt + timedelta(days=sub.send_day - 1), sub.send_time)


def period_code(start: date, kind: Kind) -> str:
    """The CLI's period code: 2025-W38, 2025-09, 2025-Q3."""
    if Kind(kind) is Kind.WEEK:
        iso = start.isocalendar()
        return f"{iso.year}-W{iso.week:02d}"
    if Kind(kind) is Kind.QUARTER:
        return f"{start.year}-Q{(start.month - 1) // 3 + 1}"
    return f"{start.year}-{start.month:02d}"


@dataclass(frozen=True)
class Outcome:
    """What one claimed delivery came to."""

    subscription_id: int
    user_name: str
    period_code: str
    status: Status
    attempt: int
    transport: str | None = None
    recipient: str | None = None
    error: str | None = None
    next_attempt_at: datetime | None = None


@dataclass
class Report:
    """A delivery run: what was attempted, and the claims found stuck (outcome unknown)."""

    now: datetime
    outcomes: list[Outcome] = field(default_factory=list)
    stuck: list[tuple] = field(default_factory=list)

    @property
    def sent(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.status is Status.SENT]

    @property
    def failures(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.status is not Status.SENT]

    @property
    def ok(self) -> bool:
        return not self.failures and not self.stuck


def deliver(store, now: datetime | None = None, *, due_only: bool = True, settings: Settings | None = None,
            actor: str = "system:deliver", channel: str = "cli") -> Report:
    """Deliver every subscription's last complete period that is due (all of them without `due_only`)
    and not yet delivered; returns the report."""
    now = (now or datetime.now()).replace(microsecond=0)
    settings = settings or get_settings()
    subs = SubscriptionStore(store, channel=channel)
    report = Report(now)
    send = transport(settings)
    for sub in subs.list(None):
        start = last_complete(sub.kind, now.date())
        if due_only and now < due_at(sub, start):
            continue
        code = period_code(start, sub.kind)
        attempt = subs.claim(sub.subscription_id, start, code, now, settings.deliver_max_attempts)
        if attempt is None:
            continue
        report.outcomes.append(_attempt(store, subs, sub, start, code, attempt, now, settings, send, actor, channel))
    report.stuck = subs.stuck(now - STUCK_AFTER)
    return report


def _attempt(store, subs: SubscriptionStore, sub: Subscription, start: date, code: str, attempt: int,
             now: datetime, settings: Settings, send, actor: str, channel: str) -> Outcome:
    """One claimed delivery, start to recorded outcome (never raises for a failure of its own)."""
    u = UserStore(store).get(sub.user_name)
    who = u.principal() if u is not None else sub.user_name
    status, error, size, where, subject = Status.SENT, None, None, None, None
    if u is None or u.disabled or not u.principal().can("briefing"):
        status = Status.REFUSED
        error = "account unknown, disabled or without the briefing permission"
    else:
        try:
            # the person's own boundary, computed now from the current master: what their page shows
            req = BriefingRequest.parse(store, code, sub.scope, sub.lang, DEFAULT_SPEC,
                                        boundary=u.principal().boundary(store))
            from briefing.render_pdf import render

            doc = build_document(store, req)
            pdf = render(doc)
            size, subject = len(pdf), doc.title
            where = send.send(_outgoing(sub, code, doc.title, pdf))
        except PermissionError as exc:  # the scope left the person's boundary since it was added
            status, error = Status.REFUSED, str(exc)
        except (ValueError, BriefingError, FontMissingError, SendError) as exc:
            status, error = Status.FAILED, str(exc)
        except Exception as exc:  # noqa: BLE001 - recorded and retried, never lost with the run
            status, error = Status.FAILED, f"{type(exc).__name__}: {exc}"
    next_at = None
    if status is Status.FAILED:
        if attempt >= settings.deliver_max_attempts:
            status = Status.GAVE_UP
        else:
            next_at = now + timedelta(minutes=settings.deliver_retry_min * 2 ** (attempt - 1))
    outcome = {Status.SENT: "ok", Status.REFUSED: "denied"}.get(status, "failed")
    subs.finish(sub.subscription_id, start, status, now, next_at=next_at, transport=send.name,
                recipient=where or sub.email, size=size, error=error, audit_row={
                    "user": who, "action": "briefing_delivery", "target": f"{code} {sub.scope} → {sub.email}",
                    "outcome": outcome, "channel": channel,
                    "detail": {"subscription": sub.subscription_id, "attempt": attempt, "status": str(status),
                               "transport": send.name, "to": where or sub.email, "bytes": size, "by": actor,
                               "subject": subject, "error": error,
                               "next_attempt_at": next_at.isoformat() if next_at else None}})
    return Outcome(sub.subscription_id, sub.user_name, code, status, attempt, send.name, where or sub.email, error,
                   next_at)


def _outgoing(sub: Subscription, code: str, title: str, pdf: bytes) -> Outgoing:
    safe_scope = sub.scope.replace(":", "-").replace("/", "-")
    if sub.lang == "zh":
        body = (f"您好，\n\n附件是您订阅的{title}（PDF）。数字与 BankPulse 各页面同口径，限于您的数据范围。\n"
                f"订阅编号 {sub.subscription_id}；可在“简报”页面或用 bankpulse subscription remove "
                f"{sub.subscription_id} 退订。\n\nBankPulse 银行工作动态监测")
    else:
        body = (f"Hello,\n\nAttached is your subscribed {title} (PDF), with the dashboard's own numbers, within "
                f"your data scope.\nSubscription {sub.subscription_id}; unsubscribe on the Briefing page or with "
                f"bankpulse subscription remove {sub.subscription_id}.\n\nBankPulse")
    return Outgoing(sub.user_name, sub.email, title, body, pdf,
                    f"BankPulse_briefing_{code}_{safe_scope}_{sub.lang}_{sub.subscription_id}.pdf")
