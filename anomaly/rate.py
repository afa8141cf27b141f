"""Rates with denominators (overdue rate, NPL ratio, abandonment, on-time closure).

The question is not "did the rate move?" but "is the move larger than its own counts allow?".
With x = rate × n events out of n, the trailing pooled rate p0 (sum of events / sum of bases over
the previous 56 points) is the expectation; day-to-day variation beyond binomial noise is captured
by a beta-binomial intra-class correlation ρ, estimated once per series from the median squared
Pearson residual (method of moments, robust to the anomalies themselves). The tail probability of
x under BetaBinomial(n, p0, ρ) is turned into a signed z with the same one-sided tail, so a branch
with 200 loans whose overdue count moves by one loan scores far below the threshold while the
same rate move on 50,000 loans does not. Default threshold z = 4.5 (one-sided p ≈ 3e-6).
"""

from __future__ import annotations

import numpy as np
from scipy.stats import betabinom, binom, norm

from anomaly.base import AnomalyKind, Detector, Kind, Scores, SeriesError, SeriesInput, rolling, z_from_p

WINDOW = 56
CHI2_1_MEDIAN = 0.4549  # median of a chi-square(1): the robust scale of a squared z


class BetaBinomialRate(Detector):
    name = "beta_binomial"
    threshold = 4.5
    kinds = (Kind.RATE,)
    anomaly_kind = AnomalyKind.RATE_JUMP

    def _score(self, series: SeriesInput) -> Scores:
        if series.denominator is None:
            raise SeriesError("a rate needs its denominator for the beta-binomial detector")
        p = series.values.to_numpy(float)
        n = series.denominator.to_numpy(float)
        ok = np.isfinite(p) & np.isfinite(n) & (n > 0)
        x = np.where(ok, np.round(p * n), np.nan)
        nn = np.where(ok, n, np.nan)
        sx = rolling(x, WINDOW, "sum", 14)
        sn = rolling(nn, WINDOW, "sum", 14)
        p0 = np.clip(sx / np.where(sn > 0, sn, np.nan), 0.5 / np.fmax(sn, 1), 1 - 0.5 / np.fmax(sn, 1))
        var_b = nn * p0 * (1 - p0)
        r2 = (x - nn * p0) ** 2 / var_b
        phi = np.nanmedian(r2) / CHI2_1_MEDIAN if np.isfinite(r2).any() else 1.0
        nbar = np.nanmean(nn) if np.isfinite(nn).any() else 1.0
        rho = float(np.clip((phi - 1) / max(nbar - 1, 1), 0, 0.5)) if np.isfinite(phi) else 0.0
        var = var_b * (1 + (nn - 1) * rho)
        zraw = (x - nn * p0) / np.sqrt(var)
        fin = np.isfinite(zraw)
        pval = np.full(len(p), np.nan)
        pval[fin] = norm.sf(np.abs(zraw[fin]))  # moment approximation; exact tails where it matters
        good = fin & (np.abs(zraw) >= 2.5)  # the beta-binomial cdf is slow: only near the tails
        xi, ni, pi = x[good], nn[good].astype(int), p0[good]
        up = xi >= ni * pi
        if rho > 1e-7:
            s = (1 - rho) / rho
            a, b = pi * s, (1 - pi) * s
            tail = np.where(up, betabinom.sf(xi - 1, ni, a, b), betabinom.cdf(xi, ni, a, b))
        else:
            tail = np.where(up, binom.sf(xi - 1, ni, pi), binom.cdf(xi, ni, pi))
        pval[good] = np.minimum(tail, 1.0)
        z = np.where(fin, zraw, np.nan)
        z[good] = z_from_p(pval[good], np.where(up, 1.0, -1.0))
        sd = np.sqrt(var) / np.where(nn > 0, nn, np.nan)
        thr = self.threshold
        return Scores(series.index, p0, np.clip(p0 - thr * sd, 0, 1), np.clip(p0 + thr * sd, 0, 1),
                      z, p - p0, pvalue=pval, resid_z=zraw, threshold=thr)
