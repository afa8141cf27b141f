"""Numeric kernels the detectors share: rolling statistics along time for one series or a block
(series × time), row-wise medians, and the normal score of a tail probability. Plain numpy /
pandas / bottleneck, no detector logic (that is anomaly/base.py's interface and the detectors)."""

from __future__ import annotations

import numpy as np
import pandas as pd


def z_from_p(p: np.ndarray, sign: np.ndarray) -> np.ndarray:
    """Signed normal quantile with the same one-sided tail probability (capped at 40)."""
    from scipy.stats import norm

    z = norm.isf(np.clip(p, 1e-300, 1.0))
    return np.sign(sign) * np.clip(z, 0, 40)


def rolling(a: np.ndarray, window: int, fn: str, min_periods: int, trailing: bool = True) -> np.ndarray:
    """Trailing (excluding the current point) or centered rolling statistic; NaN-aware.

    `a` is one series or a block (series × time, rolled along time): pandas runs the same kernel
    on each column of a frame as on a Series, so a row of the block result equals the 1-D result.
    Medians go through bottleneck's double-heap kernel instead (`rolling_median`): the same numbers,
    a fifth of the time — three rolling medians per seasonal series were half of a scan's detection."""
    two = a.ndim == 2
    if fn == "median":
        b = a if two else a[None, :]
        r = rolling_median(b, window, min_periods, center=not trailing)
        if trailing:  # excluding the current point: shifted one step later
            r = np.concatenate([np.full((len(r), 1), np.nan), r[:, :-1]], axis=1) if r.shape[1] else r
        return np.ascontiguousarray(r) if two else r[0]
    s = pd.DataFrame(a.T) if two else pd.Series(a)
    if trailing:
        r = getattr(s.rolling(window, min_periods=min_periods), fn)().shift(1)
    else:
        r = getattr(s.rolling(window, min_periods=min_periods, center=True), fn)()
    return np.ascontiguousarray(r.to_numpy().T) if two else r.to_numpy()


def rolling_median(a: np.ndarray, window: int, min_periods: int, center: bool = False) -> np.ndarray:
    """`DataFrame(a.T).rolling(window, min_periods, center).median()` of a block (rows rolled along
    axis 1), equal to pandas' value for value (tests/test_anomaly_blocks.py): pandas reads ±inf as
    missing, a centered window ends (window - 1) // 2 points ahead, and points outside the series
    are missing — bottleneck needs the window to fit, so the block is padded with NaN."""
    import bottleneck as bn

    a = np.where(np.isinf(a), np.nan, np.asarray(a, dtype=float))
    ahead = (window - 1) // 2 if center else 0
    n = a.shape[1]
    front = max(window - n - ahead, 0)
    if ahead or front:
        a = np.concatenate([np.full((len(a), front), np.nan), a, np.full((len(a), ahead), np.nan)], axis=1)
    if not a.shape[1]:
        return np.empty((len(a), 0))
    return bn.move_median(a, window, min_count=min_periods, axis=1)[:, front + ahead:]


def row_nanmedian(a: np.ndarray) -> np.ndarray:
    """`np.nanmedian` of each row of a 2-D array (NaN for a row without values), by one sort:
    the same order statistics and the same mean of the middle two, so the same numbers."""
    srt = np.sort(a, axis=1)  # NaN sort last
    cnt = (~np.isnan(a)).sum(axis=1)
    lo = np.maximum(cnt - 1, 0) // 2
    hi = np.minimum(cnt // 2, max(a.shape[1] - 1, 0))
    r = np.arange(a.shape[0])
    if not a.shape[1]:
        return np.full(a.shape[0], np.nan)
    return np.where(cnt > 0, 0.5 * (srt[r, lo] + srt[r, hi]), np.nan)


def row_any_finite(a: np.ndarray) -> np.ndarray:
    return np.isfinite(a).any(axis=1)


MAD_TO_SIGMA = 1.4826
