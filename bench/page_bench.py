"""Page speed at scale: each page's full run with AppTest, cold and warm, on the 200-outlet store.

    .venv/bin/python bench/page_bench.py [--db bench/out/scan200.duckdb]

Goal (issue 3): at 200 branches × 2 years each page's full run under 1.5 s warm and under 4 s cold,
next to the bare time of its KPI queries (the catalogue functions the page calls, uncached) in the
same run. Prints a Markdown table to paste into bench/PAGES_RESULTS.md; asserts nothing.

Cold means cold: every page is measured in a fresh Python process of its own, on its own copy of
the store, whose first AppTest run goes straight to that page — no query of any kind before it,
no st.cache_data / st.cache_resource shared with another page's run (a new process starts with
empty caches and a new DuckDB connection). Only the libraries are imported before the clock
starts (streamlit, pandas, duckdb, ibis, plotly, the app's modules): an import is paid once per
server, not per page. The warm run is the same view again in that process; the bare KPI time is
measured in another fresh process, after nothing either.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
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


def _preimport() -> None:
    """The libraries a server has loaded before its first page (no store is opened)."""
    import duckdb  # noqa: F401
    import ibis  # noqa: F401
    import pandas  # noqa: F401
    import plotly.express  # noqa: F401
    import streamlit  # noqa: F401
    from streamlit.testing.v1 import AppTest  # noqa: F401

    import metrics.compute  # noqa: F401
    import pages._ui.filters  # noqa: F401


def _router_in_charge() -> None:
    """As on a server after its first session: app.py routes every run (pages/_ui/router.py).
    AppTest re-detects the legacy pages/ folder before each run; tests/conftest.py does the same."""
    from streamlit.runtime.pages_manager import PagesManager

    original = PagesManager.__init__

    def init(self, *args, **kwargs):
        original(self, *args, **kwargs)
        PagesManager.uses_pages_directory = False

    PagesManager.__init__ = init


def child_page(path: str) -> dict:
    """In a fresh process: the page's first run (cold) and the same view again (warm)."""
    _preimport()
    _router_in_charge()
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    at.switch_page(path)  # the first run goes straight to this page (nothing else warms anything)
    t0 = time.perf_counter()
    at.run()
    cold = time.perf_counter() - t0
    t0 = time.perf_counter()
    at.run()
    warm = time.perf_counter() - t0
    return {"cold": cold, "warm": warm, "exceptions": len(at.exception)}


def child_bare(metric_ids: list[str]) -> dict:
    """In a fresh process: the page's headline KPIs straight from the catalogue, uncached."""
    _preimport()
    from data.store import open_store
    from metrics import compute
    from metrics.catalogue import get_metric
    from metrics.model import Grain

    t0 = time.perf_counter()
    store = open_store(os.environ["BANKPULSE_DB"])
    hi = compute.metric_span(store, get_metric("counter.tickets_served"))[1]
    for mid in metric_ids:
        compute.card(store, mid, Grain.MONTH, hi)
    bare = time.perf_counter() - t0
    lo = compute.metric_span(store, get_metric("counter.tickets_served"))[0]
    return {"bare": bare, "span": [str(lo), str(hi)]}


def fresh(mode: str, arg: str, db: Path) -> dict:
    """Run one measurement in a new interpreter on its own copy of the store."""
    env = {**os.environ, "BANKPULSE_DB": str(db), "BANKPULSE_AUTH": "none", "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, __file__, "--child", mode, arg], env=env, cwd=ROOT, capture_output=True,
                         text=True, timeout=900)
    if out.returncode:
        raise RuntimeError(out.stderr[-2000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", default=str(ROOT / "bench/out/scan200.duckdb"))
    ap.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        mode, arg = args.child
        r = child_page(arg) if mode == "page" else child_bare(json.loads(arg))
        print(json.dumps(r))
        return
    rows = []
    for name, (path, metric_ids) in PAGES.items():
        work = ROOT / f"bench/out/page_bench_{name}.duckdb"
        shutil.copyfile(args.db, work)  # a page's own copy: no OS-level sharing of a warm file by design
        r = fresh("page", path, work)
        shutil.copyfile(args.db, work)
        r.update(fresh("bare", json.dumps(metric_ids), work))
        work.unlink()
        rows.append((name, r["bare"], r["cold"], r["warm"], r["exceptions"]))
        lo, hi = r.get("span", ("?", "?"))
        print(name, f"bare {r['bare']:.2f}s cold {r['cold']:.2f}s warm {r['warm']:.2f}s exceptions {r['exceptions']}",
              flush=True)
    load = os.getloadavg()
    print(f"\n## {time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC — {os.cpu_count()} CPUs, load {load[0]:.1f}; "
          f"store {Path(args.db).name} (data {lo} … {hi}); each page cold in a fresh process\n")
    print("| page | bare KPI queries s | cold run s | warm run s | goal cold < 4 s | goal warm < 1.5 s |")
    print("|---|---:|---:|---:|---|---|")
    for name, bare, cold, warm, exc in rows:
        print(f"| {name} | {bare:.2f} | {cold:.2f} | {warm:.2f} | {'PASS' if cold < 4 else 'MISS'} | "
              f"{'PASS' if warm < 1.5 else 'MISS'} |" + (" (exception!)" if exc else ""))


if __name__ == "__main__":
    main()
