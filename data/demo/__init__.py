"""Demo data: a seeded generator of the export files a Chinese bank's systems would produce.

    from data.demo import generate, DemoSpec
    paths = generate(DemoSpec(seed=7, branches=30, years=3, as_of=date(2025, 12, 31)), out_dir)

Writes branch/queue/loan/feedback/market exports (GBK and UTF-8-BOM CSV, xlsx with title rows)
plus `story.json`, which describes the planted credit anomaly the anomaly engine should find. Every
file ends on `as_of` (the last day of data; `bankpulse demo` uses yesterday unless told) and every
planted story sits at the same distance from it.
"""
from .generate import generate
from .spec import DemoSpec

__all__ = ["DemoSpec", "generate"]
