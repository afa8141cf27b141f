"""Customer-feedback (客户反馈) KPIs on hand-made cases inserted through the production schema.

Cases (received → closed, days):
  F1  complaint B1 simple        01-02 09:00 → 01-10 09:00   8 d  closed  satisfied            nps 10  hotline
  F2  complaint B1 simple        01-03 09:00 → 01-23 09:00  20 d  closed  basically_satisfied  nps 9   hotline
  F3  complaint B2 complex       01-05 10:00 → 01-30 10:00  25 d  closed  dissatisfied         nps 3   app
  F4  complaint B2 very_complex  01-06 08:00   open (in_progress)                                      hotline
  F5  complaint B1 simple        01-08 12:00   open (received)                                         hotline
  F6  complaint B2 simple        01-09 09:00   withdrawn                                               hotline
  F7  suggestion B1              01-10         closed  neutral  nps 7                                  app
  F8  praise B1                  01-12         nps 8                                                    app
  F9  inquiry B2                 01-15                                                                  hotline
  F10 complaint B1 complex       02-03 09:00 → 03-10 09:00  35 d  closed                               hotline
  F11 complaint B2 simple        02-10 09:00 → 02-12 21:00  2.5 d closed  satisfied  nps 6             hotline

Served counter tickets: January B1 3 (+1 abandoned), B2 1; February B1 2.
"""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from data.store import Store
from metrics.compute import series
from metrics.model import Grain
from metrics.scope import Scope

JAN, FEB, MAR = date(2025, 1, 1), date(2025, 2, 1), date(2025, 3, 1)
START, END = date(2025, 1, 1), date(2025, 2, 28)

CASES = [  # id, kind, branch, complexity, received_at, status, closed_at, satisfaction, nps, channel
    ("F1", "complaint", "B1", "simple", "2025-01-02 09:00", "closed", "2025-01-10 09:00", "satisfied", 10, "hotline"),
    ("F2", "complaint", "B1", "simple", "2025-01-03 09:00", "closed", "2025-01-23 09:00", "basically_satisfied", 9,
     "hotline"),
    ("F3", "complaint", "B2", "complex", "2025-01-05 10:00", "closed", "2025-01-30 10:00", "dissatisfied", 3, "app"),
    ("F4", "complaint", "B2", "very_complex", "2025-01-06 08:00", "in_progress", None, None, None, "hotline"),
    ("F5", "complaint", "B1", "simple", "2025-01-08 12:00", "received", None, None, None, "hotline"),
    ("F6", "complaint", "B2", "simple", "2025-01-09 09:00", "withdrawn", None, None, None, "hotline"),
    ("F7", "suggestion", "B1", None, "2025-01-10 10:00", "closed", "2025-01-11 10:00", "neutral", 7, "app"),
    ("F8", "praise", "B1", None, "2025-01-12 10:00", "received", None, None, 8, "app"),
    ("F9", "inquiry", "B2", None, "2025-01-15 10:00", "received", None, None, None, "hotline"),
    ("F10", "complaint", "B1", "complex", "2025-02-03 09:00", "closed", "2025-03-10 09:00", None, None, "hotline"),
    ("F11", "complaint", "B2", "simple", "2025-02-10 09:00", "closed", "2025-02-12 21:00", "satisfied", 6, "hotline"),
]
TICKETS = [  # branch, date, ticket, status
    ("B1", "2025-01-06", "A1", "served"), ("B1", "2025-01-06", "A2", "served"), ("B1", "2025-01-07", "A1", "served"),
    ("B1", "2025-01-07", "A2", "abandoned"), ("B2", "2025-01-06", "A1", "served"),
    ("B1", "2025-02-03", "A1", "served"), ("B1", "2025-02-04", "A1", "served"),
]


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    s = Store(tmp_path_factory.mktemp("feedback") / "t.duckdb")
    cur = s.cursor()
    cur.execute("INSERT INTO main.branches (branch_id, level, parent_id, region, batch_id) VALUES "
                "('S1', 'sub_branch', NULL, 'East', 1), ('B1', 'outlet', 'S1', 'East', 1), "
                "('B2', 'outlet', NULL, 'West', 1)")
    for fid, kind, br, cx, recv, st, closed, sat, nps, ch in CASES:
        cur.execute("INSERT INTO main.feedback_records (feedback_id, feedback_kind, branch_id, complexity, "
                    "received_at, status, closed_at, satisfaction, nps_score, channel, batch_id) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)", [fid, kind, br, cx, recv, st, closed, sat, nps, ch])
    for br, d, no, st in TICKETS:
        cur.execute("INSERT INTO main.counter_tickets (branch_id, business_date, ticket_no, ticket_time, status, "
                    "batch_id) VALUES (?, ?, ?, ?, ?, 1)", [br, d, no, f"{d} 09:00:00", st])
    yield s
    s.close()


def _v(store, metric_id, grain=Grain.MONTH, by=(), scope=None, options=None, start=START, end=END):
    df = series(store, metric_id, grain, start, end, by, scope, options)
    if by:
        return {(r["period"], *(r[b] for b in by)): r["value"] for r in df.to_dict("records")}
    return dict(zip(df["period"], df["value"], strict=True))


def test_complaints_count_only_complaints(store):
    # January: F1–F6 (the withdrawn F6 was still received); suggestion/praise/inquiry excluded. February: F10, F11
    assert _v(store, "feedback.complaints") == {JAN: 6, FEB: 2}
    assert _v(store, "feedback.complaints", by=("channel",)) == {
        (JAN, "hotline"): 5, (JAN, "app"): 1, (FEB, "hotline"): 2}
    assert _v(store, "feedback.complaints", scope=Scope(branch="B2")) == {JAN: 3, FEB: 1}
    # sub-branch S1 covers B1 (parent S1): F1, F2, F5 / F10
    assert _v(store, "feedback.complaints", scope=Scope(branch="S1")) == {JAN: 3, FEB: 1}
    assert _v(store, "feedback.complaints", by=("region",)) == {
        (JAN, "East"): 3, (JAN, "West"): 3, (FEB, "East"): 1, (FEB, "West"): 1}


def test_volume_counts_every_kind(store):
    assert _v(store, "feedback.volume") == {JAN: 9, FEB: 2}
    assert _v(store, "feedback.volume", by=("kind",), end=date(2025, 1, 31)) == {
        (JAN, "complaint"): 6, (JAN, "suggestion"): 1, (JAN, "praise"): 1, (JAN, "inquiry"): 1}


def test_complaints_per_10k_served_tickets(store):
    # cross-source: January 6 complaints / 4 served tickets × 10,000 = 15,000; February 2 / 2 × 10,000 = 10,000
    got = series(store, "feedback.complaints_per_10k", Grain.MONTH, START, END).set_index("period")
    assert got.loc[JAN, "numerator"] == 6 and got.loc[JAN, "denominator"] == 4
    assert got["value"].to_dict() == pytest.approx({JAN: 15_000.0, FEB: 10_000.0})
    # by branch: Jan B1 3/3 → 10,000, B2 3/1 → 30,000; Feb B1 1/2 → 5,000; B2 had no served tickets in Feb
    assert _v(store, "feedback.complaints_per_10k", by=("branch",)) == pytest.approx(
        {(JAN, "B1"): 10_000.0, (JAN, "B2"): 30_000.0, (FEB, "B1"): 5_000.0})
    # by sub-branch: B1 → S1; B2 has none (a NULL key keeps its complaints: 3 / 1 × 10,000)
    sub = series(store, "feedback.complaints_per_10k", Grain.MONTH, JAN, date(2025, 1, 31), ("sub_branch",))
    got = {None if pd.isna(k) else k: v for k, v in zip(sub["sub_branch"], sub["value"], strict=True)}
    assert got == pytest.approx({"S1": 10_000.0, None: 30_000.0})


def test_closure_rate_over_the_received_cohort(store):
    # cohort = complaints received in the period, withdrawn excluded: Jan F1–F5 (5), closed F1, F2, F3 → 0.6
    # Feb: F10, F11 both closed → 1.0
    assert _v(store, "feedback.closure_rate") == pytest.approx({JAN: 0.6, FEB: 1.0})


def test_on_time_closure_default_limits(store):
    # limits simple 15 / complex 30 / very complex 60 days:
    # Only cases whose outcome is known by the window's end (2025-02-28) count: closed, or past their limit.
    # Jan: F1 8 ≤ 15 ✓, F2 20 > 15 ✗, F3 (complex) 25 ≤ 30 ✓, F5 open and past 01-23 ✗;
    #      F4 (very complex, open, due 03-07) is not late yet → left out → 2 / 4 = 0.5
    # Feb: F10 (complex) 35 > 30 ✗, F11 2.5 ≤ 15 ✓ → 1 / 2
    assert _v(store, "feedback.on_time_closure_rate") == pytest.approx({JAN: 0.5, FEB: 0.5})
    # a later window end: by 03-31 F4 (due 03-07) is past its limit too and joins the denominator
    early = series(store, "feedback.on_time_closure_rate", Grain.MONTH, START, date(2025, 3, 31))
    assert early.set_index("period")["denominator"][JAN] == 5  # by 03-31 F4 is past its limit too


def test_on_time_closure_configurable_limits(store):
    # simple limit 20: F2 (exactly 20 days) becomes on time → Jan 3 / 4 (F4 not due yet)
    assert _v(store, "feedback.on_time_closure_rate", options={"sla_simple_days": 20})[JAN] == pytest.approx(0.75)
    # complex limit 20: F3 (25 d) late → Jan 1 / 4; complex limit 40: F10 (35 d) on time → Feb 2 / 2
    assert _v(store, "feedback.on_time_closure_rate", options={"sla_complex_days": 20})[JAN] == pytest.approx(0.25)
    assert _v(store, "feedback.on_time_closure_rate", options={"sla_complex_days": 40})[FEB] == pytest.approx(1.0)


def test_on_time_counts_calendar_days(store, tmp_path):
    # received 2025-03-03 09:00, closed 2025-03-18 17:00: the 15th calendar day after receipt → on time
    # (15.33 elapsed days, but a limit in days ends with its last day, as open_past_limit counts it)
    s = Store(tmp_path / "cal.duckdb")
    s.cursor().execute(
        "INSERT INTO main.feedback_records (feedback_id, feedback_kind, complexity, received_at, status, closed_at, "
        "channel, batch_id) VALUES ('X1', 'complaint', 'simple', '2025-03-03 09:00', 'closed', "
        "'2025-03-18 17:00', 'hotline', 1), ('X2', 'complaint', 'simple', '2025-03-03 09:00', 'closed', "
        "'2025-03-19 08:00', 'hotline', 1)")
    # X1 on time (15 calendar days), X2 late (16) → 1 / 2
    assert _v(s, "feedback.on_time_closure_rate", start=MAR, end=date(2025, 3, 31)) == pytest.approx({MAR: 0.5})
    s.close()


def test_handling_days_avg_over_closed_complaints(store):
    # Jan: (8 + 20 + 25) / 3 = 17.667 (the closed suggestion F7 is not a complaint); Feb: (35 + 2.5) / 2 = 18.75
    assert _v(store, "feedback.handling_days_avg") == pytest.approx({JAN: 53 / 3, FEB: 18.75})


def test_satisfaction_csat(store):
    # surveyed = satisfaction not null: Jan F1 satisfied, F2 basically satisfied, F3 dissatisfied, F7 neutral
    # → (1 + 1) / 4 = 0.5; Feb F11 satisfied → 1.0
    got = series(store, "feedback.satisfaction_rate", Grain.MONTH, START, END).set_index("period")
    assert got.loc[JAN, "numerator"] == 2 and got.loc[JAN, "denominator"] == 4
    assert got["value"].to_dict() == pytest.approx({JAN: 0.5, FEB: 1.0})


def test_nps(store):
    # Jan scores 10, 9 (promoters), 3 (detractor), 7, 8 (passives): (2 − 1) / 5 × 100 = 20
    # Feb: 6 (detractor) alone → −100
    assert _v(store, "feedback.nps") == pytest.approx({JAN: 20.0, FEB: -100.0})


def test_open_past_limit_at_period_end(store):
    # Jan 31: F5 (simple, received 01-08, open) is 23 days old > 15 → late; F4 (very complex) 25 ≤ 60;
    #   F2 closed 01-23, before the period end; F6 withdrawn → 1
    # Feb 28: F5 still open (51 > 15) → 1; F4 53 ≤ 60; F10 received 02-03 open until 03-10: 25 ≤ 30
    assert _v(store, "feedback.open_past_limit") == {JAN: 1, FEB: 1}
    # very complex limit 20: F4 late at both ends (25, 53) → 2, 2
    assert _v(store, "feedback.open_past_limit", options={"sla_very_complex_days": 20}) == {JAN: 2, FEB: 2}
    # complex limit 20: F10 is 25 days old on Feb 28 → Feb 2
    assert _v(store, "feedback.open_past_limit", options={"sla_complex_days": 20}) == {JAN: 1, FEB: 2}
    # simple limit 23: F5 exactly 23 days on Jan 31 → not yet late
    assert _v(store, "feedback.open_past_limit", options={"sla_simple_days": 23}).get(JAN, 0) == 0
    # day grain: F5 becomes late on 01-24 (16 days), not on 01-23 (15 days)
    daily = _v(store, "feedback.open_past_limit", Grain.DAY, start=date(2025, 1, 20), end=date(2025, 1, 25))
    assert daily.get(date(2025, 1, 23), 0) == 0
    assert daily[date(2025, 1, 24)] == 1
    assert _v(store, "feedback.open_past_limit", by=("branch",)) == {(JAN, "B1"): 1, (FEB, "B1"): 1}


def test_first_reply_days_avg_over_replied_complaints(tmp_path):
    # B1: R1 replied after 6 h (0.25 d), R2 after 30 h (1.25 d), R3 not replied (left out); the suggestion R4
    # (replied after 48 h) is not a complaint → Jan B1 (0.25 + 1.25) / 2 = 0.75; B2: R5 after 12 h → 0.5;
    # bank (0.25 + 1.25 + 0.5) / 3 = 0.667
    s = Store(tmp_path / "reply.duckdb")
    s.cursor().execute(
        "INSERT INTO main.feedback_records (feedback_id, feedback_kind, branch_id, complexity, received_at, status, "
        "replied_at, channel, batch_id) VALUES "
        "('R1', 'complaint', 'B1', 'simple', '2025-01-06 09:00', 'in_progress', '2025-01-06 15:00', 'hotline', 1), "
        "('R2', 'complaint', 'B1', 'simple', '2025-01-07 09:00', 'in_progress', '2025-01-08 15:00', 'hotline', 1), "
        "('R3', 'complaint', 'B1', 'simple', '2025-01-08 09:00', 'received', NULL, 'hotline', 1), "
        "('R4', 'suggestion', 'B1', NULL, '2025-01-09 09:00', 'closed', '2025-01-11 09:00', 'app', 1), "
        "('R5', 'complaint', 'B2', 'simple', '2025-01-10 09:00', 'in_progress', '2025-01-10 21:00', 'app', 1)")
    jan_end = date(2025, 1, 31)
    assert _v(s, "feedback.first_reply_days_avg", start=JAN, end=jan_end) == pytest.approx({JAN: 2 / 3})
    assert _v(s, "feedback.first_reply_days_avg", by=("branch",), start=JAN, end=jan_end) == pytest.approx(
        {(JAN, "B1"): 0.75, (JAN, "B2"): 0.5})
    s.close()
