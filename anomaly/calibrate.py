"""Calibrated tail probabilities for robust z-scores: a Student-t fitted to each series' own tails.

A robust z (residual / robust sigma) is normal only when the noise is. Branch data is not: a
short-staffed day doubles the wait, a backlog day triples the volume — a 4.5-sigma point is a
weekly event at some outlets, a yearly one at others. So each series' |z| distribution is matched
to a scaled Student-t: the tail weight ν from the ratio of its 95th to its 50th percentile (a
normal has 2.91, t₃ 4.16, Cauchy 12.7), the scale from the median. Both quantiles ignore the few
anomalous points (< 5 % of a series moves neither), so the anomalies a series contains do not
hide themselves. Each z is then replaced by the normal score with the same two-sided tail
probability under that t: a calibrated score whose false-alarm rate is what the budget says
(anomaly/budget.py), and whose CUSUM run lengths are those of normal input.

Rows with too few values keep their z (nothing to fit); ν is capped at 60 (≈ normal) and floored
at 1.5 (a finite-median, very heavy tail).
"""

from __future__ import annotations

import numpy as np
from scipy.stats import norm, t

MIN_POINTS = 60
NU_GRID = np.array([1.5, 1.75, 2, 2.25, 2.5, 3, 3.5, 4, 5, 6, 8, 10, 15, 20, 30, 60], float)
_RATIO = t.ppf(0.975, NU_GRID) / t.ppf(0.75, NU_GRID)  # q95/q50 of |T|, decreasing in ν


def fit(z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per row of `z` (series × time): tail weight ν and scale s of |z| ≈ s·|T_ν|."""
    a = np.abs(np.atleast_2d(z))
    a = np.where(np.isfinite(a), a, np.nan)
    n = np.isfinite(a).sum(axis=1)
    with np.errstate(all="ignore"):
        q50 = np.nanquantile(a, 0.5, axis=1) if a.shape[1] else np.full(len(a), np.nan)
        q95 = np.nanquantile(a, 0.95, axis=1) if a.shape[1] else np.full(len(a), np.nan)
        ratio = q95 / q50
    ok = (n >= MIN_POINTS) & np.isfinite(ratio) & (q50 > 0)
    # _RATIO decreases with ν: interpolate on the reversed arrays; clip to the grid's ends
    nu = np.where(ok, np.interp(np.where(ok, ratio, 3.0), _RATIO[::-1], NU_GRID[::-1]), np.inf)
    nu = np.where(ok & (ratio <= _RATIO[-1]), NU_GRID[-1], nu)
    scale = np.where(ok, q50 / t.ppf(0.75, np.where(np.isfinite(nu), nu, 60.0)), 1.0)
    return nu, scale


def exp_tail(z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per row: the threshold u (90th percentile of |z|) and scale β of an exponential tail fitted
    between the 90th and 98th percentiles: P(|z| > x) ≈ 0.1·exp(−(x − u)/β) beyond u."""
    a = np.abs(np.atleast_2d(z))
    a = np.where(np.isfinite(a), a, np.nan)
    n = np.isfinite(a).sum(axis=1)
    with np.errstate(all="ignore"):
        q90 = np.nanquantile(a, 0.90, axis=1) if a.shape[1] else np.full(len(a), np.nan)
        q98 = np.nanquantile(a, 0.98, axis=1) if a.shape[1] else np.full(len(a), np.nan)
        beta = (q98 - q90) / np.log(5.0)
    ok = (n >= MIN_POINTS) & np.isfinite(beta) & (beta > 0)
    return np.where(ok, q90, np.nan), np.where(ok, beta, np.nan)


def normal_scores(z: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(calibrated z, ν, scale): z mapped to the normal score with the same two-sided tail
    probability; NaN stays NaN; a row without a fit is returned unchanged.

    The tail probability is the smaller of the fitted Student-t's and a fitted exponential tail's:
    the t describes the body and the first part of the tail well but its polynomial tail makes a
    point twenty medians out on a series with a few model misfits (night hours, transitions)
    unremarkable; the exponential caps that. On normal noise the t (ν ≈ 60) is the smaller and the
    scores are the plain z (the calibration test in tests/test_anomaly_calibration.py)."""
    two = z.ndim == 2
    zz = np.atleast_2d(z)
    nu, scale = fit(zz)
    u, beta = exp_tail(zz)
    out = zz.copy()
    for r in np.flatnonzero(np.isfinite(nu)):
        row = zz[r]
        fin = np.isfinite(row)
        a = np.abs(row[fin])
        p = 2 * t.sf(a / scale[r], nu[r])
        if np.isfinite(beta[r]):
            p = np.minimum(p, np.where(a > u[r], 0.1 * np.exp(-(a - u[r]) / beta[r]), 1.0))
        out[r, fin] = np.sign(row[fin]) * np.minimum(norm.isf(np.clip(p, 1e-300, 1.0) / 2), 40.0)
    return (out if two else out[0]), nu, scale


def raw_threshold(zthr: float, nu: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """Per row: the uncalibrated |z| whose calibrated score is `zthr` (to draw the band)."""
    p = 2 * norm.sf(zthr)
    safe_nu = np.where(np.isfinite(nu), nu, 60.0)
    return np.where(np.isfinite(nu), scale * t.isf(p / 2, safe_nu), zthr)
