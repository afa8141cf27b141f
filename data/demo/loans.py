"""Loan ledger month-end snapshots (贷款台账): a vectorised monthly simulation.

Each month: new loans are disbursed (stock kept near a growing target, with Q1 "开门红" seasonality),
loans amortise, a Markov chain moves days-past-due buckets (0 → 1–30 → 31–60 → … with cures),
non-performing loans are written off (mostly in December), matured/prepaid loans leave.

Planted story: loans approved by `branches.STORY_APPROVER` at one outlet during `spec.story_quarter`
(a volume push, 冲量) roll into arrears ~7× faster from the 3rd month on book.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from . import effects
from .branches import STORY_APPROVER
from .spec import DemoSpec

REF = Path(__file__).parent.parent / "reference"

HEADER = ["数据日期", "借据号", "合同号", "客户号", "内部机构号", "贷款品种", "客户类型", "贷款投向", "发放日期",
          "到期日期", "贷款金额(万元)", "贷款余额(万元)", "逾期本金(万元)", "逾期天数", "五级分类", "执行利率(%)",
          "担保方式", "审批人", "审批日期", "客户经理"]
HEADER_XLSX = [h.replace("(万元)", "") for h in HEADER]

PRODUCTS = np.array(["个人住房贷款", "个人经营贷款", "个人消费贷款", "小微企业贷款", "公司流动资金贷款"], dtype=object)
STOCK_SHARE = np.array([0.32, 0.19, 0.29, 0.15, 0.05])
SEGMENT = np.array(["个人", "个人", "个人", "小微企业", "公司"], dtype=object)
AMOUNT_MEDIAN_WAN = np.array([110.0, 60.0, 10.0, 200.0, 1500.0])
AMOUNT_SIGMA = np.array([0.45, 0.8, 0.8, 0.7, 0.45])
AMOUNT_RANGE_WAN = np.array([[50, 300], [10, 500], [1, 50], [50, 1000], [500, 5000]], dtype=float)
TERM_CHOICES = [np.array([240, 300, 360]), np.array([12, 24, 36, 60]), np.array([12, 24, 36, 60]),
                np.array([12, 24, 36]), np.array([12, 24, 36])]
AMORTISING = np.array([True, False, True, False, False])  # 等额本金-like vs 先息后本 (bullet)
BASE_HAZARD = np.array([0.0008, 0.0036, 0.0044, 0.0038, 0.0022])  # monthly P(current → 1–30 dpd)
PREPAY = np.array([0.006, 0.004, 0.012, 0.003, 0.002])
INDUSTRIES = {
    0: (["个人住房"], [1.0]),
    1: (["批发和零售业", "住宿和餐饮业", "制造业", "交通运输、仓储和邮政业", "农、林、牧、渔业", "居民服务业"],
        [0.38, 0.18, 0.16, 0.1, 0.1, 0.08]),
    2: (["个人消费"], [1.0]),
    3: (["制造业", "批发和零售业", "建筑业", "住宿和餐饮业", "信息传输、软件和信息技术服务业", "交通运输、仓储和邮政业"],
        [0.34, 0.28, 0.14, 0.1, 0.08, 0.06]),
    4: (["制造业", "批发和零售业", "建筑业", "房地产业", "电力、热力、燃气及水生产和供应业", "租赁和商务服务业"],
        [0.35, 0.2, 0.15, 0.12, 0.1, 0.08]),
}
GUARANTEES = np.array(["信用", "保证", "抵押", "质押"], dtype=object)
GUARANTEE_P = np.array([[0.0, 0.0, 1.0, 0.0], [0.1, 0.3, 0.6, 0.0], [0.8, 0.2, 0.0, 0.0],
                        [0.15, 0.4, 0.35, 0.1], [0.15, 0.45, 0.3, 0.1]])
CLASSES = np.array(["正常", "关注", "次级", "可疑", "损失"], dtype=object)
CURE = np.array([0, 0.40, 0.18, 0.08, 0.03] + [0.015] * 40)
ADVANCE = np.array([0, 0.42, 0.58, 0.72, 0.9] + [0.95] * 40)
STORY_HAZARD_MULT = 8.0
BURN_IN_MONTHS = 24
_S = np.array([str(i) for i in range(10000)], dtype=object)
_Z2 = np.array([f"{i:02d}" for i in range(100)], dtype=object)
_Z4 = np.array([f"{i:04d}" for i in range(10000)], dtype=object)


def lpr_table() -> pd.DataFrame:
    """The real LPR quotations (data/reference). A loan disbursed after the last one (2025-07-21) is
    priced at it, held: the rate the demo bank *charges* is generated data, and this is the
    generator's assumption — no LPR figure is invented (lpr.csv holds the real quotations only)."""
    df = pd.read_csv(REF / "lpr_history_2019_2025.csv", parse_dates=["date"])
    return df[["date", "lpr_1y_pct", "lpr_5y_plus_pct"]].sort_values("date")


def _month_end(y: int, m: int) -> np.datetime64:
    return (np.datetime64(f"{y:04d}-{m:02d}", "M") + 1).astype("datetime64[D]") - 1


def risk_class(dpd: np.ndarray) -> np.ndarray:
    """Class index per the 2023 rule: 0 正常, 1–90 关注, 91–270 次级, 271–360 可疑, >360 损失."""
    return np.select([dpd > 360, dpd > 270, dpd > 90, dpd > 0], [4, 3, 2, 1], 0)


@dataclass
class Snapshot:
    date: np.datetime64
    frame: pd.DataFrame  # raw typed columns (amounts in 元), see `_frame`


class LoanBook:
    """Column arrays of the live loans + the monthly step."""

    def __init__(self, spec: DemoSpec, outlets: pd.DataFrame, staff: dict[str, pd.DataFrame]):
        self.spec = spec
        self.rng = spec.rng("loans")
        self.outlets = outlets
        self.n_target0 = max(200, round(20000 * spec.branches / 30))
        self.lpr = lpr_table()
        appr = staff["approvers"]
        self.appr_names = appr["name"].to_numpy(dtype=object)
        self.appr_home = appr["home"].to_numpy(dtype=object)
        off = staff["officers"]
        self.off_names = off["name"].to_numpy(dtype=object)
        out_ids = outlets["机构号"].to_numpy(dtype=object)
        self.out_ids = out_ids
        self.out_sub = outlets["上级机构号"].to_numpy(dtype=object)
        self.off_by_outlet = np.stack([np.flatnonzero(off["outlet"].to_numpy() == o)[:2] for o in out_ids])
        # approvers available per outlet: the two of its 支行 (fallback: head office)
        ho = np.flatnonzero(self.appr_home == "BR000")
        self.appr_by_outlet = np.stack([
            (lambda h: h if len(h) >= 2 else np.r_[h, ho][:2])(np.flatnonzero(self.appr_home == s)) for s in self.out_sub])
        self.appr_ho = ho
        self.story_approver = int(np.flatnonzero(self.appr_names == STORY_APPROVER)[0])
        cand = np.flatnonzero(self.out_sub == self.appr_home[self.story_approver])
        self.story_outlet = int(cand[np.argmax(outlets["_base"].to_numpy()[cand])])
        q = spec.story_quarter
        qy, qn = int(q[:4]), int(q[-1])
        self.story_start = np.datetime64(date(qy, 3 * qn - 2, 1))
        self.story_end = _month_end(qy, 3 * qn)
        # the planted approval fix (effects.py): from `fix_start` a second review declines about half of the
        # story approver's applications at the outlets where he approves; drawn from its own stream, so
        # every other draw is the same with and without it
        self.fix_outlets = np.flatnonzero((self.appr_by_outlet == self.story_approver).any(axis=1))
        self.fix_start = np.datetime64(effects.process_start(spec)) if effects.active(spec) else None
        self.fix_rng = spec.rng("process_fix")
        self.declined: dict[tuple[int, str], int] = {}  # (outlet index, "YYYY-MM") -> declined applications
        self.cols: dict[str, np.ndarray] = {}
        self.cust_counter = 0
        self.contract_counter = 0

    # ---------------------------------------------------------------------------------------------
    def _new_loans(self, n_by_product: np.ndarray, d0: np.datetime64, d1: np.datetime64, *, seasoned: bool = False,
                   story_n: int = 0) -> dict[str, np.ndarray]:
        rng = self.rng
        prod = np.repeat(np.arange(5), n_by_product)
        story = np.zeros(len(prod), bool)
        if story_n:
            sp = rng.choice([3, 1], size=story_n, p=[0.6, 0.4])
            prod = np.r_[prod, sp]
            story = np.r_[story, np.ones(story_n, bool)]
        n = len(prod)
        term = np.empty(n, dtype=np.int64)
        for p in range(5):
            sel = prod == p
            term[sel] = rng.choice(TERM_CHOICES[p], size=int(sel.sum()))
        if seasoned:  # initial book: disbursed at a random point within the term before d1
            age_m = (rng.random(n) * np.minimum(term, 120)).astype(np.int64)
            disb = d1 - age_m * 30 - rng.integers(0, 30, n)
        else:
            disb = d0 + rng.integers(0, int((d1 - d0).astype(int)) + 1, n)
        disb = disb.astype("datetime64[D]")
        lo, hi = AMOUNT_RANGE_WAN[prod, 0], AMOUNT_RANGE_WAN[prod, 1]
        amt_wan = np.clip(AMOUNT_MEDIAN_WAN[prod] * rng.lognormal(0, AMOUNT_SIGMA[prod]), lo, hi)
        amt_wan = np.where(story, np.minimum(amt_wan * 1.6, hi), amt_wan)
        amount = np.round(np.round(amt_wan, 1) * 10000, 2)
        outlet = rng.integers(0, len(self.out_ids), n)
        outlet[story] = self.story_outlet
        approval = disb - rng.integers(1, 21, n)
        a_pick = self.appr_by_outlet[outlet, rng.integers(0, 2, n)]
        big = amt_wan >= 1000
        a_pick[big] = rng.choice(self.appr_ho, size=int(big.sum()))
        a_pick[story] = self.story_approver
        officer = self.off_by_outlet[outlet, rng.integers(0, 2, n)]
        ind = np.empty(n, dtype=object)
        for p, (names, w) in INDUSTRIES.items():
            sel = prod == p
            ind[sel] = np.array(names, dtype=object)[rng.choice(len(names), size=int(sel.sum()), p=w)]
        u = rng.random(n)
        cum = np.cumsum(GUARANTEE_P, axis=1)[prod]
        guar = (u[:, None] > cum).sum(axis=1).clip(0, 3)
        # executed rate = LPR at disbursement + product spread
        lpr = self.lpr
        k = np.searchsorted(lpr["date"].to_numpy().astype("datetime64[D]"), disb, side="right") - 1
        k = np.clip(k, 0, len(lpr) - 1)
        l1, l5 = lpr["lpr_1y_pct"].to_numpy()[k], lpr["lpr_5y_plus_pct"].to_numpy()[k]
        spread = np.select([prod == 0, prod == 1, prod == 2, prod == 3],
                           [rng.uniform(-0.45, 0.3, n), rng.uniform(0.2, 1.5, n), rng.uniform(0.3, 3.5, n),
                            rng.uniform(0.1, 1.3, n)], rng.uniform(-0.3, 0.7, n))
        rate = np.round(np.where(prod == 0, l5, l1) + spread, 2)
        maturity = (disb.astype("datetime64[M]") + term).astype("datetime64[D]") + (
            disb - disb.astype("datetime64[M]").astype("datetime64[D]"))
        # ids: 622500 + yyyymmdd + 4-digit sequence within the disbursement date
        order = np.argsort(disb, kind="stable")
        ds = disb[order]
        first = np.r_[True, ds[1:] != ds[:-1]]
        start = np.maximum.accumulate(np.where(first, np.arange(n), 0))
        seq = np.empty(n, np.int64)
        seq[order] = np.arange(n) - start + 1
        ymd = pd.DatetimeIndex(disb).strftime("%Y%m%d").to_numpy(dtype=object)
        loan_id = "622500" + ymd + _Z4[np.minimum(seq, 9999)]
        cc = self.contract_counter + np.arange(1, n + 1)
        self.contract_counter += n
        yyyy = pd.DatetimeIndex(disb).strftime("%Y").to_numpy(dtype=object)
        contract = "HT" + yyyy + pd.Series(cc).map("{:08d}".format).to_numpy(dtype=object)
        cust_n = (self.cust_counter + np.arange(1, n + 1)) * 7919 % 900000000 + 100000000
        self.cust_counter += n
        customer = "C" + pd.Series(cust_n).astype(str).to_numpy(dtype=object)
        approval[story] = np.maximum(approval[story], self.story_start)  # the push was approved inside the quarter
        in_q = (approval >= self.story_start) & (approval <= self.story_end)
        story = story | ((a_pick == self.story_approver) & (outlet == self.story_outlet) & in_q)
        risk = rng.lognormal(-0.18, 0.6, n)
        risk[story] = 1.2  # the story cohort: ordinary-looking borrowers, the risk comes from the approval
        return dict(
            loan_id=loan_id, contract=contract, customer=customer, outlet=outlet, prod=prod, industry=ind,
            guarantee=guar, amount=amount, term=term, disb=disb, maturity=maturity, rate=rate, approver=a_pick,
            approval=approval, officer=officer, bucket=np.zeros(n, np.int64), dpd_off=rng.integers(1, 31, n),
            watch=rng.random(n) < 0.02, miscls=rng.random(n) < 0.14, risk=risk, story=story,
        )

    def _append(self, new: dict[str, np.ndarray]) -> None:
        if not self.cols:
            self.cols = new
        else:
            self.cols = {k: np.concatenate([self.cols[k], new[k]]) for k in self.cols}

    def _keep(self, mask: np.ndarray) -> None:
        self.cols = {k: v[mask] for k, v in self.cols.items()}

    # ---------------------------------------------------------------------------------------------
    def step(self, y: int, m: int, t_years: float, d1: np.datetime64 | None = None) -> None:
        """Advance the book to `d1`: the end of month (y, m), or an earlier day of it (the demo's last
        day). A part month moves the book by its share of the month: every monthly probability and
        the new-loan flow are scaled by it (× 1 for a whole month, so whole months draw exactly the
        same numbers whatever the last day)."""
        rng, c = self.rng, self.cols
        d0 = np.datetime64(f"{y:04d}-{m:02d}-01")
        full = _month_end(y, m)
        d1 = full if d1 is None else min(np.datetime64(d1, "D"), full)
        f = float(((d1 - d0).astype(int) + 1) / ((full - d0).astype(int) + 1))
        n = len(c["prod"])
        # 1. delinquency transitions for loans already on the book
        mob = ((d1.astype("datetime64[M]") - c["disb"].astype("datetime64[M]")).astype(int))
        season = 1.08 if m <= 3 else 1.0
        h = BASE_HAZARD[c["prod"]] * c["risk"] * season
        h = np.where(c["story"] & (mob >= 3), h * STORY_HAZARD_MULT, h) * f
        b = c["bucket"]
        u = rng.random(n)
        cure = CURE[b] * np.where(c["story"], 0.3, 1.0) * f
        adv = ADVANCE[b] * f
        nb = np.where(b == 0, (u < h).astype(np.int64),
                      np.where(u < cure, 0, np.where(u < cure + adv, b + 1, b)))
        nb = np.where(mob >= 1, nb, 0)
        c["bucket"] = np.minimum(nb, 40)
        # 2. exits: write-offs of deep NPLs (Q4 disposals), maturities and prepayments of current loans
        p_wo = {12: 0.16, 6: 0.05, 3: 0.03, 9: 0.03}.get(m, 0.015) * f
        wo = (c["bucket"] >= 10) & (rng.random(n) < p_wo)
        matured = (c["maturity"] <= d1) & (c["bucket"] == 0)
        prepaid = (c["bucket"] == 0) & (rng.random(n) < PREPAY[c["prod"]] * f)
        gone = wo | matured | prepaid
        exits = np.bincount(c["prod"][gone], minlength=5)
        self._keep(~gone)
        # 3. new disbursements: replace what left (at least 70 %), and close a quarter of the gap to a growing target
        #    stock (Q1 push) — a steady flow, as a real loan book has, not a refill that swings
        s_m = {1: 0.03, 2: 0.01, 3: 0.04, 6: 0.015, 12: -0.01}.get(m, 0.0)
        target = self.n_target0 * (1.05**t_years) * (1 + s_m)
        live = np.bincount(self.cols["prod"], minlength=5)
        gap = (target * STOCK_SHARE - live) / 4
        want = np.round(np.maximum(0.7 * exits, exits + gap)).astype(int)
        want = rng.poisson((want + 3) * f)
        story_n = 0
        if self.story_start <= d0 <= self.story_end:
            story_n = max(6, round(0.03 * self.n_target0 / 3))
        new = self._new_loans(want, d0, d1, story_n=story_n)
        if self.fix_start is not None and d0 >= self.fix_start:
            new = self._second_review(new, f"{y:04d}-{m:02d}")
        self._append(new)

    def _second_review(self, new: dict[str, np.ndarray], month: str) -> dict[str, np.ndarray]:
        """The approval fix: drop the story approver's applications the second review declines."""
        u = self.fix_rng.random(len(new["prod"]))
        mine = (new["approver"] == self.story_approver) & np.isin(new["outlet"], self.fix_outlets) & ~new["story"]
        declined = mine & (u < effects.DECLINE_SHARE)
        for o, k in zip(*np.unique(new["outlet"][declined], return_counts=True), strict=True):
            self.declined[(int(o), month)] = int(k)
        return {k: v[~declined] for k, v in new.items()}

    def init_book(self, d_first: np.datetime64) -> None:
        n_by = np.round(self.n_target0 * STOCK_SHARE).astype(int)
        self._append(self._new_loans(n_by, d_first, d_first, seasoned=True))
        mat = self.cols["maturity"] > d_first
        self._keep(mat)

    def snapshot(self, d1: np.datetime64) -> pd.DataFrame:
        """Typed ledger rows on day `d1` (a month end, or the demo's last day; amounts in 元, dates as
        datetime64)."""
        c = self.cols
        d1 = np.datetime64(d1, "D")
        n = len(c["prod"])
        b = c["bucket"]
        dpd = np.where(b > 0, (b - 1) * 30 + c["dpd_off"], 0)
        mob = ((d1.astype("datetime64[M]") - c["disb"].astype("datetime64[M]")).astype(int))
        amort = AMORTISING[c["prod"]]
        inst = c["amount"] / c["term"]
        paid = np.clip(mob - b, 0, c["term"])
        bal = np.where(amort, c["amount"] - inst * paid, c["amount"])
        bal = np.where((~amort) & (d1 >= c["maturity"]) & (b == 0), 0.0, bal)
        bal = np.maximum(bal, 0.0)
        od_p = np.where(amort, np.minimum(bal, inst * b), np.where(b >= 4, bal, bal * np.minimum(1.0, 0.1 * b)))
        od_p = np.where((b > 0) & (d1 >= c["maturity"]), bal, od_p)
        od_p = np.where(b > 0, od_p, 0.0)
        cls = risk_class(dpd)
        cls = np.where((cls == 0) & c["watch"], 1, cls)
        # planted data-quality violations: a sticky ~14 % of overdue loans are classified one notch too good
        viol = c["miscls"] & (dpd > 0)
        cls = np.where(viol, np.maximum(cls - 1, 0), cls)
        return pd.DataFrame({
            "数据日期": np.full(n, d1), "借据号": c["loan_id"], "合同号": c["contract"], "客户号": c["customer"],
            "内部机构号": self.out_ids[c["outlet"]], "贷款品种": PRODUCTS[c["prod"]], "客户类型": SEGMENT[c["prod"]],
            "贷款投向": c["industry"], "发放日期": c["disb"], "到期日期": c["maturity"],
            "贷款金额": c["amount"], "贷款余额": np.round(bal, 2), "逾期本金": np.round(od_p, 2), "逾期天数": dpd,
            "五级分类": CLASSES[cls], "执行利率(%)": c["rate"], "担保方式": GUARANTEES[c["guarantee"]],
            "审批人": self.appr_names[c["approver"]], "审批日期": c["approval"],
            "客户经理": self.off_names[c["officer"]], "_story": c["story"],
        }).sort_values("借据号", kind="stable").reset_index(drop=True)


def simulate(spec: DemoSpec, outlets: pd.DataFrame, staff: dict[str, pd.DataFrame]):
    """Yield ((year, month), snapshot DataFrame, book) for every month of the spec: the snapshot at the
    month end, in the last month at `spec.as_of` (a ledger extract of that day, never a day after it)."""
    book = LoanBook(spec, outlets, staff)
    months = spec.months
    y0, m0 = months[0]
    idx0 = y0 * 12 + m0 - 1 - BURN_IN_MONTHS
    book.init_book(np.datetime64(f"{idx0 // 12:04d}-{idx0 % 12 + 1:02d}-01") - 1)
    burn = [((idx0 + i) // 12, (idx0 + i) % 12 + 1) for i in range(BURN_IN_MONTHS)]
    for i, (y, m) in enumerate(burn + months):
        d1 = np.datetime64(spec.last_day_of(y, m)) if i >= BURN_IN_MONTHS else None
        book.step(y, m, t_years=(i - BURN_IN_MONTHS) / 12, d1=d1)
        if i >= BURN_IN_MONTHS:
            yield (y, m), book.snapshot(d1), book


def _fmt_dates(d: np.ndarray, chinese: bool) -> np.ndarray:
    idx = pd.DatetimeIndex(d)
    if chinese:
        return (_S[idx.year.to_numpy() % 10000] + "年" + _S[idx.month.to_numpy()] + "月" + _S[idx.day.to_numpy()] + "日")
    return _S[idx.year.to_numpy()] + _Z2[idx.month.to_numpy()] + _Z2[idx.day.to_numpy()]


def csv_frame(snap: pd.DataFrame, chinese_dates: bool) -> pd.DataFrame:
    """Export layout for the monthly CSV: amounts in 万元, dates as `2025年1月31日` or `20250131`."""
    out = pd.DataFrame(index=snap.index)
    for h in HEADER:
        src = h.replace("(万元)", "")
        if src in ("数据日期", "发放日期", "到期日期", "审批日期"):
            out[h] = _fmt_dates(snap[src].to_numpy(), chinese_dates)
        elif h.endswith("(万元)"):
            v = np.rint(snap[src].to_numpy(float) / 100).astype(np.int64)  # 元 → 万元 with 2 decimals
            out[h] = _S[v // 100] + "." + _Z2[v % 100]
        else:
            out[h] = snap[src]
    return out


def xlsx_frame(snap: pd.DataFrame) -> pd.DataFrame:
    """Export layout for the .xlsx ledger: amounts in 元 (numbers), real date cells."""
    return snap[HEADER_XLSX].copy()
