"""Every detector, declared once: the registry the ensemble, the scan, `bankpulse detect` and the
tests read.

* `BASE`: detectors that judge a series on their own, most specific first; the first whose
  `applies(series)` holds judges it (`choose`). The last one applies to every series.
* `FOLLOWERS`: detectors that run on the chosen base detector's standardized residuals (the CUSUM
  for level shifts, drifts and variance changes), on every series.

Adding a detector: one file with a `Detector` subclass (`name`, `kinds`, `applies`, `_score` or
`_score_block`), one line here; tests/test_anomaly_detectors.py runs every registered detector
through the table-driven cases (NaN in, NaN out included).
"""

from __future__ import annotations

from anomaly.base import Detector, Kind, SeriesInput
from anomaly.counts import NegBinCounts
from anomaly.rate import BetaBinomialRate
from anomaly.seasonal import SeasonalBaseline
from anomaly.shift import ShiftDetector

BASE: tuple[type[Detector], ...] = (BetaBinomialRate, NegBinCounts, SeasonalBaseline)
FOLLOWERS: tuple[type[Detector], ...] = (ShiftDetector,)
DETECTORS: dict[str, type[Detector]] = {d.name: d for d in (*BASE, *FOLLOWERS)}


def choose(series: SeriesInput) -> Detector:
    """The base detector that judges this series: the first in `BASE` that applies."""
    for cls in BASE:
        if cls.applies(series):
            return cls()
    raise AssertionError("the last base detector applies to every series")  # pragma: no cover


def detectors_for(kind: Kind | str) -> list[type[Detector]]:
    k = Kind(kind)
    return [d for d in DETECTORS.values() if k in d.kinds]
