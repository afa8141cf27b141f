"""Staffing advice (metrics/staffing.py, block staffing.cells) on a hand-built fixture with a known
answer, loaded as Chinese CSV exports through the real ingest path.

Fixture (every served ticket is called 2 minutes after it is taken unless said otherwise):

  B1 (East, outlet of S1), Mondays 2025-01-06 and 2025-01-13:
    09:00–09:57 a ticket every 3 minutes (20 an hour), 6-minute service, windows 1 and 2 alternately
      → 20 arrivals/h × 6 min = 2 erlangs on 2 windows. Erlang C with 3 windows: B(3, 2) = 4/19,
        C(3, 2) = 4/9, service level 1 − 4/9·e^−2.5 ≥ 80 %; 2 windows are unstable at an 85 % cap
        → needs 3, opens 2: one short. The last services run into 10:00, an hour without arrivals:
        not a cell.
    11:00, 11:20, 11:40 with 12-minute service on windows 1, 2, 1 → 3 arrivals/h; 6 served tickets are
      fewer than MIN_SERVED, so the branch's mean handling time (40·6 + 6·12) / 46 min applies;
      needs 1, opens 2: one over.
  B1, Tuesday 2025-01-07: 09:00–10:57 as Monday 9:00 for two hours → a block 9–11 two windows short.
  B2 (West), Mondays: 10:00–10:54 a ticket every 6 minutes (10 an hour) on window 1, 5-minute service
    after a 10-minute wait; two of each day's ten are 过号 after 20 minutes → 4 abandoned, Σ waits
    16·10 + 4·20 = 240 min, patience 240 / 4 = 60 min (Erlang A); measured service level 16/20.
"""

from __future__ import annotations

import csv
import json
from datetime import date, datetime, timedelta

import pandas as pd
import pytest

from data.ingest import ingest_file
from data.store import Store
from metrics import staffing
from metrics.erlang import Load, Target, erlang_b, erlang_c, performance, windows_needed
from metrics.scope import Scope

MON1, TUE, MON2 = date(2025, 1, 6), date(2025, 1, 7), date(2025, 1, 13)
START, END = date(2025, 1, 1), date(2025, 1, 31)
TARGET = Target(share=0.8, within_min=15, max_occupancy=0.85)

BRANCHES = [
    ["机构号", "机构名称", "机构层级", "上级机构号", "所属区域", "开放窗口数", "营业时长"],
    ["S1", "城东支行", "支行", "", "East", "0", "480"],
    ["B1", "人民路网点", "网点", "S1", "East", "4", "480"],
    ["B2", "解放路网点", "网点", "", "West", "2", "480"],
]
HEADER = ["网点编号", "业务日期", "票号", "取号时间", "叫号时间", "完成时间", "窗口号", "状态"]


def _ts(x: datetime | None) -> str:
    return "" if x is None else x.strftime("%Y-%m-%d %H:%M:%S")


def _tickets() -> list[list[str]]:
    rows = [HEADER]

    def add(branch, day, no, taken, wait, service, window, status="已办理"):
        called = taken + timedelta(minutes=wait)
        end = called + timedelta(minutes=service) if service else None
        rows.append([branch, day.isoformat(), no, _ts(taken), _ts(called), _ts(end), window if service else "", status])

    for day in (MON1, MON2):
        for i in range(20):
            add("B1", day, f"A{i:03d}", datetime.combine(day, datetime.min.time()).replace(hour=9) + timedelta(minutes=3 * i),
                2, 6, str(1 + i % 2))
        for i in range(3):
            add("B1", day, f"C{i:03d}", datetime.combine(day, datetime.min.time()).replace(hour=11) + timedelta(minutes=20 * i),
                2, 12, str(1 + i % 2))
        for i in range(10):
            taken = datetime.combine(day, datetime.min.time()).replace(hour=10) + timedelta(minutes=6 * i)
            if i in (3, 7):
                add("B2", day, f"B{i:03d}", taken, 20, 0, "1", "过号")
            else:
                add("B2", day, f"B{i:03d}", taken, 10, 5, "1")
    for i in range(40):
        add("B1", TUE, f"A{i:03d}", datetime.combine(TUE, datetime.min.time()).replace(hour=9) + timedelta(minutes=3 * i),
            2, 6, str(1 + i % 2))
    return rows


def _write_csv(path, rows):
    with open(path, "w", encoding="utf-8-sig", newline="") as f:
        csv.writer(f).writerows(rows)
    return path


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    d = tmp_path_factory.mktemp("staffing")
    s = Store(d / "t.duckdb")
    tickets = _tickets()
    for name, rows, source in (("branches.csv", BRANCHES, "branches"), ("tickets.csv", tickets, "counter_tickets")):
        res = ingest_file(s, _write_csv(d / name, rows), source=source, user="test")
        assert res.ok, res.issues.to_string()
        assert res.rows_loaded == len(rows) - 1
    yield s
    s.close()


def _advice(store, scope=Scope(), **kw):
    return staffing.advice(store, START, END, scope, TARGET, weeks=52, min_abandoned=2, **kw)


def _cell(adv, branch, weekday, hour):
    got = adv[(adv["branch_id"] == branch) & (adv["weekday"] == weekday) & (adv["hour"] == hour)]
    assert len(got) == 1, (branch, weekday, hour, adv[["branch_id", "weekday", "hour"]].to_dict("records"))
    return got.iloc[0]


def test_the_hand_computed_erlang_c_figures():
    assert erlang_b(3, 2.0) == pytest.approx(4 / 19)
    assert erlang_c(3, 2.0) == pytest.approx(4 / 9)


def test_cells_aggregate_the_tickets(store):
    adv = _advice(store)
    assert sorted(zip(adv["branch_id"], adv["weekday"], adv["hour"], strict=True)) == [
        ("B1", 1, 9), ("B1", 1, 11), ("B1", 2, 9), ("B1", 2, 10), ("B2", 1, 10)]  # no 10:00 cell on Mondays at B1
    c = _cell(adv, "B1", 1, 9)
    assert (c["days"], c["tickets"], c["arrivals_per_hour"], c["aht_min"]) == (2, 40, 20.0, pytest.approx(6.0))
    assert c["windows_open"] == 2.0 and c["model"] == "erlang_c" and pd.isna(c["patience_min"])
    assert c["measured_sl"] == 1.0
    c = _cell(adv, "B1", 1, 11)
    assert c["arrivals_per_hour"] == 3.0 and c["windows_open"] == 2.0
    assert c["aht_min"] == pytest.approx((40 * 6 + 6 * 12 + 40 * 6) / 86)  # the branch's mean, Tuesday included
    c = _cell(adv, "B2", 1, 10)
    assert (c["arrivals_per_hour"], c["aht_min"], c["windows_open"]) == (10.0, pytest.approx(5.0), 1.0)
    assert c["patience_min"] == pytest.approx(60.0) and c["model"] == "erlang_a"
    assert c["measured_sl"] == pytest.approx(16 / 20)


def test_windows_needed_against_open(store):
    adv = _advice(store)
    c = _cell(adv, "B1", 1, 9)
    assert (c["windows_needed"], c["open_rounded"], c["gap"], c["surplus"]) == (3, 2, 1, -1.0)
    assert c["sl_needed"] == pytest.approx(1 - 4 / 9 * 2.718281828459045 ** -2.5)
    assert c["sl_open"] == 0.0  # 2 erlangs on 2 windows: an Erlang C queue without end
    c = _cell(adv, "B1", 1, 11)
    assert (c["windows_needed"], c["open_rounded"], c["gap"]) == (1, 2, -1)
    c = _cell(adv, "B2", 1, 10)
    want = windows_needed(Load(10, 5, 60), TARGET)
    assert want.windows == 2 and c["windows_needed"] == 2 and c["gap"] == 1
    assert c["p_abandon_needed"] == pytest.approx(want.performance.p_abandon)
    assert c["sl_open"] == pytest.approx(performance(Load(10, 5, 60), 1, 15).service_level)
    # without enough 过号 tickets the same cell is Erlang C
    plain = _cell(staffing.advice(store, START, END, Scope(), TARGET, weeks=52, min_abandoned=5), "B2", 1, 10)
    assert plain["model"] == "erlang_c" and pd.isna(plain["patience_min"])


def test_shrinkage_gives_the_tellers_to_roster(store):
    adv = staffing.advice(store, START, END, Scope(), Target(0.8, 15, 0.85, shrinkage=0.25), weeks=52, min_abandoned=2)
    assert _cell(adv, "B1", 1, 9)["rostered"] == 4  # ⌈3 / 0.75⌉


def test_suggestions_are_ranked_blocks(store):
    sg = staffing.suggestions(_advice(store))
    got = [(r.rank, r.kind, r.branch_id, r.weekday, r.hour_from, r.hour_to, r.needed, r.open, r.window_hours)
           for r in sg.itertuples()]
    assert got == [(1, "shortage", "B1", 2, 9, 11, 3, 2, 2),   # Tuesday 9–11: two window-hours short
                   (2, "shortage", "B1", 1, 9, 10, 3, 2, 1),   # Monday 9: 20 arrivals
                   (3, "shortage", "B2", 1, 10, 11, 2, 1, 1),  # Monday 10: 10 arrivals
                   (4, "surplus", "B1", 1, 11, 12, 1, 2, 1)]
    first = sg.iloc[0]
    assert staffing.suggestion_text(first) == "周二 9–11 点 需 3 个窗口，实开 2 个"
    assert staffing.suggestion_text(first, "en") == "Tue 9–11: 3 windows needed, 2 open"
    assert staffing.suggestion_ref(first) == "B1:2:9-11"
    title, change = staffing.plan_texts(first, "人民路网点", TARGET)
    assert title == "人民路网点周二9–11点增开1个窗口" and "80% 客户 15 分钟内叫号" in change


@pytest.mark.parametrize(("scope", "branches"), [
    (Scope(branch_ids=frozenset({"B2"})), {"B2"}), (Scope(region="East"), {"B1"}), (Scope(branch="S1"), {"B1"}),
    (Scope(branch="B2"), {"B2"}), (Scope(branch_ids=frozenset({"B1"}), region="West"), set()),
    (Scope(branch_ids=frozenset()), set())])
def test_the_boundary_applies(store, scope, branches):
    """A scoped reader gets exactly the whole bank's rows of their branches (the patience is the branch's own)."""
    whole = _advice(store)
    mine = _advice(store, scope)
    assert set(mine["branch_id"]) == branches
    want = whole[whole["branch_id"].isin(branches)].reset_index(drop=True)
    pd.testing.assert_frame_equal(mine.reset_index(drop=True), want, check_dtype=False)


def test_the_advice_reads_the_last_weeks(store):
    assert staffing.advice_window(START, END, 2) == (date(2025, 1, 18), END)
    assert staffing.advice_window(date(2025, 1, 25), END, 8) == (date(2025, 1, 25), END)
    two = staffing.advice(store, START, date(2025, 1, 19), Scope(), TARGET, weeks=1, min_abandoned=2)
    assert set(two["days"]) == {1} and set(two["weekday"]) == {1}  # only 2025-01-13 … 19
    assert staffing.last_day(store, Scope()) == MON2
    assert staffing.last_day(store, Scope(branch_ids=frozenset())) is None
    assert staffing.advice(store, START, END, Scope(branch_ids=frozenset()), TARGET).empty


# -- the command line -----------------------------------------------------------------------------
def test_cli_what_if(capsys):
    from cli.main import main

    assert main(["staffing", "what-if", "--arrivals-per-hour", "200", "--aht-min", "3", "--target-s", "20",
                 "--windows", "14", "--shrinkage", "0.3", "--max-occupancy", "0.85", "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["model"] == "erlang_c" and out["p_abandon"] is None
    assert round(out["p_wait"], 7) == 0.1741319 and round(out["service_level"], 5) == 0.88835
    assert (out["windows_needed"], out["rostered"]) == (14, 20)
    assert main(["staffing", "what-if", "--arrivals-per-hour", "200", "--aht-min", "3", "--target-s", "20",
                 "--windows", "14", "--patience-min", "5"]) == 0
    text = capsys.readouterr().out
    assert "Erlang A" in text and "放弃率 / abandonment                       1.40%" in text
    assert "服务水平 / service level (≤ 20 s)      91.87%" in text
    assert main(["staffing", "what-if", "--arrivals-per-hour", "-5", "--aht-min", "3", "--windows", "2"]) == 2
    assert "arrivals_per_hour" in capsys.readouterr().err


def test_cli_advice_in_scope(store, capsys):
    """`bankpulse staffing advice` prints what metrics.staffing computes; a B2-only person sees B2 only
    and is refused B1."""
    from cli.main import main
    from data.users import UserStore

    db = str(store.path)
    users = UserStore(store)
    if users.get("b2user") is None:
        users.add("test-setup", "b2user", "viewer", password="correct-horse-battery", branches="B2")
    args = ["staffing", "advice", "--from", "2025-01-01", "--to", "2025-01-31", "--max-occupancy", "0.85"]
    assert main(["--db", db, *args, "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    want = _advice(store)
    assert [(c["branch_id"], c["weekday"], c["hour"], c["windows_needed"]) for c in out["cells"]] == \
        list(zip(want["branch_id"], want["weekday"], want["hour"], want["windows_needed"], strict=True))
    assert out["suggestions"][0]["text_zh"] == "周二 9–11 点 需 3 个窗口，实开 2 个"
    assert main(["--db", db, "--as", "b2user", *args, "--format", "json"]) == 0
    mine = json.loads(capsys.readouterr().out)
    assert {c["branch_id"] for c in mine["cells"]} == {"B2"} and {s["branch_id"] for s in mine["suggestions"]} == {"B2"}
    assert main(["--db", db, "--as", "b2user", *args, "--branch", "B1"]) == 1
    assert "outside your data scope" in capsys.readouterr().err
    assert main(["--db", db, *args, "--branch", "B1"]) == 0
    text = capsys.readouterr().out
    assert "B1           周一  09:00      20.0       6.0  erlang_c     3     2.0    -1.0" in text
    assert "B2" not in text and "1. B1 周二 9–11 点 需 3 个窗口，实开 2 个" in text
