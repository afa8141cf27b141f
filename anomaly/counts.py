"""Low counts (complaints, incidents): negative-binomial tails.

Expected count μ(t) = trailing mean of the previous 56 points (winsorised at the series' 99th
percentile so one burst does not inflate the next two months) × the calendar-class factor (workday /
weekend / holiday mean ratio, shrunk towards 1). Over-dispersion r from the method of moments on the
whole series (Poisson when none). The upper tail P(X ≥ x) is the evidence; it is turned into a
signed z with the same tail probability. With μ ≈ 1 a lower tail can never be significant (P(0) is
large), so low counts alarm upwards only — honest, not a bug. The shift detector's input is the
mid-p normal score Φ⁻¹(P(X < x) + ½P(X = x)), not the Pearson residual: at μ ≈ 0.4 one day with
4 complaints is a Pearson residual of 6 but a normal score of 3.3, so a CUSUM of Pearson residuals
reads two such days as a level shift. The threshold is the false-alarm
budget's (anomaly/budget.py).
"""

from __future__ import annotations

import numpy as np
from scipy.stats import nbinom, norm, poisson

from anomaly.base import Detector, Kind, Scores, SeriesInput
from anomaly.budget import points_per_year, spike_z
from anomaly.kernels import rolling, z_from_p
from anomaly.rate import window
from anomaly.seasonal import calendar_frame

SHRINK = 10.0  # pseudo-points pulling a class factor towards 1
LOW_COUNT_MEAN = 10.0  # below this mean a count is judged by its negative-binomial tails


class NegBinCounts(Detector):
    name = "negative_binomial"
    threshold = 4.5
    kinds = (Kind.COUNT,)

    @classmethod
    def applies(cls, series: SeriesInput) -> bool:
        """Counts whose mean is below LOW_COUNT_MEAN: a log/robust-sigma band is wrong at 0–3 a day."""
        if series.kind is not Kind.COUNT:
            return False
        v = series.values.to_numpy(float)
        mean = v.mean() if len(v) else np.nan  # without NaN the same number as np.nanmean, at a third of its cost
        if np.isnan(mean) and np.isfinite(v).any():
            mean = np.nanmean(v)
        return bool(mean < LOW_COUNT_MEAN)

    def _score(self, series: SeriesInput) -> Scores:
        x = series.values.to_numpy(float)
        cal = calendar_frame(series.index, series.freq)
        keys = cal["cls3"] if series.freq.value == "intraday" else cal["cls2"]
        fin = np.isfinite(x)
        cap = np.nanpercentile(x, 99) if fin.any() else np.nan
        xw = np.minimum(x, cap)
        overall = np.nanmean(xw) if fin.any() else np.nan
        ok = np.isfinite(xw)
        gsum = np.bincount(keys[ok], weights=xw[ok], minlength=keys.max() + 1)
        gcnt = np.bincount(keys[ok], minlength=keys.max() + 1)
        fac = ((gsum + SHRINK * overall) / (gcnt + SHRINK)) / overall if overall > 0 else np.ones(len(gsum))
        f = fac[keys]
        win, least = window(series.freq)
        mu = rolling(xw / f, win, "mean", least) * f
        mu = np.maximum(mu, 0.05)  # NaN (no history yet) stays NaN
        resid = x - mu
        # dispersion from the central 98 % of residuals, so bursts and shifts do not fatten the tails
        a = np.abs(resid)
        core = np.isfinite(a) & (a <= np.nanpercentile(a, 99.5)) if np.isfinite(a).any() else np.isfinite(a)
        excess = np.var(resid[core]) - np.mean(mu[core]) if core.sum() > 10 else 0.0
        r = (np.nanmean(mu) ** 2 / excess) if excess > 1e-9 else np.inf
        var = mu + (mu**2 / r if np.isfinite(r) else 0.0)
        good = np.isfinite(x) & np.isfinite(mu)
        up = x >= mu
        pval = np.full(len(x), np.nan)
        xi, mi = x[good], mu[good]
        if np.isfinite(r):
            pr = r / (r + mi)
            tail = np.where(up[good], nbinom.sf(xi - 1, r, pr), nbinom.cdf(xi, r, pr))
        else:
            tail = np.where(up[good], poisson.sf(xi - 1, mi), poisson.cdf(xi, mi))
        pval[good] = np.minimum(tail, 1.0)
        z = np.full(len(x), np.nan)
        z[good] = z_from_p(pval[good], np.where(up[good], 1.0, -1.0))
        sd = np.sqrt(var)
        resid = np.full(len(x), np.nan)  # mid-p normal scores: N(0, 1)-like under the model, for the CUSUM
        if np.isfinite(r):
            below, at = nbinom.cdf(xi - 1, r, pr), nbinom.pmf(xi, r, pr)
        else:
            below, at = poisson.cdf(xi - 1, mi), poisson.pmf(xi, mi)
        resid[good] = norm.ppf(np.clip(below + 0.5 * at, 1e-12, 1 - 1e-12))
        ppy = points_per_year(series.index)
        thr = spike_z(ppy)
        change = (x - mu) / np.fmax(mu, 1e-9)
        return Scores(series.index, mu, np.fmax(mu - thr * sd, 0), mu + thr * sd, z, change,
                      pvalue=pval, resid_z=resid, threshold=thr,
                      per_budget=lambda budget: spike_z(ppy, budget))
