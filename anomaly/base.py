"""The one detector interface: validated input, per-point scores, and the flagging post-rule.

Pattern (adtk / Merlion): the public `Detector.score` validates and calls the private `_score`,
which computes on a clean `SeriesInput`. A score says *how unusual* each point is; whether that
is worth a flag is decided separately by `Detector.flag` (threshold × sensitivity, minimum change,
minimum denominator, then one flag per event). NaN in → NaN score → never flagged: unknown is not
normal, and it is not an anomaly either.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, field_validator

from anomaly.budget import BUDGET


class Kind(StrEnum):
    COUNT = "count"
    RATE = "rate"
    AMOUNT = "amount"
    DURATION = "duration"


class Freq(StrEnum):
    DAILY = "daily"  # also weekly: a calendar day (or week) per point
    INTRADAY = "intraday"
    MONTHLY = "monthly"  # month-end points (NPL ratio, monthly overdue rate)

    @classmethod
    def of_step(cls, step: pd.Timedelta) -> Freq:
        """The frequency a spacing means: under 20 hours intraday, from 25 days monthly."""
        hours = step / pd.Timedelta(hours=1)
        return cls.INTRADAY if hours < 20 else cls.MONTHLY if hours >= 25 * 24 else cls.DAILY


class AnomalyKind(StrEnum):
    SPIKE = "spike"
    LEVEL_SHIFT = "level_shift"
    DRIFT = "drift"
    VARIANCE = "variance"
    RATE_JUMP = "rate_jump"


class SeriesError(ValueError):
    """Input that cannot be scored (unsorted or duplicate dates, impossible values, ...)."""


def infer_kind(values: np.ndarray, has_denominator: bool) -> Kind:
    if has_denominator:
        return Kind.RATE
    v = values[np.isfinite(values)]
    if len(v) and (v >= 0).all() and np.allclose(v, np.round(v)):
        return Kind.COUNT
    return Kind.AMOUNT


@dataclass(frozen=True, eq=False)
class SeriesInput:
    """One validated series. `values` is float with NaN allowed, on a sorted unique DatetimeIndex.

    For a rate, `values` holds the rate as a fraction and `denominator` its base count.
    """

    values: pd.Series
    denominator: pd.Series | None = None
    kind: Kind | None = None
    series_id: str = ""
    freq: Freq | None = None

    def __post_init__(self) -> None:
        v = self.values
        if not isinstance(v, pd.Series):
            raise SeriesError("values must be a pandas Series")
        idx = v.index
        if not isinstance(idx, pd.DatetimeIndex):
            try:
                idx = pd.DatetimeIndex(pd.to_datetime(idx))
            except (ValueError, TypeError) as e:
                raise SeriesError(f"index is not dates: {e}") from None
        if idx.tz is not None:
            idx = idx.tz_localize(None)
        if idx.has_duplicates:
            raise SeriesError(f"duplicate timestamps: {list(idx[idx.duplicated()][:3])}")
        if not idx.is_monotonic_increasing:
            raise SeriesError("timestamps are not sorted ascending")
        vals = pd.to_numeric(pd.Series(np.asarray(v), index=idx), errors="coerce").astype(float)
        object.__setattr__(self, "values", vals)
        idx = vals.index
        den = self.denominator
        if den is not None:
            den = pd.to_numeric(pd.Series(np.asarray(den), index=idx), errors="coerce").astype(float)
            if len(den) != len(vals):
                raise SeriesError("denominator length differs from values")
            if (den < 0).any():
                raise SeriesError("negative denominator")
            object.__setattr__(self, "denominator", den)
        kind = Kind(self.kind) if self.kind is not None else infer_kind(vals.to_numpy(), den is not None)
        object.__setattr__(self, "kind", kind)
        if kind is Kind.RATE and ((vals < 0) | (vals > 1)).any():
            raise SeriesError("rate outside [0, 1] (give rates as fractions)")
        if kind in (Kind.COUNT, Kind.DURATION) and (vals < 0).any():
            raise SeriesError(f"negative {kind.value}")
        if self.freq is None:
            object.__setattr__(self, "freq", Freq.of_step(self.step))

    @classmethod
    def trusted(cls, values: pd.Series, denominator: pd.Series | None, kind: Kind, series_id: str,
                freq: Freq) -> SeriesInput:
        """Build without re-validating: for callers whose series are already float on a sorted,
        unique DatetimeIndex with values valid for `kind` (the scan, thousands at a time)."""
        obj = object.__new__(cls)
        for k, v in (("values", values), ("denominator", denominator), ("kind", kind), ("series_id", series_id),
                     ("freq", freq)):
            object.__setattr__(obj, k, v)
        return obj

    @property
    def index(self) -> pd.DatetimeIndex:
        return self.values.index  # type: ignore[return-value]

    def __len__(self) -> int:
        return len(self.values)

    @property
    def step(self) -> pd.Timedelta:
        """Typical spacing between points (median); computed once per series (flagging asks often)."""
        cached = self.__dict__.get("_step")
        if cached is None:
            if len(self) < 2:
                cached = pd.Timedelta(days=1)
            else:
                d = np.diff(self.index.values.astype("datetime64[ns]")).astype(np.int64)
                cached = pd.Timedelta(int(np.median(d)), "ns")
            object.__setattr__(self, "_step", cached)
        return cached


@dataclass(eq=False)
class Block:
    """Series that share one date index, kind and frequency, as the rows of 2-D arrays (series × time).

    Why: a scan judges every outlet of a KPI; a 700-point series costs a few hundred numpy/pandas
    calls whose overhead, not arithmetic, is the time. On a block each step is one call for all
    rows, while every statistic is still computed per row exactly as for one series (the 1-D path
    is a block of one, so both give the same numbers).
    """

    index: pd.DatetimeIndex
    values: np.ndarray  # (series, time), float, NaN allowed
    denominator: np.ndarray | None
    kind: Kind
    freq: Freq
    step: pd.Timedelta
    ids: tuple[str, ...] = ()

    @classmethod
    def of(cls, series: Sequence[SeriesInput]) -> Block:
        """Stack series that share index, kind, frequency and having a denominator (not checked)."""
        first = series[0]
        vals = np.vstack([s.values.to_numpy(float) for s in series])
        den = None if first.denominator is None else np.vstack([s.denominator.to_numpy(float) for s in series])
        return cls(first.index, vals, den, first.kind, first.freq, first.step, tuple(s.series_id for s in series))

    def __len__(self) -> int:
        return self.values.shape[0]

    def series(self, j: int) -> SeriesInput:
        """Row j as a series (for detectors that work one series at a time)."""
        den = None if self.denominator is None else pd.Series(self.denominator[j], index=self.index)
        sid = self.ids[j] if self.ids else ""
        return SeriesInput.trusted(pd.Series(self.values[j], index=self.index), den, self.kind, sid, self.freq)


@dataclass(eq=False)
class Scores:
    """Per-point output of a detector; NaN where unknown.

    score: signed, in robust-sigma units (or the z with the same tail probability as a p-value).
    change: observed − expected in the unit `min_change` is checked in (absolute for rates,
    relative otherwise). onset: position each point's anomaly started at (CUSUM back-dates).
    """

    index: pd.DatetimeIndex
    expected: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    score: np.ndarray
    change: np.ndarray
    pvalue: np.ndarray | None = None
    resid_z: np.ndarray | None = None  # standardized residual, input to the shift detector
    onset: np.ndarray | None = None
    anomaly_kind: np.ndarray | None = None  # per-point AnomalyKind value (str) when it varies
    size_z: np.ndarray | None = None  # shift detectors: mean standardized residual since the onset
    threshold: float = 4.5  # |score| a flag needs at the default budget (anomaly/budget.py)
    per_budget: Callable[[float], float] | None = None  # the threshold at another budget

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame({"expected": self.expected, "lower": self.lower, "upper": self.upper,
                             "score": self.score, "change": self.change}, index=self.index)

    _ARRAYS = ("expected", "lower", "upper", "score", "change", "pvalue", "resid_z", "onset", "anomaly_kind",
               "size_z")

    def row(self, j: int) -> Scores:
        """Series j of block scores (arrays of shape series × time) as 1-D scores."""
        return Scores(self.index, **{k: (None if getattr(self, k) is None else getattr(self, k)[j])
                                     for k in self._ARRAYS}, threshold=self.threshold, per_budget=self.per_budget)

    @classmethod
    def stack(cls, rows: Sequence[Scores]) -> Scores:
        """Block scores from the 1-D scores of each series (same detector, same index)."""
        first = rows[0]
        return cls(first.index, **{k: (None if getattr(first, k) is None else np.vstack([getattr(r, k) for r in rows]))
                                   for k in cls._ARRAYS}, threshold=first.threshold, per_budget=first.per_budget)


SENSITIVITY = {"low": 1.25, "medium": 1.0, "high": 0.8}


class Controls(BaseModel):
    """Noise controls a business user sets per series.

    false_alarms_per_year: the budget — false alarms a clean series may raise per year, the primary
    control (anomaly/budget.py turns it into every test's threshold). sensitivity: low / medium /
    high, or a float multiplier of those thresholds (bigger = fewer alarms). min_change: smallest change worth a flag — percentage points as a
    fraction for rates (0.002 = 0.2 pp), a relative change otherwise (0.1 = 10 %); None = the
    default for the kind. min_denominator: points with a smaller base are never flagged.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    sensitivity: Literal["low", "medium", "high"] | float = "medium"
    false_alarms_per_year: float = Field(default=BUDGET, gt=0)
    min_change: float | None = None
    min_denominator: float = 30.0

    @field_validator("sensitivity")
    @classmethod
    def _positive(cls, v):
        if isinstance(v, float | int) and not v > 0:
            raise ValueError("sensitivity multiplier must be > 0")
        return v

    @property
    def multiplier(self) -> float:
        return SENSITIVITY[self.sensitivity] if isinstance(self.sensitivity, str) else float(self.sensitivity)

    def change_floor(self, kind: Kind) -> float:
        if self.min_change is not None:
            return self.min_change
        return DEFAULT_MIN_CHANGE[kind]


DEFAULT_MIN_CHANGE = {Kind.RATE: 0.002, Kind.COUNT: 0.10, Kind.AMOUNT: 0.10, Kind.DURATION: 0.10}


@dataclass(frozen=True)
class Flag:
    series_id: str
    date: pd.Timestamp
    observed: float
    expected: float
    lower: float
    upper: float
    score: float
    severity: str  # a Severity value
    direction: str  # up / down
    detector: str
    kind: str  # AnomalyKind value
    end: pd.Timestamp | None = None  # last anomalous point of the event
    extra: dict = field(default_factory=dict)


class Severity(StrEnum):
    """How urgent a flag is, least first: the one ranking (merging events, the list's order — bound
    into data/sql/anomaly.sql — and the page's filter all read it)."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


SEV_RANK = {s.value: i for i, s in enumerate(Severity)}
MOST_SEVERE_FIRST = tuple(s.value for s in reversed(Severity))


def severity(score: float, threshold: float) -> str:
    r = abs(score) / threshold
    return (Severity.HIGH if r >= 2.0 else Severity.MEDIUM if r >= 1.4 else Severity.LOW).value


def shift_severity(size_z: float) -> str:
    """A CUSUM statistic restarts after each alarm, so it says *that* the level moved, not by how
    much: a shift's severity is its size, the mean standardized residual since the onset."""
    a = abs(size_z) if np.isfinite(size_z) else 0.0
    return (Severity.HIGH if a >= 3.0 else Severity.MEDIUM if a >= 1.5 else Severity.LOW).value


_WEEK, _DAY, _TWO_MONTHS = pd.Timedelta(days=7), pd.Timedelta(days=1), pd.Timedelta(days=62)


def refractory(series: SeriesInput) -> pd.Timedelta:
    """How long an alarm stays open: a week for daily series, a day for intraday ones, two months
    for monthly ones."""
    return {Freq.DAILY: _WEEK, Freq.INTRADAY: _DAY, Freq.MONTHLY: _TWO_MONTHS}[series.freq]


def limit(scores: Scores, controls: Controls) -> float:
    """|score| a point must reach under these controls: the threshold at their budget, times the
    sensitivity multiplier."""
    thr = scores.threshold
    if scores.per_budget is not None and controls.false_alarms_per_year != BUDGET:
        thr = scores.per_budget(controls.false_alarms_per_year)
    return thr * controls.multiplier


def merge_events(flags: list[Flag], gap: pd.Timedelta, near: pd.Timedelta) -> list[Flag]:
    """One flag per event: same-direction flags within `gap` of the event's last flag join it
    (opposite direction only within `near`; a variance event absorbs both). The event keeps its
    first flag's date and the largest |score|."""
    out: list[Flag] = []
    last: list[pd.Timestamp] = []
    for f in sorted(flags, key=lambda f: f.date):
        t_end = f.end if f.end is not None else f.date
        if out:
            e = out[-1]
            dt = f.date - last[-1]
            same = f.direction == e.direction or AnomalyKind.VARIANCE in (e.kind, f.kind)
            if (same and dt <= gap) or dt <= near:
                if abs(f.score) > abs(e.score):
                    e = Flag(**{**e.__dict__, "score": f.score})
                if SEV_RANK[f.severity] > SEV_RANK[e.severity]:
                    e = Flag(**{**e.__dict__, "severity": f.severity})
                if e.kind == AnomalyKind.SPIKE and f.kind != AnomalyKind.SPIKE:
                    e = Flag(**{**e.__dict__, "kind": f.kind})
                out[-1] = Flag(**{**e.__dict__, "end": max(e.end or e.date, t_end)})
                last[-1] = max(last[-1], t_end)
                continue
        out.append(f)
        last.append(t_end)
    return out


class Detector(ABC):
    """Base class: subclasses implement `_score`; thresholds are in score units."""

    name: str = "detector"
    threshold: float = 4.5  # |score| at sensitivity "medium"
    kinds: tuple[Kind, ...] = tuple(Kind)
    anomaly_kind: AnomalyKind = AnomalyKind.SPIKE

    @classmethod
    def applies(cls, series: SeriesInput) -> bool:
        """Whether this detector can judge the series on its own (the registry asks in order)."""
        return series.kind in cls.kinds

    def score(self, series: SeriesInput) -> Scores:
        if not isinstance(series, SeriesInput):
            raise SeriesError("score() needs a SeriesInput")
        out = self._score(series)
        nan = ~np.isfinite(series.values.to_numpy())
        out.score = np.where(nan, np.nan, out.score)
        return out

    def score_block(self, block: Block) -> Scores:
        """`score` for every row of a block at once (scores of shape series × time)."""
        out = self._score_block(block)
        out.score = np.where(~np.isfinite(block.values), np.nan, out.score)
        return out

    @abstractmethod
    def _score(self, series: SeriesInput) -> Scores: ...

    def _score_block(self, block: Block) -> Scores:
        """Default: one series at a time; vectorised detectors override it (see BlockDetector)."""
        return Scores.stack([self._score(block.series(j)) for j in range(len(block))])

    def flag_block(self, scores: Scores, series: Sequence[SeriesInput], controls: Sequence[Controls],
                   after: Sequence[int | None] | None = None, skip: Sequence[bool] | None = None) -> list[list[Flag]]:
        """`flag` for every row of block scores; the post-rule's point test runs on the whole block
        first, so the per-event Python work is only done for the few series that have a point to flag."""
        ok = point_mask(scores, series, controls)
        any_ok = ok.any(axis=1)
        if skip is not None:  # the caller knows these have no wanted event
            any_ok &= ~np.asarray(skip, bool)
        stamps = _stamps(series[0].index) if any_ok.any() else None
        after = after if after is not None else [None] * len(series)
        return [self.flag(scores.row(j), series[j], controls[j], stamps, after[j]) if any_ok[j] else []
                for j in range(len(series))]

    def detect(self, series: SeriesInput, controls: Controls | None = None) -> list[Flag]:
        return self.flag(self.score(series), series, controls or Controls())

    def events(self, scores: Scores, series: SeriesInput, controls: Controls):
        """The post-rule's events, vectorised: (positions of the points that pass it, where each event
        starts among them, each event's onset position). Empty positions: nothing to flag."""
        thr = limit(scores, controls)
        s = scores.score
        ok = np.isfinite(s) & (np.abs(s) >= thr)
        ch = scores.change
        ok &= ~(np.isfinite(ch) & (np.abs(ch) < controls.change_floor(series.kind)))
        if series.denominator is not None:
            ok &= series.denominator.to_numpy() >= controls.min_denominator
        pos = np.flatnonzero(ok)
        if not len(pos):
            return pos, pos, pos
        tpos = series.index.values[pos].astype("datetime64[ns]").astype(np.int64)
        sign = np.sign(s[pos])
        new = np.r_[True, (sign[1:] != sign[:-1]) | (np.diff(tpos) > refractory(series).value)]
        starts = np.flatnonzero(new)
        onset = scores.onset if scores.onset is not None else np.arange(len(s))
        return pos, starts, np.minimum.reduceat(onset[pos], starts)

    def flag(self, scores: Scores, series: SeriesInput, controls: Controls,
             stamps: Sequence[pd.Timestamp] | None = None, after: int | None = None) -> list[Flag]:
        """Post-rule: |score| ≥ threshold·multiplier, |change| ≥ min_change, base ≥ min_denominator,
        then consecutive/near points of one direction become one event flagged at its onset.
        `stamps`: the index as Timestamps, when the caller has them (a block shares one index).
        `after`: build only the events dated from this position on — for a caller that keeps only
        recent flags and has checked that no earlier event can merge with them (see `quiet_start`)."""
        pos, starts, onsets = self.events(scores, series, controls)
        if not len(pos):
            return []
        thr = limit(scores, controls)
        s = scores.score
        idx = series.index
        obs = series.values.to_numpy()
        stamps = idx if stamps is None else stamps
        flags = []
        for a, b, j in zip(starts, np.r_[starts[1:], len(pos)], onsets, strict=True):  # one iteration per event
            if after is not None and j < after:
                continue
            members = pos[a:b]
            j = int(j)
            best = members[np.argmax(np.abs(s[members]))]
            kinds = scores.anomaly_kind
            kind = str(kinds[members[0]]) if kinds is not None else self.anomaly_kind.value
            sev = (shift_severity(scores.size_z[members[-1]]) if scores.size_z is not None
                   else severity(s[best], thr))
            flags.append(Flag(series.series_id, stamps[j], float(obs[j]), float(scores.expected[j]),
                              float(scores.lower[j]), float(scores.upper[j]), float(s[best]),
                              sev, "up" if s[best] > 0 else "down", self.name, kind,
                              end=stamps[members[-1]]))
        return merge_events(flags, refractory(series), 2 * series.step)


def quiet_start(onsets: np.ndarray, ends: np.ndarray, t: np.ndarray, target: int, reach: int) -> int:
    """The latest position ≤ `target` that no event reaches: events (onset and end positions, of all
    detectors of a series; `t` the index as int ns) dated before it end more than `reach` ns earlier.
    Events join only within `reach` of each other, so building the events dated from that position
    on gives exactly the events — dates, ends, scores, kinds — dated from `target` on."""
    if not len(onsets) or target <= 0:
        return target
    at = t[target] if target < len(t) else t[-1] + 1
    order = np.argsort(onsets, kind="stable")
    lo = t[onsets[order]]
    hi = np.maximum.accumulate(t[ends[order]] + reach)  # event i covers the times in (lo_i, hi_i]
    before = np.flatnonzero(lo < at)
    if not len(before) or hi[before[-1]] < at:
        return target  # nothing reaches the target
    starts = np.flatnonzero(np.r_[True, hi[:-1] < lo[1:]])  # where a run of joined events begins
    first = starts[starts <= before[-1]][-1]
    return int(onsets[order][first])


def point_mask(scores: Scores, series: Sequence[SeriesInput], controls: Sequence[Controls]) -> np.ndarray:
    """The post-rule's point test for every row of block scores at once: a finite score past the
    row's threshold, a change not below its floor, a denominator not below its minimum."""
    lim = np.array([limit(scores, c) for c in controls])[:, None]
    floor = np.array([c.change_floor(series[0].kind) for c in controls])[:, None]
    s, ch = scores.score, scores.change
    with np.errstate(invalid="ignore"):
        ok = np.isfinite(s) & (np.abs(s) >= lim)
        ok &= ~(np.isfinite(ch) & (np.abs(ch) < floor))
        if series[0].denominator is not None:
            min_den = np.array([c.min_denominator for c in controls])[:, None]
            ok &= np.vstack([x.denominator.to_numpy() for x in series]) >= min_den
    return ok


def block_spans(scores: Scores, series: Sequence[SeriesInput], controls: Sequence[Controls]
                ) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per row of block scores: the onset and end positions of the post-rule's events (as `events`
    finds them, for all rows at once)."""
    rows, pos = np.nonzero(point_mask(scores, series, controls))
    empty = np.zeros(0, dtype=np.int64)
    if not len(rows):
        return [(empty, empty)] * len(series)
    t = series[0].index.values.astype("datetime64[ns]").astype(np.int64)
    sign = np.sign(scores.score[rows, pos])
    gap = refractory(series[0]).value
    new = np.r_[True, (rows[1:] != rows[:-1]) | (sign[1:] != sign[:-1]) | (np.diff(t[pos]) > gap)]
    starts = np.flatnonzero(new)
    onset = scores.onset[rows, pos] if scores.onset is not None else pos
    onsets = np.minimum.reduceat(onset, starts)
    ends = pos[np.r_[starts[1:], len(pos)] - 1]
    row_of = rows[starts]
    cut = np.searchsorted(row_of, np.arange(len(series) + 1))
    return [(onsets[cut[j]:cut[j + 1]], ends[cut[j]:cut[j + 1]]) for j in range(len(series))]


_STAMPS: dict[int, tuple[pd.DatetimeIndex, list[pd.Timestamp]]] = {}


def _stamps(index: pd.DatetimeIndex) -> list[pd.Timestamp]:
    """The index as a list of Timestamps, built once per index object: the series of a scan share
    one index, and boxing a Timestamp per flag is most of what flagging a long history costs."""
    hit = _STAMPS.get(id(index))
    if hit is None or hit[0] is not index:  # (an id can be reused once its index is gone)
        if len(_STAMPS) > 64:
            _STAMPS.clear()
        hit = _STAMPS[id(index)] = (index, list(index))
    return hit[1]


class BlockDetector(Detector):
    """A detector written for blocks (`_score_block`); one series is scored as a block of one."""

    def _score(self, series: SeriesInput) -> Scores:
        return self._score_block(Block.of([series])).row(0)

    @abstractmethod
    def _score_block(self, block: Block) -> Scores: ...
