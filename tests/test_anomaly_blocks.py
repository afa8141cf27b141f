"""Block scoring (many series as one 2-D array) gives exactly what one series at a time gives.

The scan judges every outlet of a KPI as one block (anomaly.base.Block, ensemble.detect_many);
pages, the CLI and the benchmarks score one series. Both must tell the same story, to the bit.
"""
from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from anomaly.base import Block, Controls, SeriesInput
from anomaly.ensemble import choose, detect, detect_many
from anomaly.shift import ShiftDetector
from data.calendar import day_table


def _days(n: int = 500) -> pd.DatetimeIndex:
    t = day_table(date(2024, 1, 1), date(2025, 12, 31))
    return pd.DatetimeIndex(pd.to_datetime(t["date"]))[:n]


def _family(kind: str, rng, n_series: int = 7) -> list[SeriesInput]:
    """Series of one kind on one index: noise, a spike, a level shift, gaps, a closed outlet."""
    idx = _days()
    wd = np.where(idx.day_of_week < 5, 1.0, 0.45)
    out = []
    for j in range(n_series):
        if kind == "rate":
            n = rng.poisson(400 * wd * (1 + j)).astype(float)
            p = np.clip(rng.normal(0.06, 0.004, len(idx)), 0, 1)
            x = rng.binomial(n.astype(int), p).astype(float)
            if j == 1:
                x[300] = n[300] * 0.25  # a rate jump
            v = np.where(n > 0, x / np.maximum(n, 1), np.nan)
            out.append(SeriesInput(pd.Series(v, index=idx), pd.Series(n, index=idx), kind="rate", series_id=f"r{j}"))
            continue
        lam = (3.0 if kind == "low" else 120.0 * (1 + j)) * wd
        v = rng.poisson(lam).astype(float) if kind in ("count", "low") else rng.gamma(4, 3 * (1 + j), len(idx)) * wd
        if j == 1:
            v[250] *= 4  # a spike
        if j == 2:
            v[380:] *= 1.5  # a level shift
        if j == 3:
            v[rng.random(len(v)) < 0.1] = np.nan  # missing days
        if j == 4 and kind == "count":
            v[idx.day_of_week >= 5] = 0.0  # closed at weekends
        out.append(SeriesInput(pd.Series(v, index=idx), kind=kind if kind != "low" else "count", series_id=f"{kind}{j}"))
    return out


@pytest.mark.parametrize("kind", ["count", "duration", "amount", "rate", "low"])
def test_block_scores_equal_single_series_scores(kind):
    rng = np.random.default_rng(7)
    series = _family(kind, rng)
    base = choose(series[0])
    assert all(type(choose(s)) is type(base) for s in series)
    blk = Block.of(series)
    bs = base.score_block(blk)
    shift = ShiftDetector(base)
    ss = shift.score_block_from(blk, bs)
    for j, s in enumerate(series):
        one = base.score(s)
        for f in ("expected", "lower", "upper", "score", "change"):
            np.testing.assert_array_equal(getattr(bs.row(j), f), getattr(one, f), err_msg=f"{kind} {j} {f}")
        sh = shift.score_from(s, one)
        for f in ("score", "change", "onset", "size_z"):
            np.testing.assert_array_equal(getattr(ss.row(j), f), getattr(sh, f), err_msg=f"{kind} {j} shift {f}")
        assert list(ss.row(j).anomaly_kind) == list(sh.anomaly_kind)


def test_detect_many_equals_detect_one_by_one():
    rng = np.random.default_rng(11)
    series = [s for k in ("count", "duration", "rate", "low") for s in _family(k, rng)]
    series.append(SeriesInput(pd.Series(np.r_[np.full(60, 50.0), np.full(60, 80.0)],
                                        index=pd.date_range("2025-01-01", periods=120, freq="D")), kind="count",
                              series_id="other index"))
    controls = [Controls(sensitivity="high") if i % 3 == 0 else Controls() for i in range(len(series))]
    many = detect_many(list(zip(series, controls, strict=True)))
    one = [detect(s, c) for s, c in zip(series, controls, strict=True)]
    assert many == one
    assert sum(len(f) for f in one) > 0, "the fixture should hold something to flag"


def _many_series(n_families: int = 40) -> list[tuple[SeriesInput, Controls]]:
    rng = np.random.default_rng(5)
    series = [s for _ in range(n_families) for k in ("count", "rate") for s in _family(k, rng, 4)]
    return [(s, Controls()) for s in series]


def test_forked_children_give_the_flags_of_one_process():
    from anomaly.forked import FORK_MIN, detect_forked

    items = _many_series()
    assert len(items) >= FORK_MIN
    assert detect_forked(items, 3) == detect_forked(items, 1) == detect_many(items)


def test_a_failing_child_is_replaced_by_this_process(monkeypatch):
    """A child that dies (here: raises in its share) costs time, not flags."""
    import os

    import anomaly.forked as forked

    parent = os.getpid()
    real = forked.run_blocks

    def fail_in_child(items, blocks, since=None):
        if os.getpid() != parent:
            raise RuntimeError("a child that fails")
        return real(items, blocks, since)

    monkeypatch.setattr(forked, "run_blocks", fail_in_child)
    items = _many_series()
    assert forked.detect_forked(items, 2) == detect_many(items)


def test_a_late_child_is_stopped_and_its_blocks_judged_here(monkeypatch):
    """A child still busy past its deadline is killed; the blocks it took are judged by this process."""
    import os
    import time

    import anomaly.forked as forked

    parent = os.getpid()
    real = forked.run_blocks

    def stuck_in_child(items, blocks, since=None):
        if os.getpid() != parent:
            time.sleep(60)
        return real(items, blocks, since)

    monkeypatch.setattr(forked, "run_blocks", stuck_in_child)
    monkeypatch.setattr(forked, "DEADLINE", 0.5)
    monkeypatch.setattr(forked, "LATE_FACTOR", 0.0)
    items = _many_series()
    t0 = time.monotonic()
    assert forked.detect_forked(items, 2) == detect_many(items)
    assert time.monotonic() - t0 < 30


def test_too_many_blocks_for_the_queue_are_split_in_fixed_shares(monkeypatch):
    import anomaly.forked as forked

    monkeypatch.setattr(forked, "MAX_BLOCKS", 1)
    items = _many_series()
    assert forked.detect_forked(items, 2) == detect_many(items)


def test_beta_binomial_tails_equal_scipy_including_edges():
    from scipy.stats import betabinom

    from anomaly.rate import betabinom_cdf, betabinom_sf

    rng = np.random.default_rng(2)
    n = rng.integers(1, 400, 300).astype(float)
    x = np.floor(n * rng.uniform(-0.1, 1.2, 300))  # below 0 and above n too
    a, b = rng.uniform(0.5, 200, 300), rng.uniform(0.5, 2000, 300)
    np.testing.assert_array_equal(betabinom_cdf(x, n, a, b), betabinom.cdf(x, n, a, b))
    np.testing.assert_array_equal(betabinom_sf(x - 1, n, a, b), betabinom.sf(x - 1, n, a, b))
    empty = np.array([])
    assert len(betabinom_cdf(empty, empty, empty, empty)) == 0
    assert len(betabinom_sf(np.array([-1.0]), np.array([5.0]), np.array([1.0]), np.array([1.0]))) == 1


def test_flags_wanted_from_a_date_are_those_of_the_whole_history_from_that_date():
    """An incremental scan asks only for flags from the new periods on: events that cannot join them
    are not built, and what is returned is exactly the full result from that date on."""
    rng = np.random.default_rng(17)
    series = [s for k in ("count", "duration", "rate", "low") for s in _family(k, rng, 5)]
    months = pd.date_range("2021-01-01", periods=60, freq="MS")  # monthly: events join within 2 steps
    v = rng.poisson(200, 60).astype(float)
    v[[20, 22, 40, 41]] *= 3
    series.append(SeriesInput(pd.Series(v, index=months), kind="count", series_id="monthly"))
    # a generous budget: the point is that both paths agree, on many events
    items = [(s, Controls(sensitivity="high", false_alarms_per_year=2.0)) for s in series]
    full = detect_many(items)
    assert sum(len(f) for f in full) > 30
    checked = 0
    for cut in (0, 5, 21, 60, 120, 251, 300, 381, 420, 499, 500):
        since = [min(cut, len(s) - 1) if s.series_id == "monthly" else cut for s, _ in items]
        got = detect_many(items, since)
        for (s, _), want, fl, g in zip(items, since, full, got, strict=True):
            assert g == ([] if want >= len(s) else [f for f in fl if f.date >= s.index[want]]), (s.series_id, cut)
            checked += len(g)
    assert checked > 100


@pytest.mark.parametrize("seed", range(6))
def test_rolling_median_equals_pandas(seed):
    """bottleneck's kernel (anomaly.base.rolling_median) against pandas' rolling median, value for
    value: windows longer than the series, centered odd and even windows, NaN runs and ±inf (pandas
    reads them as missing), one series and blocks."""
    from anomaly.kernels import rolling

    rng = np.random.default_rng(seed)
    for _ in range(400):
        n, m = int(rng.integers(0, 90)), int(rng.integers(1, 4))
        a = rng.normal(size=(m, n)).round(int(rng.integers(0, 3)))
        a[rng.random(a.shape) < rng.random() * 0.5] = np.nan
        if rng.random() < 0.2:
            a[rng.random(a.shape) < 0.1] = np.inf if rng.random() < 0.5 else -np.inf
        w = int(rng.integers(1, 60))
        mp, trailing = int(rng.integers(1, w + 1)), bool(rng.random() < 0.5)
        x = a if rng.random() < 0.5 else a[0]
        frame = pd.DataFrame(x.T) if x.ndim == 2 else pd.Series(x)
        want = (frame.rolling(w, min_periods=mp).median().shift(1) if trailing
                else frame.rolling(w, min_periods=mp, center=True).median()).to_numpy()
        want = want.T if x.ndim == 2 else want
        got = rolling(x, w, "median", mp, trailing)
        assert got.shape == want.shape
        np.testing.assert_array_equal(got, want)
