"""Scheduled, scoped delivery of the briefing (briefing/delivery.py, data/subscriptions.py, cli/scheduler.py).

A real SMTP server (aiosmtpd on 127.0.0.1) receives the mail; the PDFs are read back with
pdftotext, as tests/test_briefing.py does. People (tests/conftest.py): ana (analyst, outlet
0101001 of 华东区), mgr (manager of 华南区), vw (viewer), adm (admin). Time is pinned with `now`
(derived from the demo's last day), never slept.
"""

from __future__ import annotations

import email
import json
import re
import socket
import subprocess
import sys
import threading
from datetime import date, datetime, time, timedelta
from email import policy

import pytest
from aiosmtpd.controller import Controller
from test_briefing import _text, needs_poppler
from test_security import MINE, OTHERS, SOUTH

from briefing.delivery import deliver, due_at, last_complete, period_code
from data import audit
from data.settings import Settings
from data.subscriptions import Kind, Status, SubscriptionError, SubscriptionStore
from data.users import UserStore
from metrics import compute
from metrics.catalogue import get_metric
from metrics.format import fmt_value
from metrics.model import Grain
from metrics.periods import period_end
from metrics.scope import Scope

REFUSED = "refused@bank.example"


class Mailbox:
    """An aiosmtpd handler: keeps every message; refuses the addresses in `refuse` with a 550."""

    def __init__(self):
        self.messages: list[email.message.EmailMessage] = []
        self.refuse: set[str] = set()
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.messages.append(email.message_from_bytes(envelope.content, policy=policy.default))
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list:
        return [m for m in self.messages if m["To"] == address]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture()
def smtp():
    box = Mailbox()
    ctl = Controller(box, hostname="127.0.0.1", port=_free_port())
    ctl.start()
    yield box, ctl.port
    ctl.stop()


def _settings(**kw) -> Settings:
    base = {"deliver_max_attempts": 3, "deliver_retry_min": 10.0}
    return Settings(**{**base, **kw})


def _smtp_settings(port: int, **kw) -> Settings:
    return _settings(smtp_host="127.0.0.1", smtp_port=port, smtp_security="none", smtp_sender="bankpulse@bank.example",
                     smtp_timeout_s=10, **kw)


def _now(store) -> datetime:
    """The morning after the demo's last day (its data runs to 'yesterday')."""
    from metrics.summary import freshness

    last = max(d for d in freshness(store).values() if d is not None)
    return datetime.combine(last + timedelta(days=1), time(9, 0))


def _person(store, name: str):
    return UserStore(store).get(name).principal()


def _subscribe(store, name: str, mail: str, *, grain="month", scope="all", lang="zh", day=1, at="08:00"):
    return SubscriptionStore(store, channel="test").add(_person(store, name), name, scope=scope, grain=grain,
                                                        lang=lang, send_day=day, send_time=at, email=mail)


def _pdf_text(msg, tmp_path) -> str:
    part = next(p for p in msg.iter_attachments() if p.get_content_type() == "application/pdf")
    path = tmp_path / part.get_filename()
    path.write_bytes(part.get_content())
    return _text(path)


def _served(store, boundary, start: date, lang: str) -> str:
    """An independent figure: tickets served in the month within `boundary`, formatted as the PDF writes it."""
    m = get_metric("counter.tickets_served")
    s = compute.series(store, m.id, Grain.MONTH, start, period_end(start, Grain.MONTH), (), Scope(branch_ids=boundary))
    return fmt_value(m, float(s["value"].sum()), lang)


# -- the schedule ------------------------------------------------------------------------------
def test_last_complete_period_and_delivery_moment(secure_store):
    assert last_complete(Kind.MONTH, date(2025, 10, 1)) == date(2025, 9, 1)
    assert last_complete(Kind.MONTH, date(2025, 1, 15)) == date(2024, 12, 1)
    assert last_complete(Kind.WEEK, date(2025, 9, 24)) == date(2025, 9, 15)  # a Wednesday → last Monday's week
    assert last_complete(Kind.QUARTER, date(2025, 10, 1)) == date(2025, 7, 1)
    assert period_code(date(2025, 9, 15), Kind.WEEK) == "2025-W38"
    assert period_code(date(2025, 7, 1), Kind.QUARTER) == "2025-Q3"
    s = _subscribe(secure_store, "ana", "ana@bank.example", grain="week", day=3, at="07:30")
    assert due_at(s, date(2025, 9, 15)) == datetime(2025, 9, 24, 7, 30)  # Wednesday of the next week
    q = _subscribe(secure_store, "ana", "ana@bank.example", grain="quarter", day=5)
    assert due_at(q, date(2025, 7, 1)) == datetime(2025, 10, 5, 8, 0)


# -- scoped content, exactly once --------------------------------------------------------------
@needs_poppler
def test_two_recipients_each_get_only_their_own_numbers(secure_store, smtp, tmp_path):
    box, port = smtp
    now = _now(secure_store)
    _subscribe(secure_store, "ana", "ana@bank.example")
    _subscribe(secure_store, "mgr", "mgr@bank.example")
    report = deliver(secure_store, now, settings=_smtp_settings(port))
    assert report.ok and len(report.sent) == 2, report
    start = last_complete(Kind.MONTH, now.date())
    texts = {n: _pdf_text(box.to(f"{n}@bank.example")[0], tmp_path) for n in ("ana", "mgr")}
    bounds = {n: _person(secure_store, n).boundary(secure_store) for n in ("ana", "mgr")}
    assert bounds["ana"] == {MINE} and bounds["mgr"] == SOUTH
    figures = {n: _served(secure_store, bounds[n], start, "zh") for n in ("ana", "mgr")}
    assert figures["ana"] != figures["mgr"]
    # each PDF holds its own person's figure and not the other's
    assert figures["ana"] in texts["ana"] and figures["ana"] not in texts["mgr"], figures
    assert figures["mgr"] in texts["mgr"] and figures["mgr"] not in texts["ana"], figures
    # and no branch of the other's boundary by name or id
    assert not [x for x in (MINE, "城东支行营业部") if x in texts["mgr"]]
    assert not [x for x in (*SOUTH, "华南区", OTHERS["0201001"], OTHERS["0202001"]) if x in texts["ana"]]
    msg = box.to("ana@bank.example")[0]
    assert msg["From"] == "bankpulse@bank.example" and "经营简报" in msg["Subject"]
    # the ledger and the audit trail: one sent row each, audited under the recipient's own scope
    subs = SubscriptionStore(secure_store)
    assert {r["status"] for _, r in subs.recent(None).iterrows()} == {"sent"}
    rows = audit.search(secure_store, action="briefing_delivery")
    assert set(rows["outcome"]) == {"ok"} and len(rows) == 2
    assert set(rows["scope"]) == {f"branches:{MINE}", "branches:0201001"}
    assert audit.verify(secure_store).ok


def test_a_rerun_the_same_day_sends_nothing_twice(secure_store, smtp):
    box, port = smtp
    now = _now(secure_store)
    s = _subscribe(secure_store, "ana", "ana@bank.example")
    settings = _smtp_settings(port)
    assert len(deliver(secure_store, now, settings=settings).sent) == 1
    for later in (now, now + timedelta(hours=3), now.replace(hour=23, minute=59)):
        again = deliver(secure_store, later, settings=settings)
        assert again.outcomes == [] and again.ok
        assert len(deliver(secure_store, later, due_only=False, settings=settings).outcomes) == 0
    assert len(box.messages) == 1
    row = SubscriptionStore(secure_store).delivery(s.subscription_id, last_complete(Kind.MONTH, now.date()))
    assert row.status == "sent" and row.attempts == 1 and row.transport == "smtp"
    assert len(audit.search(secure_store, action="briefing_delivery")) == 1


def test_not_due_before_its_time(secure_store, smtp):
    box, port = smtp
    now = _now(secure_store)
    s = _subscribe(secure_store, "ana", "ana@bank.example", grain="week", day=7, at="23:00")
    moment = due_at(s, last_complete(Kind.WEEK, now.date()))
    assert deliver(secure_store, moment - timedelta(minutes=1), settings=_smtp_settings(port)).outcomes == []
    assert box.messages == []
    assert len(deliver(secure_store, moment, settings=_smtp_settings(port)).sent) == 1


def test_a_refused_recipient_is_reported_retried_and_given_up(secure_store, smtp, tmp_path, capsys, monkeypatch):
    """The 550 is in the CLI's report (exit 1) and the ledger; the next run inside the backoff sends
    nothing; after the backoff it is tried again; the third failure gives up; the other recipient
    gets exactly one mail throughout."""
    import data.settings
    import data.store
    from cli.main import main

    box, port = smtp
    box.refuse.add(REFUSED)
    now = _now(secure_store)
    bad = _subscribe(secure_store, "ana", REFUSED)
    _subscribe(secure_store, "mgr", "mgr@bank.example")
    for k, v in {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(port), "SMTP_SECURITY": "none",
                 "DELIVER_MAX_ATTEMPTS": "3", "DELIVER_RETRY_MIN": "10"}.items():
        monkeypatch.setenv(f"BANKPULSE_{k}", v)
    data.settings.get_settings.cache_clear()
    db = str(secure_store.path)
    data.store.close_all()

    def run(at: datetime) -> tuple[int, str, str]:
        code = main(["--db", db, "deliver", "--due", "--now", at.isoformat()])
        out = capsys.readouterr()
        return code, out.out, out.err

    code, out, err = run(now)
    assert code == 1 and "550" in err and REFUSED in err and str(bad.subscription_id) in err
    assert len(box.to("mgr@bank.example")) == 1 and box.to(REFUSED) == []
    start = last_complete(Kind.MONTH, now.date())
    store = data.store.open_store(db)
    row = SubscriptionStore(store).delivery(bad.subscription_id, start)
    assert (row.status, row.attempts, row.next_attempt_at) == ("failed", 1, now + timedelta(minutes=10))
    assert "550" in row.error
    data.store.close_all()
    assert run(now + timedelta(minutes=9))[0] == 0  # inside the backoff: nothing claimed, nothing sent
    code, _, err = run(now + timedelta(minutes=10))  # retried, refused again; next in 20 minutes
    assert code == 1 and "550" in err
    code, _, err = run(now + timedelta(minutes=30))  # the third attempt: given up
    assert code == 1 and "gave_up" in err
    assert run(now + timedelta(days=1))[0] == 0  # never tried again, never sent twice
    assert len(box.to("mgr@bank.example")) == 1 and box.to(REFUSED) == []
    store = data.store.open_store(db)
    row = SubscriptionStore(store).delivery(bad.subscription_id, start)
    assert (row.status, row.attempts) == ("gave_up", 3)
    trail = audit.search(store, action="briefing_delivery")
    assert sorted(trail["outcome"]) == ["failed", "failed", "failed", "ok"]
    assert audit.verify(store).ok


def test_a_retry_that_succeeds_sends_once(secure_store, smtp):
    box, port = smtp
    box.refuse.add(REFUSED)
    now = _now(secure_store)
    s = _subscribe(secure_store, "ana", REFUSED)
    settings = _smtp_settings(port)
    first = deliver(secure_store, now, settings=settings)
    assert [o.status for o in first.failures] == [Status.FAILED] and not first.ok
    box.refuse.clear()  # the mailbox is back
    second = deliver(secure_store, now + timedelta(minutes=10), settings=settings)
    assert [(o.status, o.attempt) for o in second.outcomes] == [(Status.SENT, 2)]
    assert deliver(secure_store, now + timedelta(minutes=40), settings=settings).outcomes == []
    assert len(box.to(REFUSED)) == 1
    assert SubscriptionStore(secure_store).delivery(s.subscription_id, last_complete(Kind.MONTH, now.date())).status \
        == "sent"


def test_a_disabled_recipient_is_refused_not_sent(secure_store, smtp):
    box, port = smtp
    _subscribe(secure_store, "ana", "ana@bank.example")
    UserStore(secure_store).set_disabled("test", "ana")
    report = deliver(secure_store, _now(secure_store), settings=_smtp_settings(port))
    assert [o.status for o in report.outcomes] == [Status.REFUSED] and not report.ok
    assert box.messages == []
    assert set(audit.search(secure_store, action="briefing_delivery")["outcome"]) == {"denied"}


@needs_poppler
def test_without_an_smtp_host_the_pdf_goes_to_the_folder(secure_store, tmp_path):
    now = _now(secure_store)
    s = _subscribe(secure_store, "ana", "ana@bank.example", lang="en")
    report = deliver(secure_store, now, settings=_settings(delivery_dir=tmp_path / "outbox"))
    assert report.ok and [o.transport for o in report.sent] == ["folder"]
    files = list((tmp_path / "outbox" / "ana").glob("*.pdf"))
    assert len(files) == 1 and files[0].name.endswith(f"_en_{s.subscription_id}.pdf")
    start = last_complete(Kind.MONTH, now.date())
    text = _text(files[0])
    assert _served(secure_store, frozenset({MINE}), start, "en") in text and "Management briefing" in text
    assert not list((tmp_path / "outbox").rglob("*.tmp"))
    assert deliver(secure_store, now, settings=_settings(delivery_dir=tmp_path / "outbox")).outcomes == []
    assert len(list((tmp_path / "outbox").rglob("*.pdf"))) == 1


def test_a_claim_without_an_outcome_is_reported_not_resent(secure_store, smtp):
    """A run that stopped between claim and outcome: the row stays 'sending'; later runs report it
    (not ok) and never send it on their own."""
    box, port = smtp
    now = _now(secure_store)
    s = _subscribe(secure_store, "ana", "ana@bank.example")
    start = last_complete(Kind.MONTH, now.date())
    subs = SubscriptionStore(secure_store)
    assert subs.claim(s.subscription_id, start, period_code(start, Kind.MONTH), now, 3) == 1
    later = deliver(secure_store, now + timedelta(hours=2), settings=_smtp_settings(port))
    assert later.outcomes == [] and [r[0] for r in later.stuck] == [s.subscription_id] and not later.ok
    assert box.messages == []


# -- subscriptions: who may manage which ---------------------------------------------------------
def test_subscription_rules(secure_store):
    subs = SubscriptionStore(secure_store)
    ana, mgr, adm = (_person(secure_store, n) for n in ("ana", "mgr", "adm"))
    with pytest.raises(SubscriptionError) as e:  # every problem at once
        subs.add(ana, "ana", scope="region:华南区", grain="fortnight", lang="fr", send_day=40, send_time="25:00",
                 email="not-an-address")
    assert {f for f, _, _ in e.value.issues} == {"scope", "grain", "lang", "day", "time", "email"}
    with pytest.raises(SubscriptionError, match="may not manage"):
        subs.add(ana, "mgr", scope="all", grain="month", lang="zh", send_day=1, send_time="08:00", email="m@b.cn")
    with pytest.raises(SubscriptionError, match="may not receive"):
        subs.add(adm, "vw", scope="all", grain="month", lang="zh", send_day=1, send_time="08:00", email="v@b.cn")
    mine = subs.add(ana, "ana", scope=f"branch:{MINE}", grain="week", lang="en", send_day=7, send_time="18:15",
                    email="ana@bank.example")
    theirs = subs.add(adm, "mgr", scope="region:华南区", grain="quarter", lang="zh", send_day=3, send_time="08:00",
                      email="mgr@bank.example")
    assert [s.subscription_id for s in subs.list(ana)] == [mine.subscription_id]
    assert {s.subscription_id for s in subs.list(adm, everyone=True)} == {mine.subscription_id, theirs.subscription_id}
    with pytest.raises(SubscriptionError):  # someone else's looks like none
        subs.remove(ana, theirs.subscription_id)
    assert subs.remove(mgr, theirs.subscription_id).removed_at is not None
    assert subs.remove(adm, mine.subscription_id).removed_by == "adm"
    assert subs.list(adm, everyone=True) == []
    trail = audit.search(secure_store, action="subscription_add")
    assert sorted(trail["outcome"]) == ["denied", "denied", "denied", "ok", "ok"]
    assert len(audit.search(secure_store, action="subscription_remove")) == 3


def test_cli_subscription_commands(secure_store, capsys):
    import data.store
    from cli.main import main

    db = str(secure_store.path)
    data.store.close_all()

    def run(*argv) -> tuple[int, str, str]:
        code = main(["--db", db, *argv])
        out = capsys.readouterr()
        return code, out.out, out.err

    code, out, _ = run("--as", "ana", "subscription", "add", "--grain", "week", "--day", "1", "--time", "07:00",
                       "--email", "ana@bank.example", "--lang", "en")
    assert code == 0 and "ana@bank.example" in out
    sid = int(re.search(r"subscribed: (\d+)", out)[1])
    assert run("--as", "ana", "subscription", "add", "--scope", "region:华南区", "--email", "a@b.cn")[0] == 1
    assert run("--as", "ana", "subscription", "add", "--user", "mgr", "--email", "a@b.cn")[0] == 1
    assert run("--as", "vw", "subscription", "list")[0] == 1  # a viewer has no briefing permission
    code, out, _ = run("--as", "ana", "subscription", "list", "--format", "json")
    assert code == 0 and [r["subscription_id"] for r in json.loads(out)] == [sid]
    assert run("--as", "mgr", "subscription", "remove", str(sid))[0] == 1
    assert run("--as", "ana", "deliver", "--due")[0] == 1  # delivering is an administrator's
    assert run("deliver", "--now", "yesterday")[0] == 2
    code, out, _ = run("--as", "adm", "subscription", "list", "--format", "json")
    assert code == 0 and [r["user_name"] for r in json.loads(out)] == ["ana"]
    assert run("--as", "ana", "subscription", "remove", str(sid))[0] == 0
    assert json.loads(run("--as", "ana", "subscription", "list", "--format", "json")[1]) == []


# -- the scheduler -----------------------------------------------------------------------------
def test_scheduler_job_wiring(secure_store, tmp_path, monkeypatch):
    """The scheduler holds one interval job running `run_due` on the store; run once, it delivers
    what is due and leaves the database file free. Not started (no sleeping)."""
    from apscheduler.triggers.interval import IntervalTrigger

    import data.settings
    import data.store
    from cli.scheduler import JOB_ID, build_scheduler, run_due

    _subscribe(secure_store, "ana", "ana@bank.example")
    now = _now(secure_store)  # the demo's data is pinned; the job's clock is given (the job takes `now`)
    monkeypatch.setenv("BANKPULSE_DELIVERY_DIR", str(tmp_path / "outbox"))
    monkeypatch.delenv("BANKPULSE_SMTP_HOST", raising=False)
    data.settings.get_settings.cache_clear()
    db = str(secure_store.path)
    data.store.close_all()
    sched = build_scheduler(db, 7)
    job = sched.get_job(JOB_ID)
    assert job.func is run_due and job.args == (db,) and job.max_instances == 1 and job.coalesce
    assert isinstance(job.trigger, IntervalTrigger) and job.trigger.interval == timedelta(minutes=7)
    report = job.func(*job.args, now=now)
    assert report is not None and len(report.sent) == 1 and report.ok
    assert len(list((tmp_path / "outbox" / "ana").glob("*.pdf"))) == 1
    assert job.func(*job.args, now=now + timedelta(minutes=7)).outcomes == []  # the next tick: nothing twice
    # the job held the file only for its run: another process can open it now, and while that one
    # holds it, a tick claims nothing and says so
    holder = subprocess.Popen([sys.executable, "-c", "import duckdb, sys; c = duckdb.connect(sys.argv[1]); "
                               "print('held', flush=True); sys.stdin.read()", db],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        assert run_due(db, now) is None
    finally:
        holder.communicate("")
    assert run_due(db, now).outcomes == []


def test_the_streamlit_script_never_schedules():
    from conftest import ROOT

    for path in [ROOT / "app.py", ROOT / "server.py", *sorted((ROOT / "pages").rglob("*.py"))]:
        text = path.read_text(encoding="utf-8")
        assert "apscheduler" not in text.lower() and "briefing.delivery" not in text, path


# -- the briefing page: the subscription form --------------------------------------------------
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_briefing_page_subscription_form(secure_store, lang):
    from test_security import sign_in

    at = sign_in("ana")
    at.switch_page("pages/briefing.py").run()
    if lang == "en":  # through the language control (tests/test_page_overview.overview says why)
        at.get_by_key("lang").set_value("en").run()
    assert not at.exception, at.exception
    zh = lang == "zh"
    assert any(("定期发送" if zh else "Scheduled delivery") in s.value for s in at.subheader)
    assert len(at.selectbox(key="br_sub_scope").options) == 2 and MINE in at.selectbox(key="br_sub_scope").options[1]
    at.selectbox(key="br_sub_grain").set_value("week")
    at.number_input(key="br_sub_day").set_value(5)
    at.selectbox(key="br_sub_lang").set_value(lang)
    at.text_input(key="br_sub_email").set_value("bad address")
    at.button(key="br_sub_add").click().run()
    assert not at.exception and at.error and ("未能订阅" if zh else "Not subscribed") in at.error[0].value
    assert ("邮箱地址无效" if zh else "bad address") in at.error[0].value
    at.text_input(key="br_sub_email").set_value("ana@bank.example")
    at.button(key="br_sub_add").click().run()
    assert not at.exception and at.success, [e.value for e in at.error]
    [s] = SubscriptionStore(secure_store).list(_person(secure_store, "ana"))
    assert (s.grain, s.send_day, s.email, s.lang) == ("week", 5, "ana@bank.example", lang)
    email_col = "邮箱" if zh else "E-mail"
    [shown] = [d.value for d in at.dataframe if email_col in d.value.columns]
    assert list(shown[email_col]) == ["ana@bank.example"]
    assert list(shown[("期间类型" if zh else "Period type")]) == [("周" if zh else "Week")]
    # a delivery failure shows up under the last deliveries
    deliver(secure_store, _now(secure_store), due_only=False, settings=_smtp_settings(_free_port()))  # no server there
    at.run()
    reason = "原因" if zh else "Reason"
    assert at.warning and [len(d.value) for d in at.dataframe if reason in d.value.columns] == [1]
    at.button(key="br_sub_remove").click().run()
    assert not at.exception
    assert SubscriptionStore(secure_store).list(_person(secure_store, "ana")) == []
    assert at.info and ("尚无订阅" if zh else "No subscriptions yet") in " ".join(i.value for i in at.info)
