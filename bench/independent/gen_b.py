"""Independent benchmark generator "B": a bottom-up process simulation of a Chinese bank's branch KPIs.

Generator B does not draw "baseline x pattern + noise". It simulates the processes that produce the
numbers - customers arriving at counters, tellers serving them, loans being granted, repaid, missed
and cured, regional credit quality - and reads the KPI series off those processes. Anomalies and
normal regime changes are changes *to the processes* (a competitor takes customers, tellers leave, an
approval process fails), not shapes pasted onto a curve. Everything is driven by one
``numpy.random.default_rng(seed)``; run ``python bench/independent/gen_b.py --seed 7 --out DIR``.

World (drawn per seed)
----------------------
4 regions x 8 branches (b01..b32). Per branch: a type (CBD 30 %, community 40 %, suburban 30 %); a
size (working-day volume 25-500 tickets, log-uniform: a 20x range); Saturday opening (80 % of
community branches, 50 % of the others); Sunday opening (30 % of branches above 250 tickets);
holiday duty (值班网点, 20 %: open on official holiday days except the first two of Spring Festival
and National Day, at 30 % of a normal day); a closed-day style fixed per branch (no row, 70 %, or a
0 row, 30 %); counter windows sized for a utilisation of 0.52-0.70 (at least 2); a loan book
(60-5,000 active loans log-uniform, or 30-250 for a quarter of the branches) with its own overdue
level (0.6-3.5 %), reported daily (16 branches) or monthly (16).

Calendar: the official holiday / 调休 days from ``data/reference/cn_holidays_2023_2026.csv``
(``day_type`` = ``holiday_off`` / ``adjusted_workday``). A holiday block = a run of non-working days
containing an official holiday. After a block of >= 3 days the backlog makes the first working day
x1.3-1.5 (Spring Festival / National Day x1.55-2.0), the next two x1.15 and x1.05; the two working
days before are x1.12, and the two weeks before Spring Festival x1.10. A 调休 day is a working day
for every branch, busy like a Monday (x1.15). A day's demand is capped at 2.1x a normal day.

Behaviour models
----------------
* counter_volume (count, daily, branch; region and bank totals): arrivals are negative binomial,
  Poisson(lambda x Gamma(k, 1/k)) with k = 25-80, and lambda = size x weekday(type) x calendar x
  month season (Jan 1.08 ... Jul/Aug 0.94, Dec 1.06) x secular trend (-10 %..+2 % a year: customers
  move off the counter) x regime x exp(AR(1) demand, phi 0.6, sigma 0.06). Weekday weights Mon
  1.12-1.22, Tue 1, Wed/Thu 0.95-0.98, Fri 1.08-1.15, Sat 0.35-0.75 by type. Month-end (last 2
  working days) x1.15, quarter-end x1.25, year-end (last 3 working days of December) x1.30; pay days
  (10th, 15th) x1.08; pension days (first 3 working days: x1.45, 1.25, 1.10) at community branches.
  Closed days: no row or 0 (per branch). Common random numbers (pre-drawn uniforms fed to exact
  Poisson / Binomial quantiles) couple the runs with and without anomalies (see labelling).
* wait_mean (duration, minutes, daily, branch): windows scheduled = nominal x (expected load)^0.6
  (managers open more windows on busy days they can foresee, never enough), minus Binomial absences
  (3-8 % a day; at least one window stays open). Utilisation rho = volume / (windows x 55-75 tickets
  per window-day), capped at 0.92; wait = w0 (4.5-9 min) + k (2.5-5 min) x rho^2 / (1 - rho), times
  lognormal noise with sigma 0.10 + 0.8 / sqrt(volume) (small branches noisier), at most 120 min.
  Median ~9 min, 90th percentile ~17, 99th ~50: a short-staffed day doubles the wait.
* complaints (count, daily, branch; region 95xxx hotline and online channels): negative binomial
  (Gamma shape 2) with mean 2-6 per 1,000 tickets x (volume / size)^0.6 x (1 + 0.06 x minutes of
  wait above 15) on open days, 25 % of the branch's base on closed days (hotline complaints about
  the branch). Hotline: 1.2 per 1,000 region tickets (7-day mean) + 0.5, weekends x0.7, holidays
  x0.5; online: 2-6 a day, backlog days higher. Two bank-wide fee / policy changes a run raise all
  complaint series by 50-100 %, decaying over three weeks (a normal event: decoy
  ``policy_change``).
* overdue_rate (rate, daily or monthly, branch; monthly region and bank totals; value = overdue
  loans / active loans, denominator = active loans): a daily stock-flow simulation with Binomial
  transitions of four stocks. Originations on working days (the book drifts -5..+12 % a year);
  young loans (seasoning 1/120 a day, hazard x0.15); seasoned loans (repaid at 1/700-1/1,100 a day,
  roll into overdue at hazard h); overdue loans (cure 1/25 a day, x2.5 on the last 3 days of each
  month - the collection push, so month-end snapshots dip - and charged off 1/180 a day); "bad
  batch" overdue loans (cure or write-off 1/500 a day). h is set so that the stationary rate is the
  branch's level; a regional monthly AR(1) macro factor (sigma 5 %) and a post-Spring-Festival bump
  (x1.08 in Feb-Mar) move it. Monthly series are the month-end snapshot. Books of 30-250 loans jump
  by whole loans (decoy ``small_denominator`` where the rate moves >= 0.5 pp with fewer than 300
  loans).
* npl_ratio (rate, monthly, region and bank; value = NPL balance / loan balance, denominator =
  loan balance in 万元, 20-150 亿 per region): balance grows 0.3-0.8 % a month; NPL inflow =
  downgrade rate x balance (x1.3 January, x1.2 February, lognormal 12 %, the macro factor);
  recoveries 3.5 % of NPL a month; write-offs at quarter-end (Mar 3 %, Jun 5 %, Sep 3 %, Dec 8 %)
  give the normal dips (decoy ``writeoff``). Level 1.2-2.0 %, +1-5 bp a month, quarter-end -3 to
  -15 bp.
* Totals: region / bank counter volume = the sum of the branches' *reported* values (a closed
  branch counts 0; an open branch without a value makes the total an empty value; no row when no
  branch is open). Region / bank overdue and bank NPL = ledger aggregates (sum of numerators / sum
  of denominators) of their parts.

Normal regime changes (decoys; the first 7 days / first month after onset go to ignore.json)
---------------------------------------------------------------------------------------------
``launch`` (3 a run; volume +20-60 % for 3-8 weeks, windows x sqrt(1 + uplift); originations
x5-8 for 100-180 days: the book roughly doubles and the overdue rate dips while the new loans
season, then climbs back - decoy until 120 days after the originations end); ``campaign`` (3; +20-50
% for 2-6 weeks, originations x1.5; a third of them region-wide); ``renovation`` (3; closed 7-28
days, reopens at the old level with a x1.3 backlog for two days); ``relocation`` (2; closed 2 days,
then volume x0.65-1.45 for good, windows re-planned); ``staffing`` (3; a window added or removed
for good: waits move); ``policy_change`` (2, complaints). No change starts inside a holiday block or
on the 3 working days after it.

Reporting layer (identical in every run)
----------------------------------------
Counter-system outages: 0-3 spans of 1-4 days per branch (volume and wait; rows omitted or empty
values, per branch); loan-batch outages 0-2 spans of 1-3 days (daily overdue); random missing
points (0.1 % omitted + 0.1 % empty per series); late reporting: 30 % of branches report the last
1-3 working days of ~40 % of months at 50-85 % of the true volume, and every branch does so on
~0.4 % of days at 40-85 % (decoy ``late_report``; the totals inherit the low value); 2 % of
monthly branch overdue values unknown. Empty values and omitted rows both occur.

Anomalies (labelled) and magnitudes
------------------------------------
* spike - volume collapse on a working day (network / power failure: demand x0.10-0.45, waits
  x1.6); queue-system failure (wait x1.8-3.0 on 1-3 days, fading); complaint storm after a service
  incident (+6-20 on day 1, then half and a quarter); overdue batch-job error (reported overdue
  count x1.8-3.0, at least +3 loans, on 1-2 days; daily series); NPL misclassification (+15-35 bp
  for one month, corrected the next; 60 % of runs); online-banking app outage (+20-80 online and
  30 % of that on the hotline, 1-2 days). Window: the day(s) + 1 day; monthly: month-end + 1 day.
* level_shift - competitor opens nearby (arrivals x0.60-0.80 for good); a teller window lost
  (capacity x0.70-0.85 for 3-6 months, then restored: a ``staffing`` decoy); mis-selling / a rude
  manager (complaints x1.8-2.6 for 4-10 weeks, at branches with >= 0.8 complaints a day); approval-process failure (hazard up so the rate ends
  +0.5-1.5 pp higher, 60 % of it arriving at once as a bad batch; stays); a large corporate default
  (region NPL +15-40 bp, stays); collection-agency harassment (hotline x1.5-2.2 for 6-12 weeks).
  Window onset .. +14 days; monthly: onset month .. +2 months.
* ramp - tellers leaving (capacity falls 20-35 % linearly over 2-8 weeks, stays low for 2-4 months,
  then the branch hires back over 2 weeks: a normal ``staffing`` decoy); local economic
  deterioration (overdue hazard rises linearly until the rate is +0.5-1.5 pp: 3-8 weeks daily, 3-6
  months monthly; the window ends 18 days after the hazard stops rising, when the stock catches
  up); a regional industry downturn (extra NPL inflow ramping up for 3-6 months, +20-50 bp, tapering
  over 2 months). Window onset .. end of the ramp.
* variance - erratic opening hours / staffing (volume x a lognormal factor so that day-to-day
  swings grow 2-3.5x; branches above 60 tickets); unstable queue system (extra lognormal noise: the waits' day-to-day swings x2-4);
  unstable overdue feed (a sub-ledger dropped or doubled: reported count x exp(N(0, 0.35)); daily),
  3-8 weeks. Window: the span, its first 30 days if longer.
* ratio_jump - a batch default (a guarantee circle, one employer's payroll loans): +0.4-1.2 pp of
  the book becomes overdue in one day and stays, on a book of >= 400 loans with no launch in the
  months around it, so the denominator is flat while the numerator jumps. Window like level_shift.
Overdue anomalies are at least 2.5 (ramps 3) binomial standard deviations of the branch's rate
(at most 3 pp), so they are actionable rather than lost in small-book noise. Anomalies on one
branch's operations (or its loan book, or a region's NPL / channels) never overlap in time.

Labelling by counterfactual re-simulation
-----------------------------------------
Three runs share every random number: no regime changes and no anomalies (run 0), regime changes
only (run 1), everything (run 2). Each anomaly is labelled on the series it is aimed at. Its effect
on the other series it can reach through the processes (volume -> waits -> complaints -> hotline,
branch -> region -> bank totals, loan book -> region / bank overdue, region NPL -> bank NPL) is
run 2 - run 1 over the event's span, net of the difference already present before onset, in units
of the series' robust noise (MAD of same-weekday differences; monthly: month-to-month; counts: at
least sqrt(mean) and 1). The series
gets the same kind and window when the mean effect is >= 1 unit (spike: the largest >= 3; variance:
the spread >= 1.5; never variance on complaint counts); a weaker but real effect (>= 0.4 / 1.5 /
0.6) becomes an ignore span (``weak_secondary_effect``: a flag there is neither right nor wrong),
and so do the two weeks after a temporary level shift ends and the month after a monthly spike
(``anomaly_end``: the return to normal).
Regime-change decoys spread the same way with run 1 - run 0 (mean >= 0.5 units or a day >= 2).
Ignore spans never overlap a label window of their series; all spans are clipped to the series'
first and last row, and decoy / ignore spans without any row of the series are dropped.
Lost tellers / windows that are hired back add a ``staffing`` decoy with its ignore week.
151 series a run; seeds 1-8 give 31-43 windows on 28-34 series (about 80 % of the series are clean).

Outputs (``generate``): series.csv (date,series,value,denominator,kind), labels.json,
decoys.json, ignore.json, n_points.json, meta.json - see the project brief for the format.
"""
from __future__ import annotations

import argparse
import csv
import json
import math
import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import numpy as np
from scipy import special, stats

ROOT = Path(__file__).resolve().parents[2]
HOLIDAY_CSV = ROOT / "data" / "reference" / "cn_holidays_2023_2026.csv"
D0 = date(2023, 1, 1)
D1 = date(2025, 12, 31)
T = (D1 - D0).days + 1
N_REGIONS = 4
PER_REGION = 8
NB = N_REGIONS * PER_REGION
LABEL_KINDS = ("spike", "level_shift", "ramp", "variance", "ratio_jump")

def _pois_q(u: np.ndarray, lam: np.ndarray) -> np.ndarray:
    """Poisson quantile of pre-drawn uniforms (common random numbers across simulation runs).

    Smallest k with P(X <= k) >= u: a Cornish-Fisher start, then exact steps with the CDF.
    """
    lam = np.broadcast_to(np.asarray(lam, float), u.shape)
    lam = np.maximum(lam, 1e-12)
    z = special.ndtri(np.clip(u, 1e-12, 1 - 1e-12))
    k = np.maximum(np.floor(lam + np.sqrt(lam) * z + (z * z - 1) / 6), 0)
    for _ in range(200):
        low = special.pdtr(k, lam) < u
        if not low.any():
            break
        k = k + low
    for _ in range(200):
        high = (k > 0) & (special.pdtr(k - 1, lam) >= u)
        if not high.any():
            break
        k = k - high
    return k


def _binom_q(u: np.ndarray, n: np.ndarray, p) -> np.ndarray:
    """Binomial quantile of pre-drawn uniforms; 0 where n == 0 or p == 0."""
    n = np.asarray(n, float)
    p = np.broadcast_to(np.asarray(p, float), n.shape)
    out = np.zeros(n.shape)
    m = (n > 0) & (p > 0)
    out[m] = _BINOM_PPF(u[m], n[m], np.minimum(p[m], 1.0))
    return np.clip(out, 0, n)


# the distribution's private quantile kernel skips scipy's per-call argument checks (10x faster in the
# daily loan-book loop); fall back to the public API if a scipy version lacks them
_BINOM_PPF = getattr(stats.binom, "_ppf", stats.binom.ppf)  # noqa: B009


DESCRIPTION = (
    "Generator B: bottom-up process simulation (negative-binomial arrivals on the real CN holiday/调休 "
    "calendar, a staffing/queue relation for waits, a Binomial stock-flow loan book for overdue rates, "
    "regional monthly NPL with quarter-end write-offs); anomalies are process changes; secondary "
    "effects labelled by counterfactual re-simulation with common random numbers."
)


# ------------------------------------------------------------------------------------------------
# calendar
# ------------------------------------------------------------------------------------------------
class Calendar:
    def __init__(self, path: Path = HOLIDAY_CSV):
        self.dates = [D0 + timedelta(days=i) for i in range(T)]
        self.iso = [d.isoformat() for d in self.dates]
        self.dow = np.array([d.weekday() for d in self.dates])
        self.hol = np.zeros(T, bool)
        self.adj = np.zeros(T, bool)
        self.hname = [""] * T
        with open(path, encoding="utf-8-sig", newline="") as f:
            for row in csv.DictReader(f):
                d = date.fromisoformat(row["date"])
                if not D0 <= d <= D1:
                    continue
                i = (d - D0).days
                if row["day_type"] == "holiday_off":
                    self.hol[i] = True
                    self.hname[i] = row["holiday_name_zh"]
                elif row["day_type"] == "adjusted_workday":
                    self.adj[i] = True
        self.work = ((self.dow < 5) & ~self.hol) | self.adj
        self.month = np.array([(d.year - 2023) * 12 + d.month - 1 for d in self.dates])
        self.nm = int(self.month.max()) + 1
        self.month_end = np.array([int(np.nonzero(self.month == m)[0].max()) for m in range(self.nm)])
        # holiday blocks: runs of non-working days containing an official holiday day
        self.blocks: list[tuple[int, int, str]] = []
        i = 0
        while i < T:
            if not self.work[i]:
                j = i
                while j + 1 < T and not self.work[j + 1]:
                    j += 1
                if self.hol[i:j + 1].any():
                    name = next(self.hname[k] for k in range(i, j + 1) if self.hname[k])
                    self.blocks.append((i, j, name))
                i = j + 1
            else:
                i += 1
        self.work_idx = np.nonzero(self.work)[0]
        # last working days of each month
        self.me_days: dict[int, list[int]] = {}
        for m in range(self.nm):
            w = [int(t) for t in self.work_idx if self.month[t] == m]
            self.me_days[m] = w[-3:] if m % 12 == 11 else w[-2:]
        self.first_work: dict[int, list[int]] = {
            m: [int(t) for t in self.work_idx if self.month[t] == m][:3] for m in range(self.nm)}

    def next_work(self, t: int, k: int = 0) -> int:
        """The k-th working day after index t (k=0: the first working day > t)."""
        pos = int(np.searchsorted(self.work_idx, t, side="right")) + k
        return int(self.work_idx[min(pos, len(self.work_idx) - 1)])

    def prev_work(self, t: int, k: int = 0) -> int:
        pos = int(np.searchsorted(self.work_idx, t, side="left")) - 1 - k
        return int(self.work_idx[max(pos, 0)])

    def month_of(self, t: int) -> int:
        return int(self.month[min(max(t, 0), T - 1)])


# ------------------------------------------------------------------------------------------------
# world
# ------------------------------------------------------------------------------------------------
@dataclass
class Branch:
    idx: int
    bid: str
    region: int
    typ: str
    size: float
    sat_open: bool
    sun_open: bool
    duty: bool
    closed_zero: bool
    windows: int
    cap: float
    w0: float
    kq: float
    p_abs: float
    cmp_rate: float
    kdisp: float
    trend: float
    dow: np.ndarray
    loans0: int
    od_level: float
    od_freq: str
    repay: float
    growth: float
    late_prone: bool
    outage_empty: bool


@dataclass
class Event:
    name: str               # process name
    label: str | None       # anomaly kind (None for a normal regime change)
    decoy: str | None       # decoy kind for normal regime changes
    scope: str              # branch / region / bank
    unit: int               # branch or region index (0 for bank)
    t0: int                 # first day of the process change
    t1: int                 # last day of the active change (permanent changes: T - 1)
    mag: float
    extra: dict = field(default_factory=dict)
    target: str = ""        # kpi the event is aimed at


def _draw_world(rng: np.random.Generator) -> list[Branch]:
    branches = []
    types = ["cbd", "community", "suburban"]
    for b in range(NB):
        r = b // PER_REGION
        typ = types[int(rng.choice(3, p=[0.3, 0.4, 0.3]))]
        size = float(np.exp(rng.uniform(np.log(25), np.log(500))))
        if typ == "cbd":
            dow = [1.22, 1.0, 0.95, 0.96, 1.15, rng.uniform(0.35, 0.5), 0.3]
        elif typ == "community":
            dow = [1.12, 1.0, 0.97, 0.98, 1.08, rng.uniform(0.6, 0.75), 0.45]
        else:
            dow = [1.18, 1.0, 0.95, 0.96, 1.12, rng.uniform(0.5, 0.65), 0.4]
        cap = float(rng.uniform(55, 75))
        rho_t = float(rng.uniform(0.52, 0.70))
        windows = max(2, int(round(size * 1.15 / (cap * rho_t))))   # a branch has >= 2 counters
        n_loans = int(np.exp(rng.uniform(np.log(60), np.log(5000)))) if rng.random() > 0.25 else \
            int(rng.uniform(30, 250))
        branches.append(Branch(
            idx=b, bid=f"b{b + 1:02d}", region=r, typ=typ, size=size,
            sat_open=bool(rng.random() < (0.8 if typ == "community" else 0.5)),
            sun_open=bool(size > 250 and rng.random() < 0.3),
            duty=bool(rng.random() < 0.2), closed_zero=bool(rng.random() < 0.3),
            windows=windows, cap=cap, w0=float(rng.uniform(4.5, 9)), kq=float(rng.uniform(2.5, 5)),
            p_abs=float(rng.uniform(0.03, 0.08)), cmp_rate=float(rng.uniform(2, 6)) / 1000,
            kdisp=float(rng.uniform(25, 80)), trend=float(rng.uniform(-0.10, 0.02)),
            dow=np.array(dow), loans0=max(30, n_loans), od_level=float(rng.uniform(0.006, 0.035)),
            od_freq="daily" if b % 2 == 0 else "monthly", repay=1 / float(rng.uniform(700, 1100)),
            growth=float(rng.uniform(-0.05, 0.12)) / 365, late_prone=bool(rng.random() < 0.3),
            outage_empty=bool(rng.random() < 0.5)))
    # shuffle which branches report the overdue rate daily (not strictly alternating)
    perm = rng.permutation(NB)
    for k, b in enumerate(perm):
        branches[b].od_freq = "daily" if k < NB // 2 else "monthly"
    return branches


class Scheduler:
    """Keeps per-unit busy intervals so that events on one branch/region do not overlap."""

    def __init__(self):
        self.busy: dict[tuple[str, int], list[tuple[int, int]]] = {}

    def free(self, key, a, b):
        return all(b < x or a > y for x, y in self.busy.get(key, []))

    def take(self, key, a, b):
        self.busy.setdefault(key, []).append((a, b))


def _draw_events(rng, cal: Calendar, br: list[Branch]) -> list[Event]:
    ev: list[Event] = []
    sch = Scheduler()

    # no change starts inside a holiday block or on the 3 working days after it (the backlog days):
    # those days already look unusual, and an onset there would make the label ambiguous
    avoid = np.zeros(T, bool)
    for a, b, _name in cal.blocks:
        avoid[a:b + 1] = True
        avoid[b + 1:cal.next_work(b, 2) + 1] = True

    def place(cands, dur, lo=60, hi=T - 45, gap=40, tries=300, workday=True, keyf=None):
        for _ in range(tries):
            u = int(rng.choice(cands))
            t0 = int(rng.integers(lo, hi - dur))
            if workday:
                t0 = cal.next_work(t0 - 1)
            if avoid[t0]:
                continue
            key = keyf(u) if keyf else ("b", u)
            if sch.free(key, t0 - gap, t0 + dur + gap):
                sch.take(key, t0 - gap, t0 + dur + gap)
                return u, t0
        return None

    allb = list(range(NB))
    big_book = [b for b in allb if br[b].loans0 >= 400]
    daily_book = [b for b in big_book if br[b].od_freq == "daily"]

    def add(name, label, decoy, cands, dur, mag, target, scope="branch", extra=None, permanent=False,
            lo=60, hi=T - 45, workday=True, keyf=None, gap=40):
        p = place(cands, dur, lo=lo, hi=hi, workday=workday, keyf=keyf, gap=gap)
        if p is None:
            return None
        u, t0 = p
        e = Event(name, label, decoy, scope, u, t0, T - 1 if permanent else t0 + dur - 1, float(mag),
                  dict(extra or {}), target)
        ev.append(e)
        return e

    # ---- normal regime changes (loan-book launches get their own key: they last months) ---------
    for _ in range(3):
        dur = int(rng.integers(21, 57))
        odur = int(rng.integers(100, 181))
        e = add("launch", None, "launch", allb, dur, rng.uniform(0.2, 0.6), "counter_volume",
                extra={"orig_mult": float(rng.uniform(5, 8)), "orig_days": odur}, hi=T - 200)
        if e:
            sch.take(("loan", e.unit), e.t0 - 60, e.t0 + odur + 200)
    for _ in range(3):
        dur = int(rng.integers(14, 43))
        if rng.random() < 0.35:
            r = int(rng.integers(N_REGIONS))
            t0 = cal.next_work(int(rng.integers(80, T - 80)))
            while avoid[t0]:
                t0 = cal.next_work(t0 + 7)
            for b in range(r * PER_REGION, (r + 1) * PER_REGION):
                if sch.free(("b", b), t0 - 10, t0 + dur + 10):
                    sch.take(("b", b), t0 - 10, t0 + dur + 10)
                    ev.append(Event("campaign", None, "campaign", "branch", b, t0, t0 + dur - 1,
                                    float(rng.uniform(0.2, 0.5)), {"region_wide": True}, "counter_volume"))
        else:
            add("campaign", None, "campaign", allb, dur, rng.uniform(0.2, 0.5), "counter_volume")
    for _ in range(3):
        dur = int(rng.integers(7, 29))
        add("renovation", None, "renovation", allb, dur, 1.3, "counter_volume", gap=50)
    for _ in range(2):
        add("relocation", None, "relocation", allb, 2, rng.uniform(0.65, 1.45), "counter_volume",
            permanent=True, gap=70)
    for _ in range(3):
        cands = [b for b in allb if br[b].windows >= 3]
        add("staffing", None, "staffing", cands, 1, float(rng.choice([-1, 1])), "wait_mean",
            permanent=True, gap=60)
    # bank-wide fee / policy changes
    for t0 in sorted(rng.choice(np.arange(90, T - 60), size=2, replace=False)):
        t0 = cal.next_work(int(t0))
        while avoid[t0]:
            t0 = cal.next_work(t0 + 7)
        ev.append(Event("policy", None, "policy_change", "bank", 0, t0, t0 + 20,
                        float(rng.uniform(0.5, 1.0)), {}, "complaints"))

    # ---- anomalies ----------------------------------------------------------------------------
    def n(k):
        return max(0, k + int(rng.integers(-1, 2)))

    for _ in range(n(2)):
        add("competitor", "level_shift", None, allb, 60, rng.uniform(0.20, 0.40), "counter_volume",
            permanent=True)
    for _ in range(n(2)):
        add("collapse", "spike", None, allb, 1, rng.uniform(0.10, 0.45), "counter_volume")
    for _ in range(n(1)):
        add("erratic", "variance", None, [b for b in allb if br[b].size > 60], int(rng.integers(21, 57)),
            rng.uniform(2.0, 3.5), "counter_volume")
    for _ in range(n(2)):
        add("queue_fail", "spike", None, allb, int(rng.integers(1, 4)), rng.uniform(1.8, 3.0), "wait_mean")
    for _ in range(n(2)):
        L, H = int(rng.integers(14, 57)), int(rng.integers(60, 121))
        e = add("staff_loss", "ramp", None, [b for b in allb if br[b].windows >= 3], L + H + 14,
                rng.uniform(0.20, 0.35), "wait_mean", hi=T - 60)
        if e:      # label: the ramp; then the branch stays short for H days and hires back
            e.t1 = e.t0 + L - 1
            e.extra["restore"] = e.t0 + L + H
    for _ in range(n(1)):
        H = int(rng.integers(90, 181))
        e = add("window_loss", "level_shift", None, [b for b in allb if br[b].windows >= 3], H + 7,
                rng.uniform(0.15, 0.30), "wait_mean", hi=T - 60)
        if e:
            e.t1 = e.t0 + H - 1
            e.extra["restore"] = e.t0 + H
    for _ in range(n(2)):
        add("queue_unstable", "variance", None, allb, int(rng.integers(21, 57)), rng.uniform(2.0, 4.0),
            "wait_mean")
    for _ in range(n(2)):
        add("incident", "spike", None, allb, int(rng.integers(1, 4)), rng.uniform(6, 20), "complaints")
    chatty = [b for b in allb if br[b].cmp_rate * br[b].size >= 0.8] or allb
    for _ in range(n(2)):
        add("misselling", "level_shift", None, chatty, int(rng.integers(28, 71)), rng.uniform(1.8, 2.6),
            "complaints")
    loan_key = lambda u: ("loan", u)  # noqa: E731
    for _ in range(n(2)):
        add("approval_fail", "level_shift", None, big_book, 60, rng.uniform(0.005, 0.015), "overdue_rate",
            permanent=True, keyf=loan_key, gap=90)
    for _ in range(n(2)):
        e = add("deterioration", "ramp", None, big_book, 60, rng.uniform(0.005, 0.015), "overdue_rate",
                permanent=True, keyf=loan_key, gap=120, hi=T - 200)
        if e:
            e.extra["ramp_days"] = int(rng.integers(21, 57)) if br[e.unit].od_freq == "daily" else \
                int(rng.integers(90, 181))
    for _ in range(n(2)):
        add("batch_default", "ratio_jump", None, big_book, 60, rng.uniform(0.004, 0.012), "overdue_rate",
            permanent=True, keyf=loan_key, gap=120)
    for _ in range(n(1)):
        add("od_batch_error", "spike", None, daily_book, int(rng.integers(1, 3)), rng.uniform(1.8, 3.0),
            "overdue_rate", keyf=loan_key, workday=False)
    for _ in range(n(1)):
        add("od_feed_unstable", "variance", None, daily_book, int(rng.integers(21, 57)), 0.35,
            "overdue_rate", keyf=loan_key, workday=False)
    reg = list(range(N_REGIONS))
    npl_key = lambda u: ("npl", u)  # noqa: E731
    month_lo, month_hi = 90, T - 100
    e = add("corp_default", "level_shift", None, reg, 30, rng.uniform(0.0015, 0.004), "npl_ratio",
            scope="region", permanent=True, keyf=npl_key, workday=False, lo=month_lo, hi=month_hi, gap=150)
    e = add("industry_down", "ramp", None, reg, 150, rng.uniform(0.002, 0.005), "npl_ratio", scope="region",
            permanent=True, keyf=npl_key, workday=False, lo=month_lo, hi=T - 250, gap=150)
    if e:
        e.extra["ramp_months"] = int(rng.integers(3, 7))
    if rng.random() < 0.6:
        add("npl_misclass", "spike", None, reg, 30, rng.uniform(0.0015, 0.0035), "npl_ratio",
            scope="region", keyf=npl_key, workday=False, lo=month_lo, hi=month_hi, gap=150)
    chan_key = lambda u: ("chan", u)  # noqa: E731
    for _ in range(n(1)):
        add("app_outage", "spike", None, reg, int(rng.integers(1, 3)), rng.uniform(20, 80), "complaints",
            scope="region", keyf=chan_key, workday=False)
    for _ in range(n(1)):
        add("collection_agency", "level_shift", None, reg, int(rng.integers(42, 85)), rng.uniform(1.5, 2.2),
            "complaints", scope="region", keyf=chan_key)
    # overdue anomalies must stand out of the book's binomial noise (an analyst would otherwise not act):
    # at least 2.5 (ramps 3) binomial standard deviations of the branch's overdue rate
    for e in ev:
        if e.target == "overdue_rate" and e.name in ("approval_fail", "deterioration", "batch_default"):
            b = br[e.unit]
            sd = math.sqrt(b.od_level * (1 - b.od_level) / b.loans0)
            e.mag = float(min(max(e.mag, (3.0 if e.label == "ramp" else 2.5) * sd), 0.03))
    # normalise month-based events to month starts
    for e in ev:
        if e.name in ("corp_default", "industry_down", "npl_misclass"):
            m = cal.month_of(e.t0)
            e.extra["m0"] = m
            e.t0 = int(np.nonzero(cal.month == m)[0].min())
            if e.name == "npl_misclass":
                e.t1 = int(cal.month_end[m])
    return ev


@dataclass
class Noise:
    """Every random number the simulation consumes, drawn once per seed (common random numbers)."""
    u_vol: np.ndarray
    g_vol: np.ndarray
    ar: np.ndarray
    u_abs: np.ndarray
    z_wait: np.ndarray
    u_cmp: np.ndarray
    g_cmp: np.ndarray
    u_loan: np.ndarray       # (T, 8, NB)
    macro: np.ndarray        # (N_REGIONS, nm)
    npl_z: np.ndarray        # (N_REGIONS, nm, 3)
    u_chan: np.ndarray       # (2, N_REGIONS, T)
    g_chan: np.ndarray
    z_var: np.ndarray        # generic normal draws for variance events (NB, T)
    z_npl_growth: np.ndarray  # (N_REGIONS, nm)


def _draw_noise(rng, cal: Calendar, br: list[Branch]) -> Noise:
    kd = np.array([b.kdisp for b in br])[:, None]
    eps = rng.normal(0, 0.06, (NB, T))
    ar = np.zeros((NB, T))
    for t in range(1, T):
        ar[:, t] = 0.6 * ar[:, t - 1] + eps[:, t]
    macro = np.zeros((N_REGIONS, cal.nm))
    me = rng.normal(0, 0.05, (N_REGIONS, cal.nm))
    for m in range(1, cal.nm):
        macro[:, m] = 0.8 * macro[:, m - 1] + me[:, m]
    return Noise(
        u_vol=rng.random((NB, T)), g_vol=rng.gamma(kd, 1 / kd, (NB, T)), ar=ar,
        u_abs=rng.random((NB, T)), z_wait=rng.normal(0, 1, (NB, T)),
        u_cmp=rng.random((NB, T)), g_cmp=rng.gamma(2.0, 0.5, (NB, T)),
        u_loan=rng.random((T, 8, NB)), macro=macro, npl_z=rng.normal(0, 1, (N_REGIONS, cal.nm, 3)),
        u_chan=rng.random((2, N_REGIONS, T)), g_chan=rng.gamma(4.0, 0.25, (2, N_REGIONS, T)),
        z_var=rng.normal(0, 1, (NB, T)),
        z_npl_growth=rng.normal(0, 1, (N_REGIONS, cal.nm)))


@dataclass
class World:
    seed: int
    cal: Calendar
    br: list[Branch]
    ev: list[Event]
    noise: Noise
    post: np.ndarray        # calendar factor common to all branches
    npl_params: list[dict]
    chan_online: np.ndarray
    rep: dict               # reporting layer draws


def _calendar_factor(rng, cal: Calendar) -> np.ndarray:
    f = np.ones(T)
    for a, b, name in cal.blocks:
        if b - a + 1 >= 3:
            big = name.startswith("春节") or "国庆" in name
            first = rng.uniform(1.55, 2.0) if big else rng.uniform(1.3, 1.5)
            for k, mult in enumerate((first, 1.15, 1.05)):
                t = cal.next_work(b, k)
                if t > b:
                    f[t] *= mult
            for k in range(2):
                t = cal.prev_work(a, k)
                if t < a:
                    f[t] *= 1.12
            if name.startswith("春节"):
                for t in range(max(0, a - 14), a):
                    f[t] *= 1.10
    for m in range(cal.nm):
        mon = m % 12
        mult = 1.30 if mon == 11 else (1.25 if mon in (2, 5, 8) else 1.15)
        for t in cal.me_days[m]:
            f[t] *= mult
    for t, d in enumerate(cal.dates):
        if d.day in (10, 15) and cal.work[t]:
            f[t] *= 1.08
    season = np.array([1.08, 0.95, 1.03, 1.0, 0.98, 0.98, 0.94, 0.94, 1.0, 1.0, 1.02, 1.06])
    f *= season[cal.month % 12]
    return f


def build_world(seed: int) -> World:
    rng = np.random.default_rng(seed)
    cal = Calendar()
    br = _draw_world(rng)
    post = _calendar_factor(rng, cal)
    ev = _draw_events(rng, cal, br)
    noise = _draw_noise(rng, cal, br)
    npl_params = []
    for _ in range(N_REGIONS):
        npl_params.append({"bal0": float(rng.uniform(2e5, 1.5e6)), "g": float(rng.uniform(0.003, 0.008)),
                           "level": float(rng.uniform(0.012, 0.020))})
    chan_online = rng.uniform(2, 6, N_REGIONS)
    # reporting layer
    rep: dict = {"vol_out": np.zeros((NB, T), bool), "od_out": np.zeros((NB, T), bool),
                 "late": np.ones((NB, T)), "miss_v": np.zeros((NB, T), np.int8),
                 "miss_c": np.zeros((NB, T), np.int8), "miss_o": np.zeros((NB, T), np.int8),
                 "od_m_empty": rng.random((NB, cal.nm)) < 0.02}
    for b in range(NB):
        for _ in range(int(rng.integers(0, 4))):
            t0 = int(rng.integers(30, T - 10))
            rep["vol_out"][b, t0:t0 + int(rng.integers(1, 5))] = True
        for _ in range(int(rng.integers(0, 3))):
            t0 = int(rng.integers(30, T - 10))
            rep["od_out"][b, t0:t0 + int(rng.integers(1, 4))] = True
        for key in ("miss_v", "miss_c", "miss_o"):
            u = rng.random(T)
            rep[key][b] = np.where(u < 0.001, 1, np.where(u < 0.002, 2, 0))  # 1 omitted, 2 empty
        if br[b].late_prone:
            for m in range(cal.nm):
                if rng.random() < 0.4:
                    k = int(rng.integers(1, 4))
                    days = [int(t) for t in cal.work_idx if cal.month[t] == m][-k:]
                    for t in days:
                        rep["late"][b, t] = rng.uniform(0.5, 0.85)
        rnd = rng.random(T) < 0.004
        rep["late"][b, rnd] = rng.uniform(0.4, 0.85, int(rnd.sum()))
    # an anomaly's own days are reported (an outage on exactly the spike day would hide the label)
    for e in ev:
        if e.label is not None and e.scope == "branch":
            a, z = e.t0, (e.t1 + 2 if e.label == "spike" else e.t0 + 3)
            for key in ("vol_out", "od_out"):
                rep[key][e.unit, a:z] = False
            for key in ("miss_v", "miss_c", "miss_o"):
                rep[key][e.unit, a:z] = 0
            rep["late"][e.unit, a:z] = 1.0
    # no reporting artefacts in the first / last 5 days (keeps the series span intact)
    for key in ("vol_out", "od_out"):
        rep[key][:, :5] = False
        rep[key][:, -5:] = False
    for key in ("miss_v", "miss_c", "miss_o"):
        rep[key][:, :5] = 0
        rep[key][:, -5:] = 0
    return World(seed, cal, br, ev, noise, post, npl_params, chan_online, rep)


# ------------------------------------------------------------------------------------------------
# simulation
# ------------------------------------------------------------------------------------------------
def _active(e: Event, regime: bool, anom: bool) -> bool:
    return (e.label is None and regime) or (e.label is not None and anom)


def simulate(w: World, regime: bool, anom: bool) -> dict:
    cal, br, nz = w.cal, w.br, w.noise
    days = np.arange(T)
    years = days / 365.25
    size = np.array([b.size for b in br])[:, None]
    dowm = np.stack([b.dow[cal.dow] for b in br])
    lam = size * dowm * w.post[None, :] * np.exp(np.array([b.trend for b in br])[:, None] * years)
    # open days
    sat = np.array([b.sat_open for b in br])[:, None]
    sun = np.array([b.sun_open for b in br])[:, None]
    duty = np.array([b.duty for b in br])[:, None]
    weekend = ~cal.work & ~cal.hol
    is_open = np.broadcast_to(cal.work, (NB, T)).copy()
    is_open |= weekend & (cal.dow == 5) & sat
    is_open |= weekend & (cal.dow == 6) & sun
    hol_open = np.zeros(T, bool)
    for a, b, name in cal.blocks:
        skip = 2 if (name.startswith("春节") or "国庆" in name) else 0
        hol_open[a + skip:b + 1] = cal.hol[a + skip:b + 1]
    is_open |= duty & hol_open[None, :]
    lam = np.where(cal.adj[None, :], size * 1.15 * w.post[None, :], lam)
    lam = np.where(cal.hol[None, :], size * 0.3, lam)
    # pension days at community branches
    for b in br:
        if b.typ == "community":
            for m in range(cal.nm):
                for k, t in enumerate(cal.first_work[m]):
                    lam[b.idx, t] *= (1.45, 1.25, 1.1)[k]
    lam = np.minimum(lam, size * 2.1)          # a backlog day tops out around 2x a normal day
    expected = lam / size                      # what a manager can plan for
    vol_mult = np.ones((NB, T))
    cap_mult = np.ones((NB, T))
    win_add = np.zeros((NB, T))
    wait_mult = np.ones((NB, T))
    cmp_mult = np.ones((NB, T))
    cmp_add = np.zeros((NB, T))
    orig_mult = np.ones((NB, T))
    haz_mult = np.ones((NB, T))
    sticky_add = np.zeros((NB, T))             # fraction of the book defaulting at once
    chan_mult = np.ones((2, N_REGIONS, T))
    chan_add = np.zeros((2, N_REGIONS, T))
    npl_extra = {}
    backlog = np.ones((NB, T))
    for e in w.ev:
        if not _active(e, regime, anom):
            continue
        b, t0, t1 = e.unit, e.t0, e.t1
        if e.name == "launch":
            ramp = np.clip((days - t0 + 1) / 5, 0, 1) * e.mag
            vol_mult[b] *= np.where(days < t0, 1, np.where(days <= t1, 1 + ramp, 1 + 0.1 * e.mag))
            win_add[b] += np.where((days >= t0) & (days <= t1), br[b].windows * (np.sqrt(1 + e.mag) - 1), 0)
            od = e.extra["orig_days"]
            orig_mult[b, t0:t0 + od] *= e.extra["orig_mult"]
        elif e.name == "campaign":
            vol_mult[b, t0:t1 + 1] *= 1 + e.mag * np.clip((days[t0:t1 + 1] - t0 + 1) / 4, 0, 1)
            orig_mult[b, t0:t1 + 1] *= 1.5
        elif e.name == "renovation":
            is_open[b, t0:t1 + 1] = False
            cmp_mult[b, t0:t1 + 1] *= 0.3
            reopen = [t for t in range(t1 + 1, T) if is_open[b, t]][:2]
            for t in reopen:
                backlog[b, t] *= e.mag
        elif e.name == "relocation":
            is_open[b, t0:t0 + 2] = False
            vol_mult[b, t0 + 2:] *= e.mag
            win_add[b, t0 + 2:] += br[b].windows * (e.mag ** 0.8 - 1)
        elif e.name == "staffing":
            win_add[b, t0:] += e.mag
        elif e.name == "policy":
            k = np.clip(days - t0, 0, None)
            f = np.where((days >= t0) & (days <= t1), 1 + e.mag * np.exp(-k / 8), 1)
            cmp_mult *= f[None, :]
            chan_mult *= f[None, None, :]
        elif e.name == "competitor":
            vol_mult[b, t0:] *= 1 - e.mag
        elif e.name == "collapse":
            vol_mult[b, t0] *= e.mag
            wait_mult[b, t0] *= 1.6
        elif e.name == "erratic":
            cv0 = np.sqrt(1 / br[b].size + 1 / br[b].kdisp + 0.06 ** 2 / 0.64)
            s = cv0 * np.sqrt(e.mag ** 2 - 1)
            z = nz.z_var[b, t0:t1 + 1]
            vol_mult[b, t0:t1 + 1] *= np.exp(s * z - s * s / 2)
        elif e.name == "queue_fail":
            wait_mult[b, t0:t1 + 1] *= e.mag * np.array([1.0, 0.85, 0.7])[:t1 - t0 + 1]
        elif e.name == "staff_loss":
            prog = np.clip((days - t0) / max(1, t1 - t0), 0, 1)
            rec = np.clip((days - e.extra["restore"]) / 14, 0, 1)
            cap_mult[b] *= 1 - e.mag * prog * (1 - rec)
        elif e.name == "window_loss":
            rec = np.clip((days - e.extra["restore"]) / 7, 0, 1)
            cap_mult[b] *= 1 - e.mag * (days >= t0) * (1 - rec)
        elif e.name == "queue_unstable":
            # the queue system drops and re-issues tickets at random: extra day-to-day noise that
            # makes the waits' usual swings (about 25 % of the level) mag times larger
            sx = 0.25 * math.sqrt(e.mag ** 2 - 1)
            z = nz.z_var[b, t0:t1 + 1]
            wait_mult[b, t0:t1 + 1] *= np.clip(1 + sx * z, 0.3, None)
        elif e.name == "incident":
            L = t1 - t0 + 1
            cmp_add[b, t0:t1 + 1] += e.mag * np.array([1.0, 0.5, 0.25])[:L]
        elif e.name == "misselling":
            cmp_mult[b, t0:t1 + 1] *= e.mag
        elif e.name == "approval_fail":
            lvl = br[b].od_level
            haz_mult[b, t0:] *= 1 + 0.4 * e.mag / lvl
            sticky_add[b, t0] += 0.6 * e.mag
        elif e.name == "deterioration":
            L = e.extra["ramp_days"]
            prog = np.clip((days - t0) / L, 0, 1)
            haz_mult[b] *= 1 + (e.mag / br[b].od_level) * prog
        elif e.name == "batch_default":
            sticky_add[b, t0] += e.mag
        elif e.name == "app_outage":
            L = t1 - t0 + 1
            chan_add[1, b, t0:t1 + 1] += e.mag * np.array([1.0, 0.4])[:L]
            chan_add[0, b, t0:t1 + 1] += 0.3 * e.mag * np.array([1.0, 0.4])[:L]
        elif e.name == "collection_agency":
            chan_mult[0, b, t0:t1 + 1] *= e.mag
        elif e.name in ("corp_default", "industry_down", "npl_misclass"):
            npl_extra.setdefault(b, []).append(e)
    # ---- volume ---------------------------------------------------------------------------------
    lam_v = lam * vol_mult * backlog * np.exp(nz.ar - 0.06 ** 2 / 0.64 / 2)
    lam_v = np.where(is_open, lam_v, 0.0) * nz.g_vol
    vol = _pois_q(nz.u_vol, lam_v)
    # ---- waits ----------------------------------------------------------------------------------
    nom = np.array([b.windows for b in br], float)[:, None]
    plan = np.clip(expected * (vol_mult ** 0.5), 0.3, 3.0) ** 0.6
    sched = np.clip(np.round(nom * plan + win_add), 1, np.ceil(nom * 1.5 + 1))
    absent = _binom_q(nz.u_abs, sched, np.array([b.p_abs for b in br])[:, None] * np.ones((1, T)))
    present = np.maximum(sched - absent, 1.0)
    capday = present * np.array([b.cap for b in br])[:, None] * cap_mult
    rho = np.clip(vol / np.maximum(capday, 1e-9), 0, 0.92)
    w0 = np.array([b.w0 for b in br])[:, None]
    kq = np.array([b.kq for b in br])[:, None]
    sig = 0.10 + 0.8 / np.sqrt(np.maximum(vol, 1))
    wait = (w0 + kq * rho ** 2 / (1 - rho)) * np.exp(sig * nz.z_wait - sig ** 2 / 2) * wait_mult
    wait = np.minimum(wait, 120.0)
    wait = np.where(is_open & (vol > 0), wait, np.nan)
    # ---- complaints -----------------------------------------------------------------------------
    crate = np.array([b.cmp_rate for b in br])[:, None]
    rel = np.where(is_open, np.maximum(vol, 0) / size, 0.0)
    wx = np.nan_to_num(wait, nan=0.0)
    lam_c = crate * size * np.where(is_open, np.power(np.maximum(rel, 1e-6), 0.6), 0.25) \
        * (1 + 0.06 * np.maximum(wx - 15, 0)) * cmp_mult
    lam_c = lam_c * nz.g_cmp + cmp_add
    cmp = _pois_q(nz.u_cmp, lam_c)
    # ---- channels (region hotline / online) -------------------------------------------------------
    reg_vol = vol.reshape(N_REGIONS, PER_REGION, T).sum(1)
    wk = np.isfinite(wait).reshape(N_REGIONS, PER_REGION, T)
    wsum = np.nan_to_num(wait).reshape(N_REGIONS, PER_REGION, T).sum(1)
    reg_wait = np.where(wk.any(1), wsum / np.maximum(wk.sum(1), 1), 10.0)
    smooth = np.array([np.convolve(r, np.ones(7) / 7, mode="same") for r in reg_vol])
    dayf = np.where(cal.hol, 0.5, np.where(cal.work, 1.0, 0.7))
    hot = (0.0012 * smooth * (1 + 0.04 * np.maximum(reg_wait - 15, 0)) + 0.5) * dayf[None, :]
    onl = w.chan_online[:, None] * np.where(cal.work, 1.0, 0.8)[None, :] * np.ones((N_REGIONS, T))
    post_bump = np.clip(w.post, 1, None)
    onl = onl * post_bump[None, :]
    lam_ch = np.stack([hot, onl]) * chan_mult * w.noise.g_chan + chan_add
    chan = _pois_q(nz.u_chan, lam_ch)
    # ---- loan book ------------------------------------------------------------------------------
    npl_num, npl_den = _npl(w, npl_extra, anom)
    return {"open": is_open, "vol": vol, "wait": wait, "cmp": cmp, "npl_num": npl_num, "npl_den": npl_den,
            "chan": chan, "loan_in": (is_open, orig_mult, haz_mult, sticky_add)}


def simulate_runs(w: World, modes: list[tuple[bool, bool]]) -> list[dict]:
    """Run the simulation for several (regime, anomalies) modes; the loan books of all runs are
    stepped together (one vectorised daily loop), with the same random numbers."""
    runs = [simulate(w, regime, anom) for regime, anom in modes]
    stacked = [np.concatenate([r["loan_in"][k] for r in runs], axis=0) for k in range(4)]
    num, den = _loan_book(w, *stacked, reps=len(runs))
    for i, r in enumerate(runs):
        r["od_num"] = num[i * NB:(i + 1) * NB]
        r["od_den"] = den[i * NB:(i + 1) * NB]
        del r["loan_in"]
    return runs


def _loan_book(w: World, is_open, orig_mult, haz_mult, sticky_add, reps: int = 1):
    cal, nz = w.cal, w.noise
    br = w.br * reps
    nb = len(br)
    N0 = np.array([b.loans0 for b in br], float)
    lvl = np.array([b.od_level for b in br])
    repay = np.array([b.repay for b in br])
    g = np.array([b.growth for b in br])
    season_rate = 1 / 120
    cure, wo = 1 / 25, 1 / 180
    last3 = np.zeros(T, bool)
    for m in range(cal.nm):
        e = cal.month_end[m]
        last3[e - 2:e + 1] = True
    cure_t = np.where(last3, cure * 2.5, cure)
    c_avg = cure * (1 + 1.5 * 3 / 30.4)
    orig_cal = N0 * (repay + g + lvl * wo)          # loans a calendar day
    work_share = len(cal.work_idx) / T
    Y = orig_cal / season_rate
    S = N0 * (1 - lvl) - Y
    D = N0 * lvl
    h = lvl * (c_avg + wo) * N0 / (S + 0.15 * Y)
    # deterministic burn-in
    for _ in range(400):
        Yn = Y + orig_cal - Y * season_rate - Y * 0.15 * h
        Sn = S + Y * season_rate - S * repay - S * h + D * c_avg
        Dn = D + (S + 0.15 * Y) * h - D * (c_avg + wo)
        Y, S, D = Yn, Sn, Dn
    Y, S, D = np.round(Y), np.round(S), np.round(D)
    K = np.zeros(nb)                                   # sticky overdue (bad batch)
    num = np.zeros((nb, T))
    den = np.zeros((nb, T))
    reg = np.array([b.region for b in br])
    feb_mar = np.isin(cal.month % 12, (1, 2))
    bp = _binom_q
    for t in range(T):
        u = np.tile(nz.u_loan[t], (1, reps))
        macro = np.exp(nz.macro[reg, cal.month[t]]) * (1.08 if feb_mar[t] else 1.0)
        ht = np.clip(h * haz_mult[:, t] * macro, 0, 0.5)
        o_lam = orig_cal / work_share * orig_mult[:, t] * (cal.work[t] & is_open[:, t])
        orig = _pois_q(u[0], o_lam)
        seas = bp(u[1], Y, season_rate)
        ydef = bp(u[2], Y, ht * 0.15)
        rep = bp(u[3], S, repay)
        sdef = bp(u[4], S, ht)
        cur = bp(u[5], D, cure_t[t])
        wof = bp(u[6], D - cur, wo)
        kout = bp(u[7], K, 1 / 500)
        Y = Y + orig - seas - ydef
        S = S + seas - rep - sdef + cur
        D = D + ydef + sdef - cur - wof
        K = K - kout
        if sticky_add[:, t].any():
            act = Y + S + D + K
            n_new = np.round(sticky_add[:, t] * act)
            take = np.minimum(n_new, S)
            S = S - take
            K = K + take
        num[:, t] = D + K
        den[:, t] = Y + S + D + K
    return num, den


def _npl(w: World, extra: dict, anom: bool):
    cal, nz = w.cal, w.noise
    nm = cal.nm
    num = np.zeros((N_REGIONS, nm))
    den = np.zeros((N_REGIONS, nm))
    wo_rate = {2: 0.03, 5: 0.05, 8: 0.03, 11: 0.08}
    seas = {0: 1.3, 1: 1.2}
    for r, p in enumerate(w.npl_params):
        rec = 0.035
        avg_wo = sum(wo_rate.values()) / 12
        bias = (1 + 0.5 / 12) * math.exp(0.12 ** 2 / 2)       # mean of the seasonal and lognormal factors
        inflow_rate = p["level"] * (rec + avg_wo + p["g"]) / bias
        bal = p["bal0"]
        npl = p["level"] * bal
        sticky = 0.0
        mis = np.zeros(nm)
        ramp_extra = np.zeros(nm)
        jump = np.zeros(nm)
        for e in extra.get(r, []):
            m0 = e.extra["m0"]
            if e.name == "corp_default":
                jump[m0] += e.mag
            elif e.name == "npl_misclass":
                mis[m0] += e.mag
            elif e.name == "industry_down":
                L = e.extra["ramp_months"]
                q = 2 * e.mag / L                         # peak extra inflow (share of balance / month)
                for k in range(L):
                    ramp_extra[m0 + k] += q * (k + 1) / L
                for k in range(1, 3):
                    if m0 + L - 1 + k < nm:
                        ramp_extra[m0 + L - 1 + k] += q * (1 - k / 3)
        for m in range(nm):
            bal *= 1 + p["g"] + 0.002 * nz.z_npl_growth[r, m]
            infl = inflow_rate * seas.get(m % 12, 1.0) * np.exp(0.12 * nz.npl_z[r, m, 0]
                                                               + 0.5 * nz.macro[r, m]) * bal
            npl = npl + infl + ramp_extra[m] * bal - rec * npl
            npl -= wo_rate.get(m % 12, 0.0) * npl * np.exp(0.15 * nz.npl_z[r, m, 1])
            if jump[m]:
                sticky += jump[m] * bal
            sticky *= 0.99
            num[r, m] = npl + sticky + mis[m] * bal
            den[r, m] = bal
    return num, den


# ------------------------------------------------------------------------------------------------
# observation layer: what the bank's reports show
# ------------------------------------------------------------------------------------------------
@dataclass
class Obs:
    sid: str
    kpi: str
    kind: str
    freq: str
    unit: str
    level: str
    t: np.ndarray            # day index of each row
    v: np.ndarray            # value (nan = empty cell)
    den: np.ndarray | None = None
    scope: tuple = ()        # ("branch", b) / ("region", r) / ("bank", 0)
    decimals: int = 0


def observe(w: World, s: dict, anom: bool) -> dict[str, Obs]:
    cal, br, rep = w.cal, w.br, w.rep
    out: dict[str, Obs] = {}
    me = cal.month_end
    rvals = np.zeros((NB, T))               # reported volume (nan = no value for an open branch)
    rv_ok = np.zeros((NB, T), bool)
    # reporting anomalies on the loan side
    od_rep = s["od_num"].copy()
    npl_rep = s["npl_num"].copy()
    if anom:
        for e in w.ev:
            if e.name == "od_batch_error":
                od_rep[e.unit, e.t0:e.t1 + 1] = np.maximum(np.round(od_rep[e.unit, e.t0:e.t1 + 1] * e.mag),
                                                           od_rep[e.unit, e.t0:e.t1 + 1] + 3)
            elif e.name == "od_feed_unstable":
                z = w.noise.z_var[e.unit, e.t0:e.t1 + 1]
                od_rep[e.unit, e.t0:e.t1 + 1] = np.round(od_rep[e.unit, e.t0:e.t1 + 1] * np.exp(e.mag * z))
    for b in br:
        i, r = b.idx, b.region
        pre = f"B/%s/r{r + 1}/{b.bid}"
        op = s["open"][i]
        vol = s["vol"][i]
        late = rep["late"][i]
        vo = rep["vol_out"][i]
        mv = rep["miss_v"][i]
        # counter volume
        rows, vals = [], []
        for t in range(T):
            if op[t]:
                if vo[t] or mv[t]:
                    empty = (b.outage_empty if vo[t] else mv[t] == 2)
                    if empty:
                        rows.append(t)
                        vals.append(np.nan)
                    continue
                v = float(np.round(vol[t] * late[t])) if late[t] < 1 else vol[t]
                rows.append(t)
                vals.append(v)
                rvals[i, t] = v
                rv_ok[i, t] = True
            elif b.closed_zero:
                rows.append(t)
                vals.append(0.0)
                rv_ok[i, t] = True
            else:
                rv_ok[i, t] = True          # closed and omitted: counts 0 in the total
        out[pre % "counter_volume"] = Obs(pre % "counter_volume", "counter_volume", "count", "daily",
                                          "tickets/day", "branch", np.array(rows), np.array(vals),
                                          scope=("branch", i))
        # wait
        rows, vals = [], []
        wt = s["wait"][i]
        for t in range(T):
            if op[t] and not np.isnan(wt[t]):
                if vo[t] or mv[t]:
                    if (b.outage_empty if vo[t] else mv[t] == 2):
                        rows.append(t)
                        vals.append(np.nan)
                    continue
                rows.append(t)
                vals.append(round(float(wt[t]), 1))
        out[pre % "wait_mean"] = Obs(pre % "wait_mean", "wait_mean", "duration", "daily", "minutes",
                                     "branch", np.array(rows), np.array(vals), scope=("branch", i),
                                     decimals=1)
        # complaints (every day)
        mc = rep["miss_c"][i]
        keep = mc != 1
        vals = np.where(mc == 2, np.nan, s["cmp"][i])
        out[pre % "complaints"] = Obs(pre % "complaints", "complaints", "count", "daily", "complaints/day",
                                      "branch", np.nonzero(keep)[0], vals[keep], scope=("branch", i))
        # overdue rate
        sid = pre % "overdue_rate"
        if b.od_freq == "daily":
            mo = rep["miss_o"][i]
            oo = rep["od_out"][i]
            omit = (mo == 1) | (oo & ~b.outage_empty)
            empty = (mo == 2) | (oo & b.outage_empty)
            tt = np.nonzero(~omit)[0]
            den = s["od_den"][i, tt]
            v = od_rep[i, tt] / np.maximum(den, 1)
            v = np.where(empty[tt], np.nan, v)
            out[sid] = Obs(sid, "overdue_rate", "rate", "daily", "fraction (overdue loans / active loans)",
                           "branch", tt, v, den, scope=("branch", i))
        else:
            den = s["od_den"][i, me]
            v = od_rep[i, me] / np.maximum(den, 1)
            v = np.where(rep["od_m_empty"][i], np.nan, v)
            out[sid] = Obs(sid, "overdue_rate", "rate", "monthly", "fraction (overdue loans / active loans)",
                           "branch", me.copy(), v, den, scope=("branch", i))
    # ---- totals: counter volume -----------------------------------------------------------------
    def vol_total(idx, sid, level, scope):
        op = s["open"][idx].any(0)
        ok = rv_ok[idx].all(0)
        tot = rvals[idx].sum(0)
        tt = np.nonzero(op)[0]
        v = np.where(ok[tt], tot[tt], np.nan)
        out[sid] = Obs(sid, "counter_volume", "count", "daily", "tickets/day", level, tt, v, scope=scope)
    for r in range(N_REGIONS):
        idx = list(range(r * PER_REGION, (r + 1) * PER_REGION))
        vol_total(idx, f"B/counter_volume/r{r + 1}/total", "region", ("region", r))
    vol_total(list(range(NB)), "B/counter_volume/bank/total", "bank", ("bank", 0))
    # ---- totals: monthly overdue ----------------------------------------------------------------
    rn = s["od_num"][:, me].reshape(N_REGIONS, PER_REGION, -1).sum(1)
    rd = s["od_den"][:, me].reshape(N_REGIONS, PER_REGION, -1).sum(1)
    for r in range(N_REGIONS):
        sid = f"B/overdue_rate/r{r + 1}/total"
        out[sid] = Obs(sid, "overdue_rate", "rate", "monthly", "fraction (overdue loans / active loans)",
                       "region", me.copy(), rn[r] / rd[r], rd[r], scope=("region", r))
    sid = "B/overdue_rate/bank/total"
    out[sid] = Obs(sid, "overdue_rate", "rate", "monthly", "fraction (overdue loans / active loans)", "bank",
                   me.copy(), rn.sum(0) / rd.sum(0), rd.sum(0), scope=("bank", 0))
    # ---- NPL ------------------------------------------------------------------------------------
    nden = np.round(s["npl_den"], 2)
    unit = "fraction (NPL balance / loan balance, 万元)"
    for r in range(N_REGIONS):
        sid = f"B/npl_ratio/r{r + 1}/total"
        out[sid] = Obs(sid, "npl_ratio", "rate", "monthly", unit, "region", me.copy(),
                       npl_rep[r] / nden[r], nden[r], scope=("region", r))
    sid = "B/npl_ratio/bank/total"
    out[sid] = Obs(sid, "npl_ratio", "rate", "monthly", unit, "bank", me.copy(),
                   npl_rep.sum(0) / nden.sum(0), nden.sum(0), scope=("bank", 0))
    # ---- complaint channels ---------------------------------------------------------------------
    for c, name in enumerate(("hotline", "online")):
        for r in range(N_REGIONS):
            sid = f"B/complaints/r{r + 1}/{name}"
            out[sid] = Obs(sid, "complaints", "count", "daily", "complaints/day", "region",
                           np.arange(T), s["chan"][c, r].copy(), scope=("chan", r))
    return out


# ------------------------------------------------------------------------------------------------
# labels, decoys, ignore spans
# ------------------------------------------------------------------------------------------------
def _full(o: Obs) -> np.ndarray:
    x = np.full(T, np.nan)
    x[o.t] = o.v
    return x


def _scale(o: Obs, cal: Calendar) -> float:
    """Robust day-to-day noise of a series in the normal world (same weekday a week apart; monthly:
    month to month)."""
    x = _full(o)
    if o.freq == "monthly":
        d = np.diff(x[cal.month_end])
    else:
        if o.kpi in ("counter_volume", "wait_mean"):
            x = np.where(x > 0, x, np.nan)
        d = x[7:] - x[:-7]
    d = d[np.isfinite(d)]
    if len(d) < 5:
        return 1e-9
    mad = 1.4826 * float(np.median(np.abs(d - np.median(d)))) / math.sqrt(2)
    sc = max(mad, 0.5 * float(np.std(d)) / math.sqrt(2), 1e-9)
    if o.kind == "count":
        # counts: at least Poisson noise, and one complaint more or less is never a change
        lvl = float(np.nanmean(x)) if np.isfinite(x).any() else 0.0
        sc = max(sc, math.sqrt(max(lvl, 0.0)), 1.0)
    return sc


def _label_window(cal: Calendar, e: Event, kind: str, freq: str) -> tuple[int, int]:
    """Inclusive day-index bounds of the window in which a detection is timely."""
    me = cal.month_end
    m0 = cal.month_of(e.t0)
    if kind == "ramp":
        if e.name == "staff_loss":
            end = e.t1
        elif e.name == "deterioration":
            end = e.t0 + e.extra["ramp_days"] + 18     # the stock of overdue loans lags the hazard
        else:   # industry_down (monthly)
            end = int(me[min(m0 + e.extra["ramp_months"] - 1, cal.nm - 1)])
    if freq == "monthly":
        if kind == "spike":
            return int(me[m0]), int(me[m0]) + 1
        if kind in ("level_shift", "ratio_jump"):
            return int(me[m0]), int(me[min(m0 + 2, cal.nm - 1)])
        if kind == "ramp":
            m1 = max(cal.month_of(end), m0 + 1)
            return int(me[m0]), int(me[min(m1, cal.nm - 1)])
        return int(me[m0]), int(me[min(cal.month_of(e.t1), cal.nm - 1)])
    if kind == "spike":
        return e.t0, e.t1 + 1
    if kind in ("level_shift", "ratio_jump"):
        return e.t0, e.t0 + 14
    if kind == "ramp":
        return e.t0, end
    return e.t0, min(e.t1, e.t0 + 29)       # variance


def _eval_span(cal: Calendar, e: Event, kind: str) -> tuple[int, int]:
    if kind == "spike":
        return e.t0, min(e.t1 + 1, T - 1)
    if kind == "variance":
        return e.t0, e.t1
    if kind == "ramp":
        a, b = _label_window(cal, e, kind, "daily")
        return a, min(b + 30, T - 1)
    if e.t1 < T - 1:
        return e.t0, e.t1
    return e.t0, min(e.t0 + 59, T - 1)


def _effect(hi: Obs, lo: Obs, a: int, b: int, kind: str, scale: float, cal: Calendar) -> float:
    """Size of the change hi - lo over [a, b] in noise units, net of what was already there before a."""
    xh, xl = _full(hi), _full(lo)
    diff = xh - xl
    if hi.freq == "monthly":
        me = cal.month_end
        idx = me[(me >= a) & (me <= max(b, a))]
        if len(idx) == 0:
            idx = me[[cal.month_of(a)]]
        before = me[(me < a) & (me >= a - 100)]
    else:
        idx = np.arange(a, b + 1)
        before = np.arange(max(0, a - 30), a)
    d = diff[idx]
    d = d[np.isfinite(d)]
    if len(d) == 0:
        return 0.0
    pre = diff[before]
    pre = pre[np.isfinite(pre)]
    if len(pre) and kind != "variance":
        d = d - float(np.median(pre))
    if kind == "spike":
        return float(np.max(np.abs(d))) / scale
    if kind == "variance":
        return float(np.std(d)) / scale
    return abs(float(np.mean(d))) / scale


def _regime_spans(cal: Calendar, e: Event, freq: str, kpi: str):
    """(decoy spans, ignore spans, eval span) of a normal regime change for one series."""
    me = cal.month_end
    t0, t1 = e.t0, e.t1
    dec, ign = [], []
    if e.name == "launch":
        if kpi == "overdue_rate":
            end = min(t0 + e.extra["orig_days"] + 120, T - 1)
            ev = (t0, end)
        else:
            end = max(t1, t0 + 7)
            ev = (t0, t1)
        if freq == "monthly":
            m0, m1 = cal.month_of(t0), cal.month_of(end)
            ign.append((int(me[m0]), int(me[m0])))
            if m1 > m0:
                dec.append((int(me[m0 + 1]), int(me[m1])))
        else:
            ign.append((t0, t0 + 6))
            dec.append((t0 + 7, end))
    elif e.name in ("campaign", "policy"):
        ev = (t0, t1)
        if freq == "monthly":
            dec.append((int(me[cal.month_of(t0)]), int(me[cal.month_of(t1)])))
        else:
            dec.append((t0, t1))
    elif e.name == "renovation":
        ev = (t0, min(t1 + 21, T - 1))
        dec += [(t0, t1), (t1 + 8, t1 + 21)]
        ign.append((t1 + 1, t1 + 7))
    elif e.name == "relocation":
        ev = (t0, min(t0 + 61, T - 1))
        dec += [(t0, t0 + 1), (t0 + 9, t0 + 61)]
        ign.append((t0 + 2, t0 + 8))
    else:  # staffing
        ev = (t0, min(t0 + 59, T - 1))
        dec.append((t0 + 7, t0 + 59))
        ign.append((t0, t0 + 6))
    return dec, ign, ev


VOL_EVENTS = {"competitor", "collapse", "erratic", "launch", "campaign", "renovation", "relocation"}
WAIT_EVENTS = {"queue_fail", "staff_loss", "window_loss", "queue_unstable", "staffing"}
LOAN_EVENTS = {"approval_fail", "deterioration", "batch_default", "od_batch_error", "od_feed_unstable",
               "launch", "campaign"}


def _candidates(e: Event, obs: dict[str, Obs], br: list[Branch]) -> list[str]:
    """The series an event can reach through the simulated processes (its causal channels)."""
    if e.scope == "branch":
        b = br[e.unit]
        r = b.region + 1
        own = f"B/%s/r{r}/{b.bid}"
        out = []
        if e.name in VOL_EVENTS:
            out += [own % "counter_volume", own % "wait_mean", own % "complaints", f"B/counter_volume/r{r}/total",
                    "B/counter_volume/bank/total", f"B/complaints/r{r}/hotline"]
        if e.name in WAIT_EVENTS:
            out += [own % "wait_mean", own % "complaints", f"B/complaints/r{r}/hotline"]
        if e.name in ("incident", "misselling"):
            out += [own % "complaints"]
        if e.name in LOAN_EVENTS:
            out += [own % "overdue_rate", f"B/overdue_rate/r{r}/total", "B/overdue_rate/bank/total"]
        return list(dict.fromkeys(out))
    if e.target == "npl_ratio":
        return [f"B/npl_ratio/r{e.unit + 1}/total", "B/npl_ratio/bank/total"]
    if e.scope == "region":
        return [f"B/complaints/r{e.unit + 1}/hotline", f"B/complaints/r{e.unit + 1}/online"]
    return [s for s, o in obs.items() if o.kpi == "complaints"]


def _primary(e: Event, br: list[Branch]) -> str:
    if e.scope == "branch":
        b = br[e.unit]
        return f"B/{e.target}/r{b.region + 1}/{b.bid}"
    if e.target == "npl_ratio":
        return f"B/npl_ratio/r{e.unit + 1}/total"
    if e.scope == "region":
        return f"B/complaints/r{e.unit + 1}/{'online' if e.name == 'app_outage' else 'hotline'}"
    return ""


def _spans_from_mask(mask: np.ndarray, pad: int = 0) -> list[tuple[int, int]]:
    out = []
    t = 0
    n = len(mask)
    while t < n:
        if mask[t]:
            a = t
            while t + 1 < n and mask[t + 1]:
                t += 1
            out.append((a, min(t + pad, n - 1)))
        t += 1
    return out


def _calendar_decoys(cal: Calendar, o: Obs, br: list[Branch]) -> list[tuple[int, int, str]]:
    rows = np.zeros(T, bool)
    rows[o.t] = True
    out = []
    if o.freq == "monthly":
        if o.kpi == "npl_ratio":
            for m in range(cal.nm):
                if m % 3 == 2:
                    out.append((int(cal.month_end[m]), int(cal.month_end[m]), "writeoff"))
        return out
    if o.kpi == "overdue_rate":
        for m in range(cal.nm):
            e = int(cal.month_end[m])
            k = "year_end" if m % 12 == 11 else ("quarter_end" if m % 3 == 2 else "month_end")
            out.append((e - 2, e, k))
        return out
    for a, b, _name in cal.blocks:
        if rows[a:b + 1].any():
            out.append((a, b, "holiday"))
        if b - a + 1 >= 3:
            p0 = cal.next_work(b)
            if p0 > b:
                out.append((p0, cal.next_work(b, 2), "post_holiday"))
            if o.kpi != "complaints":
                out.append((cal.prev_work(a, 1), cal.prev_work(a), "pre_holiday"))
    for t in np.nonzero(cal.adj)[0]:
        if rows[t]:
            out.append((int(t), int(t), "adjusted_workday"))
    if o.kpi == "complaints":
        return out
    for m in range(cal.nm):
        d = cal.me_days[m]
        k = "year_end" if m % 12 == 11 else ("quarter_end" if m % 3 == 2 else "month_end")
        out.append((d[0], d[-1], k))
    if o.scope[0] == "branch" and br[o.scope[1]].typ == "community":
        for m in range(cal.nm):
            d = cal.first_work[m]
            out.append((d[0], d[-1], "pension_day"))
    return out


def build_annotations(w: World, o0: dict, o1: dict, o2: dict):
    """labels / decoys / ignore as day-index spans per series."""
    cal, br = w.cal, w.br
    labels: dict[str, list] = {s: [] for s in o2}
    decoys: dict[str, list] = {s: [] for s in o2}
    ignore: dict[str, list] = {s: [] for s in o2}
    scales = {s: _scale(o1[s], cal) for s in o1}
    diag = w.rep.setdefault("diag", [])
    for e in w.ev:
        cands = _candidates(e, o2, br)
        if e.label is None:
            prim = {"launch": "counter_volume", "campaign": "counter_volume", "renovation": "counter_volume",
                    "relocation": "counter_volume", "staffing": "wait_mean"}.get(e.name)
            for sid in cands:
                o = o2[sid]
                dec, ign, (a, b) = _regime_spans(cal, e, o.freq, o.kpi)
                is_prim = prim is not None and o.kpi == prim and o.level == "branch"
                is_chan = e.name == "policy" and o.level == "region"
                if not (is_prim or is_chan):
                    eff_m = _effect(o1[sid], o0[sid], a, b, "level_shift", scales[sid], cal)
                    eff_x = _effect(o1[sid], o0[sid], a, b, "spike", scales[sid], cal)
                    if eff_m < 0.5 and eff_x < 2.0:
                        continue
                decoys[sid] += [(x, y, e.decoy) for x, y in dec]
                reason = "renovation_reopen" if e.name == "renovation" else f"{e.name}_onset"
                ignore[sid] += [(x, y, reason) for x, y in ign]
            continue
        prim = _primary(e, br)

        def label(sid, o, win, e=e):
            labels[sid].append((*win, e.label))
            # the return to normal after a temporary anomaly is neither right nor wrong to flag
            if e.name in ("misselling", "collection_agency") and e.t1 + 1 < T:
                ignore[sid].append((e.t1 + 1, min(e.t1 + 14, T - 1), "anomaly_end"))
            r = e.extra.get("restore")
            if r is not None and r < T:      # hiring back is a normal staffing change
                ignore[sid].append((r, min(r + 6, T - 1), "staffing_onset"))
                decoys[sid].append((r + 7, min(r + 45, T - 1), "staffing"))
            if e.label == "spike" and o.freq == "monthly":
                m1 = min(cal.month_of(win[0]) + 1, cal.nm - 1)
                ignore[sid].append((int(cal.month_end[m1]), int(cal.month_end[m1]), "anomaly_end"))

        for sid in cands:
            o = o2[sid]
            win = _label_window(cal, e, e.label, o.freq)
            if sid == prim:
                label(sid, o, win)
                continue
            a, b = _eval_span(cal, e, e.label)
            nxt = [f.t0 for f in w.ev if f is not e and f.label and f.t0 > a and sid in _candidates(f, o2, br)]
            if nxt:
                b = min(b, min(nxt) - 1)
            eff = _effect(o2[sid], o1[sid], a, b, e.label, scales[sid], cal)
            strong, weak = {"spike": (3.0, 1.5), "variance": (1.5, 0.6)}.get(e.label, (1.0, 0.4))
            if e.label == "variance" and o.kpi == "complaints":
                strong = math.inf          # a 0-3 a day count cannot show a change of spread
            diag.append((sid, e.name, e.label, round(eff, 2)))
            if eff >= strong:
                label(sid, o, win)
            elif eff >= weak:
                ignore[sid].append((*win, "weak_secondary_effect"))
    # calendar and reporting decoys
    rep = w.rep
    for sid, o in o2.items():
        decoys[sid] += _calendar_decoys(cal, o, br)
        x = _full(o)
        rows = np.zeros(T, bool)
        rows[o.t] = True
        empt = rows & ~np.isfinite(x)
        decoys[sid] += [(a, b, "outage") for a, b in _spans_from_mask(empt)]
        if o.kpi == "counter_volume" and o.level == "branch":
            i = o.scope[1]
            late = (rep["late"][i] < 1) & rows & np.isfinite(x)
            decoys[sid] += [(a, b, "late_report") for a, b in _spans_from_mask(late)]
        if o.kpi == "counter_volume" and o.level != "branch":
            idx = range(NB) if o.level == "bank" else range(o.scope[1] * PER_REGION,
                                                               (o.scope[1] + 1) * PER_REGION)
            short = np.zeros(T)
            for i in idx:
                v = _full(o2[f"B/counter_volume/r{br[i].region + 1}/{br[i].bid}"])
                lt = rep["late"][i] < 1
                short += np.where(lt & np.isfinite(v), np.nan_to_num(v) * (1 / rep["late"][i] - 1), 0)
            mask = (short >= 0.5 * scales[sid]) & rows & np.isfinite(x)
            decoys[sid] += [(a, b, "late_report") for a, b in _spans_from_mask(mask)]
        if o.kpi == "overdue_rate" and o.den is not None:
            den = np.full(T, np.nan)
            den[o.t] = o.den
            if o.freq == "monthly":
                me = cal.month_end
                xm, dm = x[me], den[me]
                jump = np.abs(np.diff(xm)) >= 0.005
                small = dm[1:] < 300
                for k in np.nonzero(jump & small & np.isfinite(xm[1:]))[0]:
                    decoys[sid].append((int(me[k + 1]), int(me[k + 1]), "small_denominator"))
            else:
                dx = np.abs(np.diff(x))
                mask = np.zeros(T, bool)
                mask[1:] = (dx >= 0.005) & (den[1:] < 300)
                decoys[sid] += [(a, b, "small_denominator") for a, b in _spans_from_mask(mask, pad=1)]
    # a flag inside an ignore span is dropped by the harness: never let one cover part of a label window
    for sid in ignore:
        keep = []
        for a, b, k in ignore[sid]:
            if all(b < la or a > lb for la, lb, _ in labels[sid]):
                keep.append((a, b, k))
        ignore[sid] = keep
    return labels, decoys, ignore


# ------------------------------------------------------------------------------------------------
# output
# ------------------------------------------------------------------------------------------------
def _clip(spans, o: Obs, iso: list[str], need_rows: bool = True):
    """Spans clipped to the series' first..last row; decoy / ignore spans without a row are dropped
    (a decoy only where the series shows something)."""
    lo, hi = int(o.t.min()), int(o.t.max())
    cum = np.zeros(T + 1, int)
    np.add.at(cum, o.t + 1, 1)
    cum = np.cumsum(cum)
    out = set()
    for a, b, k in spans:
        a, b = max(int(a), lo), min(int(b), hi)
        if a <= b and (not need_rows or cum[b + 1] > cum[a]):
            out.add((a, b, k))
    return [[iso[a], iso[b], k] for a, b, k in sorted(out)]


def generate(seed: int, out: Path) -> dict:
    """Write one benchmark instance into ``out`` (series.csv, labels/decoys/ignore/n_points/meta.json)."""
    t_start = time.time()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    w = build_world(seed)
    cal = w.cal
    s0, s1, s2 = simulate_runs(w, [(False, False), (True, False), (True, True)])
    o0, o1, o2 = observe(w, s0, False), observe(w, s1, False), observe(w, s2, True)
    labels, decoys, ignore = build_annotations(w, o0, o1, o2)
    iso = cal.iso
    lab_j, dec_j, ign_j, npts, meta = {}, {}, {}, {}, {}
    n_rows = 0
    lines = ["date,series,value,denominator,kind\n"]
    for sid in sorted(o2):
        o = o2[sid]
        order = np.argsort(o.t, kind="stable")
        ts, vs = o.t[order], o.v[order]
        if o.kind == "count":
            vtxt = ["" if not math.isfinite(v) else str(int(round(v))) for v in vs.tolist()]
        elif o.kind == "duration":
            vtxt = ["" if not math.isfinite(v) else f"{v:.1f}" for v in vs.tolist()]
        else:
            vtxt = ["" if not math.isfinite(v) else f"{v:.10g}" for v in vs.tolist()]
        if o.den is None:
            dtxt = [""] * len(ts)
        elif o.kpi == "npl_ratio":
            dtxt = [f"{d:.2f}" for d in o.den[order].tolist()]
        else:
            dtxt = [str(int(round(d))) for d in o.den[order].tolist()]
        tail = f",{o.kind}\n"
        lines += [f"{iso[t]},{sid},{v},{d}{tail}" for t, v, d in zip(ts.tolist(), vtxt, dtxt, strict=True)]
        n_rows += len(o.t)
        npts[sid] = int(np.isfinite(o.v).sum())
        lab_j[sid] = _clip(labels[sid], o, iso, need_rows=False)
        dec_j[sid] = _clip(decoys[sid], o, iso)
        ign_j[sid] = _clip(ignore[sid], o, iso)
        meta[sid] = {"kpi": o.kpi, "kind": o.kind, "freq": o.freq, "unit": o.unit, "level": o.level}
    with open(out / "series.csv", "w", encoding="utf-8", newline="") as f:
        f.write("".join(lines))
    meta["_generator"] = "B"
    meta["_seed"] = seed
    meta["_description"] = DESCRIPTION
    for name, obj in (("labels.json", lab_j), ("decoys.json", dec_j), ("ignore.json", ign_j),
                      ("n_points.json", npts), ("meta.json", meta)):
        with open(out / name, "w", encoding="utf-8") as f:
            json.dump(obj, f, ensure_ascii=False, indent=1, sort_keys=True)
    win_kinds: dict[str, int] = {}
    for ws in lab_j.values():
        for _a, _b, k in ws:
            win_kinds[k] = win_kinds.get(k, 0) + 1
    dec_kinds: dict[str, int] = {}
    for ws in dec_j.values():
        for _a, _b, k in ws:
            dec_kinds[k] = dec_kinds.get(k, 0) + 1
    return {
        "generator": "B", "seed": seed, "series": len(o2), "rows": n_rows, "points": sum(npts.values()),
        "windows": sum(win_kinds.values()), "windows_by_kind": dict(sorted(win_kinds.items())),
        "labelled_series": sum(1 for v in lab_j.values() if v),
        "clean_series": sum(1 for v in lab_j.values() if not v),
        "decoys": dict(sorted(dec_kinds.items())), "ignore_spans": sum(len(v) for v in ign_j.values()),
        "seconds": round(time.time() - t_start, 2),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Generator B: process-simulated bank KPI benchmark instance.")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--out", type=Path, required=True)
    a = ap.parse_args(argv)
    print(json.dumps(generate(a.seed, a.out), ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
