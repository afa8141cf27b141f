"""Calibrated tail probabilities for robust z-scores: a Student-t fitted to each series' own tails.

A robust z (residual / robust sigma) is normal only when the noise is. Branch data is not: a
short-staffed day doubles the wait, a backlog day triples the volume — a 4.5-sigma point is a
weekly event at some outlets, a yearly one at others. So each series' |z| distribution is matched
to a scaled Student-t on its tail: the tail weight ν from the ratio of its 99th to its 90th
percentile (a normal has 1.57, t₃ 2.48, t₁.₅ 4.0), the scale from the 90th. Tail quantiles, not
the median: noise whose scale differs between calendar classes makes the body of |z| peaked and
a body-based fit would read that as a heavy tail; and the few anomalous points of a series (under
1 % moves neither quantile much) do not hide themselves. Each z is then replaced by the normal score with the same two-sided tail
probability under that t: a calibrated score whose false-alarm rate is what the budget says
(anomaly/budget.py), and whose CUSUM run lengths are those of normal input.

Rows with too few values keep their z (nothing to fit); ν is capped at 60 (≈ normal) and floored
at 1.5 (a finite-median, very heavy tail).
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy.stats import norm, t

MIN_POINTS = 100  # the 99th percentile needs a few points beyond it
NU_GRID = np.array([1.5, 1.75, 2, 2.25, 2.5, 3, 3.5, 4, 5, 6, 8, 10, 15, 20, 30, 60], float)
_RATIO = t.ppf(0.995, NU_GRID) / t.ppf(0.95, NU_GRID)  # q99/q90 of |T|, decreasing in ν


def fit(z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per row of `z` (series × time): tail weight ν and scale s of |z| ≈ s·|T_ν|."""
    a = np.abs(np.atleast_2d(z))
    a = np.where(np.isfinite(a), a, np.nan)
    n = np.isfinite(a).sum(axis=1)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # an all-NaN row (a side with no points): NaN, no fit
        q90 = np.nanquantile(a, 0.90, axis=1) if a.shape[1] else np.full(len(a), np.nan)
        q99 = np.nanquantile(a, 0.99, axis=1) if a.shape[1] else np.full(len(a), np.nan)
        ratio = q99 / q90
    ok = (n >= MIN_POINTS) & np.isfinite(ratio) & (q90 > 0)
    # _RATIO decreases with ν: interpolate on the reversed arrays; clip to the grid's ends
    nu = np.where(ok, np.interp(np.where(ok, ratio, 3.0), _RATIO[::-1], NU_GRID[::-1]), np.inf)
    nu = np.where(ok & (ratio <= _RATIO[-1]), NU_GRID[-1], nu)
    scale = np.where(ok, q90 / t.ppf(0.95, np.where(np.isfinite(nu), nu, 60.0)), 1.0)
    return nu, scale


def normal_scores(z: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(calibrated z, ν, scale): z mapped to the normal score with the same two-sided tail
    probability; NaN stays NaN; a row without a fit is returned unchanged. ν and scale are the
    fit of both sides together (for the band); each side's points are judged on their own side's
    fit (a wait's right tail — short-staffed days — is heavier than its left).

    Fitting the sides apart matters beyond skew: a model misfit on one side (a count's zeros read
    on the log scale) must not make a spike on the other side look ordinary. On normal noise
    (ν ≈ 60) the scores are the plain z (tests/test_anomaly_calibration.py)."""
    two = z.ndim == 2
    zz = np.atleast_2d(z)
    nu, scale = fit(zz)
    out = zz.copy()
    for side in (1.0, -1.0):
        part = np.where(np.sign(zz) == side, zz, np.nan)
        # a side with too few points (or none: a count that never falls) takes the pooled fit
        snu, sscale = fit(part)
        poor = ~np.isfinite(snu)
        snu, sscale = np.where(poor, nu, snu), np.where(poor, scale, sscale)
        # one vectorised step for the whole block: each point with its row's ν and scale
        sel = np.isfinite(zz) & (np.sign(zz) == side) & np.isfinite(snu)[:, None]
        rows = np.nonzero(sel)[0]
        p = 2 * t.sf(np.abs(zz[sel]) / sscale[rows], snu[rows])
        out[sel] = side * np.minimum(norm.isf(np.clip(p, 1e-300, 1.0) / 2), 40.0)
    return (out if two else out[0]), nu, scale


def raw_threshold(zthr: float, nu: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """Per row: the uncalibrated |z| whose calibrated score is `zthr` (to draw the band)."""
    p = 2 * norm.sf(zthr)
    safe_nu = np.where(np.isfinite(nu), nu, 60.0)
    return np.where(np.isfinite(nu), scale * t.isf(p / 2, safe_nu), zthr)
