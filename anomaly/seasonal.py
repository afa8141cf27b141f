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
score = residual / scale. Default threshold 4.5 robust sigma (two-sided normal p ≈ 7e-6: about one
false alarm per 150,000 clean points before event grouping).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from anomaly.base import MAD_TO_SIGMA, Detector, Freq, Kind, Scores, SeriesInput, rolling
from data.calendar import day_table

EFFECTS = ("post_holiday", "pre_holiday", "month_end", "quarter_end", "year_end")
MIN_CLASS = 3  # points a calendar class needs before it gets its own profile


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


def _group_median(r: np.ndarray, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Median and count of the finite `r` per integer key (vectorised: one lexsort)."""
    ok = np.isfinite(r)
    k, v = keys[ok], r[ok]
    nk = int(keys.max()) + 1 if len(keys) else 0
    cnt = np.bincount(k, minlength=nk)
    order = np.lexsort((v, k))
    sv = v[order]
    start = np.r_[0, np.cumsum(cnt)[:-1]]
    lo = start + np.maximum(cnt - 1, 0) // 2
    hi = start + cnt // 2
    med = np.full(nk, np.nan)
    has = cnt > 0
    med[has] = 0.5 * (sv[lo[has]] + sv[np.minimum(hi[has], len(sv) - 1)])
    return med, cnt


def fit_profile(r: np.ndarray, cal: dict) -> np.ndarray:
    """Season component: class median (falling back to coarser classes) + calendar effects."""
    season = np.full(len(r), np.nan)
    for col in ("cls", "cls2", "cls3"):
        keys = cal[col]
        med, cnt = _group_median(r, keys)
        vals = np.where(cnt >= MIN_CLASS, med, np.nan)[keys]
        season = np.where(np.isnan(season), vals, season)
    season = np.nan_to_num(season)
    rest = r - season
    for e in EFFECTS:
        m = cal[e]
        vals = rest[m & np.isfinite(rest)]
        if len(vals) >= 2:
            eff = float(np.median(vals))
            season = season + np.where(m, eff, 0.0)
            rest = rest - np.where(m, eff, 0.0)
    return season


def class_spread(e: np.ndarray, cal: dict) -> np.ndarray:
    """Per-point band multiplier ≥ 1: how much noisier the point's calendar class is than usual."""
    a = np.abs(e)
    base = np.nanmedian(a) if np.isfinite(a).any() else np.nan
    mult = np.ones(len(e))
    if not np.isfinite(base) or base <= 0:
        return mult
    keys = cal["cls2"]
    med, cnt = _group_median(a, keys)
    ratio = np.where(cnt >= MIN_CLASS, np.clip(med / base, 1.0, 4.0), 1.0)
    mult = ratio[keys]
    for eff in EFFECTS:
        m = cal[eff]
        vals = a[m & np.isfinite(a)]
        if len(vals) >= MIN_CLASS:
            mult = np.where(m, np.maximum(mult, np.clip(np.median(vals) / base, 1.0, 4.0)), mult)
    return mult


def _transform(series: SeriesInput, v: np.ndarray):
    if series.kind in (Kind.COUNT, Kind.DURATION, Kind.AMOUNT) and np.nanmin(v, initial=0) >= 0:
        return np.log1p(v), np.expm1
    return v, (lambda x: x)


INTERMITTENT = 0.2  # share of zeros that makes a non-working calendar class "often closed"


def closed_days(series: SeriesInput, v: np.ndarray, cal: dict) -> np.ndarray:
    """Zeros of a count on non-working calendar classes where zero is common (outlets that open on
    a few public holidays only). Such a zero means *closed*: it is neither scored nor used for the
    profile, and the class's profile comes from its open days — so a sporadic opening is compared
    with earlier openings, not with the closed days' 0."""
    if series.kind is not Kind.COUNT or series.freq is not Freq.DAILY:
        return np.zeros(len(v), bool)
    keys = cal["cls2"]
    fin = np.isfinite(v)
    nk = int(keys.max()) + 1 if len(keys) else 0
    zeros = np.bincount(keys[fin & (v == 0)], minlength=nk)
    cnt = np.bincount(keys[fin], minlength=nk)
    off = np.bincount(keys[~cal["workday"]], minlength=nk) > 0
    inter = off & (cnt > 0) & (zeros >= INTERMITTENT * np.maximum(cnt, 1))
    return inter[keys] & fin & (v == 0)


def points_per_day(series: SeriesInput) -> int:
    return max(int(round(pd.Timedelta(days=1) / series.step)), 1)


class SeasonalBaseline(Detector):
    name = "seasonal"
    threshold = 4.5
    kinds = (Kind.COUNT, Kind.DURATION, Kind.AMOUNT)

    def _score(self, series: SeriesInput) -> Scores:
        v = series.values.to_numpy(float)
        cal = calendar_frame(series.index, series.freq)
        closed = closed_days(series, v, cal)
        y, inv = _transform(series, np.where(closed, np.nan, v))
        if series.freq is Freq.DAILY:
            w, rough_w = 28, 29
            work = cal["workday"]
            ymask = np.where(work, y, np.nan) if work.sum() >= len(y) / 3 else y
        else:
            ppd = points_per_day(series)
            w, rough_w = max(ppd, 12), max(ppd, 12) | 1
            ymask = y
        rough = pd.Series(rolling(ymask, rough_w, "median", max(rough_w // 6, 3), trailing=False))
        rough = rough.interpolate(limit_direction="both").to_numpy()
        season = fit_profile(y - rough, cal)
        d = y - season
        level = rolling(d, w, "median", max(w // 2, 5))
        e = d - level
        glob = MAD_TO_SIGMA * np.nanmedian(np.abs(e)) if np.isfinite(e).any() else np.nan
        sig = MAD_TO_SIGMA * rolling(np.abs(e), 2 * w, "median", w)  # unknown until w residuals
        floor = max(0.5 * glob, 1e-6 * (np.nanmedian(np.abs(y)) + 1e-9)) if np.isfinite(glob) else 1e-9
        sig = np.maximum(sig, floor)  # NaN (not enough history) stays NaN
        exp_t = level + season
        if series.kind is Kind.COUNT and inv is np.expm1:  # Poisson noise on log1p scale
            sig = np.maximum(sig, 1.0 / np.sqrt(np.expm1(np.clip(exp_t, 0, 50)) + 1.0))
        sig = sig * class_spread(e, cal)
        z = e / sig
        expected = inv(exp_t)
        thr = self.threshold
        lower, upper = inv(exp_t - thr * sig), inv(exp_t + thr * sig)
        if inv is np.expm1:  # a count, duration or non-negative amount: never a negative expectation or band
            expected, lower = np.fmax(expected, 0.0), np.fmax(lower, 0.0)
        lower = np.where(closed, 0.0, lower)  # closed is normal on those days
        change = (v - expected) / np.fmax(np.abs(expected), 1e-9)
        return Scores(series.index, expected, lower, upper, z, change, resid_z=z, threshold=thr)
