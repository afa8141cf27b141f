"""The false-alarm budget: how many false alarms a clean series may raise per year, turned into
each test's threshold.

Why a budget and not a threshold: a fixed "4.5 sigma" means one false-alarm rate on a 250-point
weekday series, another on a 365-day one, and a third on a monthly NPL series with 12 points a
year; and a bank reading thousands of series needs to know how many alarms are noise. The budget
is stated in the reader's unit — false alarms per series-year — and every test gets its share:

* the point (spike) test: per-point two-sided α = budget × SPIKE_SHARE / points per year, applied
  to *calibrated* normal scores (anomaly/calibrate.py), so the rate holds on heavy-tailed data;
* the mean CUSUM (level shift, drift): in-control average run length per side
  ARL₀ = 2 × points per year / (budget × SHIFT_SHARE), h from Siegmund's approximation
  ARL₀ ≈ (e^{2kb} − 2kb − 1) / (2k²), b = h + 1.166 (k = 0.5);
* the variance CUSUM (likelihood-ratio increments): ARL₀ ≥ e^h (Wald), h = ln ARL₀.

A scan of N series over Y years therefore expects about budget × N × Y false alarms in all, a
number the scan reports (docs/scan.md): that is how the thousands of series one scan tests are
controlled for. tests/test_anomaly_calibration.py checks that clean series raise the budgeted rate.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy.stats import norm
from scipy.stats import t as student_t

BUDGET = 0.1  # false alarms per series-year at sensitivity "medium" (≈ 0.3–0.4 per 1,000 daily points)
SPIKE_SHARE, SHIFT_SHARE, VARIANCE_SHARE = 0.5, 0.3, 0.2
K = 0.5  # CUSUM reference value (tuned to a 1-sigma shift)
YEAR = pd.Timedelta(days=365.25)


def points_per_year(index: pd.DatetimeIndex) -> float:
    """Points a year on this index: its length over its span (one step added, so 12 month-ends make
    one year); a short index falls back to its spacing."""
    n = len(index)
    if n < 2:
        return 365.25
    t = index.values.astype("datetime64[ns]").astype(np.int64)
    step = float(np.median(np.diff(t)))
    span = float(t[-1] - t[0]) + step
    years = span / YEAR.value
    if years < 0.25:  # too short to count: the spacing says it
        return YEAR.value / max(step, 1.0)
    return n / years


def spike_z(ppy: float, budget: float = BUDGET, df: float | None = None) -> float:
    """|z| a calibrated point must reach: the two-sided normal quantile of α per point — or, when
    the scale rests on only `df` residuals and no tail fit could calibrate it (a monthly series has
    a dozen), Student's t quantile with those degrees of freedom."""
    alpha = min(max(budget * SPIKE_SHARE / max(ppy, 1.0), 1e-12), 0.5)
    if df is not None:
        return float(student_t.isf(alpha / 2, max(df, 1.0)))
    return float(norm.isf(alpha / 2))


def cusum_h(ppy: float, budget: float = BUDGET) -> float:
    """Decision interval of the two one-sided mean CUSUMs for the budget's shift share."""
    arl = 2.0 * max(ppy, 1.0) / max(budget * SHIFT_SHARE, 1e-9)
    # solve (e^{2Kb} − 2Kb − 1)/(2K²) = arl for b (K = 0.5: 2(e^b − b − 1) = arl), then h = b − 1.166
    b = math.log(arl * K * K * 2 + 1)
    for _ in range(30):
        b = math.log(arl * 2 * K * K + 2 * K * b + 1) / (2 * K)
    return max(b - 1.166, 1.0)


def variance_h(ppy: float, budget: float = BUDGET) -> float:
    """Decision interval of the likelihood-ratio variance CUSUM (Wald: ARL₀ ≥ e^h)."""
    return max(math.log(max(ppy, 1.0) / max(budget * VARIANCE_SHARE, 1e-9)), 1.0)
