"""The demo ends on its as-of date (data/demo/spec.py): every file stops on the day given — by
default `bankpulse demo` takes yesterday in Asia/Shanghai —, the planted stories keep their distance
from it (whole months, quarters, Mondays; the holidays of the real calendar), the same seed and
as-of give the same bytes, past the official holiday notices the calendar says where its days came
from, and a demo loaded today shows this month on the overview, the briefing and the anomaly page.

Small specs (3 outlets × 1 year: seconds per build; 12 outlets for the planted effects). The one
test that reads the clock is the last: it loads the demo exactly as `make run` does.
"""
from __future__ import annotations

import hashlib
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import openpyxl
import pandas as pd
import pytest
from helpers_demo import AS_OF

from data.demo import DemoSpec, generate
from data.demo.calendar import day_table
from data.demo.effects import planted_effects, process_start, staffing_start
from data.demo.spec import default_as_of

MID = date(2026, 11, 17)  # a Tuesday: the last month is cut short on the 17th
EARLY = date(2026, 2, 10)  # the story quarter falls in the previous year, the range starts in March


def _spec(as_of: date, **kw) -> DemoSpec:
    return DemoSpec(**{"seed": 1, "branches": 3, "years": 1, "as_of": as_of, **kw})


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """as-of date → the folder its small demo was generated into (each built once)."""
    cache: dict[date, Path] = {}

    def get(as_of: date) -> Path:
        if as_of not in cache:
            cache[as_of] = tmp_path_factory.mktemp(f"demo_{as_of:%Y%m%d}")
            generate(_spec(as_of), cache[as_of])
        return cache[as_of]

    return get


def _checksums(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def _csv(path: Path, **kw) -> pd.DataFrame:
    enc = "utf-8-sig" if path.read_bytes()[:3] == b"\xef\xbb\xbf" else "gbk"
    return pd.read_csv(path, encoding=enc, dtype=str, **kw)


def _story(folder: Path) -> dict:
    return json.loads((folder / "story.json").read_text(encoding="utf-8"))


# -- the default: yesterday in the bank's zone -----------------------------------------------------
@pytest.mark.parametrize(("now", "expected"), [
    (datetime(2026, 12, 4, 20, 0, tzinfo=UTC), date(2026, 12, 4)),  # 04:00 on 5 December in Beijing
    (datetime(2026, 12, 4, 15, 59, tzinfo=UTC), date(2026, 12, 3)),  # 23:59 on 4 December in Beijing
    (datetime(2026, 2, 28, 18, 0, tzinfo=UTC), date(2026, 2, 28)),  # 02:00 on 1 March: all of February
    (datetime(2026, 12, 4, 16, 0), date(2026, 12, 4)),  # naive: read as UTC (00:00 on 5 December in Beijing)
    (datetime(2026, 12, 5, 1, 0, tzinfo=ZoneInfo("America/New_York")), date(2026, 12, 4)),  # 14:00 in Beijing
])
def test_default_as_of_is_yesterday_in_shanghai(now, expected):
    assert default_as_of(now) == expected


# -- same seed, same as-of: the same bytes ---------------------------------------------------------
def test_two_builds_are_byte_identical(built, tmp_path):
    again = tmp_path / "again"
    generate(_spec(MID), again)
    first = _checksums(built(MID))
    assert len(first) == 30 and first == _checksums(again)  # every file, story.json included
    other = tmp_path / "next_day"
    generate(_spec(MID + timedelta(days=1)), other)
    moved = _checksums(other)
    assert moved.keys() == first.keys()
    assert moved["counter_tickets_2026-11.csv"] != first["counter_tickets_2026-11.csv"]
    assert moved["story.json"] != first["story.json"]


# -- every file stops on the as-of date --------------------------------------------------------------
def test_every_file_ends_on_the_as_of_date(built):
    d = built(MID)
    months = [f"{y}-{m:02d}" for y, m in [(2025, 12), *[(2026, m) for m in range(1, 12)]]]
    assert sorted(p.name for p in d.glob("counter_tickets_*.csv")) == [f"counter_tickets_{m}.csv" for m in months]
    days = pd.to_datetime(_csv(d / "counter_tickets_2026-11.csv", usecols=["取号时间"])["取号时间"]).dt.date
    assert days.min() == date(2026, 11, 1) and days.max() == MID
    snaps = sorted(d.glob("loan_snapshot_*"))
    assert [p.name for p in snaps[:2]] == ["loan_snapshot_2025-12.csv", "loan_snapshot_2026-01.csv"]
    assert snaps[-1].name == "loan_snapshot_2026-11.xlsx"
    ws = openpyxl.load_workbook(snaps[-1], read_only=True)["贷款台账"]
    assert "数据日期：2026年11月17日" in next(ws.iter_rows(max_row=1, values_only=True))[0]
    oct_ = _csv(d / "loan_snapshot_2026-10.csv", usecols=["数据日期"])["数据日期"].unique()
    assert len(oct_) == 1 and oct_[0].replace("年", "-").replace("月", "-").rstrip("日") in ("2026-10-31", "20261031")
    wb = openpyxl.load_workbook(d / "feedback_records.xlsx", read_only=True)
    assert wb.sheetnames == ["说明", "2025年", "2026年"]
    received = pd.to_datetime(pd.Series([r[2] for r in wb["2026年"].iter_rows(min_row=2, values_only=True)]))
    assert received.max().date() <= MID and (received.dt.month == 11).sum() > 0
    events = _csv(d / "market_events.csv")["事件日期"]
    assert events.max() <= MID.isoformat() and (events >= "2025-12-01").any()
    assert pd.read_csv(d / "lpr.csv", encoding="utf-8", dtype=str)["日期"].max() <= MID.isoformat()
    story = _story(d)
    assert story["as_of"] == MID.isoformat() and story["calendar"] == {"official": 352, "package": 0, "weekday": 0}


# -- the planted stories keep their shape -----------------------------------------------------------
def _roll_and_stock(d: Path, story: dict) -> tuple[float, float, float, float]:
    """(monthly roll rate current → overdue of the story cohort from 4 months after its quarter
    began, the same for the same products elsewhere; the overdue balance rate of the cohort from 6
    months after, the rest of the book's) — the measures of tests/test_demo.py::test_story, in
    months counted from the story quarter instead of calendar months."""
    frames = [_csv(p) for p in sorted(d.glob("loan_snapshot_*.csv"))]
    df = pd.concat(frames, ignore_index=True)
    df["month"] = pd.to_datetime(df["数据日期"].str.replace(r"\D", "", regex=True), format="%Y%m%d").dt.to_period("M")
    for c in ("贷款余额(万元)", "逾期天数"):
        df[c] = pd.to_numeric(df[c])
    appr = pd.to_datetime(df["审批日期"].str.replace("年", "-").str.replace("月", "-").str.replace("日", ""), format="mixed")
    q0 = pd.Period(story["quarter"]).asfreq("M", "start")
    df["cohort"] = (df["审批人"] == story["approver"]) & (df["内部机构号"] == story["branch_id"]) & (
        appr.dt.to_period("Q") == pd.Period(story["quarter"]))
    assert df.loc[df["cohort"], "借据号"].nunique() == story["affected_loan_ids_count"] > 20
    nxt = df[["借据号", "month", "逾期天数"]].rename(columns={"逾期天数": "dpd_next"})
    nxt["month"] = nxt["month"] - 1
    j = df[(df["逾期天数"] == 0) & (df["month"] >= q0 + 4)].merge(nxt, on=["借据号", "month"])
    same = j["贷款品种"].isin(df.loc[df["cohort"], "贷款品种"].unique())
    roll = j["dpd_next"] > 0
    late, od, bal = df["month"] >= q0 + 6, df["逾期天数"] > 0, df["贷款余额(万元)"]
    c = df["cohort"]
    return (roll[j["cohort"]].mean(), roll[~j["cohort"] & same].mean(),
            bal[late & c & od].sum() / bal[late & c].sum(), bal[late & ~c & od].sum() / bal[late & ~c].sum())


@pytest.mark.parametrize(("as_of", "quarter"), [(AS_OF, "2025Q1"), (MID, "2026Q1"), (EARLY, "2025Q2")])
def test_the_overdue_story_keeps_its_shape(built, as_of, quarter):
    story = _story(built(as_of))
    assert story["quarter"] == quarter == _spec(as_of).story_quarter
    assert (story["approver"], story["branch_id"], story["metric"]) == ("王磊", "0101001", "credit.overdue_rate")
    roll_cohort, roll_other, rate_cohort, rate_other = _roll_and_stock(built(as_of), story)
    assert roll_cohort > 4 * roll_other  # ~8× (tests/test_demo.py::test_story for the pinned date)
    assert rate_cohort > 1.5 * rate_other and rate_cohort > 0.05


@pytest.mark.parametrize("as_of", [AS_OF, MID, EARLY, date(2026, 3, 1), date(2026, 8, 31), date(2027, 1, 30)])
def test_the_planted_dates_move_by_whole_periods(as_of):
    spec = _spec(as_of, branches=12)
    s0, p0 = staffing_start(spec), process_start(spec)
    m = pd.Period(as_of, "M")
    q = pd.Period(spec.story_quarter)
    assert q == (m - 9).asfreq("Q")  # the quarter holding the month 9 months back: whole quarters
    assert s0.weekday() == 0 and 0 <= (s0 - (m - 7).to_timestamp().date().replace(day=min(as_of.day, 28))).days < 7
    assert p0 == (m - 2).to_timestamp().date()  # the 1st of a month: 2 whole months and the as-of month after it
    assert (pd.Period(p0, "M") - q.asfreq("M", "end")).n >= 4  # the fix comes well after the story and its review
    assert spec.start <= q.start_time.date() and s0 > spec.start + timedelta(days=120)


@pytest.mark.parametrize(("as_of", "staffing", "process"), [
    (AS_OF, date(2025, 6, 2), date(2025, 10, 1)), (MID, date(2026, 4, 20), date(2026, 9, 1))])
def test_the_planted_effects_keep_their_size(as_of, staffing, process):
    got = {e.kind: e for e in planted_effects(_spec(as_of, seed=3, branches=12))}
    s, p = got["staffing"], got["process"]
    assert (s.start, p.start, s.end, p.end) == (staffing, process, as_of, as_of)
    assert -6 < s.true_effect < -4  # the counterfactual wait difference, about the same for every as-of date
    assert p.true_effect < -2 and f"Q{_spec(as_of).story_quarter[-1]}" in p.description_en


# -- past the official holiday notices -----------------------------------------------------------
def test_past_the_official_calendar_the_package_decides_and_the_cli_says_so(tmp_path):
    from cli.main import _demo_notes

    as_of = date(2027, 3, 31)  # 2027 is past cn_holidays_2023_2026.csv: the `holidays` package's rules
    d = tmp_path / "d"
    generate(_spec(as_of), d)
    story = _story(d)
    assert story["calendar"] == {"official": 275, "package": 90, "weekday": 0}
    cal = day_table(date(2027, 1, 1), as_of)
    assert set(cal["source"]) == {"package"} and not (cal["day_type"] == "adjusted_workday").any()  # no 调休 known
    spring = cal[(cal["day_type"] == "holiday_off") & (cal["date"].dt.month == 2)]["date"]
    assert len(spring) >= 3  # Spring Festival 2027 (6 February) by rule
    t = _csv(d / "counter_tickets_2027-02.csv", usecols=["取号时间", "状态"])
    per_day = t[t["状态"] == "已办理"].groupby(pd.to_datetime(t["取号时间"]).dt.normalize()).size()
    per_day = per_day.reindex(cal.loc[cal["date"].dt.month == 2, "date"], fill_value=0)
    work = cal.set_index("date").loc[per_day.index, "day_type"] == "workday"
    assert per_day[per_day.index.isin(spring)].mean() < 0.5 * per_day[work.to_numpy()].mean()  # the dip follows
    notes = _demo_notes(story)
    assert len(notes) == 3 and "package 90" in notes[0] and "2023–2026" in notes[0]  # + the LPR and NPL notes


def test_the_cli_refuses_a_last_day_from_today_on(tmp_path, capsys):
    from cli.main import main
    from data.demo.spec import bank_today

    today = bank_today(datetime.now(UTC))
    assert main(["demo", "--as-of", (today + timedelta(days=400)).isoformat(), "--out", str(tmp_path / "x")]) == 2
    assert "须早于今天" in capsys.readouterr().err and not (tmp_path / "x").exists()
    with pytest.raises(SystemExit) as exc:
        main(["demo", "--as-of", "2026-13-01", "--out", str(tmp_path / "y")])
    assert exc.value.code == 2 and "not a YYYY-MM-DD date: '2026-13-01'" in capsys.readouterr().err
    assert main(["demo", "--as-of", "2019-12-31", "--out", str(tmp_path / "z")]) == 2  # before the real LPR
    assert "as_of" in capsys.readouterr().err and not (tmp_path / "z").exists()


# -- a newcomer's first day: `make run` today shows this month ----------------------------------
@pytest.fixture(scope="module")
def todays_demo(tmp_path_factory):
    """The small demo loaded, scanned and seeded with plans exactly as `make run` does it — no
    --as-of, so yesterday in Asia/Shanghai (the one test of the suite that reads the clock)."""
    from cli.main import main

    base = tmp_path_factory.mktemp("todays_demo")
    before = default_as_of(datetime.now(UTC))
    assert main(["--db", str(base / "bankpulse.duckdb"), "demo", "--load", "--branches", "3", "--years", "1",
                 "--out", str(base / "files")]) == 0
    as_of = date.fromisoformat(_story(base / "files")["as_of"])
    assert as_of in (before, default_as_of(datetime.now(UTC)))  # the run may cross midnight in Beijing
    return base / "bankpulse.duckdb", as_of


FLOWS = {"counter.tickets_served", "credit.disbursed_amount", "feedback.complaints"}  # last complete period


def test_a_demo_loaded_today_shows_this_month(todays_demo, monkeypatch):
    """The overview's cards read this month (the counts and sums the last whole month, by design:
    metrics.compute.card), the sidebar ends on yesterday, the briefing opens on this month, and the
    anomaly page lists the scan of data up to yesterday."""
    from helpers_app import open_app, reset_caches, use_store

    import data.store
    from data.store import Store
    from metrics import compute
    from metrics.catalogue import HEADLINE_IDS, get_metric
    from metrics.format import fmt_card
    from metrics.model import Grain
    from metrics.periods import label
    from metrics.scope import Scope

    db, as_of = todays_demo
    s = Store(db, read_only=True)
    try:
        last = s.query("reads.data_span").first()[1]
        latest_flag, flags = s.cursor().execute("SELECT max(period_end), count(*) FROM ops.anomalies").fetchone()
    finally:
        s.close()
    assert last == as_of and flags > 0 and latest_flag <= as_of  # nothing after yesterday
    month = as_of.replace(day=1)
    whole_month = (as_of + timedelta(days=1)).day == 1
    prev = month if whole_month else (month - timedelta(days=1)).replace(day=1)
    use_store(db, monkeypatch)
    try:
        at = open_app()
        assert not at.exception, at.exception
        assert at.get_by_key("to").value == as_of
        assert any(f"截至{as_of.isoformat()}" in c.value for c in at.caption)
        whens = {m.label: m.help.split(" · ")[0] for m in at.metric}
        store = data.store.open_store(db)  # the app's own connection
        for mid in HEADLINE_IDS:
            metric = get_metric(mid)
            shown = whens[fmt_card(metric, compute.card(store, metric, Grain.MONTH, as_of, Scope()).value, "zh")[0]]
            assert shown == label(prev if mid in FLOWS else month, Grain.MONTH, "zh"), mid

        at.switch_page("pages/briefing.py").run()
        assert not at.exception, at.exception
        assert at.get_by_key("br_period_month").value == month  # the briefing opens on this month

        at.switch_page("pages/anomalies.py").run()
        assert not at.exception, at.exception
        assert any(c.value.startswith(f"共 {flags} 条，第 1/") for c in at.caption)  # every flag of the scan listed
    finally:
        reset_caches()


def test_the_seeded_plans_sit_before_the_as_of_date(todays_demo):
    from data.store import Store

    db, as_of = todays_demo
    s = Store(db, read_only=True)
    try:
        latest = s.cursor().execute(
            "SELECT max(greatest(proposed_on, coalesce(evaluated_on, proposed_on), coalesce(approved_on, proposed_on))) "
            "FROM ops.plans").fetchone()[0]
    finally:
        s.close()
    assert latest <= as_of and as_of - latest < timedelta(days=60)  # the plans are recent, none from the future
