"""metrics/summary.py on a tiny hand-made store: the exact sentences in Chinese and English.

Fixture (one outlet B1, months Nov 2024 … Mar 2025; every ticket served):

  month     tickets  wait (min)              over 30 min
  2024-11   10       10 × 10                 0
  2024-12   12       12 × 11                 0
  2025-01   10       10 × 10                 0
  2025-02   12       12 × 11                 0
  2025-03   20       10 × 10, 10 × 40        10  → avg 25.0, P90 40.0, over-threshold 50.00%

  loans (month-end snapshots): L1 900,000 normal; L2 100,000 normal, in March 100 days past due and
  substandard → overdue ratio and NPL ratio 0.00% … 0.00%, then 10.00%; balance flat at 100.00万元.
  No disbursement in the window and no feedback: those KPIs have no card and are not mentioned.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from data.store import Store
from metrics.model import Grain
from metrics.summary import freshness, moves, select, summary_sentences

MONTHS = [  # (day of the tickets, [(count, wait minutes), ...])
    (date(2024, 11, 15), [(10, 10)]),
    (date(2024, 12, 16), [(12, 11)]),
    (date(2025, 1, 15), [(10, 10)]),
    (date(2025, 2, 14), [(12, 11)]),
    (date(2025, 3, 31), [(10, 10), (10, 40)]),
]
SNAPSHOTS = [date(2024, 11, 30), date(2024, 12, 31), date(2025, 1, 31), date(2025, 2, 28), date(2025, 3, 31)]


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    s = Store(tmp_path_factory.mktemp("summary") / "s.duckdb")
    cur = s.cursor()
    cur.execute("INSERT INTO branches (branch_id, branch_name, level, parent_id, region, open_windows, "
                "opening_minutes, batch_id) VALUES ('B1', '人民路网点', 'outlet', NULL, 'East', 2, 480, 1)")
    rows = []
    for day, groups in MONTHS:
        n = 0
        for count, wait in groups:
            for _ in range(count):
                n += 1
                ticket = datetime.combine(day, datetime.min.time()) + timedelta(hours=9, minutes=n)
                call = ticket + timedelta(minutes=wait)
                end = call + timedelta(minutes=5)
                rows.append(("B1", day, f"A{n:03d}", "cash", ticket, call, call, end, "served", wait * 60.0, 300.0))
    cur.executemany(
        "INSERT INTO counter_tickets (branch_id, business_date, ticket_no, service_type, ticket_time, call_time, "
        "service_start_time, service_end_time, status, wait_seconds, service_seconds, batch_id) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)", rows)
    loans = []
    for snap in SNAPSHOTS:
        late = snap == SNAPSHOTS[-1]
        loans.append((snap, "L1", "B1", "个人住房贷款", date(2024, 6, 1), 1_000_000.0, 900_000.0, 0.0, 0, "normal"))
        loans.append((snap, "L2", "B1", "个人经营贷款", date(2024, 7, 1), 200_000.0, 100_000.0,
                      20_000.0 if late else 0.0, 100 if late else 0, "substandard" if late else "normal"))
    cur.executemany(
        "INSERT INTO loan_snapshot (snapshot_date, loan_id, branch_id, product, disbursement_date, loan_amount, "
        "outstanding_balance, overdue_principal, days_past_due, risk_class, batch_id) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 2)", loans)
    yield s
    s.close()


# Ranked by |环比 change| ÷ the spread of the earlier monthly changes: P90 (29.3), average wait (14.1), then the
# three rates that never moved before (10, ties in catalogue order); tickets served (3.9) is sixth and left out.
ZH = [
    "2025年3月等候时间P90为40.0分钟，环比增长263.6%，为近5个月最高，高于目标30.0分钟。",
    "2025年3月平均等候时间25.0分钟，环比增长127.3%，为近5个月最高，高于目标15.0分钟。",
    "2025年3月超时等候率50.00%，环比上升50.00个百分点，为近5个月最高，高于目标5.00%。",
    "2025年3月逾期贷款率10.00%，环比上升10.00个百分点，为近5个月最高，高于目标2.00%。",
    "2025年3月不良贷款率10.00%，环比上升10.00个百分点，为近5个月最高，高于目标1.50%。",
]
EN = [
    "P90 wait 40.0 min in Mar 2025, up 263.6% on the previous month, the highest in 5 months, "
    "above the 30.0 min target.",
    "Average wait 25.0 min in Mar 2025, up 127.3% on the previous month, the highest in 5 months, "
    "above the 15.0 min target.",
    "Over-threshold wait rate 50.00% in Mar 2025, up 50.00 pp on the previous month, the highest in 5 months, "
    "above the 5.00% target.",
    "Overdue loan ratio 10.00% in Mar 2025, up 10.00 pp on the previous month, the highest in 5 months, "
    "above the 2.00% target.",
    "NPL ratio 10.00% in Mar 2025, up 10.00 pp on the previous month, the highest in 5 months, "
    "above the 1.50% target.",
]


def test_sentences_zh(store):
    assert summary_sentences(store, Grain.MONTH, date(2025, 3, 31), None, "zh") == ZH


def test_sentences_en(store):
    assert summary_sentences(store, Grain.MONTH, date(2025, 3, 31), None, "en") == EN


def test_mandatory_groups_and_size(store):
    ms = moves(store, Grain.MONTH, date(2025, 3, 31))
    ids = {m.metric.id for m in ms}
    # no disbursement, no feedback: no card, not mentioned
    assert "credit.disbursed_amount" not in ids and not any(i.startswith("feedback.") for i in ids)
    told = [m.metric.id for m in select(ms)]
    assert 3 <= len(told) <= 5
    assert {"credit.overdue_rate", "credit.npl_ratio"} & set(told)
    assert {"counter.wait_avg_min", "counter.wait_p90_min"} & set(told)


def test_quiet_month_and_flat_values(store):
    """February: small moves; a flat balance reads 持平 / unchanged; P90 name gets 为 before the number."""
    zh = summary_sentences(store, Grain.MONTH, date(2025, 2, 28), None, "zh")
    en = summary_sentences(store, Grain.MONTH, date(2025, 2, 28), None, "en")
    assert 3 <= len(zh) <= 6 and len(zh) == len(en)
    assert any(s.startswith("2025年2月逾期贷款率0.00%，环比持平") for s in zh)
    assert any(s.startswith("Overdue loan ratio 0.00% in Feb 2025, unchanged") for s in en)
    assert all(" " not in s for s in zh)
    assert summary_sentences(store, Grain.MONTH, date(2025, 2, 28), None, "zh") == zh  # deterministic


def test_partial_period_counts_are_left_out(store):
    """A week cut by the end of the data: the ticket count is not compared (half a week is no fall)."""
    ms = moves(store, Grain.WEEK, date(2025, 3, 31))  # 2025-W14 runs to 6 April; data end 31 March
    assert "counter.tickets_served" not in {m.metric.id for m in ms}
    assert "counter.wait_avg_min" in {m.metric.id for m in ms}


def test_empty_store(tmp_path):
    s = Store(tmp_path / "empty.duckdb")
    try:
        assert summary_sentences(s, Grain.MONTH, date(2025, 3, 31), None, "zh") == []
        assert set(freshness(s).values()) == {None}
    finally:
        s.close()


def test_freshness(store):
    f = freshness(store)
    assert f["counter_tickets"] == date(2025, 3, 31)
    assert f["loan_snapshot"] == date(2025, 3, 31)
    assert f["feedback_records"] is None
