"""Rates with denominators (overdue rate, NPL ratio, abandonment, on-time closure).

The question is not "did the rate move?" but "is the move larger than its own counts allow?".
With x = rate × n events out of n, the trailing pooled rate p0 (sum of events / sum of bases over
the previous 56 points) is the expectation; day-to-day variation beyond binomial noise is captured
by a beta-binomial intra-class correlation ρ, estimated once per series from the median squared
Pearson residual (method of moments, robust to the anomalies themselves). The tail probability of
x under BetaBinomial(n, p0, ρ) is turned into a signed z with the same one-sided tail, so a branch
with 200 loans whose overdue count moves by one loan scores far below the threshold while the
same rate move on 50,000 loans does not. The threshold is the false-alarm budget's (anomaly/budget.py).
"""

from __future__ import annotations

import numpy as np
from scipy.special import betaln
from scipy.stats import betabinom, binom, norm

from anomaly.base import AnomalyKind, Block, BlockDetector, Freq, Kind, Scores, SeriesError
from anomaly.budget import points_per_year, spike_z
from anomaly.kernels import rolling, row_any_finite, row_nanmedian, z_from_p

WINDOW = 56
MONTHS = 6  # a monthly rate is a stock (overdue, NPL): compared with its last quarter, not a year


def window(freq: Freq) -> tuple[int, int]:
    """Trailing points pooled for the expected rate, and the least that make an expectation:
    8 weeks of days (or intraday points), a year of months."""
    return (MONTHS, 3) if freq is Freq.MONTHLY else (WINDOW, 14)


def _pmf_sums(k: np.ndarray, n: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Σ_{m=0..k} BetaBinomial(n, a, b).pmf(m) per element — what scipy's generic discrete cdf
    computes one element at a time in Python (the same log-pmf formula, the same pairwise sum over
    0..k), here for all elements with the same k in one 2-D step."""
    out = np.empty(len(k))
    if not len(k):
        return out
    order = np.argsort(k, kind="stable")
    ks = k[order]
    bounds = np.flatnonzero(np.r_[True, ks[1:] != ks[:-1], True])
    for s, e in zip(bounds[:-1], bounds[1:], strict=True):
        idx = order[s:e]
        m = np.floor(np.arange(0, int(ks[s]) + 1, dtype=float))[None, :]
        nn, aa, bb = n[idx][:, None], a[idx][:, None], b[idx][:, None]
        log_pmf = (-np.log(nn + 1) - betaln(nn - m + 1, m + 1)) + betaln(m + aa, nn - m + bb) - betaln(aa, bb)
        out[idx] = np.sum(np.exp(log_pmf), axis=1)
    return out


def _plain(n: np.ndarray, a: np.ndarray, b: np.ndarray) -> bool:
    return bool(((n >= 0) & (n == np.floor(n)) & (a > 0) & (b > 0)).all())


def betabinom_cdf(x: np.ndarray, n: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """`scipy.stats.betabinom.cdf` (same numbers), vectorised over elements."""
    n = np.asarray(n, float)
    if not _plain(n, a, b) or not np.isfinite(x).all():
        return betabinom.cdf(x, n, a, b)
    k = np.floor(x)
    out = np.where(k >= n, 1.0, 0.0)
    inside = (k >= 0) & (k < n)
    out[inside] = np.clip(_pmf_sums(k[inside], n[inside], a[inside], b[inside]), 0, 1)
    return out


def betabinom_sf(x: np.ndarray, n: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """`scipy.stats.betabinom.sf` (same numbers: 1 − cdf inside the support), vectorised."""
    n = np.asarray(n, float)
    if not _plain(n, a, b) or not np.isfinite(x).all():
        return betabinom.sf(x, n, a, b)
    k = np.floor(x)
    out = np.where(k < 0, 1.0, 0.0)
    inside = (k >= 0) & (k < n)
    out[inside] = np.clip(1.0 - _pmf_sums(k[inside], n[inside], a[inside], b[inside]), 0, 1)
    return out
CHI2_1_MEDIAN = 0.4549  # median of a chi-square(1): the robust scale of a squared z


class BetaBinomialRate(BlockDetector):
    name = "beta_binomial"
    threshold = 4.5
    kinds = (Kind.RATE,)
    anomaly_kind = AnomalyKind.RATE_JUMP

    @classmethod
    def applies(cls, series) -> bool:
        return series.kind is Kind.RATE and series.denominator is not None

    def _score_block(self, b: Block) -> Scores:
        if b.denominator is None:
            raise SeriesError("a rate needs its denominator for the beta-binomial detector")
        p, n = b.values, b.denominator
        ok = np.isfinite(p) & np.isfinite(n) & (n > 0)
        x = np.where(ok, np.round(p * n), np.nan)
        nn = np.where(ok, n, np.nan)
        win, least = window(b.freq)
        sx = rolling(x, win, "sum", least)
        sn = rolling(nn, win, "sum", least)
        p0 = np.clip(sx / np.where(sn > 0, sn, np.nan), 0.5 / np.fmax(sn, 1), 1 - 0.5 / np.fmax(sn, 1))
        var_b = nn * p0 * (1 - p0)
        r2 = (x - nn * p0) ** 2 / var_b
        # intra-class correlation, point by point: a squared Pearson residual is ≈ χ²₁·(1 + (n − 1)ρ), so
        # (r²/median χ²₁ − 1)/(n − 1) estimates ρ at each point and its median is robust to the anomalies.
        # (One φ for the whole series, divided by the mean base, under-estimates ρ where the base varies
        # from hundreds to tens of thousands: the large-base days then look far too significant.)
        with np.errstate(invalid="ignore", divide="ignore"):
            rho_i = (r2 / CHI2_1_MEDIAN - 1) / np.where(nn > 1, nn - 1, np.nan)
        rho = np.where(row_any_finite(rho_i), row_nanmedian(rho_i), 0.0)
        rho = np.clip(np.nan_to_num(rho), 0, 0.5)
        var = var_b * (1 + (nn - 1) * rho[:, None])
        zraw = (x - nn * p0) / np.sqrt(var)
        fin = np.isfinite(zraw)
        pval = np.full(p.shape, np.nan)
        pval[fin] = norm.sf(np.abs(zraw[fin]))  # moment approximation; exact tails where it matters
        good = fin & (np.abs(zraw) >= 2.5)  # the beta-binomial cdf is slow: only near the tails
        xi, ni, pi = x[good], nn[good].astype(int), p0[good]
        ri = np.broadcast_to(rho[:, None], p.shape)[good]
        up = xi >= ni * pi
        tail = np.empty(len(xi))
        beta = ri > 1e-7  # over-dispersed series: beta-binomial; the others binomial
        if beta.any():
            xb, nb, pb, rb, ub = xi[beta], ni[beta], pi[beta], ri[beta], up[beta]
            sb = (1 - rb) / rb
            a, c = pb * sb, (1 - pb) * sb
            tail[beta] = np.where(ub, betabinom_sf(xb - 1, nb, a, c), betabinom_cdf(xb, nb, a, c))
        if (~beta).any():
            xb, nb, pb, ub = xi[~beta], ni[~beta], pi[~beta], up[~beta]
            tail[~beta] = np.where(ub, binom.sf(xb - 1, nb, pb), binom.cdf(xb, nb, pb))
        pval[good] = np.minimum(tail, 1.0)
        z = np.where(fin, zraw, np.nan)
        z[good] = z_from_p(pval[good], np.where(up, 1.0, -1.0))
        sd = np.sqrt(var) / np.where(nn > 0, nn, np.nan)
        ppy = points_per_year(b.index)
        thr = spike_z(ppy)
        return Scores(b.index, p0, np.clip(p0 - thr * sd, 0, 1), np.clip(p0 + thr * sd, 0, 1),
                      z, p - p0, pvalue=pval, resid_z=zraw, threshold=thr,
                      per_budget=lambda budget: spike_z(ppy, budget))
