"""Credit (信贷) KPIs on a tiny ledger inserted through the production schema (plain SQL).

Branches: S1 sub-branch (East); B1, B2 outlets of S1 (East); B3 outlet (West, no parent).

Snapshots (balance, dpd = days past due, op = overdue principal):

  2025-01-15 (mid-month — must NOT count for January's stocks)
    L1 B1 mortgage 1000 normal | L2 B2 sme 9999 loss dpd 400 | L3 B1 sme 500 special_mention dpd 15
  2025-01-31 (January's last snapshot)
    L1 B1 mortgage 1000 normal     dpd 0   op 0
    L3 B1 sme       500 special    dpd 15  op 20
    L4 B2 mortgage  600 substandard dpd 100 op 100
    L5 B3 sme       900 special    dpd 200 op 300   ← violation: > 90 days but not NPL
    L6 B3 consumer  300 normal     dpd 5   op 5     ← violation: overdue but normal
    L7 B2 sme       200 doubtful   dpd 0   op 0
    L8 B1 mortgage  250 special    dpd 10  op 10
    total 3750
  2025-02-28
    L1 990 normal | L3 450 substandard dpd 95 | L4 600 substandard dpd 130 | L5 700 special dpd 230
    L7 200 doubtful | L9 B3 consumer 700 normal (new)      total 3640; L6 and L8 repaid (absent)

Disbursements (each loan once, by disbursement_date): L1 2024-06-01 1200, L2 2020-01-01 10000,
L3 2025-01-10 500, L4 2024-03-01 800, L5 2024-11-20 1000, L6 2025-01-20 300, L7 2023-01-01 400,
L8 2024-05-01 300, L9 2025-02-05 700.
"""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from data.store import Store
from metrics.compiler import MetricQueryError
from metrics.compute import series
from metrics.model import Grain
from metrics.scope import Scope

JAN, FEB = date(2025, 1, 1), date(2025, 2, 1)
START, END = date(2024, 11, 1), date(2025, 2, 28)

BRANCHES = [  # branch_id, level, parent_id, region
    ("S1", "sub_branch", None, "East"), ("B1", "outlet", "S1", "East"),
    ("B2", "outlet", "S1", "East"), ("B3", "outlet", None, "West"),
]
LOANS = {  # loan_id: branch, product, segment, disbursement_date, loan_amount
    "L1": ("B1", "mortgage", "retail", "2024-06-01", 1200), "L2": ("B2", "sme", "small_micro", "2020-01-01", 10000),
    "L3": ("B1", "sme", "small_micro", "2025-01-10", 500), "L4": ("B2", "mortgage", "retail", "2024-03-01", 800),
    "L5": ("B3", "sme", "small_micro", "2024-11-20", 1000), "L6": ("B3", "consumer", "retail", "2025-01-20", 300),
    "L7": ("B2", "sme", "corporate", "2023-01-01", 400), "L8": ("B1", "mortgage", "retail", "2024-05-01", 300),
    "L9": ("B3", "consumer", "retail", "2025-02-05", 700),
}
SNAPSHOTS = {  # date: [(loan_id, balance, dpd, overdue_principal, risk_class)]
    "2025-01-15": [("L1", 1000, 0, 0, "normal"), ("L2", 9999, 400, 9999, "loss"), ("L3", 500, 15, 20, "special_mention")],
    "2025-01-31": [("L1", 1000, 0, 0, "normal"), ("L3", 500, 15, 20, "special_mention"),
                   ("L4", 600, 100, 100, "substandard"), ("L5", 900, 200, 300, "special_mention"),
                   ("L6", 300, 5, 5, "normal"), ("L7", 200, 0, 0, "doubtful"), ("L8", 250, 10, 10, "special_mention")],
    "2025-02-28": [("L1", 990, 0, 0, "normal"), ("L3", 450, 95, 60, "substandard"),
                   ("L4", 600, 130, 120, "substandard"), ("L5", 700, 230, 300, "special_mention"),
                   ("L7", 200, 0, 0, "doubtful"), ("L9", 700, 0, 0, "normal")],
}


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    s = Store(tmp_path_factory.mktemp("credit") / "t.duckdb")
    cur = s.cursor()
    for bid, level, parent, region in BRANCHES:
        cur.execute("INSERT INTO main.branches (branch_id, branch_name, level, parent_id, region, open_windows, "
                    "batch_id) VALUES (?, ?, ?, ?, ?, 3, 1)", [bid, bid, level, parent, region])
    for snap, rows in SNAPSHOTS.items():
        for lid, bal, dpd, op, cls in rows:
            br, product, seg, disb, amount = LOANS[lid]
            cur.execute(
                "INSERT INTO main.loan_snapshot (snapshot_date, loan_id, branch_id, product, customer_segment, "
                "disbursement_date, loan_amount, outstanding_balance, overdue_principal, days_past_due, risk_class, "
                "batch_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)",
                [snap, lid, br, product, seg, disb, amount, bal, op, dpd, cls])
    yield s
    s.close()


def _v(store, metric_id, grain=Grain.MONTH, by=(), scope=None, options=None, start=START, end=END):
    df = series(store, metric_id, grain, start, end, by, scope, options)
    if by:
        return {(r["period"], *(r[b] for b in by)): r["value"] for r in df.to_dict("records")}
    return dict(zip(df["period"], df["value"], strict=True))


def test_balance_is_a_stock_at_the_last_snapshot(store):
    # January = 2025-01-31 only: 1000+500+600+900+300+200+250 = 3750 (not + the 2025-01-15 rows)
    # February: 990+450+600+700+200+700 = 3640
    assert _v(store, "credit.balance") == pytest.approx({JAN: 3750.0, FEB: 3640.0})
    # quarter 2025-Q1 = its last snapshot 2025-02-28; never summed across dates
    assert _v(store, "credit.balance", Grain.QUARTER) == pytest.approx({JAN: 3640.0})
    # day grain: each snapshot is its own period (2025-01-15: 1000 + 9999 + 500)
    day = _v(store, "credit.balance", Grain.DAY)
    assert day[date(2025, 1, 15)] == pytest.approx(11499.0)


def test_npl_ratio_uses_only_the_months_last_snapshot(store):
    got = series(store, "credit.npl_ratio", Grain.MONTH, START, END).set_index("period")
    # January: (L4 600 substandard + L7 200 doubtful) / 3750 = 0.21333…
    # (the 2025-01-15 loss loan L2 9999 would give (9999+800)/(11499+3750) if it leaked in)
    assert got.loc[JAN, "numerator"] == pytest.approx(800.0)
    assert got.loc[JAN, "denominator"] == pytest.approx(3750.0)
    assert got.loc[JAN, "value"] == pytest.approx(800 / 3750)
    # February: (L3 450 + L4 600 + L7 200) / 3640
    assert got.loc[FEB, "value"] == pytest.approx(1250 / 3640)
    # at day grain the mid-month snapshot is a period: 9999 / 11499
    assert _v(store, "credit.npl_ratio", Grain.DAY)[date(2025, 1, 15)] == pytest.approx(9999 / 11499)


def test_overdue_rate_both_bases(store):
    # 'loan' (default): whole balance of loans with dpd > 0: L3 500 + L4 600 + L5 900 + L6 300 + L8 250 = 2550
    assert _v(store, "credit.overdue_rate")[JAN] == pytest.approx(2550 / 3750)  # 0.68
    assert _v(store, "credit.overdue_rate", options={"overdue_basis": "loan"})[JAN] == pytest.approx(0.68)
    # 'amount': overdue principal only: 0+20+100+300+5+0+10 = 435 → 435/3750 = 0.116
    amount = _v(store, "credit.overdue_rate", options={"overdue_basis": "amount"})
    assert amount[JAN] == pytest.approx(0.116)
    # February amount basis: 0+60+120+300+0+0 = 480 / 3640
    assert amount[FEB] == pytest.approx(480 / 3640)
    with pytest.raises(ValueError):
        series(store, "credit.overdue_rate", Grain.MONTH, START, END, options={"overdue_basis": "whatever"})


def test_overdue90_rate_and_special_mention_share(store):
    # 90+: L4 600 (dpd 100) + L5 900 (dpd 200) = 1500 / 3750 = 0.4; Feb: L3 450 + L4 600 + L5 700 = 1750 / 3640
    assert _v(store, "credit.overdue90_rate") == pytest.approx({JAN: 0.4, FEB: 1750 / 3640})
    # special mention: L3 500 + L5 900 + L8 250 = 1650 / 3750 = 0.44; Feb: L5 700 / 3640
    assert _v(store, "credit.special_mention_share") == pytest.approx({JAN: 0.44, FEB: 700 / 3640})


def test_overdue90_to_npl(store):
    # 90+ balance / NPL balance: Jan 1500 / 800 = 1.875 (> 100 %: L5 is 90+ but not NPL); Feb 1750 / 1250 = 1.4
    assert _v(store, "credit.overdue90_to_npl") == pytest.approx({JAN: 1.875, FEB: 1.4})


def test_five_class_violations(store):
    # Jan: L5 (dpd 200, special mention) and L6 (dpd 5, normal) → 2; Feb: L5 (dpd 230, special mention) → 1
    # (the 2025-01-15 L2 loss loan at dpd 400 is compliant, and mid-month anyway)
    assert _v(store, "credit.five_class_violations") == {JAN: 2, FEB: 1}
    assert _v(store, "credit.five_class_violations", by=("branch",), start=JAN, end=date(2025, 1, 31)) == {
        (JAN, "B1"): 0, (JAN, "B2"): 0, (JAN, "B3"): 2}


def test_disbursements_count_each_loan_once_by_disbursement_date(store):
    # L3 appears in three snapshots but is disbursed once, in January (500); L6 300 also in January
    assert _v(store, "credit.disbursed_amount") == pytest.approx({date(2024, 11, 1): 1000.0, JAN: 800.0, FEB: 700.0})
    assert _v(store, "credit.disbursed_count") == {date(2024, 11, 1): 1, JAN: 2, FEB: 1}
    # year 2024: L1 1200 + L4 800 + L5 1000 + L8 300 = 3300 in 4 loans (placed by disbursement date,
    # although every snapshot is from 2025)
    y = date(2024, 1, 1)
    assert _v(store, "credit.disbursed_amount", Grain.YEAR, start=y, end=date(2024, 12, 31)) == {y: 3300.0}
    assert _v(store, "credit.disbursed_count", Grain.YEAR, start=y, end=date(2024, 12, 31)) == {y: 4}
    # by product in January: sme L3 500, consumer L6 300
    assert _v(store, "credit.disbursed_amount", by=("product",), start=JAN, end=date(2025, 1, 31)) == {
        (JAN, "sme"): 500.0, (JAN, "consumer"): 300.0}


def test_sm_migration_rate(store):
    # Opening = January's closing snapshot (2025-01-31); special mention then: L3 500, L5 900, L8 250.
    # Per loan kept = least(closing balance or 0, opening balance):
    #   L3 → 450 substandard (migrated down), L5 → 700 still special mention, L8 repaid → 0
    # numerator = 450; base = 450 + 700 + 0 = 1150 → 0.391304…
    got = series(store, "credit.sm_migration_rate", Grain.MONTH, JAN, END).set_index("period")
    assert list(got.index) == [FEB]  # January has no opening snapshot in the data
    assert got.loc[FEB, "numerator"] == pytest.approx(450.0)
    assert got.loc[FEB, "denominator"] == pytest.approx(1150.0)
    assert got.loc[FEB, "value"] == pytest.approx(450 / 1150)
    # by region: East (L3, L8 of B1) 450 / 450 = 1; West (L5 of B3) 0 / 700 = 0
    assert _v(store, "credit.sm_migration_rate", by=("region",), start=JAN) == pytest.approx(
        {(FEB, "East"): 1.0, (FEB, "West"): 0.0})
    # by product: sme (L3, L5) 450 / 1150; mortgage (L8, repaid) base 0 → no rate
    prod = _v(store, "credit.sm_migration_rate", by=("product",), start=JAN)
    assert prod[(FEB, "sme")] == pytest.approx(450 / 1150)
    assert pd.isna(prod[(FEB, "mortgage")])
    assert _v(store, "credit.sm_migration_rate", scope=Scope(region="West"), start=JAN) == {FEB: 0.0}


def test_breakdown_by_product_and_region(store):
    jan_end = date(2025, 1, 31)
    # mortgage L1 1000 + L4 600 + L8 250 = 1850, NPL 600; sme L3 500 + L5 900 + L7 200 = 1600, NPL 200;
    # consumer L6 300, NPL 0
    assert _v(store, "credit.npl_ratio", by=("product",), start=JAN, end=jan_end) == pytest.approx(
        {(JAN, "mortgage"): 600 / 1850, (JAN, "sme"): 0.125, (JAN, "consumer"): 0.0})
    # region from the branch master via branch_id: East = B1 + B2 = 1000+500+600+200+250 = 2550, NPL 800;
    # West = B3 = 900 + 300 = 1200, NPL 0
    assert _v(store, "credit.npl_ratio", by=("region",), start=JAN, end=jan_end) == pytest.approx(
        {(JAN, "East"): 800 / 2550, (JAN, "West"): 0.0})
    assert _v(store, "credit.balance", by=("region",), start=JAN, end=jan_end) == pytest.approx(
        {(JAN, "East"): 2550.0, (JAN, "West"): 1200.0})
    assert _v(store, "credit.balance", by=("sub_branch",), start=JAN, end=jan_end, scope=Scope(region="East")) == \
        pytest.approx({(JAN, "S1"): 2550.0})
    assert _v(store, "credit.balance", by=("segment",), start=JAN, end=jan_end) == pytest.approx(
        {(JAN, "retail"): 2150.0, (JAN, "small_micro"): 1400.0, (JAN, "corporate"): 200.0})


def test_scope_filters(store):
    jan_end = date(2025, 1, 31)

    def npl(scope):
        return _v(store, "credit.npl_ratio", scope=scope, start=JAN, end=jan_end)

    def bal(scope):
        return _v(store, "credit.balance", scope=scope, start=JAN, end=jan_end)

    assert npl(Scope(region="West")) == {JAN: 0.0}  # 0 / 1200
    assert bal(Scope(region="West")) == {JAN: 1200.0}
    # a sub-branch id: its outlets (parent_id = S1 → B1, B2): 800 / 2550
    assert npl(Scope(branch="S1")) == pytest.approx({JAN: 800 / 2550})
    assert npl(Scope(branch="B2")) == pytest.approx({JAN: 1.0})  # L4 600 + L7 200, all NPL
    # access boundary {B1, B3}: L1+L3+L8 + L5+L6 = 2950, no NPL
    assert bal(Scope(branch_ids=frozenset({"B1", "B3"}))) == {JAN: 2950.0}
    assert npl(Scope(branch_ids=frozenset({"B1", "B3"}))) == {JAN: 0.0}
    # a filter inside the boundary cannot widen it: S1 ∩ {B1, B3} = B1 → 1750
    assert bal(Scope(branch_ids=frozenset({"B1", "B3"}), branch="S1")) == {JAN: 1750.0}
    assert bal(Scope(branch_ids=frozenset({"B3"}), branch="B2")) == {}
    # product: sme 200 / 1600
    assert npl(Scope(product="sme")) == pytest.approx({JAN: 0.125})
    assert bal(Scope(product="sme", region="West")) == {JAN: 900.0}


def test_disallowed_dimension_is_refused(store):
    with pytest.raises(MetricQueryError):
        series(store, "credit.npl_ratio", Grain.MONTH, START, END, ("service_type",))
    with pytest.raises(MetricQueryError):
        series(store, "credit.sm_migration_rate", Grain.MONTH, START, END, ("industry",))
