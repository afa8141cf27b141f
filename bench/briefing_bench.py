"""Benchmark: a full monthly briefing for the whole bank (demo scale), cold and warm.

    python bench/briefing_bench.py --db /tmp/full.duckdb [--period 2025-09] [--runs 3]

cold: a fresh Python process (imports, CJK font parsing, first queries) building one PDF,
      timed from process start to bytes written (measured by the parent around `subprocess.run`).
warm: the same process building further briefings for *other* periods (nothing of the document
      is cached; only imports, the parsed font face and DuckDB's buffers are warm).
Peak memory: the child's ru_maxrss. Results go to bench/BRIEFING_RESULTS.md by hand.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def child(db: str, periods: list[str], lang: str) -> None:
    t0 = time.perf_counter()
    from briefing import build_pdf
    from data.store import open_store

    store = open_store(db)
    times, cpus, sizes = [], [], []
    for p in periods:
        t, c = time.perf_counter(), time.process_time()
        pdf = build_pdf(store, p, "all", lang)
        times.append(time.perf_counter() - t)
        cpus.append(time.process_time() - c)
        sizes.append(len(pdf))
    first = time.perf_counter() - t0 - sum(times[1:])
    print(json.dumps({"first_in_process": first, "first_cpu": cpus[0], "builds": times, "cpus": cpus, "sizes": sizes,
                      "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", default=os.environ.get("BANKPULSE_DB", "/tmp/full.duckdb"))
    ap.add_argument("--period", default="2025-09")
    ap.add_argument("--warm", default="2025-08,2025-07,2025-06")
    ap.add_argument("--lang", default="zh")
    ap.add_argument("--child", action="store_true")
    a = ap.parse_args()
    periods = [a.period, *a.warm.split(",")]
    if a.child:
        child(a.db, periods, a.lang)
        return
    t = time.perf_counter()
    out = subprocess.run([sys.executable, __file__, "--child", "--db", a.db, "--period", a.period, "--warm", a.warm,
                          "--lang", a.lang], cwd=ROOT, capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": str(ROOT)})
    wall = time.perf_counter() - t
    if out.returncode:
        sys.exit(out.stderr)
    r = json.loads(out.stdout.strip().splitlines()[-1])
    print(f"cold (imports + font + first PDF, in the fresh process): {r['first_in_process']:.2f} s wall, first build "
          f"{r['builds'][0]:.2f} s wall / {r['first_cpu']:.2f} s CPU; whole child process {wall:.1f} s")
    print("warm builds: " + ", ".join(f"{x:.2f} s wall / {c:.2f} s CPU" for x, c in zip(r["builds"][1:], r["cpus"][1:],
                                                                                      strict=True)))
    print(f"sizes: {', '.join(f'{s / 1024:.0f} KB' for s in r['sizes'])}; peak RSS {r['peak_rss_mb']:.0f} MB")
    print(f"load average now: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
