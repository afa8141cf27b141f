"""`bankpulse scheduler`: APScheduler 3.x in its own process, running `deliver --due` every N minutes.

Never inside the Streamlit script (a script run is a page view; a scheduler there would run once per
session and die with it). The job opens the store for one run and closes it after, so the DuckDB
file is held only while a delivery runs: DuckDB admits one writing process per file, and the
scheduler shares the file with the app and every other `bankpulse` command (docs/security.md,
"One writer"). A run that finds the file held by another process claims nothing and says so; the
next run tries again — nothing is lost and nothing is sent twice, because only a claimed ledger
row is ever sent.

The same job, without this process: a cron line (docs/briefing.md), e.g.
`*/15 * * * * cd /srv/bankpulse && .venv/bin/bankpulse deliver --due`.
"""

from __future__ import annotations

import contextlib
import logging
from datetime import datetime
from pathlib import Path

from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.interval import IntervalTrigger

log = logging.getLogger("bankpulse.scheduler")
JOB_ID = "deliver-due"


def run_due(db: Path | str | None = None, now: datetime | None = None):
    """The scheduler's job: open the store, deliver what is due, close the store. Returns the
    delivery report, or None when another process held the database file (nothing was claimed)."""
    from briefing.delivery import deliver
    from data.settings import get_settings
    from data.store import Store, StoreLockedError

    try:
        store = Store(db or get_settings().db)  # its own connection, closed below (not the process-wide one)
    except StoreLockedError as exc:
        log.warning("deliver --due skipped, the store is in use by another process: %s", exc)
        return None
    try:
        report = deliver(store, now, due_only=True, actor="system:scheduler", channel="scheduler")
    finally:
        store.close()
    for o in report.outcomes:
        log.info("%s subscription %s (%s) %s attempt %s → %s%s", o.status, o.subscription_id, o.user_name,
                 o.period_code, o.attempt, o.recipient, f": {o.error}" if o.error else "")
    for s in report.stuck:
        log.error("subscription %s (%s) %s: claimed at %s, no outcome recorded (not re-sent)", s[0], s[1], s[2], s[4])
    log.info("deliver --due: %d sent, %d failed, %d stuck", len(report.sent), len(report.failures), len(report.stuck))
    return report


def build_scheduler(db: Path | str | None, every_min: int) -> BlockingScheduler:
    """The scheduler with its one job: `run_due(db)` now and then every `every_min` minutes; never
    two at once (a slow run makes the next wait), missed runs coalesced into one."""
    sched = BlockingScheduler()
    sched.add_job(run_due, IntervalTrigger(minutes=every_min), args=[str(db) if db else None], id=JOB_ID,
                  name="bankpulse deliver --due", max_instances=1, coalesce=True, misfire_grace_time=None,
                  next_run_time=datetime.now())
    return sched


def serve(db: Path | str | None, every_min: int) -> int:
    """Run until stopped (Ctrl-C, SIGTERM)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    sched = build_scheduler(db, every_min)
    log.info("scheduler started: deliver --due every %d min on %s", every_min, db or "the default store")
    with contextlib.suppress(KeyboardInterrupt, SystemExit):
        sched.start()
    return 0
