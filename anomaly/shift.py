"""Level shifts, drifts and variance changes: CUSUM on another detector's standardized residuals.

Spike detectors compare each point with a trailing baseline, so a small persistent change
(1–2 sigma) never crosses their threshold and a slow drift is absorbed. CUSUM accumulates it:
  mean:     S⁺_t = max(0, S⁺_{t-1} + z_t − k),  S⁻ likewise, k = 0.5 (tuned to a 1-sigma shift),
            z clipped to ±4 so a lone spike (the spike detector's job) cannot trigger it;
  variance: the log-likelihood-ratio CUSUM for the noise sd tripling, on successive differences of
            z (a level shift is one big difference, a variance change many) scaled by their own
            robust sigma: S_t = max(0, S_{t-1} + (4/9)·min(d², 9) − ln 3).
Both alarm at the decision interval h the false-alarm budget gives (anomaly/budget.py: Siegmund's
approximation of the mean CUSUM's in-control run length, Wald's bound for the variance one; about
h = 7.5 for a daily series), the variance statistic rescaled to the mean one's units. The flag is back-dated to the
CUSUM's change-point estimate (the last time the statistic was zero), i.e. the onset.
The recursion is computed without a Python loop: S_t = C_t − min_{s≤t} C_s (Lindley).
Real residuals are autocorrelated (queues, wandering levels): z is divided by the square root of the
long-run variance (1 + φ)/(1 − φ) first, and daily series skip public holidays (spike test only).
A shift's severity is its size (mean z since the onset), not the CUSUM statistic.
"""

from __future__ import annotations

import numpy as np

from anomaly.base import AnomalyKind, Block, BlockDetector, Detector, Freq, Scores, SeriesInput
from anomaly.budget import K, cusum_h, points_per_year, variance_h
from anomaly.kernels import MAD_TO_SIGMA, row_nanmedian

H = 8.0  # the decision interval before the budget (anomaly/budget.py) set it; kept as the class default
CLIP = 4.0
KIND_DTYPE = f"<U{max(len(k.value) for k in AnomalyKind)}"  # fixed-width text: no Python object per point
VAR_A, VAR_B = 4.0 / 9.0, np.log(3.0)  # LR increment for sigma ×3: (1/2)(1 − 1/9)·z² − ln 3


def lindley(inc: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """CUSUM statistic max(0, S + inc) and, per point, the index where the current run began.
    `inc` is one series or a block (series × time, along time)."""
    x = np.atleast_2d(inc)
    c = np.concatenate([np.zeros((x.shape[0], 1)), np.cumsum(x, axis=1)], axis=1)
    runmin = np.minimum.accumulate(c, axis=1)
    s = (c - runmin)[:, 1:]
    at_min = np.where(c == runmin, np.arange(c.shape[1]), 0)
    onset = np.maximum.accumulate(at_min, axis=1)[:, 1:]  # last index of the running minimum = start of run
    return (s, onset) if inc.ndim == 2 else (s[0], onset[0])


def cusum(inc: np.ndarray, h: float) -> tuple[np.ndarray, np.ndarray]:
    """Lindley CUSUM restarted from zero after each alarm (S ≥ h); loops over alarms only.
    For a block, the rows without an alarm take the one Lindley pass; the others restart row by row."""
    if inc.ndim == 2:
        s, onset = lindley(inc)
        n = inc.shape[1]
        for r in np.flatnonzero((s >= h).any(axis=1)):
            nxt = int(np.argmax(s[r] >= h)) + 1
            if nxt < n:
                s[r, nxt:], on = cusum(inc[r, nxt:], h)
                onset[r, nxt:] = on + nxt
        return s, onset
    n = len(inc)
    s = np.zeros(n)
    onset = np.zeros(n, dtype=np.int64)
    start = 0
    while start < n:
        part, on = lindley(inc[start:])
        s[start:], onset[start:] = part, on + start
        hit = np.flatnonzero(part >= h)
        if not len(hit):
            break
        start += int(hit[0]) + 1
    return s, onset


def _window_mean(a: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Mean of the finite a[lo..hi] per point; a block (series × time) with per-point lo/hi arrays."""
    rows = a.shape[0]
    c = np.concatenate([np.zeros((rows, 1)), np.cumsum(np.nan_to_num(a), axis=1)], axis=1)
    n = np.concatenate([np.zeros((rows, 1), np.int64), np.cumsum(np.isfinite(a), axis=1)], axis=1)
    at = np.arange(rows)[:, None] * c.shape[1]  # row offsets into the flattened prefix sums
    take = lambda m, i: m.ravel()[i + at]  # noqa: E731  (take_along_axis, without its index building)
    cnt = take(n, hi + 1) - take(n, lo)
    return np.where(cnt > 0, (take(c, hi + 1) - take(c, lo)) / np.maximum(cnt, 1), np.nan)


SHARPEN_CELLS = 2_000_000  # points × segment length per step of `_sharpen_onsets` (bounds memory)


def _sharpen_onsets(score: np.ndarray, onset: np.ndarray, zs: np.ndarray, h: float) -> None:
    """Sharpen the change-point estimate (in place): the best two-segment split (binary
    segmentation statistic) of z from a week before the CUSUM run to the point, for each point
    whose statistic passed h/2. All such points at once: each point's segment is a row of a
    matrix (zero-padded at the end), whose running sums are the segment's own running sums; the
    segment total is summed per segment length, as numpy sums one segment."""
    rr, ii = np.nonzero(np.abs(score) >= 0.5 * h)
    if not len(rr):
        return
    aa = np.maximum(onset[rr, ii] - 7, 0)
    mm = ii - aa + 1
    keep = mm >= 3
    rr, ii, aa, mm = rr[keep], ii[keep], aa[keep], mm[keep]
    order = np.argsort(mm, kind="stable")  # similar lengths together: little padding
    rr, ii, aa, mm = rr[order], ii[order], aa[order], mm[order]
    start = 0
    with np.errstate(invalid="ignore", divide="ignore"):
        while start < len(mm):
            cells = np.arange(1, len(mm) - start + 1) * mm[start:]  # rows × the longest of them
            stop = start + max(1, int(np.searchsorted(cells, SHARPEN_CELLS, side="right")))
            r, i, a, m = rr[start:stop], ii[start:stop], aa[start:stop], mm[start:stop]
            big = int(m.max())
            cols = np.arange(big)
            seg = np.where(cols < m[:, None], zs[r[:, None], np.minimum(a[:, None] + cols, zs.shape[1] - 1)], 0.0)
            tot = np.empty(len(m))
            lengths, first = np.unique(m, return_index=True)  # m is sorted: each length is one run of rows
            for n, f0, f1 in zip(lengths, first, np.r_[first[1:], len(m)], strict=True):
                tot[f0:f1] = seg[f0:f1, :n].sum(axis=1)  # numpy's pairwise sum depends on the length
            cs = np.cumsum(seg, axis=1)[:, :-1]  # cs[:, j-1] = sum of the first j values
            j = cols[None, 1:]
            mcol = m[:, None]
            stat = np.abs(cs - j / mcol * tot[:, None]) / np.sqrt(j * (mcol - j) / mcol)
            stat = np.where(j < mcol, stat, -np.inf)
            onset[r, i] = a + 1 + np.argmax(stat, axis=1)
            start = stop


LEAD = 0.5  # |z| in the shift's direction that the first point of a shift must show


def _first_deviating(score: np.ndarray, onset: np.ndarray, z: np.ndarray, h: float) -> None:
    """Move each alarm's onset (in place) to the first point from the change-point estimate on that
    deviates in the shift's direction: the split statistic often lands a day or two before the
    change, where the residuals are still ordinary — a shift is dated where it shows."""
    rr, ii = np.nonzero(np.abs(score) >= h)
    for r, i in zip(rr, ii, strict=True):
        a = int(onset[r, i])
        seg = z[r, a:i + 1] * np.sign(score[r, i])
        dev = np.flatnonzero(seg >= LEAD)
        if len(dev):
            onset[r, i] = a + int(dev[0])


def long_run_variance(zc: np.ndarray, fin: np.ndarray) -> float:
    """Variance inflation of sums of autocorrelated residuals, (1 + φ)/(1 − φ) for lag-1
    autocorrelation φ ≥ 0 (AR(1)). Real series are autocorrelated (a queue backlog lasts days, a
    level wanders around its trailing median); the CUSUM's run-length guarantee assumes independent
    z, so without this a few correlated 1-sigma days read as a level shift."""
    pair = fin[1:] & fin[:-1]
    if pair.sum() < 30:
        return 1.0
    a, b = zc[1:][pair], zc[:-1][pair]
    sa, sb = a.std(), b.std()
    if sa <= 0 or sb <= 0:
        return 1.0
    phi = float(np.clip(np.mean((a - a.mean()) * (b - b.mean())) / (sa * sb), 0.0, 0.8))
    return (1 + phi) / (1 - phi)


class ShiftDetector(BlockDetector):
    """Wraps a base detector; runs CUSUMs on its `resid_z`."""

    name = "cusum"
    threshold = H
    anomaly_kind = AnomalyKind.LEVEL_SHIFT

    def __init__(self, base: Detector | None = None, variance: bool | None = None):
        from anomaly.seasonal import SeasonalBaseline

        self.base = base or SeasonalBaseline()
        # z² of discrete (count, rate) residuals is too heavy-tailed for the variance CUSUM, and
        # intraday noise changes with the hour (night vs day): variance only on daily seasonal z
        self.variance = variance

    def _score_block(self, blk: Block, base_scores: Scores | None = None) -> Scores:
        b = base_scores if base_scores is not None else self.base.score_block(blk)
        z = b.resid_z if b.resid_z is not None else b.score
        if blk.freq is Freq.DAILY:
            # a level shift is a change of the regular days: public holidays (few, and for an outlet
            # open or closed at will) are judged by the spike test only
            from anomaly.seasonal import calendar_frame

            z = np.where(calendar_frame(blk.index, blk.freq)["holiday"][None, :], np.nan, z)
        fin = np.isfinite(z)
        zc = np.where(fin, np.clip(z, -CLIP, CLIP), 0.0)
        lrv = np.array([long_run_variance(zc[r], fin[r]) for r in range(len(zc))])
        zc = zc / np.sqrt(lrv)[:, None]
        ppy = points_per_year(blk.index)
        h, hv = cusum_h(ppy), variance_h(ppy)
        up, on_up = cusum(np.where(fin, zc - K, 0.0), h)
        dn, on_dn = cusum(np.where(fin, -zc - K, 0.0), h)
        use_var = self.variance
        if use_var is None:
            from anomaly.seasonal import SeasonalBaseline

            use_var = isinstance(self.base, SeasonalBaseline) and blk.freq is Freq.DAILY
        shape = z.shape
        idx = np.broadcast_to(np.arange(shape[1]), shape)
        if use_var:
            # successive differences: a level shift is one big step, a variance change is many
            dz = np.diff(np.where(fin, z, np.nan), prepend=np.nan, axis=1)
            ok = np.isfinite(dz)
            many = ok.sum(axis=1) > 10  # in robust-sigma units of the series' own differences
            if many.any():
                scale = MAD_TO_SIGMA * row_nanmedian(np.where(ok[many], np.abs(dz[many]), np.nan)) + 1e-12
                dz[many] = dz[many] / scale[:, None]
            var, on_var = cusum(np.where(ok, VAR_A * np.minimum(dz**2, 9.0) - VAR_B, 0.0), hv)
            var = var * (h / hv)  # in the mean CUSUM's units: one threshold for both
        else:
            var, on_var = np.zeros(shape), idx
        use_up = up >= dn
        score = np.where(use_up, up, -dn)
        onset = np.where(use_up, on_up, on_dn)
        kind = np.full(shape, AnomalyKind.LEVEL_SHIFT.value, dtype=KIND_DTYPE)
        onset = np.minimum(onset, idx)
        _sharpen_onsets(score, onset, np.where(fin, np.clip(z, -10, 10), 0.0), h)
        _first_deviating(score, onset, np.where(fin, z, 0.0), h)
        mid = (onset + idx) // 2
        first = np.abs(_window_mean(zc, onset, mid))
        second = np.abs(_window_mean(zc, np.minimum(mid + 1, idx), idx))
        start = np.abs(_window_mean(zc, onset, np.minimum(onset + 2, idx)))
        # a drift starts gently and keeps growing; a level shift starts with a jump
        kind[(second > 1.5 * first) & (start < 2.0) & (idx - onset >= 6)] = AnomalyKind.DRIFT.value
        change = _window_mean(b.change, onset, idx)
        size = _window_mean(np.where(fin, np.clip(z, -10, 10), np.nan), onset, idx)
        is_var = (var > np.abs(score)) & (np.abs(score) < h)
        score = np.where(is_var, var, score)
        onset = np.where(is_var, np.minimum(on_var, idx), onset)
        kind[is_var] = AnomalyKind.VARIANCE.value
        change = np.where(is_var, np.nan, change)
        score = np.where(fin, score, np.nan)
        return Scores(blk.index, b.expected, b.lower, b.upper, score, change, pvalue=None,
                      resid_z=b.resid_z, onset=onset, anomaly_kind=kind, threshold=h,
                      per_budget=lambda budget: cusum_h(ppy, budget),
                      size_z=np.where(is_var, np.abs(score) / h, size))

    def score_from(self, series: SeriesInput, base_scores: Scores) -> Scores:
        """Reuse already computed base scores (the ensemble does)."""
        out = self._score_block(Block.of([series]), Scores.stack([base_scores])).row(0)
        nan = ~np.isfinite(series.values.to_numpy())
        out.score = np.where(nan, np.nan, out.score)
        return out

    def score_block_from(self, block: Block, base_scores: Scores) -> Scores:
        """`score_from` for a block and its base detector's block scores."""
        out = self._score_block(block, base_scores)
        out.score = np.where(~np.isfinite(block.values), np.nan, out.score)
        return out
