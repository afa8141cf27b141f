"""Counter queue tickets (柜台排队叫号), one DataFrame per month, fully vectorised.

Volume = outlet base × weekday × day-of-month (月初平稳/月中激增/月末回落) × quarter × holiday rules.
Waits come from a fluid queue per outlet-day in 30-minute slots (backlog carried forward), so they
grow when arrivals outrun the staffed windows; a few outlets are chronically understaffed.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

HEADER = ["网点编号", "网点名称", "业务日期", "票号", "业务类型", "客户级别", "取号时间", "叫号时间",
          "开始办理时间", "完成时间", "窗口号", "柜员号", "状态", "等待时长(秒)", "办理时长(秒)"]

SERVICE_TYPES = np.array(["个人存取款", "对公业务", "理财业务", "个人外汇", "VIP"], dtype=object)
PREFIX = np.array(["A", "B", "C", "D", "V"], dtype=object)
TYPE_P = np.array([0.56, 0.15, 0.11, 0.05, 0.13])
SERVICE_MEDIAN_S = np.array([300.0, 560.0, 640.0, 480.0, 420.0])  # lognormal medians (seconds)
TIERS = np.array(["普通客户", "金卡客户", "白金客户", "钻石客户"], dtype=object)
STATUS_SERVED, STATUS_ABANDONED, STATUS_CANCELLED = "已办理", "过号", "退办"

OPEN_S = 9 * 3600
SLOT_MIN = 30
MEAN_SERVICE_MIN = 7.0
RHO0 = 0.68  # planned utilisation of the staffed windows on an average working day

_TIME_LUT = np.array([f"{h:02d}:{m:02d}:{s:02d}" for h in range(24) for m in range(60) for s in range(60)], dtype=object)
_NUM3 = np.array([f"{i:03d}" for i in range(10000)], dtype=object)
_NUM2 = np.array([f"{i:02d}" for i in range(100)], dtype=object)

WEEKDAY_MULT = np.array([1.18, 1.0, 0.95, 0.94, 1.06, 1.0, 1.0])
QUARTER_MULT = np.array([1.08, 0.97, 0.95, 1.04])


def _dom_mult(dom: np.ndarray, days_in_month: np.ndarray) -> np.ndarray:
    """月初平稳, 月中激增, 月末回落: smooth bump peaking mid-month."""
    x = (dom - 1) / (days_in_month - 1)
    return 0.9 + 0.24 * np.exp(-((x - 0.5) ** 2) / (2 * 0.15**2))


def _intraday_cdf(open_min: int) -> np.ndarray:
    """Arrival CDF per minute after 09:00: peaks 09:30–11:00 and 14:00–15:30, lunch dip."""
    t = np.arange(open_min) + 0.5
    dens = (0.75 + 1.0 * np.exp(-((t - 75) ** 2) / (2 * 38**2)) + 0.85 * np.exp(-((t - 345) ** 2) / (2 * 40**2))
            - 0.15 * np.exp(-((t - 225) ** 2) / (2 * 30**2)))
    cdf = np.cumsum(np.clip(dens, 0.05, None))
    return cdf / cdf[-1]


_CDF = {480: _intraday_cdf(480), 420: _intraday_cdf(420)}


@dataclass
class MonthTickets:
    frame: pd.DataFrame  # columns = HEADER (strings formatted for the given date style)
    stats: pd.DataFrame  # per outlet-day: outlet_idx, date, n_served, mean_wait_s, p90-ish


def day_multipliers(days: pd.DataFrame, drift_origin: pd.Timestamp) -> np.ndarray:
    """Load multiplier per calendar day (before the holiday open/closed draw); the drift to digital
    channels counts from `drift_origin` (`DemoSpec.drift_origin`: a fixed distance before the demo's
    last day, so the level has the same shape for every as-of date)."""
    dom = days["date"].dt.day.to_numpy()
    dim = days["date"].dt.days_in_month.to_numpy()
    wd = days["weekday"].to_numpy()
    q = (days["date"].dt.month.to_numpy() - 1) // 3
    typ = days["day_type"].to_numpy()
    mult = WEEKDAY_MULT[wd] * _dom_mult(dom, dim) * QUARTER_MULT[q]
    mult = np.where(typ == "adjusted_workday", 1.0 * _dom_mult(dom, dim) * QUARTER_MULT[q], mult)
    mult = np.where(typ == "weekend", 0.40 * _dom_mult(dom, dim), mult)
    mult = np.where(typ == "holiday_off", 0.35, mult)
    mult = np.where(days["post_holiday"].to_numpy(), mult * 1.35, mult)
    # slow drift of counter traffic to digital channels: −3 % a year
    years = (days["date"] - pd.Timestamp(drift_origin)).dt.days.to_numpy() / 365.25
    return mult * (0.97**years)


def generate_month(rng: np.random.Generator, outlets: pd.DataFrame, days: pd.DataFrame, *, gbk_style: bool,
                   drift_origin: pd.Timestamp, staffing: np.ndarray | None = None) -> MonthTickets:
    """All tickets of the outlets for the given days (one month, or its first days in the demo's
    last month); `drift_origin`: see `day_multipliers`.

    `staffing`: a multiplier of the staffed windows per outlet-day (outlet-major, `n_outlets × n_days`),
    the planted staffing change (data/demo/effects.py). It draws nothing, so the tickets are the same
    seeded draws with and without it; `stats.wait_sum_cf` is the wait the outlet-day would have had
    without it (the counterfactual the true effect is measured against)."""
    n_o, n_d = len(outlets), len(days)
    base = outlets["_base"].to_numpy(float)
    eff = outlets["_eff"].to_numpy(float)
    windows = outlets["开放窗口数"].to_numpy(int)
    minutes = outlets["营业时长(分钟)"].to_numpy(int)
    typ = days["day_type"].to_numpy()
    dmult = day_multipliers(days, drift_origin)

    # --- outlet-day grid -------------------------------------------------------------------------
    od_o = np.repeat(np.arange(n_o), n_d)
    od_d = np.tile(np.arange(n_d), n_o)
    open_ = np.ones(n_o * n_d, dtype=bool)
    hol = typ[od_d] == "holiday_off"
    open_[hol] = rng.random(int(hol.sum())) < 0.30
    lam = base[od_o] * dmult[od_d] * rng.lognormal(0, 0.10, n_o * n_d) / 0.93
    n_t = np.where(open_, rng.poisson(lam), 0)
    # staffing follows the outlet's *typical* demand (utilisation RHO0), not the day's: busy days queue up
    staffed_frac = np.select([typ[od_d] == "weekend", hol], [0.45, 0.40], 1.0)
    typical = base * MEAN_SERVICE_MIN / (0.93 * minutes * RHO0) * eff
    # managers add tellers on known busy days, but only partly (exponent < 1)
    staffed0 = np.maximum(0.8, typical[od_o] * staffed_frac * dmult[od_d] ** 0.55)
    staffed = staffed0 if staffing is None else staffed0 * staffing

    # --- tickets -----------------------------------------------------------------------------------
    N = int(n_t.sum())
    od = np.repeat(np.arange(n_o * n_d), n_t)
    o_idx, d_idx = od_o[od], od_d[od]
    t_min = np.empty(N)
    u = rng.random(N)
    for m, cdf in _CDF.items():
        sel = minutes[o_idx] == m
        t_min[sel] = np.searchsorted(cdf, u[sel])
    arr_s = (OPEN_S + t_min * 60 + rng.integers(0, 60, N)).astype(np.int64)

    # --- fluid queue per outlet-day, 30-min slots (loop over slots, vectorised over outlet-days) ---
    n_slots = 16
    slot = np.minimum(((arr_s - OPEN_S) // (SLOT_MIN * 60)).astype(int), n_slots - 1)
    a = np.bincount(od * n_slots + slot, minlength=n_o * n_d * n_slots).reshape(-1, n_slots).astype(float)
    frac = ((arr_s - OPEN_S) % (SLOT_MIN * 60)) / (SLOT_MIN * 60.0)
    overhead = rng.gamma(2.3, 150.0, N)  # call overhead / window turnover
    noise = rng.lognormal(0, 0.25, N)

    def waits(staffed: np.ndarray) -> np.ndarray:
        cap = (staffed * SLOT_MIN / MEAN_SERVICE_MIN)[:, None] * np.ones(n_slots)
        backlog = np.zeros((n_o * n_d, n_slots))
        b = np.zeros(n_o * n_d)
        for s in range(n_slots):
            backlog[:, s] = b
            b = np.maximum(0.0, b + a[:, s] - cap[:, s])
        q_ahead = np.maximum(0.0, backlog[od, slot] + frac * (a[od, slot] - cap[od, slot]))
        rate_per_s = staffed[od] / (MEAN_SERVICE_MIN * 60)
        return ((q_ahead / rate_per_s + overhead) * noise).astype(np.int64) + 20

    wait = waits(staffed)
    wait_cf = wait if staffing is None else waits(staffed0)

    # --- attributes --------------------------------------------------------------------------------
    stype = rng.choice(len(SERVICE_TYPES), size=N, p=TYPE_P)
    tier = np.where(stype == 4, rng.choice([1, 2, 3], size=N, p=[0.55, 0.33, 0.12]),
                    rng.choice([0, 1, 2], size=N, p=[0.86, 0.11, 0.03]))
    svc = (SERVICE_MEDIAN_S[stype] * rng.lognormal(0, 0.55, N)).astype(np.int64) + 30
    p_ab = 0.03 + 0.12 * np.clip(wait / 3600.0, 0, 1)
    r = rng.random(N)
    status = np.where(r < p_ab, 1, np.where(r < p_ab + 0.012, 2, 0))
    svc = np.where(status == 2, rng.integers(30, 150, N), svc)
    call_s = arr_s + wait
    start_s = call_s + rng.integers(5, 60, N)
    end_s = start_s + svc
    # tickets are served at the windows staffed that day (at most the outlet's windows), so the distinct
    # windows serving in an hour follow the staffing (same draw as before: nothing else changes)
    open_windows = np.clip(np.ceil(staffed[od]), 1, windows[o_idx])
    win = (rng.random(N) * open_windows).astype(int) + 1

    # --- order rows like a queue-system export and number tickets per (outlet, day, prefix) -------
    order = np.lexsort((arr_s, od))
    od, o_idx, d_idx, arr_s, call_s, start_s, end_s = (x[order] for x in (od, o_idx, d_idx, arr_s, call_s, start_s, end_s))
    stype, tier, svc, status, win, wait, wait_cf = (x[order] for x in (stype, tier, svc, status, win, wait, wait_cf))
    key = od * 8 + stype
    k_order = np.lexsort((arr_s, key))
    ks = key[k_order]
    first = np.r_[True, ks[1:] != ks[:-1]]
    grp_start = np.maximum.accumulate(np.where(first, np.arange(N), 0))
    seq = np.empty(N, dtype=np.int64)
    seq[k_order] = np.arange(N) - grp_start + 1

    # --- format ------------------------------------------------------------------------------------
    dates = days["date"]
    iso = dates.dt.strftime("%Y-%m-%d").to_numpy(dtype=object)
    slash = np.array([f"{d.year}/{d.month}/{d.day}" for d in dates], dtype=object)  # ≤ 31 days
    bdate = slash if gbk_style else iso
    day_prefix = (iso + " ")[d_idx]

    def ts(sec: np.ndarray) -> np.ndarray:
        return day_prefix + _TIME_LUT[np.clip(sec, 0, 86399)]

    served_like = status != 1
    ids = outlets["机构号"].to_numpy(dtype=object)
    names = outlets["机构名称"].to_numpy(dtype=object)
    tellers = ("T" + pd.Series(ids).str[-5:].to_numpy(dtype=object))[o_idx] + _NUM2[win]
    frame = pd.DataFrame({
        "网点编号": ids[o_idx],
        "网点名称": names[o_idx],
        "业务日期": bdate[d_idx],
        "票号": PREFIX[stype] + _NUM3[np.minimum(seq, 9999)],
        "业务类型": SERVICE_TYPES[stype],
        "客户级别": TIERS[tier],
        "取号时间": ts(arr_s),
        "叫号时间": ts(call_s),
        "开始办理时间": np.where(served_like, ts(start_s), ""),
        "完成时间": np.where(served_like, ts(end_s), ""),
        "窗口号": np.where(served_like, _NUM2[win], ""),
        "柜员号": np.where(served_like, tellers, ""),
        "状态": np.array([STATUS_SERVED, STATUS_ABANDONED, STATUS_CANCELLED], dtype=object)[status],
        "等待时长(秒)": call_s - arr_s,
        "办理时长(秒)": pd.array(np.where(served_like, end_s - start_s, 0), dtype="Int64"),
    })
    frame.loc[~served_like, "办理时长(秒)"] = pd.NA

    # --- per outlet-day stats for the feedback generator ------------------------------------------
    served = status == 0
    cnt = np.bincount(od, weights=served, minlength=n_o * n_d)
    wsum = np.bincount(od, weights=np.where(status != 2, wait, 0), minlength=n_o * n_d)
    called = np.bincount(od, weights=(status != 2), minlength=n_o * n_d)
    long_ = np.bincount(od, weights=(wait > 1800) & (status != 2), minlength=n_o * n_d)
    # every ticket carries a call time (abandoned and cancelled ones too): the wait KPI's population
    n_all = np.bincount(od, minlength=n_o * n_d)
    wall = np.bincount(od, weights=wait, minlength=n_o * n_d)
    wall_cf = np.bincount(od, weights=wait_cf, minlength=n_o * n_d)
    stats = pd.DataFrame({"outlet_idx": od_o, "date": dates.to_numpy()[od_d], "open": open_, "n_served": cnt,
                          "n_called": called, "wait_sum": wsum, "n_long": long_, "n_tickets": n_all,
                          "wait_sum_all": wall, "wait_sum_cf": wall_cf})
    return MonthTickets(frame=frame, stats=stats)
