"""Seasonal robust baseline for counts, durations and amounts (daily and intraday).

expected(t) = level(t) + season(t) on log1p scale (counts/durations/non-negative amounts):
* season: the median residual of the point's calendar class — weekday, 法定假日 (holiday_off),
  调休 make-up day (adjusted_workday) — plus incremental effects for post-holiday, pre-holiday,
  month-, quarter- and year-end days, all from data/calendar.py; intraday series use
  (day class × hour of day). Estimated once over the whole series with medians, so the few
  anomalies do not move them.
* level: trailing median of the de-seasonalised series (28 points daily, one day intraday),
  excluding the point itself: a spike or the onset of a shift stands out against it.
* scale: trailing median absolute residual × 1.4826 (robust sigma), never below half of the
  whole-series robust sigma nor the Poisson noise of a count; calendar classes that are noisier
  than usual (holidays are) get a proportionally wider band.
score = residual / scale, calibrated per series against a Student-t fitted to its own tails
(anomaly/calibrate.py), so a score has the same tail probability on heavy-tailed branch data as on
normal noise (daily and monthly series; intraday ones keep the robust z, since the hours of a day
mix very different noise and one fit per series would describe the mixture, not any hour). The threshold is the false-alarm budget's (anomaly/budget.py), not a fixed sigma.
Monthly series (month-end points): the class is the month's place in the year, the level a
trailing 6-month median.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from anomaly.base import Block, BlockDetector, Freq, Kind, Scores
from anomaly.budget import points_per_year, spike_z
from anomaly.calibrate import normal_scores, raw_threshold
from anomaly.kernels import MAD_TO_SIGMA, rolling, row_any_finite, row_nanmedian
from data.calendar import day_table

EFFECTS = ("post_holiday", "pre_holiday", "month_end", "quarter_end", "year_end")
MIN_CLASS = 3  # points a calendar class needs before it gets its own profile
NARROW = 1.0  # a calendar class is never given a narrower band than the series (only a wider one)


def calendar_frame(index: pd.DatetimeIndex, freq: Freq) -> dict[str, np.ndarray]:
    """Per point: calendar class (`cls`, with coarser `cls2`/`cls3` fallbacks, as integer codes)
    and the effect flags. Cached: a full scan shares one date index across thousands of series."""
    key = (freq.value, len(index), hash(index.values.astype("datetime64[ns]").tobytes()))
    hit = _CACHE.get(key)
    if hit is None:
        if len(_CACHE) > 256:
            _CACHE.clear()
        f = _calendar_frame(index, freq)
        hit = _CACHE[key] = {c: f[c].to_numpy() for c in f.columns}  # plain arrays: no per-access pandas cost
    return hit


_CACHE: dict = {}


def _calendar_frame(index: pd.DatetimeIndex, freq: Freq) -> pd.DataFrame:
    if freq is Freq.MONTHLY:
        return _month_frame(index)
    days = index.normalize()
    table = day_table(days[0].date(), days[-1].date())
    t = table.set_index(pd.to_datetime(table["date"])).reindex(days)
    dtype = t["day_type"].to_numpy()
    wd = t["weekday"].to_numpy().astype(int)
    cls = np.where(dtype == "holiday_off", "H", np.where(dtype == "adjusted_workday", "A", wd.astype(str)))
    cls2 = np.where(t["is_workday"].to_numpy(bool), "W", np.where(dtype == "holiday_off", "H", "E"))
    out = pd.DataFrame({"cls": cls, "cls2": cls2}, index=index)
    out["workday"] = t["is_workday"].to_numpy(bool)
    out["holiday"] = dtype == "holiday_off"
    if freq is Freq.INTRADAY:
        hour = index.hour.astype(str)
        out["cls"] = out["cls"] + "_" + hour
        out["cls2"] = out["cls2"] + "_" + hour
        out["cls3"] = "h_" + hour
        for e in EFFECTS:
            out[e] = False
    else:
        out["cls3"] = np.where(t["is_workday"].to_numpy(bool), "W", "E")
        for e in EFFECTS:
            out[e] = t[e].to_numpy(bool)
    for c in ("cls", "cls2", "cls3"):
        out[c] = pd.factorize(out[c].astype(object))[0]
    return out


def _month_frame(index: pd.DatetimeIndex) -> pd.DataFrame:
    """Monthly points: the class is the month's place in the year — December (year-end), the other
    quarter-end months, the rest — since quarter-end write-offs and year-end pushes are normal;
    no weekday, holiday or day effects."""
    m = index.month.to_numpy()
    cls = np.where(m == 12, 2, np.where(m % 3 == 0, 1, 0))
    out = pd.DataFrame({"cls": cls, "cls2": cls, "cls3": np.zeros(len(index), int)}, index=index)
    out["workday"], out["holiday"] = True, False
    for e in EFFECTS:
        out[e] = False
    return out


def key_rows(keys: np.ndarray) -> list[np.ndarray]:
    """Positions of each integer key value, ascending (empty for a value that does not occur)."""
    nk = int(keys.max()) + 1 if len(keys) else 0
    order = np.argsort(keys, kind="stable")
    bounds = np.r_[0, np.cumsum(np.bincount(keys, minlength=nk))]
    return [order[bounds[k]:bounds[k + 1]] for k in range(nk)]


def _group_median(r: np.ndarray, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Median and count of the finite values of each row of `r` (series × time) per integer key of
    the time axis: arrays of shape (series, keys). One sort per key value for the whole block."""
    rows = key_rows(keys)
    fin = np.isfinite(r)
    r = np.where(fin, r, np.nan)  # ±inf is left out like NaN
    med = np.full((r.shape[0], len(rows)), np.nan)
    cnt = np.zeros((r.shape[0], len(rows)), dtype=np.int64)
    at = np.arange(r.shape[0])
    for k, pos in enumerate(rows):
        if not len(pos):
            continue
        srt = np.sort(r[:, pos], axis=1)  # NaN last
        n = fin[:, pos].sum(axis=1)
        lo, hi = np.maximum(n - 1, 0) // 2, n // 2
        med[:, k] = np.where(n > 0, 0.5 * (srt[at, lo] + srt[at, np.minimum(hi, len(pos) - 1)]), np.nan)
        cnt[:, k] = n
    return med, cnt


def _masked_median(a: np.ndarray, m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per row: median and count of the finite values at the time points where `m` holds."""
    sub = a[:, m]
    sub = np.where(np.isfinite(sub), sub, np.nan)
    return row_nanmedian(sub), np.isfinite(sub).sum(axis=1)


def fit_profile(r: np.ndarray, cal: dict) -> np.ndarray:
    """Season component: class median (falling back to coarser classes) + calendar effects.
    `r` is one series or a block (series × time); each row gets its own profile."""
    one = r.ndim == 1
    r = np.atleast_2d(r)
    season = np.full(r.shape, np.nan)
    for col in ("cls", "cls2", "cls3"):
        keys = cal[col]
        med, cnt = _group_median(r, keys)
        vals = np.where(cnt >= MIN_CLASS, med, np.nan)[:, keys]
        season = np.where(np.isnan(season), vals, season)
    season = np.nan_to_num(season)
    rest = r - season
    for e in EFFECTS:
        m = cal[e]
        eff, n = _masked_median(rest, m)
        use = n >= 2
        if use.any():
            add = np.where(m[None, :] & use[:, None], eff[:, None], 0.0)
            season = season + add
            rest = rest - add
    return season[0] if one else season


def class_spread(e: np.ndarray, cal: dict) -> np.ndarray:
    """Per-point band multiplier ≥ 1: how much noisier the point's calendar class is than usual.
    `e` is one series or a block (series × time)."""
    one = e.ndim == 1
    a = np.abs(np.atleast_2d(e))
    base = np.where(row_any_finite(a), row_nanmedian(a), np.nan)
    mult = np.ones(a.shape)
    usable = np.isfinite(base) & (base > 0)
    if usable.any():
        keys = cal["cls2"]
        b = np.where(usable, base, 1.0)[:, None]
        med, cnt = _group_median(a, keys)
        ratio = np.where(cnt >= MIN_CLASS, np.clip(med / b, NARROW, 4.0), 1.0)
        mult = ratio[:, keys]
        for eff in EFFECTS:
            m = cal[eff]
            med, n = _masked_median(a, m)
            use = (n >= MIN_CLASS)[:, None] & m[None, :]
            mult = np.where(use, np.maximum(mult, np.clip(med[:, None] / b, 1.0, 4.0)), mult)
        mult = np.where(usable[:, None], mult, 1.0)
    return mult[0] if one else mult


def _log_rows(kind: Kind, v: np.ndarray) -> np.ndarray:
    """Which rows are judged on the log1p scale: counts, durations and non-negative amounts."""
    if kind not in (Kind.COUNT, Kind.DURATION, Kind.AMOUNT):
        return np.zeros(v.shape[0], bool)
    return np.nanmin(v, axis=1, initial=0) >= 0


INTERMITTENT = 0.2  # share of zeros that makes a non-working calendar class "often closed"


def closed_days(kind: Kind, freq: Freq, v: np.ndarray, cal: dict) -> np.ndarray:
    """Zeros of a count on non-working calendar classes where zero is common (outlets that open on
    a few public holidays only). Such a zero means *closed*: it is neither scored nor used for the
    profile, and the class's profile comes from its open days — so a sporadic opening is compared
    with earlier openings, not with the closed days' 0. `v` is a block (series × time)."""
    if kind is not Kind.COUNT or freq is not Freq.DAILY:
        return np.zeros(v.shape, bool)
    keys = cal["cls2"]
    fin = np.isfinite(v)
    zero = fin & (v == 0)
    rows = key_rows(keys)
    zeros = np.stack([zero[:, pos].sum(axis=1) for pos in rows], axis=1)
    cnt = np.stack([fin[:, pos].sum(axis=1) for pos in rows], axis=1)
    off = np.bincount(keys[~cal["workday"]], minlength=len(rows)) > 0
    inter = off[None, :] & (cnt > 0) & (zeros >= INTERMITTENT * np.maximum(cnt, 1))
    return inter[:, keys] & zero


def points_per_day(step: pd.Timedelta) -> int:
    return max(int(round(pd.Timedelta(days=1) / step)), 1)


class SeasonalBaseline(BlockDetector):
    name = "seasonal"
    threshold = 4.5
    kinds = (Kind.COUNT, Kind.DURATION, Kind.AMOUNT)

    @classmethod
    def applies(cls, series) -> bool:
        """The fallback: any series (a rate without its denominator is judged as a level)."""
        return True

    def _score_block(self, b: Block) -> Scores:
        v = b.values
        cal = calendar_frame(b.index, b.freq)
        closed = closed_days(b.kind, b.freq, v, cal)
        vc = np.where(closed, np.nan, v)
        log = _log_rows(b.kind, vc)
        y = vc.copy()
        y[log] = np.log1p(vc[log])
        if b.freq is Freq.DAILY:
            w, rough_w = 28, 29
            work = cal["workday"]
            ymask = np.where(work[None, :], y, np.nan) if work.sum() >= y.shape[1] / 3 else y
        elif b.freq is Freq.MONTHLY:
            w, rough_w, ymask = 6, 7, y
        else:
            ppd = points_per_day(b.step)
            w, rough_w = max(ppd, 12), max(ppd, 12) | 1
            ymask = y
        rough = pd.DataFrame(rolling(ymask, rough_w, "median", max(rough_w // 6, 3), trailing=False).T)
        rough = np.ascontiguousarray(rough.interpolate(limit_direction="both").to_numpy().T)
        season = fit_profile(y - rough, cal)
        d = y - season
        level = rolling(d, w, "median", max(w // 2, 3 if b.freq is Freq.MONTHLY else 5))
        e = d - level
        ae = np.abs(e)
        glob = np.where(row_any_finite(e), MAD_TO_SIGMA * row_nanmedian(ae), np.nan)
        sig = MAD_TO_SIGMA * rolling(ae, 2 * w, "median", w)  # unknown until w residuals
        small = 1e-6 * (row_nanmedian(np.abs(y)) + 1e-9)
        half = 0.5 * glob
        # a series that is mostly one value (a rate that is 0 in most months) has a robust sigma of 0:
        # half its mean absolute residual keeps one non-zero month from scoring in the hundreds
        with np.errstate(invalid="ignore"):
            mean_abs = np.where(row_any_finite(ae), np.nanmean(np.where(np.isfinite(ae), ae, np.nan), axis=1), np.nan)
        half = np.fmax(half, 0.5 * mean_abs)
        floor = np.where(np.isfinite(glob), np.where(small > half, small, half), 1e-9)  # = max(half, small)
        sig = np.maximum(sig, floor[:, None])  # NaN (not enough history) stays NaN
        exp_t = level + season
        if b.kind is Kind.COUNT and log.any():  # Poisson noise on log1p scale
            sig[log] = np.maximum(sig[log], 1.0 / np.sqrt(np.expm1(np.clip(exp_t[log], 0, 50)) + 1.0))
        sig = sig * class_spread(e, cal)
        if b.freq is Freq.INTRADAY:  # hours of one day mix very different noise: one fit per series
            z, nu, scale = e / sig, np.full(len(v), np.inf), np.ones(len(v))  # would be a mixture
        else:
            z, nu, scale = normal_scores(e / sig)
        ppy = points_per_year(b.index)
        # a monthly series is too short for the tail fit: its scale rests on 2w residuals, so t(2w − 1)
        df = 2 * w - 1 if b.freq is Freq.MONTHLY else None
        thr = spike_z(ppy, df=df)
        band = raw_threshold(thr, nu, scale)[:, None] * sig  # the calibrated threshold, in the data's unit
        expected, lower, upper = exp_t.copy(), exp_t - band, exp_t + band
        for a in (expected, lower, upper):
            a[log] = np.expm1(np.minimum(a[log], 50.0))  # a very heavy-tailed row's band: capped, not inf
        # a count, duration or non-negative amount: never a negative expectation or band
        expected[log], lower[log] = np.fmax(expected[log], 0.0), np.fmax(lower[log], 0.0)
        lower = np.where(closed, 0.0, lower)  # closed is normal on those days
        change = (v - expected) / np.fmax(np.abs(expected), 1e-9)
        return Scores(b.index, expected, lower, upper, z, change, resid_z=z, threshold=thr,
                      per_budget=lambda budget: spike_z(ppy, budget, df))
