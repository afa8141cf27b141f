"""metrics/credit_analysis.py: migration matrix, vintage curves, hotspots and the loan list.

Exact numbers on tiny hand-made snapshots; on the small demo (loaded through the real ingest)
the planted story — loans approved by the story approver in 2025Q1 — must be the cohort with
the highest overdue share at 6 months on book.
"""
from __future__ import annotations

import json
import shutil
import time
from datetime import date

import pandas as pd
import pytest

import data.settings
import data.store
from metrics import credit_analysis as ca
from metrics.scope import Scope

A, B = date(2025, 1, 31), date(2025, 2, 28)
MONTH_ENDS = [date(2025, 1, 31), date(2025, 2, 28), date(2025, 3, 31), date(2025, 4, 30), date(2025, 5, 31),
              date(2025, 6, 30)]


def _insert(store, rows: list[dict]) -> None:
    cols = ["snapshot_date", "loan_id", "branch_id", "product", "disbursement_date", "loan_amount",
            "outstanding_balance", "days_past_due", "risk_class", "approver_id", "batch_id"]
    df = pd.DataFrame([{c: r.get(c) for c in cols} for r in rows])
    df["batch_id"] = 1
    cur = store.cursor()
    cur.register("rows_df", df)
    cur.execute(f"INSERT INTO main.loan_snapshot ({', '.join(cols)}) SELECT {', '.join(cols)} FROM rows_df")


def _loan(snap, loan_id, cls, bal, *, dpd=0, disb=date(2024, 6, 1), branch="X", approver="A", product="P1"):
    return {"snapshot_date": snap, "loan_id": loan_id, "branch_id": branch, "product": product,
            "disbursement_date": disb, "loan_amount": 1000.0, "outstanding_balance": bal, "days_past_due": dpd,
            "risk_class": cls, "approver_id": approver}


@pytest.fixture()
def store(tmp_path, monkeypatch):
    monkeypatch.setenv("BANKPULSE_DB", str(tmp_path / "t.duckdb"))
    data.store.close_all()
    data.settings.get_settings.cache_clear()
    s = data.store.open_store(tmp_path / "t.duckdb")
    s.cursor().execute("INSERT INTO main.branches (branch_id, branch_name, level, region, batch_id) "
                       "VALUES ('X', '甲网点', 'outlet', 'R1', 1), ('Y', '乙网点', 'outlet', 'R1', 1)")
    yield s
    data.store.close_all()
    data.settings.get_settings.cache_clear()


# -- migration -----------------------------------------------------------------------------------
@pytest.fixture()
def two_snapshots(store):
    _insert(store, [
        _loan(A, "L1", "normal", 100.0), _loan(A, "L2", "normal", 200.0),
        _loan(A, "L3", "special_mention", 50.0, dpd=20), _loan(A, "L4", "substandard", 30.0, dpd=100),
        _loan(B, "L1", "normal", 90.0), _loan(B, "L2", "special_mention", 190.0, dpd=5),
        _loan(B, "L3", "substandard", 45.0, dpd=95), _loan(B, "L5", "normal", 500.0, disb=date(2025, 2, 10)),
        _loan(B, "L6", "normal", 70.0, branch="Y", disb=date(2025, 2, 11)),
    ])
    return store


def test_migration_matrix_counts_and_balances(two_snapshots):
    b = two_snapshots.ibis()
    loans = ca.migration_matrix(b, A, B)
    assert list(loans.index) == list(ca.FROM_ORDER)
    assert list(loans.columns) == [*ca.TO_ORDER, "total"]
    expected = {("normal", "normal"): 1, ("normal", "special_mention"): 1, ("special_mention", "substandard"): 1,
                ("substandard", "exited"): 1, ("new", "normal"): 2}
    for (r, c), n in expected.items():
        assert loans.loc[r, c] == n, (r, c)
    assert int(loans.drop(columns="total").to_numpy().sum()) == 6  # every other cell is zero
    assert loans.loc["normal", "total"] == 2 and loans.loc["doubtful", "total"] == 0
    bal = ca.migration_matrix(b, A, B, value="balance")
    assert bal.loc["normal", "normal"] == 100.0  # the balance at A
    assert bal.loc["normal", "special_mention"] == 200.0
    assert bal.loc["special_mention", "substandard"] == 50.0
    assert bal.loc["substandard", "exited"] == 30.0
    assert bal.loc["new", "normal"] == 570.0  # new loans: the balance at B
    rates = ca.migration_rates(loans)
    assert rates.loc["normal", "special_mention"] == pytest.approx(0.5)
    assert rates.loc["special_mention", "substandard"] == pytest.approx(1.0)


def test_migration_respects_scope(two_snapshots):
    b = two_snapshots.ibis()
    only_y = ca.migration_matrix(b, A, B, Scope(branch_ids=frozenset({"Y"})))
    assert only_y.loc["new", "normal"] == 1
    assert int(only_y["total"].sum()) == 1
    assert ca.snapshot_dates(b) == [A, B]
    assert ca.default_pair([A, B, date(2025, 2, 15)]) == (A, B)  # month-ends preferred
    assert ca.default_pair([A]) is None


# -- vintage ---------------------------------------------------------------------------------------
@pytest.fixture()
def cohort_store(store):
    rows = []
    for s in MONTH_ENDS:  # V1: disbursed 2025-01-10, approver A at X, overdue at April (mob 3)
        rows.append(_loan(s, "V1", "normal" if s != MONTH_ENDS[3] else "special_mention", 100.0,
                          dpd=15 if s == MONTH_ENDS[3] else 0, disb=date(2025, 1, 10)))
        rows.append(_loan(s, "OLD", "normal", 999.0, dpd=40, disb=date(2024, 6, 1)))  # before the data: no cohort
    for s in MONTH_ENDS[2:]:  # V2: disbursed 2025-03-05, approver B at Y, overdue in May (mob 2)
        rows.append(_loan(s, "V2", "special_mention" if s == MONTH_ENDS[4] else "normal",
                          60.0 if s == MONTH_ENDS[5] else 100.0, dpd=10 if s == MONTH_ENDS[4] else 0,
                          disb=date(2025, 3, 5), branch="Y", approver="B"))
    _insert(store, rows)
    return store


def test_vintage_exact_points(cohort_store):
    v = ca.vintage(cohort_store.ibis())
    assert set(v["cohort"]) == {date(2025, 1, 1)}
    # the quarter's last month (March) + mob must be ≤ June: mob 0..3 only
    assert list(v["months_on_book"]) == [0, 1, 2, 3]
    assert list(v["loans"]) == [2, 2, 2, 2]
    rate = dict(zip(v["months_on_book"], v["overdue_rate"], strict=True))
    assert rate[0] == 0 and rate[1] == 0
    assert rate[2] == pytest.approx(100 / 200)  # V2 overdue in May (its mob 2), V1 at mob 2 is March
    assert rate[3] == pytest.approx(100 / 160)  # V1 overdue in April (100); V2 at mob 3 is June (60)
    monthly = ca.vintage(cohort_store.ibis(), cohort_grain="month")
    assert set(monthly["cohort"]) == {date(2025, 1, 1), date(2025, 3, 1)}
    jan = monthly[monthly["cohort"] == date(2025, 1, 1)]
    assert list(jan["months_on_book"]) == [0, 1, 2, 3, 4, 5]
    by = ca.vintage(cohort_store.ibis(), by="approver")
    assert set(by["approver"]) == {"A", "B"}
    only_b = ca.vintage(cohort_store.ibis(), approver="B")
    assert only_b.loc[only_b["months_on_book"] == 2, "overdue_rate"].iloc[0] == pytest.approx(1.0)
    only_x = ca.vintage(cohort_store.ibis(), branch="X")
    assert only_x["overdue_rate"].max() == pytest.approx(1.0)  # V1 alone at mob 3


def test_vintage_hotspots_concentration(cohort_store):
    h = ca.vintage_hotspots(cohort_store.ibis(), mob=2)
    assert len(h) == 1
    row = h.iloc[0]
    assert row["cohort"] == date(2025, 1, 1)
    assert row["overdue_rate"] == pytest.approx(0.5)
    assert row["top_approver"] == "B" and row["approver_overdue_share"] == pytest.approx(1.0)
    assert row["approver_balance_share"] == pytest.approx(0.5)
    assert row["top_branch"] == "Y" and row["branch_overdue_share"] == pytest.approx(1.0)


def test_loan_list_filters_and_pages(cohort_store):
    b = cohort_store.ibis()
    page, total, as_of = ca.loan_list(b)
    assert as_of == MONTH_ENDS[-1] and total == 3
    assert list(page["loan_id"]) == ["OLD", "V1", "V2"]  # worst first: dpd, then balance
    page, total, _ = ca.loan_list(b, min_dpd=1)
    assert total == 1 and list(page["loan_id"]) == ["OLD"]
    page, total, _ = ca.loan_list(b, approver="B")
    assert total == 1 and page["loan_id"].iloc[0] == "V2"
    page, total, _ = ca.loan_list(b, limit=1, offset=1)
    assert total == 3 and list(page["loan_id"]) == ["V1"]
    page, total, _ = ca.loan_list(b, risk_classes=("special_mention",), as_of=MONTH_ENDS[4])
    assert list(page["loan_id"]) == ["V2"]
    opts = ca.loan_filter_options(b)
    assert opts["approvers"] == ["A", "B"] and opts["branches"] == ["X", "Y"]


# -- the planted story on the small demo -------------------------------------------------------------
def demo_template(tmp_path_factory) -> tuple:
    """The small demo loaded through the real ingest once per session; (db file, story)."""
    base = tmp_path_factory.getbasetemp() / "credit_demo_template"
    db = base / "bankpulse.duckdb"
    if not (base / "done").exists():
        from helpers_demo import AS_OF, ingest_demo

        from data.demo import DemoSpec

        base.mkdir(exist_ok=True)
        mp = pytest.MonkeyPatch()
        mp.setenv("BANKPULSE_DB", str(db))
        data.store.close_all()
        data.settings.get_settings.cache_clear()
        t0 = time.monotonic()
        store = data.store.open_store(db)
        ingest_demo(store, DemoSpec(seed=1, branches=3, years=1, as_of=AS_OF), base / "demo")
        data.store.close_all()
        data.settings.get_settings.cache_clear()
        mp.undo()
        print(f"\ndemo store loaded in {time.monotonic() - t0:.1f}s")
        (base / "done").write_text("ok")
    return db, json.loads((base / "demo" / "story.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    src, story = demo_template(tmp_path_factory)
    db = tmp_path_factory.mktemp("credit_analysis") / "bankpulse.duckdb"
    shutil.copy(src, db)
    mp = pytest.MonkeyPatch()
    mp.setenv("BANKPULSE_DB", str(db))
    data.store.close_all()
    data.settings.get_settings.cache_clear()
    yield data.store.open_store(db), story
    data.store.close_all()
    data.settings.get_settings.cache_clear()
    mp.undo()


def test_story_cohort_has_the_highest_six_month_overdue(demo):
    store, story = demo
    b = store.ibis()
    y, q = story["quarter"].split("Q")
    cohort = date(int(y), 3 * int(q) - 2, 1)
    hot = ca.vintage_hotspots(b, mob=6)
    assert hot.iloc[0]["cohort"] == cohort
    assert hot.iloc[0]["top_approver"] == story["approver"]
    assert hot.iloc[0]["top_branch"] == story["branch_id"]
    # the story approver holds far more of the cohort's overdue balance than of its balance
    assert hot.iloc[0]["approver_overdue_share"] > 1.5 * hot.iloc[0]["approver_balance_share"]
    assert hot.iloc[0]["overdue_rate"] > 3 * hot.iloc[1:]["overdue_rate"].max()
    # isolating the approver makes the cohort stand out further
    only = ca.vintage_hotspots(b, mob=6, approver=story["approver"])
    assert only.iloc[0]["cohort"] == cohort
    assert only.iloc[0]["overdue_rate"] > hot.iloc[0]["overdue_rate"]
