"""Demo data: a seeded generator of the export files a Chinese bank's systems would produce.

    from data.demo import generate, DemoSpec
    paths = generate(DemoSpec(seed=7, branches=30, years=3), out_dir)

Writes branch/queue/loan/feedback/market exports (GBK and UTF-8-BOM CSV, xlsx with title rows)
plus `story.json`, which describes the planted credit anomaly the anomaly engine should find.
"""
from .generate import generate
from .spec import DemoSpec

__all__ = ["DemoSpec", "generate"]
