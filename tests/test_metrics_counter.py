"""Counter (柜台业务) KPIs on a tiny hand-computed fixture loaded through the real ingest path.

The branch master and the queue tickets are written as Chinese CSV exports and loaded with
`data.ingest.ingest_file`, so wait/service seconds are *derived* by the ingest (call − ticket,
end − call) exactly as in production.

Fixture (minutes after the ticket; w = wait, s = service):

  2024-12-30 (Mon) B1  A001 w10 s10 served | A002 w40 s5 served | A003 w20 abandoned | A004 cancelled, never called
  2025-01-03 (Fri) B1  A001 w5  s10 served | A002 w17 s10 served
  2025-01-03 (Fri) B2  B001 w32 s10 served
  2025-01-06 (Mon) B2  B001 w1  s30 served

Branches: S1 sub-branch (East); B1 outlet of S1, East, 2 windows × 480 min; B2 outlet, West,
1 window × 300 min. 2024-12-30 … 2025-01-05 is ONE ISO week (2025-W01) starting 2024-12-30.
"""

from __future__ import annotations

import csv
from datetime import date

import numpy as np
import pandas as pd
import pytest

from data.ingest import ingest_file
from data.store import Store
from metrics.compute import series
from metrics.model import Grain
from metrics.scope import Scope

START, END = date(2024, 12, 1), date(2025, 1, 31)
D1, D2, D3 = date(2024, 12, 30), date(2025, 1, 3), date(2025, 1, 6)

BRANCHES = [
    ["机构号", "机构名称", "机构层级", "上级机构号", "所属区域", "开放窗口数", "营业时长"],
    ["S1", "城东支行", "支行", "", "East", "0", "480"],
    ["B1", "人民路网点", "网点", "S1", "East", "2", "480"],
    ["B2", "解放路网点", "网点", "", "West", "1", "300"],
]


def _t(d: date, hm: str) -> str:
    return f"{d.isoformat()} {hm}:00"


TICKETS = [
    ["网点编号", "业务日期", "票号", "业务类型", "取号时间", "叫号时间", "完成时间", "状态"],
    ["B1", D1.isoformat(), "A001", "cash", _t(D1, "09:00"), _t(D1, "09:10"), _t(D1, "09:20"), "已办理"],
    ["B1", D1.isoformat(), "A002", "cash", _t(D1, "09:00"), _t(D1, "09:40"), _t(D1, "09:45"), "已办理"],
    ["B1", D1.isoformat(), "A003", "wealth", _t(D1, "09:05"), _t(D1, "09:25"), "", "过号"],
    ["B1", D1.isoformat(), "A004", "cash", _t(D1, "09:10"), "", "", "退办"],
    ["B1", D2.isoformat(), "A001", "cash", _t(D2, "10:00"), _t(D2, "10:05"), _t(D2, "10:15"), "已办理"],
    ["B1", D2.isoformat(), "A002", "wealth", _t(D2, "10:00"), _t(D2, "10:17"), _t(D2, "10:27"), "已办理"],
    ["B2", D2.isoformat(), "B001", "cash", _t(D2, "10:00"), _t(D2, "10:32"), _t(D2, "10:42"), "已办理"],
    ["B2", D3.isoformat(), "B001", "fx", _t(D3, "14:00"), _t(D3, "14:01"), _t(D3, "14:31"), "已办理"],
]


def _write_csv(path, rows):
    with open(path, "w", encoding="utf-8-sig", newline="") as f:
        csv.writer(f).writerows(rows)
    return path


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    d = tmp_path_factory.mktemp("counter")
    s = Store(d / "t.duckdb")
    for name, rows, source in (("branches.csv", BRANCHES, "branches"), ("tickets.csv", TICKETS, "counter_tickets")):
        res = ingest_file(s, _write_csv(d / name, rows), source=source, user="test")
        assert res.ok, res.issues.to_string()
        assert res.rows_loaded == len(rows) - 1
    yield s
    s.close()


def _values(store, metric_id, grain=Grain.DAY, by=(), scope=None, options=None, start=START, end=END):
    df = series(store, metric_id, grain, start, end, by, scope, options)
    if by:
        return {(r["period"], *(r[b] for b in by)): r["value"] for r in df.to_dict("records")}
    return dict(zip(df["period"], df["value"], strict=True))


def test_ingest_derived_wait_and_service_seconds(store):
    got = store.cursor().execute(
        "SELECT branch_id, business_date, ticket_no, status, wait_seconds, service_seconds "
        "FROM counter_tickets ORDER BY business_date, branch_id, ticket_no").fetchall()
    assert [(r[0], r[2], r[3], r[4], r[5]) for r in got] == [
        ("B1", "A001", "served", 600, 600), ("B1", "A002", "served", 2400, 300),
        ("B1", "A003", "abandoned", 1200, None), ("B1", "A004", "cancelled", None, None),
        ("B1", "A001", "served", 300, 600), ("B1", "A002", "served", 1020, 600), ("B2", "B001", "served", 1920, 600),
        ("B2", "B001", "served", 60, 1800)]


def test_tickets_served_and_issued_by_day(store):
    # served: D1 A001+A002 = 2; D2 B1×2 + B2×1 = 3; D3 1.  issued: D1 4 (abandoned + cancelled too)
    assert _values(store, "counter.tickets_served") == {D1: 2, D2: 3, D3: 1}
    assert _values(store, "counter.tickets_issued") == {D1: 4, D2: 3, D3: 1}


@pytest.mark.parametrize(("grain", "expected"), [
    (Grain.DAY, {D1: 2, D2: 3, D3: 1}),
    # ISO week: 2024-12-30 (Mon) … 2025-01-05 (Sun) is one week starting 2024-12-30 → 2 + 3
    (Grain.WEEK, {date(2024, 12, 30): 5, date(2025, 1, 6): 1}),
    (Grain.MONTH, {date(2024, 12, 1): 2, date(2025, 1, 1): 4}),
    (Grain.QUARTER, {date(2024, 10, 1): 2, date(2025, 1, 1): 4}),
    (Grain.YEAR, {date(2024, 1, 1): 2, date(2025, 1, 1): 4}),
])
def test_tickets_served_every_grain(store, grain, expected):
    assert _values(store, "counter.tickets_served", grain) == expected


def test_wait_avg_over_called_tickets(store):
    # called tickets only (A004 never called): D1 (10+40+20)/3 = 23.333…; D2 (5+17+32)/3 = 18; D3 1
    got = _values(store, "counter.wait_avg_min")
    assert got == pytest.approx({D1: 70 / 3, D2: 18.0, D3: 1.0})
    # week 2024-12-30: (10+40+20+5+17+32)/6 = 124/6
    assert _values(store, "counter.wait_avg_min", Grain.WEEK)[D1] == pytest.approx(124 / 6)


def test_wait_quantiles_are_linear_interpolation(store):
    # DuckDB quantile_cont = linear interpolation = numpy.quantile's default method
    d1, d2, week = [10, 40, 20], [5, 17, 32], [10, 40, 20, 5, 17, 32]
    p50 = _values(store, "counter.wait_p50_min")
    p90 = _values(store, "counter.wait_p90_min")
    # D1 sorted 10,20,40: P50 = 20; P90 at rank 0.9×2 = 1.8 → 20 + 0.8×(40−20) = 36
    assert p50[D1] == pytest.approx(20.0) == pytest.approx(np.quantile(d1, 0.5))
    assert p90[D1] == pytest.approx(36.0) == pytest.approx(np.quantile(d1, 0.9))
    # D2 sorted 5,17,32: P90 = 17 + 0.8×15 = 29
    assert p90[D2] == pytest.approx(29.0) == pytest.approx(np.quantile(d2, 0.9))
    assert p90[D3] == pytest.approx(1.0)
    # week sorted 5,10,17,20,32,40: P50 rank 2.5 → 17 + 0.5×3 = 18.5; P90 rank 4.5 → 32 + 0.5×8 = 36
    wk50 = _values(store, "counter.wait_p50_min", Grain.WEEK)[D1]
    wk90 = _values(store, "counter.wait_p90_min", Grain.WEEK)[D1]
    assert wk50 == pytest.approx(18.5) == pytest.approx(np.quantile(week, 0.5))
    assert wk90 == pytest.approx(36.0) == pytest.approx(np.quantile(week, 0.9))


def test_overtime_wait_rate_default_and_configured_threshold(store):
    # default 30 min: D1 {40} of 3 called; D2 {32} of 3; D3 0 of 1
    assert _values(store, "counter.overtime_wait_rate") == pytest.approx({D1: 1 / 3, D2: 1 / 3, D3: 0.0})
    # 15 min: D1 {40, 20} of 3; D2 {17, 32} of 3; D3 0
    got = _values(store, "counter.overtime_wait_rate", options={"wait_threshold_min": 15})
    assert got == pytest.approx({D1: 2 / 3, D2: 2 / 3, D3: 0.0})
    # strictly greater: a 20-minute threshold does not count the 20-minute wait (D1 {40} only)
    assert _values(store, "counter.overtime_wait_rate", options={"wait_threshold_min": 20})[D1] == pytest.approx(1 / 3)


def test_abandonment_rate(store):
    # abandoned / issued: D1 1 (A003) / 4 = 0.25; D2 0 / 3; month 2025-01 0 / 4
    assert _values(store, "counter.abandonment_rate") == pytest.approx({D1: 0.25, D2: 0.0, D3: 0.0})
    assert _values(store, "counter.abandonment_rate", Grain.MONTH)[date(2024, 12, 1)] == pytest.approx(0.25)


def test_service_avg_over_served_tickets(store):
    # D1 (10 + 5)/2 = 7.5 min (the abandoned ticket has no service); D2 (10+10+10)/3 = 10; D3 30
    assert _values(store, "counter.service_avg_min") == pytest.approx({D1: 7.5, D2: 10.0, D3: 30.0})
    # month 2025-01: (600+600+600+1800)/4 s = 900 s = 15 min
    assert _values(store, "counter.service_avg_min", Grain.MONTH)[date(2025, 1, 1)] == pytest.approx(15.0)


def test_window_utilisation_per_branch_day_with_tickets(store):
    b1_day = 2 * 480 * 60  # 57,600 s of window capacity on a B1 day
    b2_day = 1 * 300 * 60  # 18,000 s on a B2 day
    got = _values(store, "counter.window_utilisation")
    # D1: B1 only: (600 + 300) / 57,600
    assert got[D1] == pytest.approx(900 / b1_day)
    # D2: B1 and B2 both had tickets: (600+600+600) / (57,600 + 18,000)
    assert got[D2] == pytest.approx(1800 / (b1_day + b2_day))
    # D3: B2 only: 1800 / 18,000 = 0.1 (B1 had no tickets: its capacity is not counted)
    assert got[D3] == pytest.approx(0.1)
    # week 2024-12-30: branch-days (B1,D1) (B1,D2) (B2,D2): 2700 / (2×57,600 + 18,000)
    assert _values(store, "counter.window_utilisation", Grain.WEEK)[D1] == pytest.approx(2700 / (2 * b1_day + b2_day))
    by = _values(store, "counter.window_utilisation", by=("branch",))
    assert by[(D2, "B1")] == pytest.approx(1200 / b1_day)
    assert by[(D2, "B2")] == pytest.approx(600 / b2_day)
    # B2 has no sub-branch: its NULL breakdown key must still pair its service time with its capacity
    sub = series(store, "counter.window_utilisation", Grain.DAY, D2, D2, ("sub_branch",))
    got_sub = {None if pd.isna(k) else k: v for k, v in zip(sub["sub_branch"], sub["value"], strict=True)}
    assert got_sub == pytest.approx({"S1": 1200 / b1_day, None: 600 / b2_day})


def test_breakdowns_branch_region_sub_branch_service_type(store):
    assert _values(store, "counter.tickets_served", Grain.MONTH, by=("branch",)) == {
        (date(2024, 12, 1), "B1"): 2, (date(2025, 1, 1), "B1"): 2, (date(2025, 1, 1), "B2"): 2}
    # region comes from the branch master through branch_id
    assert _values(store, "counter.tickets_served", Grain.MONTH, by=("region",)) == {
        (date(2024, 12, 1), "East"): 2, (date(2025, 1, 1), "East"): 2, (date(2025, 1, 1), "West"): 2}
    sub = series(store, "counter.tickets_served", Grain.YEAR, START, END, ("sub_branch",))
    # B1's parent is S1; B2 has none (null key)
    rows = {(r["period"], None if pd.isna(r["sub_branch"]) else r["sub_branch"]): r["value"]
            for r in sub.to_dict("records")}
    assert rows == {(date(2024, 1, 1), "S1"): 2, (date(2025, 1, 1), "S1"): 2, (date(2025, 1, 1), None): 2}
    # service types in 2025-01: cash B1-A001 + B2-B001, wealth B1-A002, fx B2 (D3)
    assert _values(store, "counter.tickets_served", Grain.MONTH, by=("service_type",), start=date(2025, 1, 1)) == {
        (date(2025, 1, 1), "cash"): 2, (date(2025, 1, 1), "wealth"): 1, (date(2025, 1, 1), "fx"): 1}


def test_scopes(store):
    m = Grain.MONTH
    jan = date(2025, 1, 1)
    assert _values(store, "counter.tickets_served", m, scope=Scope(region="West")) == {jan: 2}
    # a sub-branch id covers its outlets (parent_id = S1 → B1)
    assert _values(store, "counter.tickets_served", m, scope=Scope(branch="S1")) == {date(2024, 12, 1): 2, jan: 2}
    assert _values(store, "counter.tickets_served", m, scope=Scope(branch="B2")) == {jan: 2}
    # access boundary: only B2; a user filter inside it on B1's region sees nothing
    assert _values(store, "counter.tickets_served", m, scope=Scope(branch_ids=frozenset({"B2"}))) == {jan: 2}
    assert _values(store, "counter.tickets_served", m, scope=Scope(branch_ids=frozenset({"B2"}), region="East")) == {}
    assert _values(store, "counter.tickets_served", m, scope=Scope(branch_ids=frozenset())) == {}
    # P90 inside the boundary: B2's January waits 32, 1 → 1 + 0.9×31 = 28.9
    p90 = _values(store, "counter.wait_p90_min", m, scope=Scope(branch_ids=frozenset({"B2"})))
    assert p90[jan] == pytest.approx(np.quantile([32, 1], 0.9)) == pytest.approx(28.9)


def test_window_limits_the_rows(store):
    # only 2025-01-03 … 2025-01-05: the week of 2024-12-30 then holds the three D2 tickets only
    assert _values(store, "counter.tickets_served", Grain.WEEK, start=D2, end=date(2025, 1, 5)) == {D1: 3}
