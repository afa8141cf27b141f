"""Page speed at scale: each page's full run with AppTest, cold and warm, on the 200-outlet store.

    .venv/bin/python bench/page_bench.py [--db bench/out/scan200.duckdb]

Goal (issue 3): at 200 branches × 2 years each page's full run under 1.5 s warm and under 4 s cold,
next to the bare time of its KPI queries (the catalogue functions the page calls, uncached) in the
same run. Prints a Markdown table to paste into bench/PAGES_RESULTS.md; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PAGES = {
    "overview": ("pages/overview.py", ["counter.tickets_served", "counter.wait_avg_min", "counter.wait_p90_min",
                                       "counter.overtime_wait_rate", "credit.disbursed_amount", "credit.balance",
                                       "credit.overdue_rate", "credit.npl_ratio", "feedback.complaints",
                                       "feedback.on_time_closure_rate", "feedback.satisfaction_rate"]),
    "counter": ("pages/counter.py", ["counter.tickets_served", "counter.wait_p90_min", "counter.wait_avg_min"]),
    "credit": ("pages/credit.py", ["credit.balance", "credit.disbursed_amount", "credit.overdue_rate", "credit.npl_ratio"]),
    "feedback": ("pages/feedback.py", ["feedback.complaints", "feedback.volume", "feedback.satisfaction_rate"]),
    "market": ("pages/market.py", ["market.lpr_1y", "market.lpr_5y", "market.industry_npl_ratio"]),
    "anomalies": ("pages/anomalies.py", []),
}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", default=str(ROOT / "bench/out/scan200.duckdb"))
    args = ap.parse_args()
    work = ROOT / "bench/out/page_bench.duckdb"
    shutil.copyfile(args.db, work)
    os.environ.update(BANKPULSE_DB=str(work), BANKPULSE_AUTH="none")
    from streamlit.testing.v1 import AppTest

    from data.store import open_store
    from metrics import compute
    from metrics.catalogue import get_metric
    from metrics.model import Grain

    store = open_store(work)
    lo, hi = compute.metric_span(store, get_metric("counter.tickets_served"))
    rows = []
    for name, (path, metric_ids) in PAGES.items():
        t0 = time.perf_counter()  # bare: the page's KPIs straight from the catalogue, no cache
        for mid in metric_ids:
            compute.card(store, mid, Grain.MONTH, hi)
        bare = time.perf_counter() - t0
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
        at.switch_page(path)  # the first run goes straight to this page (nothing else warms its caches)
        t0 = time.perf_counter()
        at.run()  # cold: this page's first run (its caches empty)
        cold = time.perf_counter() - t0
        t0 = time.perf_counter()
        at.run()  # warm: the same view again
        warm = time.perf_counter() - t0
        rows.append((name, bare, cold, warm, len(at.exception)))
        print(name, f"bare {bare:.2f}s cold {cold:.2f}s warm {warm:.2f}s exceptions {len(at.exception)}", flush=True)
    load = os.getloadavg()
    print(f"\n## {time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC — {os.cpu_count()} CPUs, load {load[0]:.1f}; "
          f"store {Path(args.db).name} (data {lo} … {hi})\n")
    print("| page | bare KPI queries s | cold run s | warm run s | goal cold < 4 s | goal warm < 1.5 s |")
    print("|---|---:|---:|---:|---|---|")
    for name, bare, cold, warm, exc in rows:
        print(f"| {name} | {bare:.2f} | {cold:.2f} | {warm:.2f} | {'PASS' if cold < 4 else 'MISS'} | "
              f"{'PASS' if warm < 1.5 else 'MISS'} |" + (" (exception!)" if exc else ""))


if __name__ == "__main__":
    main()
