"""Every detector, by name; `detectors_for(kind)` lists those that apply to a series kind."""

from __future__ import annotations

from anomaly.base import Detector, Kind
from anomaly.counts import NegBinCounts
from anomaly.rate import BetaBinomialRate
from anomaly.seasonal import SeasonalBaseline
from anomaly.shift import ShiftDetector

DETECTORS: dict[str, type[Detector]] = {
    SeasonalBaseline.name: SeasonalBaseline,
    BetaBinomialRate.name: BetaBinomialRate,
    NegBinCounts.name: NegBinCounts,
    ShiftDetector.name: ShiftDetector,
}


def detectors_for(kind: Kind | str) -> list[type[Detector]]:
    k = Kind(kind)
    return [d for d in DETECTORS.values() if k in d.kinds]
