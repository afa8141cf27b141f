"""Independent benchmark generator "A" for BankPulse: a Chinese bank's branch KPIs with labelled anomalies.

Written from the plain behaviour description (``DESCRIPTION.md``, a verbatim copy of the brief), the
domain guide and the public reference data only, without looking at any detector. Emphasis:
branch-operations realism.

Usage::

    python bench/independent/gen_a.py --seed 7 --out DIR

writes ``series.csv`` (``date,series,value,denominator,kind``), ``labels.json``, ``decoys.json``,
``ignore.json``, ``n_points.json`` and ``meta.json`` into DIR and prints the summary returned by
:func:`generate`. Everything is drawn from ``numpy.random.default_rng(seed)`` in a fixed order, so a seed
always gives byte-identical files (about 2 s a seed).

The bank (2023-01-01 .. 2025-12-31)
-----------------------------------
Four regions (r1..r4) of ten listed branches each (b001..b040) plus the whole bank; 150 series:

* ``counter_volume`` (count, daily): 40 branches, 4 region totals, 1 bank total.
* ``wait_mean`` (duration, minutes, daily): 32 of the branches.
* ``complaints`` (count, daily): 24 branch comment books; the 95xxx hotline per region and for the
  bank; the bank's online channel.
* ``overdue_rate`` (rate, value = overdue loans / active loans, denominator = active loan count):
  daily for 16 branch books and 3 regional consumer-loan books; monthly for 14 branch books, 4 regions
  and the bank.
* ``npl_ratio`` (rate, monthly; denominator = loan balance in 万元): 4 regions and the bank.

Why these choices: the five KPIs and their magnitudes come from the description; daily operations
series carry the calendar, the loan-book series carry denominators of very different sizes (30 to
500,000 loans) so that small-denominator noise and real ratio moves can both be judged.

Calendar (the official one)
---------------------------
Read from ``data/reference/cn_holidays_2023_2026.csv`` (``day_type`` ``holiday_off`` /
``adjusted_workday``; falls back to ``/work/shared/reference``). A working day is a Mon-Fri that is not
``holiday_off``, or an ``adjusted_workday`` (调休 Saturday/Sunday). A *holiday block* is a maximal run of
non-working days containing a ``holiday_off`` day (Spring Festival 2025 = 8 days, National Day 7-8,
Qingming / Labour Day / Dragon Boat / Mid-Autumn 3-5, New Year 1-3).

Branch heterogeneity
--------------------
Each branch draws: a size (mean weekday tickets log-uniform 22..440, a 20x range); a type (community
40 %, CBD 25 %, mixed 35 %) setting its weekday profile (all: Mon and Fri busiest; CBD Friday and
month-end heavy; community Monday heavy and pension days); Saturday opening (community 80 %, mixed 60 %,
CBD 25 %; Saturday at 0.40-0.75 of a weekday); Sunday opening for about one branch in ten (large
community/mall branches, 0.30-0.50), which are also the *duty branches* open on the later days of
holiday blocks (not the first 3 of Spring Festival / National Day, not the first of others) at
0.25-0.45; how closed days are written (half the branches omit the row, half write 0 - fixed per branch
and shared by its comment-book series; wait has rows on open days only); an off-counter migration trend
(-10 %..+2 % a year); a mild Q1/Q4 peak (+-3..8 %, cosine); noise scale; late reporting (35 %).

Counter volume (multiplicative)
-------------------------------
``tickets = Poisson(mu_t x exp(e_t))``, ``mu_t = size x weekday profile x calendar effects x trend x
season x regime factor``; ``e_t`` = AR(1) (phi 0.6, sd 0.04; totals 0.02) + Student-t noise (df 3-6,
sd 0.06-0.12 + 0.3/sqrt(size); totals 0.025-0.045; clipped at 5 sd): heavy tailed, noisier at small
branches. Calendar effects, each a decoy kind where it shows:

* ``post_holiday``: first working day after a block at x1.2-1.4 (3-day block), x1.3-1.55 (4-6 days),
  x1.6-2.0 (7+ days) of an *average* weekday (x0.85-1.15 per branch), whatever weekday or 调休 day it
  falls on; the second working day after a 5+-day block x1.1-1.3.
* ``holiday``: the working day before a 3+-day block x1.1-1.25, the 5 working days before Spring
  Festival rising to x1.15-1.3 (cash, bonuses); zero rows / duty-branch rows inside blocks.
* ``adjusted_workday``: 调休 days at Monday level x1.0-1.1.
* ``month_end``: last 2 working days x1.06-1.25 by type (salary, settlement); ``quarter_end``: Mar/Jun/
  Sep another x1.05-1.15; ``year_end``: last 3 working days of December x1.15-1.3.
* ``pension_day``: first 3 working days of a month at community branches x1.15-1.5, tapering.
* ``outage``: 2 bank-wide core-system outages on ordinary working days: every daily volume and wait
  series loses that day (half of them as an empty value, half as an omitted row); the next working day
  carries a x1.15-1.3 backlog.
* ``late_report``: late reporters get, in half of the months, the last 1-3 working days first reported
  at 25-75 % of the true count, plus 0.4 % random days; region totals in a quarter of the months the
  last working day at 75-92 %. The file holds the low first value.

Region / bank totals = the listed members' expected volume + the unlisted branches of the region
(0.8-1.6x as much, calendar effects only), with their own noise; a member's regime change is a decoy
(and ignore span) of the total when the member carries >= 4 % of it.

Normal regime changes (decoy spans; ``ignore`` = the first 7 days after the onset)
------------------------------------------------------------------------------------
Placed on ordinary working days, >= 60 days apart:

* ``campaign`` (30 % of branches): planned marketing, x1.2-1.6 for 2-6 weeks with 3-day ramps; decoy
  over its span (no ignore span).
* ``launch`` (15 %): product launch, x1.2-1.5 at once decaying (tau 2-3.5 weeks) to a lasting +5..15 %;
  ignore onset .. +6, decoy +7 .. +60 days.
* ``renovation`` (12 %): closed 1-4 weeks (rows omitted or 0 per the branch), reopens at the old level
  with a 2-day x1.3 backlog; decoy = the closure and reopening +7 .. +20, ignore = reopening .. +6.
* ``relocation`` (12 %): 2-3 days closed, then the level moves for good x0.6-0.85 or x1.2-1.5; ignore =
  closure .. reopening +6, decoy reopening +7 .. +60 (after that the new level is simply normal).
* ``staffing`` (20 % of wait series): a planned staffing change moves the wait level for good x0.7-0.85
  or x1.15-1.35; ignore onset .. +6, decoy +7 .. +45.

Campaigns, launches, renovations and relocations apply to the branch's volume and wait series.

Mean wait (duration, minutes)
-----------------------------
``wait = W0 x load_t^gamma x staffing x exp(sigma x t_df)``, W0 log-uniform 6-18 min, gamma 1.0-1.8
(queues grow faster than load), sigma 0.12-0.2 + 0.4/sqrt(size) (noisier at small branches), and on
2.5 % of days a short-staffed x1.5-2.1 (the heavy right tail; ordinary noise, not a decoy). ``load_t`` =
the calendar effects and temporary regime effects in full but the weekday pattern only at 40 % (staffing
follows the known weekly pattern), so post-holiday days, month ends and campaigns lengthen waits (decoys
where the effect is >= 7 %); a relocation or permanent launch effect does not (staff move with it).

Complaints (count)
------------------
Negative binomial (gamma-Poisson, shape k 0.8-3 at branches, 4-12 for channels): comment books
0.1-1.6 a day on open days (~0.4 % of the branch's tickets); hotline 3-12 a day per region, 15-35 for
the bank, online 6-20, every day, non-working days x0.5-0.7, Mondays +10 %. The first 3 open days after a
3+-day block x1.4-2.0 tapering (``post_holiday``); 2-3 bank-wide fee / policy changes x1.6-2.5 decaying
(tau 6-10 days, 4 weeks; decoy ``policy_change`` where the effect is > 28 %).

Overdue rate (a stock of overdue loans, simulated daily)
--------------------------------------------------------
``O[t+1] = O[t] - Binomial(O[t], q_t) + Poisson(lam_t)``, cure probability q = 1/(20..40 days), ``lam_t =
p_t x exposure_t x q x cycle_t`` so the mean rate is ``p_t`` = 0.5-4 % times a slow log random walk.
``cycle_t``: arrivals x2.5 on the day after the book's repayment due day. Collection pushes: the last 6
days of a quarter raise q x1.3-1.6, arrivals rebound x1.2-1.35 in the first 10 days of the next quarter
(``quarter_end`` / ``year_end`` decoys; monthly: the quarter-end value and the month after). Denominator:
-5..+12 % a year plus a small random walk; 25 % of branch books get a new consumer-loan product adding
60-120 % over 2-5 months (logistic); new loans become default-prone only ~8 months later (seasoning), so
the rate dips for months (decoy ``launch``, ignore the first 7 days / month). Books under 300 loans move
a whole loan at a time (decoy ``small_denominator`` where the rate leaves +-50 % of its centred 90-day /
6-month median) and carry no anomalies. Daily series have a row every calendar day (the ledger runs
daily); monthly series are the month-end values of the same process.

NPL ratio (monthly)
-------------------
Balance 150-600 亿 per region (the bank 3,000-4,500 亿), +5..10 % a year with a March lending push
(开门红); ratio 1.2-2.0 % as a mean-reverting walk (sd 1.5-2.5 bp a month); Mar/Jun/Sep dip 2-6 bp
(write-offs, partly reversed the next month; ``quarter_end`` on the dip and the month after), December
8-18 bp (``year_end`` on December and January; 70 % of it stays), Jan/Feb tick up 2-5 bp.

Missing data
------------
0.3-1.5 % of a daily series' open days (1.5 % of monthly values), half omitted rows, half empty values;
never on an anomaly's key days.

Anomalies (``labels.json``)
---------------------------
33-38 windows per seed, stratified over kinds (spike 26 %, level_shift 22 %, ratio_jump 21 %, ramp 18 %,
variance 13 %), four in five on a still-clean series, at most 2 per series. A severity ``sev`` ~ U(0, 1)
places each within its range (low = subtle but actionable, high = obvious). Onsets avoid decoy spans
(+-3 days), outages, the first 90 days, other anomalies of the series (60 days), and no regime change or
ignore span may fall inside the window. Operations series start them on ordinary working days; monthly
rates in the first 10 days of a month. Anomalies are not propagated between series (totals use the
members' anomaly-free paths; volume does not drive wait or complaints), so an unlabelled series is clean.

* ``spike`` (1-3 consecutive open days, the next day open too; window = its days + 1): volume collapse
  to 10-55 % (queue system down), 20-50 % of the lost customers return the next open day; wait x1.8-3.5
  (queue system failure); complaint storm on top of the ordinary count, on day one +4..15 at a branch
  (at least 4x..10x its daily mean) or +2..5x the daily mean on a channel, half that on later days (the
  storm's count is Poisson but at least 60 % of its expectation).
* ``level_shift`` (lasts to the end; window onset .. +14 days / onset month-end .. +2 month-ends):
  volume x0.60-0.82 (competitor next door; 20 % of them upward x1.25-1.5); wait x1.3-1.8; complaints
  x1.8-3.0 (only series with a mean >= 0.7 a day); volume and wait shifts are at least 1-2.5 daily sd
  of the series' own noise (small branches get bigger shifts); overdue rate +0.5-1.5 pp fed over 3-10
  days by an approval-process failure (the loans stay overdue; cure over 5-13 months).
* ``ramp`` (window onset .. end of the ramp; the new level stays): wait to x1.35-2.0 over 2-8 weeks
  (staff leaving); complaints to x2-3; overdue rate +0.3-1.2 pp over 2-8 weeks (daily) or 3-6 months
  (monthly); NPL +4..10 bp a month for 3-6 months.
* ``variance`` (3-10 weeks; window = its first 30 days): same mean, day-to-day sd x2-4 (for volume the
  sd including the Poisson part): unstable queue system, erratic staffing.
* ``ratio_jump`` (window like level_shift): the numerator jumps within 1-2 days while the denominator is
  flat (no product launch within 90 days): a guarantee chain defaults, +0.3-1.0 pp that cures only over
  months; NPL: a large corporate loan downgraded, +6..30 bp, balance unchanged.

Rate anomalies are never smaller than 6 loans nor 2.5-4 sd (3-4.5 for ramps) of the book's own Poisson
noise ``sqrt(p x N) / N``; ratio_jump / level_shift need books of >= max(800, 30000 x p) loans, ramps
>= max(500, 20000 x p).

Deviation from the description: it asks for ~35 windows *and* roughly half the series clean; with one
window per anomalous series that cannot both hold for 150 series. The window count is kept (35), so
about three quarters of the series are clean.
"""
from __future__ import annotations

import argparse
import csv
import json
import math
import sys
import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import numpy as np

START = date(2023, 1, 1)
END = date(2025, 12, 31)
N = (END - START).days + 1
DATES = [START + timedelta(days=i) for i in range(N)]
ISO = [d.isoformat() for d in DATES]
MONTH = np.array([(d.year - START.year) * 12 + d.month - 1 for d in DATES])
N_MONTHS = int(MONTH[-1]) + 1
# index of the last calendar day of each month
MONTH_END = np.array([int(np.flatnonzero(np.equal(MONTH, m))[-1]) for m in range(N_MONTHS)])
T_YEARS = np.arange(N) / 365.25

ANOMALY_KINDS = ("spike", "level_shift", "ramp", "variance", "ratio_jump")
REGIME_KINDS = ("launch", "relocation", "renovation", "staffing")
CAL_PATHS = (
    Path(__file__).resolve().parents[2] / "data" / "reference" / "cn_holidays_2023_2026.csv",
    Path("/work/shared/reference/cn_holidays_2023_2026.csv"),
)
DESCRIPTION = ("Generator A (branch-operations realism): real CN holiday/调休 calendar, heterogeneous "
               "branches, multiplicative structure, heavy-tailed noise, late reports, outages and normal "
               "regime changes; anomalies: spike, level_shift, ramp, variance, ratio_jump.")


# --------------------------------------------------------------------------------------------------
# calendar
# --------------------------------------------------------------------------------------------------
class Calendar:
    def __init__(self, path: Path | None = None):
        path = path or next(p for p in CAL_PATHS if p.exists())
        self.wd = np.array([d.weekday() for d in DATES])
        self.holiday = np.zeros(N, bool)
        self.adjusted = np.zeros(N, bool)
        name = [""] * N
        with open(path, encoding="utf-8") as f:
            for r in csv.DictReader(f):
                i = (date.fromisoformat(r["date"]) - START).days
                if not 0 <= i < N:
                    continue
                if r["day_type"] == "holiday_off":
                    self.holiday[i] = True
                    name[i] = r["holiday_name_en"]
                elif r["day_type"] == "adjusted_workday":
                    self.adjusted[i] = True
        self.workday = ((self.wd < 5) & ~self.holiday) | self.adjusted
        self.saturday = (self.wd == 5) & ~self.workday & ~self.holiday
        self.sunday = (self.wd == 6) & ~self.workday & ~self.holiday
        # holiday blocks
        self.blocks: list[tuple[int, int, str]] = []
        i = 0
        while i < N:
            if self.workday[i]:
                i += 1
                continue
            j = i
            while j + 1 < N and not self.workday[j + 1]:
                j += 1
            if self.holiday[i:j + 1].any():
                self.blocks.append((i, j, next(name[k] for k in range(i, j + 1) if name[k])))
            i = j + 1
        self.in_block = np.full(N, -1)  # position inside a holiday block
        for a, b, _ in self.blocks:
            self.in_block[a:b + 1] = np.arange(b - a + 1)
        wdays = np.flatnonzero(self.workday)
        self.post_len = np.zeros(N, int)   # first working day after a block: the block's length
        self.post2_len = np.zeros(N, int)  # second working day after
        self.pre_len = np.zeros(N, int)    # last working day before a block
        self.pre_sf = np.zeros(N, int)     # 1..5: working days before Spring Festival (5 = closest)
        for a, b, nm in self.blocks:
            after = wdays[wdays > b]
            before = wdays[wdays < a]
            ln = b - a + 1
            if len(after):
                self.post_len[after[0]] = ln
            if len(after) > 1:
                self.post2_len[after[1]] = ln
            if len(before):
                self.pre_len[before[-1]] = ln
                if nm == "Spring Festival":
                    for k, idx in enumerate(before[-5:]):
                        self.pre_sf[idx] = k + 1
        self.me_rank = np.full(N, -1)  # rank of a working day from the month's end (0 = last)
        self.ms_rank = np.full(N, -1)  # from the month's start
        for m in range(N_MONTHS):
            w = wdays[MONTH[wdays] == m]
            self.me_rank[w] = np.arange(len(w))[::-1]
            self.ms_rank[w] = np.arange(len(w))
        self.mon = np.array([d.month for d in DATES])
        self.quarter_month = np.isin(self.mon, (3, 6, 9))
        self.dom = np.array([d.day for d in DATES])
        # quarter-end collection window for loan books: last 6 days of a quarter, first 10 of the next
        last_q = np.zeros(N, bool)
        first_q = np.zeros(N, bool)
        for m in range(N_MONTHS):
            e = MONTH_END[m]
            if (m % 12) in (2, 5, 8, 11):
                last_q[max(0, e - 5):e + 1] = True
                first_q[e + 1:e + 11] = True
        self.q_push, self.q_rebound = last_q, first_q
        self.dec = self.mon == 12
        self.jan = self.mon == 1


# --------------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------------
def tnoise(rng, n, df):
    """Student-t noise with unit sd, clipped at 5 sd."""
    return np.clip(rng.standard_t(df, n) * math.sqrt((df - 2) / df), -5, 5)


def ar1(rng, n, phi, sd):
    e = rng.normal(0, sd * math.sqrt(1 - phi * phi), n)
    out = np.empty(n)
    acc = 0.0
    for i in range(n):
        acc = phi * acc + e[i]
        out[i] = acc
    return out


def loguni(rng, a, b):
    return float(math.exp(rng.uniform(math.log(a), math.log(b))))


def runs(mask):
    """Inclusive (start, end) runs of True."""
    d = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return list(zip(np.flatnonzero(d == 1).tolist(), (np.flatnonzero(d == -1) - 1).tolist(), strict=True))


def mask_spans(active, present, max_gap=3):
    """Spans of active days among present days; absent gaps of <= max_gap days are bridged."""
    spans: list[list[int]] = []
    idx = np.flatnonzero(active & present)
    for i in idx.tolist():
        if spans and i - spans[-1][1] <= max_gap + 1 and not (present[spans[-1][1] + 1:i]).any():
            spans[-1][1] = i
        else:
            spans.append([i, i])
    return [(a, b) for a, b in spans]


def clamp_span(a, b):
    return max(0, a), min(N - 1, b)


@dataclass
class Series:
    sid: str
    kpi: str
    kind: str
    freq: str
    unit: str
    level: str
    entity: str
    # daily model
    open: np.ndarray | None = None          # a row exists (value or 0) on this day
    zero_closed: bool = False                # closed days written as 0
    effects: dict = field(default_factory=dict)  # decoy kind -> bool mask of visible effect days
    regime: list = field(default_factory=list)   # (i0, i1, kind) decoy spans from regime changes
    ignore: list = field(default_factory=list)   # (i0, i1, reason)
    anomalies: list = field(default_factory=list)
    eligible: tuple = ()
    params: dict = field(default_factory=dict)
    # outputs
    value: np.ndarray | None = None
    denom: np.ndarray | None = None
    row: np.ndarray | None = None             # row written
    protect: np.ndarray | None = None         # days that must keep their value (anomaly key days)

    @property
    def monthly(self):
        return self.freq == "monthly"


# --------------------------------------------------------------------------------------------------
# branches: volume model
# --------------------------------------------------------------------------------------------------
@dataclass
class Branch:
    bid: str
    region: int
    size: float
    btype: str
    sat_open: bool
    sun_open: bool
    zero_closed: bool
    late: bool
    mu: np.ndarray = None          # expected tickets incl. normal effects
    mu_cal: np.ndarray = None      # calendar effects only, no regime changes
    open: np.ndarray = None
    effects: dict = None
    regime: list = None
    ignore: list = None
    log_noise_sd: float = 0.1
    df: float = 4.0
    params: dict = None


def make_branch(rng, cal: Calendar, k: int) -> Branch:
    btype = rng.choice(["community", "cbd", "mixed"], p=[0.4, 0.25, 0.35])
    size = loguni(rng, 22, 440)
    sat_p = {"community": 0.8, "mixed": 0.6, "cbd": 0.25}[btype]
    sat_open = bool(rng.random() < sat_p)
    sun_open = bool(sat_open and size > 60 and btype != "cbd" and rng.random() < 0.25)
    br = Branch(bid=f"b{k + 1:03d}", region=k // 10 + 1, size=size, btype=str(btype), sat_open=sat_open,
                sun_open=sun_open, zero_closed=bool(rng.random() < 0.5), late=bool(rng.random() < 0.35))
    if btype == "cbd":
        prof = np.array([1.08, 0.98, 0.95, 0.97, 1.17])
    elif btype == "community":
        prof = np.array([1.18, 1.0, 0.96, 0.95, 1.06])
    else:
        prof = np.array([1.13, 0.99, 0.95, 0.96, 1.1])
    prof = prof * np.exp(rng.normal(0, 0.03, 5))
    logf = np.zeros(N)  # weekday / weekend / duty baseline (logf0) + calendar effects
    eff = {k2: np.zeros(N, bool) for k2 in ("holiday", "post_holiday", "adjusted_workday", "month_end",
                                             "quarter_end", "year_end", "pension_day")}
    opn = cal.workday.copy()
    wdn = (cal.wd < 5) & cal.workday & ~cal.adjusted
    logf[wdn] = np.log(prof[cal.wd[wdn]])
    logf[cal.adjusted] = math.log(prof[0] * rng.uniform(1.0, 1.1))
    eff["adjusted_workday"] |= cal.adjusted
    if sat_open:
        opn |= cal.saturday
        logf[cal.saturday] = math.log(rng.uniform(0.4, 0.75))
    if sun_open:
        opn |= cal.sunday
        logf[cal.sunday] = math.log(rng.uniform(0.3, 0.5))
        duty = rng.uniform(0.25, 0.45)
        for a, b, nm in cal.blocks:
            skip = 3 if nm in ("Spring Festival", "National Day") else 1
            for i in range(a + skip, b + 1):
                opn[i] = True
                logf[i] = math.log(duty * rng.uniform(0.8, 1.2))
                eff["holiday"][i] = True
    logf0 = logf.copy()
    cal_open = opn.copy()
    if br.zero_closed:  # zero rows inside holiday blocks show the closure
        eff["holiday"] |= cal.in_block >= 0
    amp = rng.uniform(0.85, 1.15)
    for i in np.flatnonzero(cal.post_len).tolist():
        ln = cal.post_len[i]
        f = rng.uniform(1.6, 2.0) if ln >= 7 else rng.uniform(1.3, 1.55) if ln >= 4 else \
            rng.uniform(1.2, 1.4) if ln == 3 else 1.1
        logf[i] = math.log(1 + (f - 1) * amp)  # relative to an average weekday, whatever day it is
        eff["post_holiday"][i] = True
    for i in np.flatnonzero(cal.post2_len >= 5).tolist():
        logf[i] += math.log(rng.uniform(1.1, 1.3))
        eff["post_holiday"][i] = True
    for i in np.flatnonzero(cal.pre_len >= 3).tolist():
        logf[i] += math.log(rng.uniform(1.1, 1.25))
        eff["holiday"][i] = True
    for i in np.flatnonzero(cal.pre_sf).tolist():
        logf[i] += math.log(1 + rng.uniform(0.15, 0.3) * cal.pre_sf[i] / 5)
        if cal.pre_sf[i] >= 3:
            eff["holiday"][i] = True
    me_amp = {"cbd": (0.12, 0.25), "community": (0.06, 0.12), "mixed": (0.08, 0.18)}[br.btype]
    me = (cal.me_rank >= 0) & (cal.me_rank <= 1)
    for i in np.flatnonzero(me).tolist():
        f = 1 + rng.uniform(*me_amp) * (1.0 if cal.me_rank[i] == 0 else 0.6)
        if cal.dec[i]:
            eff["year_end"][i] = True
        elif cal.quarter_month[i]:
            f *= rng.uniform(1.05, 1.15)
            eff["quarter_end"][i] = True
        else:
            eff["month_end"][i] = True
        logf[i] += math.log(f)
    ye = cal.dec & (cal.me_rank >= 0) & (cal.me_rank <= 2)
    for i in np.flatnonzero(ye).tolist():
        logf[i] += math.log(rng.uniform(1.15, 1.3))
        eff["year_end"][i] = True
    if br.btype == "community":
        pens = rng.uniform(1.15, 1.5)
        for i in np.flatnonzero((cal.ms_rank >= 0) & (cal.ms_rank <= 2)).tolist():
            logf[i] += math.log(1 + (pens - 1) * (1 - 0.3 * cal.ms_rank[i]))
            eff["pension_day"][i] = True
    season = rng.uniform(0.03, 0.08) * np.cos(2 * np.pi * (np.array([d.timetuple().tm_yday for d in DATES])
                                                            - 15) / 365.25)
    trend = rng.uniform(-0.10, 0.02) * T_YEARS
    base = np.log(size) + trend + season
    # normal regime changes
    reg = np.zeros(N)     # log factor (volume)
    regref = np.zeros(N)  # permanent part (staffing reference follows relocations)
    regime: list[tuple[int, int, str]] = []
    ignore: list[tuple[int, int, str]] = []
    eff["campaign"] = np.zeros(N, bool)
    taken = np.zeros(N, bool)

    def free_start(dur):
        for _ in range(50):
            s = int(rng.integers(60, N - dur - 40))
            # planned changes start on an ordinary working day
            if cal.workday[s] and cal.post_len[s] == 0 and not taken[max(0, s - 60):s + dur + 60].any():
                taken[s:s + dur] = True
                return s
        return None

    if rng.random() < 0.30:
        dur = int(rng.integers(14, 43))
        s = free_start(dur)
        if s is not None:
            f = math.log(rng.uniform(1.2, 1.6))
            shape = np.ones(dur)
            shape[:3] = [0.33, 0.66, 1.0]
            shape[-3:] = [0.66, 0.33, 0.15]
            reg[s:s + dur] += f * shape
            regime.append((s, s + dur - 1, "campaign"))
    if rng.random() < 0.15:
        s = free_start(70)
        if s is not None:
            peak, last = math.log(rng.uniform(1.2, 1.5)), math.log(rng.uniform(1.05, 1.15))
            tau = rng.uniform(14, 25)
            t = np.arange(N - s)
            reg[s:] += last + (peak - last) * np.exp(-t / tau)
            regref[s:] += last
            ignore.append((s, s + 6, "launch"))
            regime.append((s + 7, s + 60, "launch"))
    if rng.random() < 0.12:
        dur = int(rng.integers(7, 29))
        s = free_start(dur + 30)
        if s is not None:
            opn[s:s + dur] = False
            r0 = s + dur
            reg[r0:r0 + 2] += math.log(1.3)
            regime.append((s, s + dur - 1, "renovation"))
            ignore.append((r0, r0 + 6, "renovation"))
            regime.append((r0 + 7, r0 + 20, "renovation"))
    if rng.random() < 0.12:
        s = free_start(70)
        if s is not None:
            closed = int(rng.integers(2, 4))
            opn[s:s + closed] = False
            f = math.log(rng.uniform(0.6, 0.85) if rng.random() < 0.5 else rng.uniform(1.2, 1.5))
            reg[s + closed:] += f
            regref[s + closed:] += f
            ignore.append((s, s + closed + 6, "relocation"))
            regime.append((s + closed + 7, s + closed + 60, "relocation"))
    br.mu_cal = np.exp(base + logf) * cal_open  # calendar only (for the unlisted branches of a total)
    br.mu = np.exp(base + logf + reg) * opn
    br.open = opn
    br.effects = eff
    br.regime = [(a, min(b, N - 1), k2) for a, b, k2 in regime if a < N]
    br.ignore = [(a, min(b, N - 1), k2) for a, b, k2 in ignore if a < N]
    br.log_noise_sd = rng.uniform(0.06, 0.12) + 0.3 / math.sqrt(size)
    br.df = rng.uniform(3, 6)
    # the wait model's load: calendar and temporary regime effects in full, the weekday pattern only
    # partly (staffing follows the known weekly pattern)
    br.params = {"load": np.exp(0.4 * logf0 + (logf - logf0) + (reg - regref))}
    return br


# --------------------------------------------------------------------------------------------------
# the bank
# --------------------------------------------------------------------------------------------------
class Bank:
    def __init__(self, seed: int):
        self.seed = seed
        self.rng = np.random.default_rng(seed)
        self.cal = Calendar()
        self.series: list[Series] = []
        rng, cal = self.rng, self.cal
        self.branches = [make_branch(rng, cal, k) for k in range(40)]
        # bank-wide events
        wds = np.flatnonzero(cal.workday & (cal.post_len == 0) & (cal.me_rank > 2))
        self.outages = sorted(int(x) for x in rng.choice(wds[(wds > 60) & (wds < N - 30)], 2, replace=False))
        self.outage_next = []
        for o in self.outages:
            nxt = np.flatnonzero(cal.workday[o + 1:])[0] + o + 1
            self.outage_next.append(int(nxt))
        n_pol = int(rng.integers(2, 4))
        self.policy = sorted(int(x) for x in rng.choice(np.arange(90, N - 60), n_pol, replace=False))

    # ---------------------------------------------------------------------------------- series setup
    def add(self, **kw) -> Series:
        s = Series(**kw)
        self.series.append(s)
        return s

    def build(self):
        rng, cal = self.rng, self.cal
        br = self.branches
        # counter volume, branches
        for b in br:
            eff = dict(b.effects)
            s = self.add(sid=f"A/counter_volume/{b.bid}", kpi="counter_volume", kind="count", freq="daily",
                         unit="tickets/day", level="branch", entity=b.bid, open=b.open.copy(),
                         zero_closed=b.zero_closed, effects=eff, regime=list(b.regime),
                         ignore=list(b.ignore), eligible=("spike", "level_shift", "variance"))
            s.params = {"branch": b}
        # totals
        groups = [(f"r{r}", "region", [b for b in br if b.region == r]) for r in range(1, 5)]
        groups.append(("bank", "bank", br))
        for name, level, members in groups:
            # listed members + the unlisted branches of the region (calendar pattern only, 0.8-1.6x as many)
            mu = sum(m.mu for m in members) + sum(m.mu_cal for m in members) * rng.uniform(0.8, 1.6)
            eff = {}
            for k in ("holiday", "post_holiday", "adjusted_workday", "month_end", "quarter_end", "year_end",
                      "pension_day"):
                eff[k] = np.any([m.effects[k] for m in members], axis=0)
            s = self.add(sid=f"A/counter_volume/{name}", kpi="counter_volume", kind="count", freq="daily",
                         unit="tickets/day", level=level, entity=name, open=mu > 0, zero_closed=False,
                         effects=eff, eligible=("spike", "level_shift") if level == "region" else ())
            s.params = {"mu": mu, "sd": rng.uniform(0.025, 0.045), "df": rng.uniform(4, 7),
                        "late": level == "region"}
            for m in members:  # a member's regime change shows in the total when the member is >= 4 %
                if m.mu.mean() >= 0.04 * mu.mean():
                    s.regime += m.regime
                    s.ignore += m.ignore
        # wait
        wait_br = sorted(rng.choice(40, 32, replace=False).tolist())
        for k in wait_br:
            b = br[k]
            eff = {kk: v for kk, v in b.effects.items() if kk not in ("holiday",)}
            eff["holiday"] = b.effects["holiday"] & (cal.pre_len >= 3)
            s = self.add(sid=f"A/wait_mean/{b.bid}", kpi="wait_mean", kind="duration", freq="daily",
                         unit="minutes", level="branch", entity=b.bid, open=b.open.copy(), zero_closed=False,
                         effects=eff, regime=list(b.regime), ignore=list(b.ignore),
                         eligible=("spike", "level_shift", "ramp", "variance"))
            w0 = loguni(rng, 6, 18)
            p = {"branch": b, "w0": w0, "gamma": rng.uniform(1.0, 1.8),
                 "sd": rng.uniform(0.12, 0.2) + 0.4 / math.sqrt(b.size), "df": rng.uniform(3, 6),
                 "staff": np.zeros(N)}
            if rng.random() < 0.2:
                st = int(rng.integers(100, N - 80))
                if not any(a - 30 <= st <= bb + 30 for a, bb, _ in b.regime + b.ignore):
                    f = rng.uniform(0.7, 0.85) if rng.random() < 0.5 else rng.uniform(1.15, 1.35)
                    p["staff"][st:] = math.log(f)
                    s.ignore.append((st, st + 6, "staffing"))
                    s.regime.append((st + 7, min(N - 1, st + 45), "staffing"))
            s.params = p
        # complaints, branch comment books
        comp_br = sorted(rng.choice(40, 24, replace=False).tolist())
        pol = self.policy_effect(rng)
        for k in comp_br:
            b = br[k]
            c0 = float(np.clip(0.004 * b.size * rng.uniform(0.5, 2.0), 0.1, 1.6))
            post = self.post_complaints(b.open, rng)
            eff = {"post_holiday": post > 0, "adjusted_workday": cal.adjusted & b.open,
                   "policy_change": pol > 0.25}
            if b.zero_closed:
                eff["holiday"] = (cal.in_block >= 0) & ~b.open
            s = self.add(sid=f"A/complaints/{b.bid}", kpi="complaints", kind="count", freq="daily",
                         unit="complaints/day", level="branch", entity=b.bid, open=b.open.copy(),
                         zero_closed=b.zero_closed, effects=eff,
                         eligible=("spike", "level_shift", "ramp") if c0 >= 0.7 else ("spike",))
            s.params = {"mu": c0 * np.exp(post + pol) * b.open, "k": rng.uniform(0.8, 3.0)}
        # complaints, channels (every day)
        chans = [(f"hotline_r{r}", "region", (3, 12)) for r in range(1, 5)]
        chans += [("hotline_bank", "bank", (15, 35)), ("online_bank", "bank", (6, 20))]
        for name, level, (lo, hi) in chans:
            base = rng.uniform(lo, hi)
            off = ~cal.workday
            logm = np.where(off, math.log(rng.uniform(0.5, 0.7)), 0.0)
            logm[cal.wd == 0] += 0.1
            post = self.post_complaints(cal.workday, rng)
            eff = {"post_holiday": post > 0, "adjusted_workday": cal.adjusted, "policy_change": pol > 0.25,
                   "holiday": cal.in_block >= 0}
            s = self.add(sid=f"A/complaints/{name}", kpi="complaints", kind="count", freq="daily",
                         unit="complaints/day", level=level, entity=name, open=np.ones(N, bool),
                         effects=eff, eligible=("spike", "level_shift", "ramp"))
            s.params = {"mu": base * np.exp(logm + post + pol), "k": rng.uniform(4, 12)}
        # overdue rate, daily: 16 branches + 3 regions
        od_br = sorted(rng.choice(40, 16, replace=False).tolist())
        for k in od_br:
            self.add_overdue(f"A/overdue_rate/{br[k].bid}", "daily", "branch", br[k].bid,
                             loguni(rng, 30, 6000), rng)
        for r in (1, 2, 3):
            self.add_overdue(f"A/overdue_rate/r{r}_consumer", "daily", "region", f"r{r}",
                             loguni(rng, 5000, 30000), rng)
        # overdue rate, monthly: 14 branches + 4 regions + bank
        # other branches than the daily ones: a branch's book is reported either daily or monthly
        rest = np.array([k for k in range(40) if k not in od_br])
        od_m = sorted(rng.choice(rest, 14, replace=False).tolist())
        for k in od_m:
            self.add_overdue(f"A/overdue_rate/{br[k].bid}_monthly", "monthly", "branch", br[k].bid,
                             loguni(rng, 40, 8000), rng)
        for r in range(1, 5):
            self.add_overdue(f"A/overdue_rate/r{r}_monthly", "monthly", "region", f"r{r}",
                             loguni(rng, 20000, 100000), rng)
        self.add_overdue("A/overdue_rate/bank_monthly", "monthly", "bank", "bank",
                         rng.uniform(300000, 500000), rng)
        # NPL ratio
        for r in range(1, 5):
            self.add_npl(f"A/npl_ratio/r{r}", "region", f"r{r}", rng.uniform(1.5e6, 6e6), rng)
        self.add_npl("A/npl_ratio/bank", "bank", "bank", rng.uniform(3e7, 4.5e7), rng)

    def policy_effect(self, rng):
        pol = np.zeros(N)
        for p in self.policy:
            peak, tau = math.log(rng.uniform(1.6, 2.5)), rng.uniform(6, 10)
            t = np.arange(min(28, N - p))
            pol[p:p + len(t)] += peak * np.exp(-t / tau)
        return pol

    def post_complaints(self, open_mask, rng):
        out = np.zeros(N)
        for a, b, _ in self.cal.blocks:
            if b - a + 1 < 3:
                continue
            nxt = np.flatnonzero(open_mask[b + 1:])[:3] + b + 1
            f = math.log(rng.uniform(1.4, 2.0))
            for j, i in enumerate(nxt.tolist()):
                out[i] = f * (1 - 0.3 * j)
        return out

    def add_overdue(self, sid, freq, level, entity, n0, rng):
        cal = self.cal
        small = n0 < 300
        launch = None
        if level == "branch" and rng.random() < 0.25:
            launch = (int(rng.integers(120, N - 200)), int(rng.integers(60, 150)), rng.uniform(0.6, 1.2))
        # small portfolios stay clean (their noise is the small-denominator decoy); a ratio jump or level
        # shift needs a book where 2.5-4 sd of its own noise stay below ~2 pp (n0 >= 30000 x p0)
        p0 = rng.uniform(0.005, 0.04)
        eligible = ("ratio_jump", "level_shift", "ramp") if n0 >= max(800, 30000 * p0) else \
            ("ramp",) if n0 >= max(500, 20000 * p0) else ()
        s = self.add(sid=sid, kpi="overdue_rate", kind="rate", freq=freq,
                     unit="fraction (overdue loans / active loans)", level=level, entity=entity,
                     open=np.ones(N, bool), eligible=eligible)
        s.params = {"n0": n0, "p0": p0, "tau": rng.uniform(20, 40),
                    "due": int(rng.integers(5, 26)), "growth": rng.uniform(-0.05, 0.12),
                    "launch": launch, "push": rng.uniform(1.3, 1.6), "small": small}
        eff = {"quarter_end": (cal.q_push | cal.q_rebound) & ~(cal.dec | cal.jan),
               "year_end": (cal.q_push | cal.q_rebound) & (cal.dec | cal.jan)}
        if freq == "monthly":  # the dipped quarter-end value and the rebound month after it
            me = np.zeros(N, bool)
            me[MONTH_END] = True
            eff = {"quarter_end": me & np.isin(cal.mon, (3, 4, 6, 7, 9, 10)),
                   "year_end": me & np.isin(cal.mon, (12, 1))}
        s.effects = eff
        if launch:
            st, dur, _ = launch
            if freq == "daily":
                s.ignore.append((st, st + 6, "launch"))
                s.regime.append((st + 7, min(N - 1, st + dur + 240), "launch"))
            else:
                m = MONTH[st]
                s.ignore.append((MONTH_END[m], MONTH_END[m], "launch"))
                m2 = min(N_MONTHS - 1, MONTH[min(N - 1, st + dur + 240)])
                if m + 1 <= m2:
                    s.regime.append((MONTH_END[m + 1], MONTH_END[m2], "launch"))

    def add_npl(self, sid, level, entity, b0, rng):
        s = self.add(sid=sid, kpi="npl_ratio", kind="rate", freq="monthly",
                     unit="fraction (NPL balance / loan balance; denominator in 万元)", level=level,
                     entity=entity, open=np.ones(N, bool), eligible=("ratio_jump", "ramp"))
        s.params = {"b0": b0, "r0": rng.uniform(0.012, 0.02), "growth": rng.uniform(0.05, 0.10),
                    "sd": rng.uniform(0.00015, 0.00025)}
        me = np.zeros(N, bool)
        me[MONTH_END] = True
        # the write-off dip and the month after it (partial reversal / Q1 tick-up)
        s.effects = {"quarter_end": me & np.isin(self.cal.mon, (3, 4, 6, 7, 9, 10)),
                     "year_end": me & np.isin(self.cal.mon, (12, 1))}

    # ---------------------------------------------------------------------------------- anomalies
    def decoy_block(self, s: Series):
        """Days an anomaly onset must avoid (+-3 days of any decoy or regime span)."""
        bad = np.zeros(N, bool)
        for v in s.effects.values():
            bad |= v
        for a, b, _ in s.regime + s.ignore:
            bad[a:b + 1] = True
        for o, nx in zip(self.outages, self.outage_next, strict=True):
            bad[o:nx + 1] = True
        idx = np.flatnonzero(bad)
        out = bad.copy()
        for d in (-3, -2, -1, 1, 2, 3):
            j = idx + d
            out[j[(j >= 0) & (j < N)]] = True
        return out

    def assign_anomalies(self):
        rng = self.rng
        n_total = int(rng.integers(33, 39))
        weights = {"spike": 0.26, "level_shift": 0.22, "ramp": 0.18, "variance": 0.13, "ratio_jump": 0.21}
        # stratified: each kind gets its share, the remainder is drawn, then the order is shuffled
        counts = {k: int(w * n_total) for k, w in weights.items()}
        rest = n_total - sum(counts.values())
        for k in rng.choice(list(weights), rest, replace=False, p=list(weights.values())).tolist():
            counts[k] += 1
        kinds = [k for k, c in counts.items() for _ in range(c)]
        rng.shuffle(kinds)
        placed = 0
        for kind in kinds:
            cands = [s for s in self.series if kind in s.eligible and len(s.anomalies) < 2]
            # prefer series that are still clean (four in five windows go to a clean series)
            clean = [s for s in cands if not s.anomalies]
            pool = clean if clean and rng.random() < 0.8 else cands
            for _ in range(20):
                s = pool[int(rng.integers(len(pool)))]
                a = self.place(s, kind, rng)
                if a:
                    s.anomalies.append(a)
                    placed += 1
                    break
        return placed

    def place(self, s: Series, kind: str, rng):
        sev = float(rng.random())
        bad = self.decoy_block(s)
        for a in s.anomalies:
            bad[max(0, a["start"] - 60):a["end"] + 60] = True
        if s.monthly:
            # onset in the first 10 days of a month, months 6 .. N_MONTHS-4
            ok = ~bad & (self.cal.dom <= 10) & (MONTH >= 6) & (MONTH <= N_MONTHS - 4)
            ln = int(rng.integers(90, 181)) if kind == "ramp" else 2
            ok &= (np.arange(N) + ln) < MONTH_END[N_MONTHS - 2]
        else:
            ln = {"spike": int(rng.choice([1, 1, 1, 2, 3])), "ramp": int(rng.integers(14, 57)),
                  "variance": int(rng.integers(21, 71))}.get(kind, 15)
            ok = ~bad & s.open & (np.arange(N) >= 90) & (np.arange(N) + ln + 20 < N)
            if s.kpi in ("counter_volume", "wait_mean") or (s.kpi == "complaints" and s.level == "branch"):
                ok &= self.cal.workday  # onsets on ordinary working days of an operations series
        # no normal regime change inside the window (+ a margin): the label must be unambiguous
        reg = np.zeros(N, bool)
        for a0, b0, _ in s.regime + s.ignore:
            reg[max(0, a0 - 3):b0 + 4] = True
        span = 100 + ln if s.monthly else ln + 16
        cs = np.concatenate([[0], np.cumsum(reg)])
        i = np.arange(N)
        ok &= (cs[np.minimum(N, i + span + 1)] - cs[i]) == 0
        if kind == "ratio_jump" or (s.kpi == "overdue_rate" and kind == "level_shift"):
            lau = s.params.get("launch")
            if lau:
                ok[max(0, lau[0] - 90):lau[0] + lau[1] + 90] = False
        idx = np.flatnonzero(ok)
        if not len(idx):
            return None
        st = int(idx[int(rng.integers(len(idx)))])
        if kind == "spike":
            # consecutive open days, and the day after is open too (the window's +1 day holds data)
            for _ in range(40):
                days = np.arange(st, st + ln)
                if s.open[days].all() and s.open[st + ln] and ok[days].all():
                    break
                st = int(idx[int(rng.integers(len(idx)))])
            else:
                return None
            end = int(days[-1])
        else:
            days = np.array([st])
            end = st + ln - 1
        return {"kind": kind, "start": st, "end": end, "days": days.tolist(), "len": ln, "sev": sev}

    # ---------------------------------------------------------------------------------- simulation
    def simulate(self):
        rng = self.rng
        for s in self.series:
            s.protect = np.zeros(N, bool)
            for a in s.anomalies:
                s.protect[a["days"]] = True
                s.protect[a["start"]:a["start"] + 3] = True
            if s.monthly:
                for a in s.anomalies:
                    mi = MONTH[a["start"]]
                    s.protect[MONTH_END[mi:mi + 3]] = True
            getattr(self, "sim_" + s.kpi)(s, rng)

    def _anom_logs(self, s: Series, day_sd: float = 0.0):
        """Log-level factor, extra log-noise multiplier and ramp factor from the series' anomalies."""
        lvl = np.zeros(N)
        noise_mult = np.ones(N)
        for a in s.anomalies:
            k, st, sev = a["kind"], a["start"], a["sev"]
            if k == "spike":
                continue
            if k == "level_shift":
                if s.kpi == "counter_volume":
                    f = rng_uniform_sev(sev, 0.82, 0.6) if not a.get("up") else rng_uniform_sev(sev, 1.25, 1.5)
                elif s.kpi == "wait_mean":
                    f = rng_uniform_sev(sev, 1.3, 1.8)
                else:
                    f = rng_uniform_sev(sev, 1.8, 3.0)
                # at least 1-2.5 daily sd of the series' own noise (small branches are noisy)
                low = (1.0 + 1.5 * sev) * day_sd
                if abs(math.log(f)) < low:
                    f = math.exp(math.copysign(low, math.log(f)))
                lvl[st:] += math.log(f)
                a["factor"] = f
            elif k == "ramp":
                f = rng_uniform_sev(sev, 1.35, 2.0) if s.kpi == "wait_mean" else rng_uniform_sev(sev, 2.0, 3.0)
                ln = a["len"]
                lvl[st:st + ln] += math.log(f) * (np.arange(1, ln + 1) / ln)
                lvl[st + ln:] += math.log(f)
                a["factor"] = f
            elif k == "variance":
                m = rng_uniform_sev(sev, 2.0, 4.0)
                noise_mult[st:a["end"] + 1] = m
                a["factor"] = m
        return lvl, noise_mult

    def sim_counter_volume(self, s: Series, rng):
        cal = self.cal
        b: Branch | None = s.params.get("branch")
        for a in s.anomalies:
            if a["kind"] == "level_shift":
                a["up"] = bool(rng.random() < 0.2)
        if b is not None:
            mu, sd, df, late = b.mu, b.log_noise_sd, b.df, b.late
            arr = ar1(rng, N, 0.6, 0.04)
        else:
            mu, sd, df, late = s.params["mu"], s.params["sd"], s.params["df"], s.params["late"]
            arr = ar1(rng, N, 0.6, 0.02)
        lvl, nm = self._anom_logs(s, math.sqrt(sd ** 2 + 1 / float(np.median(mu[s.open]))))
        noise = tnoise(rng, N, df) * sd - 0.5 * sd ** 2 + arr
        # variance anomaly: extra noise so that the day-to-day sd *including* the Poisson part grows x m
        tot = np.sqrt(sd ** 2 + 1 / np.maximum(mu, 1.0))
        extra = np.sqrt(np.maximum(nm ** 2 - 1, 0)) * tot
        noise += tnoise(rng, N, df) * extra - 0.5 * extra ** 2
        lam = mu * np.exp(lvl + noise)
        for nx in self.outage_next:
            lam[nx] *= rng.uniform(1.15, 1.3)
        for a in s.anomalies:
            if a["kind"] == "spike":
                f = rng_uniform_sev(a["sev"], 0.55, 0.1)
                lost = lam[a["days"]].sum() * (1 - f)
                lam[a["days"]] *= f
                nxt = np.flatnonzero(s.open[a["days"][-1] + 1:])
                if len(nxt):  # part of the turned-away customers come back on the next open day
                    lam[a["days"][-1] + 1 + nxt[0]] += lost * rng.uniform(0.2, 0.5)
                a["factor"] = f
        val = rng.poisson(lam).astype(float)
        val[~s.open] = 0.0
        # late reporting: the first (low) value is what the file holds
        late_mask = np.zeros(N, bool)
        if late:
            lo, hi = (0.75, 0.92) if b is None else (0.25, 0.75)
            p_month = 0.25 if b is None else 0.5
            for m in range(N_MONTHS):
                if rng.random() < p_month:
                    k = int(rng.integers(1, 4)) if b is not None else 1
                    days = np.flatnonzero(np.equal(MONTH, m) & s.open & (cal.me_rank >= 0) & (cal.me_rank < k))
                    late_mask[days] = True
            late_mask |= (rng.random(N) < 0.004) & s.open
            late_mask &= ~s.protect
            val[late_mask] = np.floor(val[late_mask] * rng.uniform(lo, hi, int(late_mask.sum())))
        s.effects["late_report"] = late_mask
        s.value = val
        s.row = s.open | s.zero_closed
        self.outage_and_missing(s, rng)

    def sim_wait_mean(self, s: Series, rng):
        p = s.params
        b: Branch = p["branch"]
        lvl, nm = self._anom_logs(s, p["sd"])
        ratio = np.where(b.open, b.params["load"], 1.0)
        sd = p["sd"]
        noise = tnoise(rng, N, p["df"]) * sd * nm - 0.5 * (sd * nm) ** 2
        short = rng.random(N) < 0.025
        noise[short] += np.log(rng.uniform(1.5, 2.1, int(short.sum())))
        w = p["w0"] * np.power(np.clip(ratio, 0.45, 3.0), p["gamma"]) * np.exp(p["staff"] + lvl + noise)
        for a in s.anomalies:
            if a["kind"] == "spike":
                f = rng_uniform_sev(a["sev"], 1.8, 3.5)
                w[a["days"]] *= f
                a["factor"] = f
        w = np.round(np.clip(w, 1.0, 240), 1)
        s.value = w
        s.row = b.open.copy()
        s.open = b.open.copy()
        # effects that move the wait by less than ~7 % are not visible: drop them day by day
        gl = p["gamma"] * np.abs(np.log(np.clip(ratio, 0.45, 3.0)))
        for k in ("post_holiday", "holiday", "month_end", "quarter_end", "year_end", "pension_day"):
            s.effects[k] = s.effects[k] & (gl > 0.07)
        s.effects.pop("campaign", None)
        self.outage_and_missing(s, rng)

    def sim_complaints(self, s: Series, rng):
        p = s.params
        lvl, _ = self._anom_logs(s)
        mu = p["mu"] * np.exp(lvl)
        storm = np.zeros(N)
        for a in s.anomalies:
            if a["kind"] == "spike":
                base = float(np.mean(p["mu"][p["mu"] > 0]))
                extra = rng_uniform_sev(a["sev"], max(4, 4 * base), max(15, 10 * base)) \
                    if s.level == "branch" else base * rng_uniform_sev(a["sev"], 2, 5)
                storm[a["days"]] += extra * np.where(np.arange(len(a["days"])) == 0, 1.0, 0.5)
                a["factor"] = extra
        k = p["k"]
        lam = rng.gamma(k, np.where(mu > 0, mu / k, 1.0)) * (mu > 0)
        # the storm's complaints come on top of the day's ordinary (overdispersed) count
        val = (rng.poisson(lam) + np.maximum(rng.poisson(storm), np.ceil(0.6 * storm))).astype(float)
        s.value = val
        s.row = s.open | s.zero_closed
        self.outage_and_missing(s, rng, outage=False)

    def sim_overdue_rate(self, s: Series, rng):
        cal, p = self.cal, s.params
        n0, p0 = p["n0"], p["p0"]
        # denominator: drift + small random walk + optional launch of a consumer-loan product
        rw = np.cumsum(rng.normal(0, 0.0015, N))
        old = n0 * np.exp(p["growth"] * T_YEARS + rw - rw[0])
        new = np.zeros(N)
        if p["launch"]:
            st, dur, m = p["launch"]
            t = np.arange(N)
            new = old * m / (1 + np.exp(-(t - (st + dur / 2)) / (dur / 8)))
            new[:st] = 0
        den = np.round(old + new)
        seasoned = np.concatenate([np.zeros(240), new[:-240]])
        exposure = old + seasoned
        drift = np.exp(np.cumsum(rng.normal(0, 0.004, N)) * 0.8)
        prate = p0 * drift
        q = np.full(N, 1 / p["tau"])
        q[cal.q_push] *= p["push"]
        cyc = np.where(cal.dom == p["due"] + 1, 2.5, 1.0)
        cyc = cyc / cyc.mean()
        cyc[cal.q_rebound] *= 1.0 + (p["push"] - 1) * 0.6
        lam = prate * exposure * (1 / p["tau"]) * cyc
        # anomalies: extra persistent overdue loans (a pool that cures only over months)
        pool_in = np.zeros(N)
        ramp_mult = np.zeros(N)
        for a in s.anomalies:
            st, sev = a["start"], a["sev"]
            # never below 2.5-4 sd of the book's own Poisson noise (sqrt of the expected overdue count)
            floor = math.sqrt(prate[st] * den[st]) / den[st]
            if a["kind"] == "ratio_jump":
                d = max(rng_uniform_sev(sev, 0.003, 0.010), 6 / den[st], (2.5 + 1.5 * sev) * floor)
                ndays = int(rng.integers(1, 3))
                pool_in[st:st + ndays] += d * den[st] / ndays
            elif a["kind"] == "level_shift":
                d = max(rng_uniform_sev(sev, 0.005, 0.015), 6 / den[st], (2.5 + 1.5 * sev) * floor)
                ndays = int(rng.integers(3, 11))
                pool_in[st:st + ndays] += d * den[st] / ndays
            elif a["kind"] == "ramp":
                d = max(rng_uniform_sev(sev, 0.003, 0.012), 6 / den[st], (3.0 + 1.5 * sev) * floor)
                ln = a["len"]
                pool_in[st:st + ln] += d * den[st] / ln
                ramp_mult[st:st + ln] = 1
            a["factor"] = d
        pool_q = 1 / rng.uniform(150, 400)
        o = int(rng.poisson(prate[0] * exposure[0]))
        pool = 0.0
        num = np.empty(N)
        arrivals = rng.poisson(lam)
        for i in range(N):
            num[i] = o + round(pool)
            cure = rng.binomial(o, min(1.0, q[i]))
            o = o - cure + int(arrivals[i])
            pool = pool * (1 - pool_q) + pool_in[i]
        num = np.minimum(num, den)
        rate = num / den
        if s.monthly:
            vals = np.full(N, np.nan)
            vals[MONTH_END] = rate[MONTH_END]
            s.row = np.zeros(N, bool)
            s.row[MONTH_END] = True
        else:
            vals = rate
            s.row = np.ones(N, bool)
        s.value = vals
        s.denom = den
        s.open = s.row.copy()
        if p["small"]:
            self.small_den_effect(s, rate)
        self.outage_and_missing(s, rng, outage=False)

    def small_den_effect(self, s: Series, rate):
        w = 6 if s.monthly else 90
        idx = MONTH_END if s.monthly else np.arange(N)
        r = rate[idx]
        h = w // 2
        padded = np.concatenate([np.full(h, np.nan), r, np.full(h, np.nan)])
        med = np.nanmedian(np.lib.stride_tricks.sliding_window_view(padded, 2 * h + 1), axis=1)
        off = np.abs(r - med) > 0.5 * np.maximum(med, 1e-4)
        m = np.zeros(N, bool)
        m[idx[off]] = True
        s.effects["small_denominator"] = m

    def sim_npl_ratio(self, s: Series, rng):
        p = s.params
        m = np.arange(N_MONTHS)
        mon = (m % 12) + 1
        logb = p["growth"] * m / 12 + np.cumsum(rng.normal(0, 0.004, N_MONTHS))
        logb[mon == 3] += 0.01  # the March lending push (开门红)
        bal = p["b0"] * np.exp(logb)
        r = np.empty(N_MONTHS)
        x = p["r0"]
        for i in range(N_MONTHS):
            x = x + 0.12 * (p["r0"] - x) + rng.normal(0, p["sd"])
            adj = 0.0
            if mon[i] in (3, 6, 9):
                adj = -rng.uniform(0.0002, 0.0006)
            elif mon[i] == 12:
                adj = -rng.uniform(0.0008, 0.0018)
            elif mon[i] in (1, 2):
                x += rng.uniform(0.0002, 0.0005)
            if mon[i] in (4, 7, 10):
                x += rng.uniform(0.0001, 0.0003)
            r[i] = x + adj
            if mon[i] == 12:
                x += adj * 0.7  # most of the write-off stays written off
        extra = np.zeros(N_MONTHS)
        for a in s.anomalies:
            mi = MONTH[a["start"]]
            if a["kind"] == "ratio_jump":
                d = rng_uniform_sev(a["sev"], 0.0006, 0.0030)
                extra[mi:] += d
            else:  # ramp
                ln = max(3, round(a["len"] / 30))
                per = rng_uniform_sev(a["sev"], 0.0004, 0.0010)
                extra[mi:mi + ln] += per * np.arange(1, ln + 1)[: len(extra[mi:mi + ln])]
                extra[mi + ln:] += per * ln
                a["len_months"] = ln
            a["factor"] = d if a["kind"] == "ratio_jump" else per
        r = np.clip(r + extra, 0.001, 0.2)
        vals = np.full(N, np.nan)
        vals[MONTH_END] = r
        den = np.full(N, np.nan)
        den[MONTH_END] = np.round(bal)
        s.value, s.denom = vals, den
        s.row = np.zeros(N, bool)
        s.row[MONTH_END] = True
        s.open = s.row.copy()
        self.outage_and_missing(s, rng, outage=False)

    def outage_and_missing(self, s: Series, rng, outage=True):
        """Bank-wide outages (daily operations series) and random missing days: omitted rows or empty values."""
        empty = np.zeros(N, bool)
        if outage:
            mode_empty = rng.random() < 0.5
            om = np.zeros(N, bool)
            for o, nx in zip(self.outages, self.outage_next, strict=True):
                if s.row[o]:
                    if mode_empty:
                        empty[o] = True
                    else:
                        s.row[o] = False
                    om[o:nx + 1] = True
            s.effects["outage"] = om & s.open
        p_miss = rng.uniform(0.003, 0.015) if not s.monthly else 0.015
        miss = (rng.random(N) < p_miss) & s.row & s.open & ~s.protect  # a closed day has nothing to lose
        how = rng.random(N) < 0.5
        empty |= miss & how
        s.row &= ~(miss & ~how)
        s.value = s.value.astype(float)
        s.value[empty] = np.nan

    # ---------------------------------------------------------------------------------- outputs
    def labels(self, s: Series):
        out = []
        for a in sorted(s.anomalies, key=lambda a: a["start"]):
            k, st = a["kind"], a["start"]
            if s.monthly:
                mi = MONTH[st]
                if k == "ramp":
                    ln = a.get("len_months", max(3, round(a["len"] / 30)))
                    b = MONTH_END[min(N_MONTHS - 1, mi + ln - 1)]
                else:
                    b = MONTH_END[min(N_MONTHS - 1, mi + 2)]
                a0 = MONTH_END[mi]
            elif k == "spike":
                a0, b = st, a["days"][-1] + 1
            elif k in ("level_shift", "ratio_jump"):
                a0, b = st, st + 14
            elif k == "ramp":
                a0, b = st, a["end"]
            else:
                a0, b = st, min(a["end"], st + 29)
            a0, b = clamp_span(int(a0), int(b))
            out.append([ISO[a0], ISO[b], k])
        return out

    def decoys(self, s: Series):
        present = s.row & ~np.isnan(s.value)
        spans = []
        for k in sorted(s.effects):
            for a, b in mask_spans(s.effects[k], present):
                spans.append((a, b, k))
        for a, b, k in s.regime:
            b = min(b, N - 1)
            if a < N and (present[a:b + 1].any() or k == "renovation"):
                spans.append((a, b, k))
        spans = sorted(set(spans))
        return [[ISO[a], ISO[b], k] for a, b, k in spans]

    def ignores(self, s: Series):
        return [[ISO[a], ISO[min(b, N - 1)], k] for a, b, k in sorted(set(s.ignore)) if a < N]


def rng_uniform_sev(sev, lo, hi):
    """Map a severity draw in [0, 1] onto [lo, hi] (lo = subtle end)."""
    return lo + (hi - lo) * sev


# --------------------------------------------------------------------------------------------------
# entry point
# --------------------------------------------------------------------------------------------------
def _fmt_value(s: Series, v: float) -> str:
    if math.isnan(v):
        return ""
    if s.kind == "count":
        return f"{v:.0f}"
    if s.kind == "duration":
        return f"{v:.1f}"
    return f"{v:.6f}"


def generate(seed: int, out: Path) -> dict:
    """Write one benchmark instance for ``seed`` into ``out``; return a summary dict."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    bank = Bank(seed)
    bank.build()
    bank.assign_anomalies()
    bank.simulate()
    labels, decoys, ignore, npts, meta = {}, {}, {}, {}, {}
    win_kinds: dict[str, int] = {}
    dec_kinds: dict[str, int] = {}
    total_points = 0
    with open(out / "series.csv", "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["date", "series", "value", "denominator", "kind"])
        for s in sorted(bank.series, key=lambda s: s.sid):
            idx = np.flatnonzero(s.row)
            for i in idx.tolist():
                v = float(s.value[i])
                den = "" if s.denom is None or math.isnan(s.denom[i]) else f"{s.denom[i]:.0f}"
                w.writerow([ISO[i], s.sid, _fmt_value(s, v), den, s.kind])
            n = int(np.sum(~np.isnan(s.value[idx])))
            npts[s.sid] = n
            total_points += n
            labels[s.sid] = bank.labels(s)
            decoys[s.sid] = bank.decoys(s)
            ignore[s.sid] = bank.ignores(s)
            meta[s.sid] = {"kpi": s.kpi, "kind": s.kind, "freq": s.freq, "unit": s.unit, "level": s.level}
            for x in labels[s.sid]:
                win_kinds[x[2]] = win_kinds.get(x[2], 0) + 1
            for x in decoys[s.sid]:
                dec_kinds[x[2]] = dec_kinds.get(x[2], 0) + 1
    meta.update({"_generator": "A", "_seed": seed, "_description": DESCRIPTION})
    for name, obj in (("labels", labels), ("decoys", decoys), ("ignore", ignore), ("n_points", npts),
                      ("meta", meta)):
        with open(out / f"{name}.json", "w", encoding="utf-8") as f:
            json.dump(obj, f, ensure_ascii=False, indent=1, sort_keys=True)
    return {
        "seed": seed,
        "series": len(bank.series),
        "points": total_points,
        "windows": dict(sorted(win_kinds.items())),
        "n_windows": sum(win_kinds.values()),
        "anomalous_series": sum(1 for v in labels.values() if v),
        "decoys": dict(sorted(dec_kinds.items())),
        "ignore_spans": sum(len(v) for v in ignore.values()),
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--out", type=Path, required=True)
    a = ap.parse_args(argv)
    t0 = time.perf_counter()
    summary = generate(a.seed, a.out)
    summary["seconds"] = round(time.perf_counter() - t0, 2)
    json.dump(summary, sys.stdout, indent=1, ensure_ascii=False)
    print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
