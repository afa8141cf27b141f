"""Pick the detectors a series needs and merge their flags into events.

* rate with a denominator        → BetaBinomialRate (significance given the counts)
* count whose mean is below 10   → NegBinCounts (a log/robust-sigma band is wrong at 0–3 a day)
* other counts, durations, amounts (and rates without a denominator) → SeasonalBaseline
* always + ShiftDetector (CUSUM) on the chosen detector's standardized residuals.
Flags of all detectors become events with the same rule as one detector's: same direction within
the refractory period (a week daily, a day intraday) is one event, dated at its first flag.
"""

from __future__ import annotations

import numpy as np

from anomaly.base import Controls, Detector, Flag, Kind, SeriesInput, merge_events, refractory
from anomaly.counts import NegBinCounts
from anomaly.rate import BetaBinomialRate
from anomaly.seasonal import SeasonalBaseline
from anomaly.shift import ShiftDetector

LOW_COUNT_MEAN = 10.0


def choose(series: SeriesInput) -> Detector:
    if series.kind is Kind.RATE and series.denominator is not None:
        return BetaBinomialRate()
    if series.kind is Kind.COUNT:
        v = series.values.to_numpy(float)
        if np.isfinite(v).any() and np.nanmean(v) < LOW_COUNT_MEAN:
            return NegBinCounts()
    return SeasonalBaseline()


def detect(series: SeriesInput, controls: Controls | None = None) -> list[Flag]:
    controls = controls or Controls()
    base = choose(series)
    scores = base.score(series)
    flags = base.flag(scores, series, controls)
    shift = ShiftDetector(base)
    flags += shift.flag(shift.score_from(series, scores), series, controls)
    return merge_events(flags, refractory(series), 2 * series.step)
