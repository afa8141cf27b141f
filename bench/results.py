"""What every bench report needs: the machine's CPU name, and one owned section of a shared results
file replaced in place (bench/ANOMALY_RESULTS.md holds anomaly_bench.py's report plus the
sections of generalization.py and calibration.py, each between `<!-- name:start/end -->` marks)."""

from __future__ import annotations

import platform
from pathlib import Path


def cpu() -> str:
    """The CPU model name (Linux /proc/cpuinfo), else what platform reports."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def write_section(path: Path, name: str, title: str, text: str) -> None:
    """Replace (or append) the section `name` of the results file `path`."""
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    old = path.read_text(encoding="utf-8") if path.exists() else ""
    if start in old:
        head, rest = old.split(start, 1)
        old = head + rest.split(end, 1)[1].lstrip("\n")
    path.write_text(old.rstrip("\n") + f"\n\n{start}\n## {title}\n\n{text}{end}\n", encoding="utf-8")
