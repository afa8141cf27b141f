"""Table-driven tests for the anomaly detectors: each anomaly kind caught, each decoy left alone,
NaN is unknown, bad input rejected, one flag per event, the generic CSV round trip."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from anomaly.base import Controls, Freq, Kind, SeriesError, SeriesInput
from anomaly.counts import NegBinCounts
from anomaly.ensemble import choose, detect
from anomaly.generic import detect_long, write_flags
from anomaly.rate import BetaBinomialRate
from anomaly.registry import DETECTORS, detectors_for
from anomaly.seasonal import SeasonalBaseline
from anomaly.shift import ShiftDetector
from data.calendar import day_table

IDX = pd.date_range("2024-01-01", "2025-12-31", freq="D")
N = len(IDX)
CAL = day_table(IDX[0].date(), IDX[-1].date())
WEEKDAY = np.array([1.10, 1.0, 0.95, 0.97, 1.08, 0.45, 0.35])


def bank_profile() -> np.ndarray:
    """Counter load on the Chinese business calendar (as in bench/anomaly_synthetic.py)."""
    m = WEEKDAY[CAL["weekday"].to_numpy()]
    dt = CAL["day_type"].to_numpy()
    m[dt == "adjusted_workday"] = 1.0
    m[dt == "holiday_off"] = 0.1
    m[CAL["post_holiday"].to_numpy()] *= 1.4
    m[CAL["month_end"].to_numpy()] *= 1.2
    m[CAL["quarter_end"].to_numpy()] *= 1.15
    m[CAL["year_end"].to_numpy()] *= 1.15
    return m


def volume(seed=1, eff=None, noise=None, base=800.0) -> SeriesInput:
    rng = np.random.default_rng(seed)
    e = np.ones(N) if eff is None else eff
    nz = np.ones(N) if noise is None else noise
    mu = base * bank_profile() * e * np.exp(rng.normal(0, 0.05 * nz, N))
    return SeriesInput(pd.Series(rng.poisson(mu).astype(float), IDX), kind="count", series_id="b/vol")


def at(day: str) -> int:
    return int(IDX.get_loc(pd.Timestamp(day)))


def rate(seed=2, n=50_000, p=0.02, jump_at=None, mult=1.0, span=1) -> SeriesInput:
    rng = np.random.default_rng(seed)
    den = rng.poisson(n, N).astype(float) + 1
    pp = np.full(N, p)
    if jump_at is not None:
        pp[jump_at:jump_at + span] *= mult
    x = rng.binomial(den.astype(int), pp)
    return SeriesInput(pd.Series(x / den, IDX), pd.Series(den, IDX), kind="rate", series_id="r")


def complaints(seed=3, lam=1.5, burst_at=None, burst=12) -> SeriesInput:
    rng = np.random.default_rng(seed)
    m = np.full(N, lam)
    if burst_at is not None:
        m[burst_at] += burst
    return SeriesInput(pd.Series(rng.poisson(m).astype(float), IDX), kind="count", series_id="c")


def step(i, mult):
    e = np.ones(N)
    e[i:] = mult
    return e


def ramp(i, top, length=40):
    e = np.ones(N)
    e[i:i + length] = np.linspace(1, top, length)
    e[i + length:] = top
    return e


def spike(i, mult):
    e = np.ones(N)
    e[i] = mult
    return e


def noisy(i, k=3.5, length=40):
    e = np.ones(N)
    e[i:i + length] = k
    return e


ONSET = at("2025-06-11")  # an ordinary Wednesday
CASES = [  # name, detector, series, window (first, last day) the flag must fall in
    ("spike up", SeasonalBaseline, lambda: volume(eff=spike(ONSET, 2.2)), (ONSET - 1, ONSET + 1)),
    ("spike down", SeasonalBaseline, lambda: volume(eff=spike(ONSET, 0.4)), (ONSET - 1, ONSET + 1)),
    ("level shift", ShiftDetector, lambda: volume(eff=step(ONSET, 1.4)), (ONSET - 1, ONSET + 7)),
    ("drift", ShiftDetector, lambda: volume(eff=ramp(ONSET, 1.6)), (ONSET - 1, ONSET + 20)),
    ("variance change", ShiftDetector, lambda: volume(noise=noisy(ONSET)), (ONSET - 1, ONSET + 14)),
    ("rate jump", BetaBinomialRate, lambda: rate(jump_at=ONSET, mult=1.5), (ONSET - 1, ONSET + 1)),
    ("complaint burst", NegBinCounts, lambda: complaints(burst_at=ONSET), (ONSET - 1, ONSET + 1)),
]


@pytest.mark.parametrize("name,det,make,win", CASES, ids=[c[0] for c in CASES])
def test_detector_catches(name, det, make, win):
    s = make()
    d = det(SeasonalBaseline()) if det is ShiftDetector else det()
    flags = d.detect(s)
    lo, hi = IDX[win[0]], IDX[win[1]]
    assert any(lo <= f.date <= hi for f in flags), (name, [f.date for f in flags])


@pytest.mark.parametrize("name,det,make,win", CASES, ids=[c[0] for c in CASES])
def test_ensemble_one_event(name, det, make, win):
    s = make()
    flags = detect(s)
    lo, hi = IDX[win[0]], IDX[win[1]]
    inside = [f for f in flags if lo <= f.date <= hi]
    outside = [f for f in flags if not lo <= f.date <= hi]
    assert len(inside) == 1, (name, [(f.date, f.kind) for f in flags])
    assert len(outside) <= 1, (name, [(f.date, f.kind) for f in outside])


def test_level_shift_is_one_flag():
    i = N - 20  # a shift that lasts the last 20 days
    flags = [f for f in detect(volume(seed=7, eff=step(i, 1.5))) if f.date >= IDX[i - 7]]
    assert [f.date for f in flags] == [IDX[i]]
    assert flags[0].direction == "up" and flags[0].kind == "level_shift"


DECOYS = [  # spans that look unusual but are normal bank behaviour
    ("Spring Festival week", "2025-01-28", "2025-02-04"),
    ("调休 Saturday", "2025-01-26", "2025-01-26"),
    ("post-holiday surge", "2025-02-05", "2025-02-06"),
    ("quarter-end", "2025-09-29", "2025-09-30"),
    ("year-end", "2024-12-30", "2024-12-31"),
]


def test_calendar_days_are_what_the_decoys_say():
    t = CAL.set_index(pd.to_datetime(CAL["date"]))
    assert t.loc["2025-01-26", "day_type"] == "adjusted_workday"
    assert (t.loc["2025-01-28":"2025-02-04", "day_type"] == "holiday_off").all()
    assert t.loc["2025-02-05", "post_holiday"]


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("name,start,end", DECOYS, ids=[d[0] for d in DECOYS])
def test_decoys_not_flagged(name, start, end, seed):
    flags = detect(volume(seed=seed))
    hit = [f.date for f in flags if pd.Timestamp(start) <= f.date <= pd.Timestamp(end)]
    assert not hit, (name, hit)


def test_small_denominator_wobble_not_flagged():
    rng = np.random.default_rng(5)
    den = np.full(N, 200.0)
    x = rng.binomial(200, 0.02, N).astype(float)
    x[ONSET] += 1  # one more overdue loan
    s = SeriesInput(pd.Series(x / den, IDX), pd.Series(den, IDX), kind="rate")
    assert detect(s) == []
    # the same relative move on 50,000 loans is an alarm
    assert detect(rate(jump_at=ONSET, mult=1.5))


@pytest.mark.parametrize("make", [lambda: volume(), lambda: rate(), lambda: complaints()])
def test_nan_is_unknown_not_normal(make):
    s = make()
    v = s.values.copy()
    v.iloc[400:410] = np.nan
    v.iloc[405] = np.nan
    s2 = SeriesInput(v, s.denominator, s.kind)
    d = choose(s2)
    sc = d.score(s2)
    assert np.isnan(sc.score[400:410]).all()
    flags = detect(s2)
    assert not any(IDX[400] <= f.date <= IDX[409] for f in flags)


@pytest.mark.parametrize("values,den,kind,msg", [
    (pd.Series([1.0, 2.0], pd.DatetimeIndex(["2025-01-02", "2025-01-01"])), None, None, "sorted"),
    (pd.Series([1.0, 2.0], pd.DatetimeIndex(["2025-01-01", "2025-01-01"])), None, None, "duplicate"),
    (pd.Series([0.1, 0.2], pd.date_range("2025-01-01", periods=2)), [10, -1], "rate", "negative denominator"),
    (pd.Series([0.1, 1.2], pd.date_range("2025-01-01", periods=2)), [10, 10], "rate", "outside"),
    (pd.Series([1.0, -2.0], pd.date_range("2025-01-01", periods=2)), None, "count", "negative"),
])
def test_validation_errors(values, den, kind, msg):
    d = None if den is None else pd.Series(den, values.index, dtype=float)
    with pytest.raises(SeriesError, match=msg):
        SeriesInput(values, d, kind)


def test_controls():
    assert Controls().multiplier == 1.0
    assert Controls(sensitivity="low").multiplier > 1 > Controls(sensitivity="high").multiplier
    with pytest.raises(ValueError):
        Controls(sensitivity=-1.0)
    with pytest.raises(ValueError):
        Controls(bogus=1)
    s = volume(eff=spike(ONSET, 1.6))
    n_low = len(detect(s, Controls(sensitivity="low")))
    n_high = len(detect(s, Controls(sensitivity="high")))
    assert n_low <= n_high
    # a huge minimum change suppresses everything
    assert detect(s, Controls(min_change=5.0)) == []


def test_min_denominator():
    s = rate(n=20, jump_at=ONSET, mult=10.0)
    assert detect(s, Controls(min_denominator=1000)) == []


def test_registry():
    assert set(DETECTORS) == {"seasonal", "beta_binomial", "negative_binomial", "cusum"}
    assert BetaBinomialRate in detectors_for(Kind.RATE)
    assert NegBinCounts in detectors_for("count") and SeasonalBaseline in detectors_for("count")
    for cls in DETECTORS.values():
        assert cls.name and cls.threshold > 0


def test_choose_by_kind_and_level():
    assert isinstance(choose(rate()), BetaBinomialRate)
    assert isinstance(choose(complaints()), NegBinCounts)
    assert isinstance(choose(volume()), SeasonalBaseline)


def test_flag_fields():
    f = detect(volume(eff=spike(ONSET, 2.5)))[0]
    assert f.date == IDX[ONSET] and f.direction == "up" and f.kind == "spike"
    assert f.severity in ("low", "medium", "high") and f.observed > f.upper > f.expected > f.lower


def _intraday(days=42, spike_at=None) -> pd.DataFrame:
    idx = pd.date_range("2025-03-03", periods=days * 24, freq="h")
    rng = np.random.default_rng(11)
    prof = np.where((idx.hour >= 9) & (idx.hour < 17), 100.0, 5.0) * np.where(idx.day_of_week >= 5, 0.4, 1)
    v = rng.poisson(prof).astype(float)
    if spike_at is not None:
        v[spike_at] *= 3
    return pd.DataFrame({"date": idx.strftime("%Y-%m-%d %H:%M:%S"), "branch": "B1", "kpi": "tickets",
                         "value": v})


def test_intraday_series():
    k = 30 * 24 + 11  # a Wednesday 11:00
    df = _intraday(spike_at=k)
    s = SeriesInput(pd.Series(df["value"].to_numpy(), pd.DatetimeIndex(pd.to_datetime(df["date"]))))
    assert s.freq is Freq.INTRADAY and s.kind is Kind.COUNT
    flags = [f.date for f in detect(s)]
    assert s.index[k] in flags and len(flags) <= 3


def test_generic_csv_round_trip(tmp_path):
    daily = pd.DataFrame({"date": IDX.strftime("%Y-%m-%d"), "branch": "B2", "kpi": "vol",
                          "value": volume(eff=spike(ONSET, 2.5)).values.to_numpy()})
    r = rate(jump_at=ONSET, mult=1.6)
    rates = pd.DataFrame({"date": IDX.strftime("%Y-%m-%d"), "branch": "B2", "kpi": "overdue",
                          "value": r.values.to_numpy(), "denominator": r.denominator.to_numpy()})
    intra = _intraday(spike_at=30 * 24 + 11)
    path = tmp_path / "long.csv"
    pd.concat([daily, rates, intra]).to_csv(path, index=False)
    res = detect_long(path)
    assert res["B2/vol"] == [IDX[ONSET].strftime("%Y-%m-%d")]
    assert IDX[ONSET].strftime("%Y-%m-%d") in res["B2/overdue"]
    assert "2025-04-02 11:00:00" in res["B1/tickets"]
    out = tmp_path / "flags.json"
    write_flags(res, out)
    import json

    back = json.loads(out.read_text())
    assert back["B2/vol"] == res["B2/vol"] and back["_detector"] == "bankpulse"


def _applicable(cls) -> SeriesInput:
    """A series the registered detector applies to (a follower: any series)."""
    rng = np.random.default_rng(3)
    for s in (rate(), SeriesInput(pd.Series(rng.poisson(1.5, len(IDX)).astype(float), IDX), kind="count"),
              volume()):
        if cls.applies(s):
            return s
    raise AssertionError(f"no test series for {cls.name}")


@pytest.mark.parametrize("name", sorted(DETECTORS))
def test_every_registered_detector_nan_in_nan_out(name):
    """Table-driven over the registry: unknown points score NaN and are never flagged, and a clean
    stretch around them is still scored."""
    cls = DETECTORS[name]
    s = _applicable(cls)
    holes = np.zeros(len(s), bool)
    holes[[200, 201, 450, len(s) - 1]] = True
    v = s.values.copy()
    v[holes] = np.nan
    s2 = SeriesInput(v, s.denominator, s.kind, s.series_id)
    det = cls()
    sc = det.score(s2)
    assert np.isnan(sc.score[holes]).all()
    assert np.isfinite(sc.score[300:440]).mean() > 0.9
    flagged = {f.date for f in det.flag(sc, s2, Controls(false_alarms_per_year=5.0))}
    assert not flagged & set(s2.index[holes])


def test_choose_reads_the_registry_in_order():
    from anomaly.registry import BASE
    from anomaly.registry import choose as registry_choose

    assert BASE[-1].applies(rate()) and BASE[-1].applies(volume())  # the fallback applies to all
    for s in (rate(), volume(), SeriesInput(pd.Series(np.ones(len(IDX)), IDX), kind="count")):
        assert type(registry_choose(s)) is next(c for c in BASE if c.applies(s))
        assert type(choose(s)) is type(registry_choose(s))


def test_one_severity_ranking():
    from anomaly.base import MOST_SEVERE_FIRST, SEV_RANK, Severity, severity, shift_severity

    assert list(SEV_RANK) == [s.value for s in Severity] == list(reversed(MOST_SEVERE_FIRST))
    assert {severity(9.0, 4.0), severity(6.0, 4.0), severity(4.0, 4.0)} == set(SEV_RANK)
    assert shift_severity(3.5) == Severity.HIGH and shift_severity(float("nan")) == Severity.LOW
