"""Credit analyses beyond the KPI catalogue: five-class migration, vintage curves, the loan list.

Plain Python over an Ibis backend (DuckDB now): every query starts from `tables.scoped`, so
the access boundary and the user's filters apply, and aggregates inside the database — only
small results (a 7 × 7 matrix, a few hundred cohort points, one page of loans) reach pandas.
DOMAIN.md §1.1: migration needs two snapshots and the loan id; a vintage is the overdue rate by
months on book of each disbursement cohort, the view that exposes an approval problem.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import ibis
import pandas as pd

from metrics.scope import Scope
from metrics.tables import scoped

SOURCE = "loan_snapshot"
RISK_CLASSES = ("normal", "special_mention", "substandard", "doubtful", "loss")
NEW = "new"  # only in snapshot B: disbursed (or first reported) between the two dates
EXITED = "exited"  # only in snapshot A: repaid, written off or transferred before B
CLASS_LABELS: dict[str, tuple[str, str]] = {
    "normal": ("正常", "Normal"),
    "special_mention": ("关注", "Special mention"),
    "substandard": ("次级", "Substandard"),
    "doubtful": ("可疑", "Doubtful"),
    "loss": ("损失", "Loss"),
    NEW: ("新发放", "New"),
    EXITED: ("结清", "Repaid / exited"),
}
FROM_ORDER = (*RISK_CLASSES, NEW)
TO_ORDER = (*RISK_CLASSES, EXITED)

# vintage breakdowns: key -> loan_snapshot column
VINTAGE_BY = {"approver": "approver_id", "branch": "branch_id", "product": "product",
              "segment": "customer_segment", "loan_officer": "loan_officer"}
COHORT_GRAINS = {"month": ("M", 1), "quarter": ("Q", 3), "year": ("Y", 12)}

LOAN_COLUMNS = ("loan_id", "customer_id", "branch_id", "product", "customer_segment", "industry",
                "disbursement_date", "maturity_date", "loan_amount", "outstanding_balance", "overdue_principal",
                "days_past_due", "risk_class", "guarantee_type", "approver_id", "approval_date", "loan_officer")


def class_label(code: str, lang: str = "zh") -> str:
    pair = CLASS_LABELS.get(code)
    return code if pair is None else (pair[0] if lang == "zh" else pair[1])


def _to_date(v) -> date | None:
    return None if v is None or pd.isna(v) else pd.Timestamp(v).date()


# -- snapshots ---------------------------------------------------------------------------------
def snapshot_dates(backend, scope: Scope | None = None) -> list[date]:
    """The snapshot dates held (in scope), oldest first."""
    t = scoped(backend, SOURCE, scope or Scope())
    df = t.select("snapshot_date").distinct().order_by("snapshot_date").execute()
    return [_to_date(v) for v in df["snapshot_date"]]


def _is_month_end(d: date) -> bool:
    return (pd.Timestamp(d) + pd.Timedelta(days=1)).day == 1


def default_pair(dates: list[date]) -> tuple[date, date] | None:
    """The last two month-end snapshots (else the last two snapshots); None with fewer than two."""
    ends = [d for d in dates if _is_month_end(d)]
    pool = ends if len(ends) >= 2 else sorted(dates)
    if len(pool) < 2:
        return None
    return pool[-2], pool[-1]


# -- migration ---------------------------------------------------------------------------------
def migration_pairs(backend, date_a: date, date_b: date, scope: Scope | None = None) -> pd.DataFrame:
    """(from_class, to_class, loans, balance) between two snapshots, one row per non-empty cell.

    A loan only in A goes to `exited`, one only in B comes from `new`. `balance` is the balance
    at A (the opening balance migration ratios use); for `new` loans, the balance at B.
    """
    t = scoped(backend, SOURCE, scope or Scope())
    a = t.filter(t.snapshot_date == date_a).select(id_a=t.loan_id, cls_a=t.risk_class, bal_a=t.outstanding_balance)
    b = t.filter(t.snapshot_date == date_b).select(id_b=t.loan_id, cls_b=t.risk_class, bal_b=t.outstanding_balance)
    j = a.outer_join(b, a.id_a == b.id_b)
    j = j.select(from_class=j.cls_a.fill_null(NEW), to_class=j.cls_b.fill_null(EXITED),
                 bal=ibis.coalesce(j.bal_a, j.bal_b).fill_null(0))
    out = j.group_by(["from_class", "to_class"]).aggregate(loans=j.count(), balance=j.bal.sum()).execute()
    out["loans"] = out["loans"].astype("int64")
    out["balance"] = out["balance"].astype(float)
    return out.sort_values(["from_class", "to_class"]).reset_index(drop=True)


def migration_matrix(backend, date_a: date, date_b: date, scope: Scope | None = None,
                     value: str = "loans", pairs: pd.DataFrame | None = None) -> pd.DataFrame:
    """Rows = class at A (+ `new`), columns = class at B (+ `exited`); `value` is loans or balance.

    Every class appears (zeros where no loan moved) in regulatory order; a `total` column sums
    each row. Pass `pairs` (from `migration_pairs`) to pivot an already-run query.
    """
    if value not in ("loans", "balance"):
        raise ValueError("value must be 'loans' or 'balance'")
    p = migration_pairs(backend, date_a, date_b, scope) if pairs is None else pairs
    m = p.pivot_table(index="from_class", columns="to_class", values=value, aggfunc="sum", fill_value=0)
    m = m.reindex(index=list(FROM_ORDER), columns=list(TO_ORDER), fill_value=0)
    m = m.astype("int64" if value == "loans" else float)
    m["total"] = m.sum(axis=1)
    m.index.name, m.columns.name = "from_class", "to_class"
    return m


def migration_rates(matrix: pd.DataFrame) -> pd.DataFrame:
    """Each row of a migration matrix as shares of its total (rows of `new` included)."""
    body = matrix.drop(columns="total").astype(float)
    tot = matrix["total"].astype(float)
    return body.div(tot.where(tot > 0), axis=0)


# -- vintage -----------------------------------------------------------------------------------
def _month_index(col):
    return col.year() * 12 + col.month() - 1


def _vintage_base(backend, scope: Scope, cohort_grain: str, approver: str | None, since: date | None):
    if cohort_grain not in COHORT_GRAINS:
        raise ValueError(f"cohort_grain must be one of {', '.join(COHORT_GRAINS)}")
    unit, months = COHORT_GRAINS[cohort_grain]
    # the data span: snapshots held inside the access boundary (not narrowed by the filters, so
    # isolating one approver or branch keeps the same cohorts and ages)
    whole = scoped(backend, SOURCE, Scope(branch_ids=scope.branch_ids))
    span = whole.aggregate(lo=whole.snapshot_date.min(), hi=whole.snapshot_date.max()).execute().iloc[0]
    t = scoped(backend, SOURCE, scope)
    if approver:
        t = t.filter(t.approver_id == approver)
    t = t.filter(t.disbursement_date.notnull())
    lo, hi = _to_date(span["lo"]), _to_date(span["hi"])
    if lo is None:
        return None
    first = max(date(lo.year, lo.month, 1), since) if since else date(lo.year, lo.month, 1)
    last_idx = hi.year * 12 + hi.month - 1
    t = t.mutate(cohort=t.disbursement_date.truncate(unit).cast("date"),
                 months_on_book=_month_index(t.snapshot_date) - _month_index(t.disbursement_date))
    # a cohort is followed only from its first month on; a point is complete when every month of
    # the cohort has reached that age by the last snapshot (no partial cohorts mixed in)
    t = t.filter((t.cohort >= first) & (t.months_on_book >= 0)
                 & (_month_index(t.cohort) + (months - 1) + t.months_on_book <= last_idx))
    return t


def vintage(backend, scope: Scope | None = None, cohort_grain: str = "quarter", by: str | None = None, *,
            approver: str | None = None, branch: str | None = None, since: date | None = None,
            max_mob: int | None = None) -> pd.DataFrame:
    """Overdue rate by months on book for each disbursement cohort.

    Columns: cohort (first day of the disbursement month/quarter/year), [by], months_on_book,
    loans, balance, overdue_balance, overdue_rate (balance of loans with days_past_due > 0 ÷
    balance of the cohort's loans at that age). Months on book = snapshot month − disbursement
    month, per loan, so each point is the cohort's loans observed at the same age.
    `approver` / `branch` restrict to one approver / one branch (inside `scope`).
    """
    scope = scope or Scope()
    if branch:
        scope = replace(scope, branch=branch)
    t = _vintage_base(backend, scope, cohort_grain, approver, since)
    cols = ["cohort", "months_on_book", "loans", "balance", "overdue_balance", "overdue_rate"]
    if by:
        cols.insert(1, by)
    if t is None:
        return pd.DataFrame(columns=cols)
    if max_mob is not None:
        t = t.filter(t.months_on_book <= max_mob)
    keys = ["cohort", "months_on_book"]
    if by:
        if by not in VINTAGE_BY:
            raise ValueError(f"by must be one of {', '.join(VINTAGE_BY)}")
        t = t.mutate(**{by: t[VINTAGE_BY[by]]})
        keys.insert(1, by)
    agg = t.group_by(keys).aggregate(
        loans=t.count(), balance=t.outstanding_balance.sum().fill_null(0),
        overdue_balance=t.outstanding_balance.sum(where=t.days_past_due > 0).fill_null(0))
    df = agg.execute()
    df["cohort"] = pd.to_datetime(df["cohort"]).dt.date
    df["loans"] = df["loans"].astype("int64")
    df["overdue_rate"] = (df["overdue_balance"] / df["balance"].where(df["balance"] > 0)).astype(float)
    return df[cols].sort_values(keys).reset_index(drop=True)


def _top_share(df: pd.DataFrame, key: str, col: str) -> pd.DataFrame:
    """Per cohort, the value of `key` with the most overdue balance, its share of it and of the balance."""
    if df.empty:
        return pd.DataFrame(columns=["cohort", f"top_{key}", f"{key}_overdue_share", f"{key}_balance_share",
                                     f"{key}_overdue_rate"])
    g = df.groupby("cohort")
    tot_od, tot_bal = g["overdue_balance"].transform("sum"), g["balance"].transform("sum")
    d = df.assign(od_share=df["overdue_balance"] / tot_od.where(tot_od > 0),
                  bal_share=df["balance"] / tot_bal.where(tot_bal > 0),
                  rate=df["overdue_balance"] / df["balance"].where(df["balance"] > 0))
    d = d.sort_values(["cohort", "overdue_balance", "balance"], ascending=[True, False, False])
    top = d.groupby("cohort").head(1)
    return top[["cohort", col, "od_share", "bal_share", "rate"]].rename(columns={
        col: f"top_{key}", "od_share": f"{key}_overdue_share", "bal_share": f"{key}_balance_share",
        "rate": f"{key}_overdue_rate"})


def vintage_hotspots(backend, scope: Scope | None = None, mob: int = 6, cohort_grain: str = "quarter", *,
                     approver: str | None = None, branch: str | None = None, since: date | None = None,
                     top: int = 10, min_loans: int = 1) -> pd.DataFrame:
    """Cohorts ranked by their overdue rate at `mob` months on book, with where that overdue sits.

    Columns: cohort, loans, balance, overdue_balance, overdue_rate, then for the approver and the
    branch holding the most overdue balance of the cohort: top_approver, approver_overdue_share
    (its share of the cohort's overdue balance), approver_balance_share (of the cohort's balance),
    approver_overdue_rate (its own rate) — and the same for top_branch. A share of overdue far
    above the share of balance is the concentration that points at an approval problem.
    """
    scope = scope or Scope()
    if branch:
        scope = replace(scope, branch=branch)
    t = _vintage_base(backend, scope, cohort_grain, approver, since)
    if t is None:
        return pd.DataFrame()
    t = t.filter(t.months_on_book == mob)
    g = t.group_by(["cohort", "approver_id", "branch_id"]).aggregate(
        loans=t.count(), balance=t.outstanding_balance.sum().fill_null(0),
        overdue_balance=t.outstanding_balance.sum(where=t.days_past_due > 0).fill_null(0))
    df = g.execute()  # cohorts × approvers × branches: a few thousand rows at most
    if df.empty:
        return pd.DataFrame()
    df["cohort"] = pd.to_datetime(df["cohort"]).dt.date
    coh = df.groupby("cohort", as_index=False)[["loans", "balance", "overdue_balance"]].sum()
    coh = coh[coh["loans"] >= min_loans]
    coh["overdue_rate"] = coh["overdue_balance"] / coh["balance"].where(coh["balance"] > 0)
    by_appr = df.groupby(["cohort", "approver_id"], as_index=False, dropna=False)[["balance", "overdue_balance"]].sum()
    by_br = df.groupby(["cohort", "branch_id"], as_index=False, dropna=False)[["balance", "overdue_balance"]].sum()
    out = coh.merge(_top_share(by_appr, "approver", "approver_id"), on="cohort", how="left") \
             .merge(_top_share(by_br, "branch", "branch_id"), on="cohort", how="left")
    out["loans"] = out["loans"].astype("int64")
    out = out.sort_values(["overdue_rate", "cohort"], ascending=[False, False], na_position="last")
    return out.head(top).reset_index(drop=True)


# -- loan list ---------------------------------------------------------------------------------
def loan_filter_options(backend, scope: Scope | None = None, as_of: date | None = None) -> dict[str, list]:
    """Distinct branches, products and approvers at a snapshot (for the loan-list filters)."""
    t = scoped(backend, SOURCE, scope or Scope())
    as_of = as_of or _to_date(t.snapshot_date.max().execute())
    if as_of is None:
        return {"as_of": None, "branches": [], "products": [], "approvers": []}
    t = t.filter(t.snapshot_date == as_of)
    vals = lambda c: sorted(v for v in t.select(c).distinct().execute()[c] if v is not None and not pd.isna(v))  # noqa: E731
    return {"as_of": as_of, "branches": vals("branch_id"), "products": vals("product"),
            "approvers": vals("approver_id")}


def loan_list(backend, scope: Scope | None = None, *, as_of: date | None = None, branch: str | None = None,
              product: str | None = None, risk_classes: tuple[str, ...] | None = None, min_dpd: int = 0,
              approver: str | None = None, cohort: tuple[date, date] | None = None, limit: int = 500,
              offset: int = 0) -> tuple[pd.DataFrame, int, date | None]:
    """One page of loans at a snapshot (default: the latest in scope), worst first, and the total count.

    Sorted by days past due, then balance (both descending), then loan id; `cohort` is a
    [first, last] disbursement-date window. Returns (page, total rows matching, snapshot date).
    """
    t = scoped(backend, SOURCE, scope or Scope())
    as_of = as_of or _to_date(t.snapshot_date.max().execute())
    if as_of is None:
        return pd.DataFrame(columns=list(LOAN_COLUMNS)), 0, None
    t = t.filter(t.snapshot_date == as_of)
    if branch:
        t = t.filter(t.branch_id == branch)
    if product:
        t = t.filter(t["product"] == product)
    if risk_classes:
        t = t.filter(t.risk_class.isin(tuple(risk_classes)))
    if min_dpd:
        t = t.filter(t.days_past_due >= int(min_dpd))
    if approver:
        t = t.filter(t.approver_id == approver)
    if cohort:
        t = t.filter((t.disbursement_date >= cohort[0]) & (t.disbursement_date <= cohort[1]))
    total = int(t.count().execute())
    page = (t.select(*LOAN_COLUMNS)
            .order_by([ibis.desc("days_past_due"), ibis.desc("outstanding_balance"), "loan_id"])
            .limit(max(int(limit), 0), offset=max(int(offset), 0)).execute())
    for c in ("disbursement_date", "maturity_date", "approval_date"):
        page[c] = pd.to_datetime(page[c]).dt.date
    return page, total, as_of
