"""Staffing advice timing on the 200-outlet × 2-year demo (issue 16: ≤ 3 s for 200 outlets).

Run: .venv/bin/python bench/staffing_bench.py [--runs 3]
1. builds (once, cached in bench/out/; the same store and marker as bench/scan_bench.py) the demo:
   bankpulse demo --branches 200 --years 2 --out bench/out/demo200 --load --no-scan --db bench/out/scan200.duckdb
2. times, for the whole bank (every outlet, the last BANKPULSE_STAFFING_WEEKS weeks up to the last
   day with tickets, the declared target), `metrics.staffing.advice` + `suggestions` — what the
   counter page computes on a cache miss and `bankpulse staffing advice` prints:
   * cold: a new process per run that has imported the modules and opened the store, first call
     (median of `--runs` processes);
   * warm: the same call again in one process (median of `--runs`);
   * baseline: the named block `staffing.cells` alone in that process (the DuckDB aggregation every
     advice needs; the rest is the Erlang sizing in Python) — the ratio advice ÷ baseline is the
     figure that compares across machines;
   * one branch: the advice of a single outlet (`bankpulse staffing advice --branch`), warm;
3. writes the numbers, the machine, the load average and the date into bench/STAFFING_RESULTS.md
   (section `staffing_bench`) and prints them as one JSON line.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "STAFFING_RESULTS.md"
GOAL_S = 3.0


def measure(runs: int, db: Path) -> dict:
    """In this process: first call (cold), `runs` more (warm), the SQL block alone, one branch."""
    from data.settings import get_settings
    from data.store import Store
    from metrics import staffing
    from metrics.erlang import performance
    from metrics.scope import Scope

    store = Store(db, read_only=True)
    s = get_settings()
    target = staffing.target_from_settings(s)
    end = staffing.last_day(store, Scope())
    start, _ = staffing.advice_window(end.replace(year=end.year - 1), end, s.staffing_weeks)

    def call(scope=Scope()):
        performance.cache_clear()  # every run sizes every cell afresh (the memo serves one advice)
        t = time.perf_counter()
        adv = staffing.advice(store, start, end, scope, target)
        sugg = staffing.suggestions(adv)
        return time.perf_counter() - t, adv, sugg

    cold, adv, sugg = call()
    warm = [call()[0] for _ in range(runs)]
    sql = []
    for _ in range(runs):
        t = time.perf_counter()
        staffing.cells(store, start, end, Scope(), target.within_min)
        sql.append(time.perf_counter() - t)
    one_branch = sugg.iloc[0]["branch_id"]
    single = [call(Scope(branch=one_branch))[0] for _ in range(runs)]
    tickets = store.cursor().execute("SELECT count(*) FROM main.counter_tickets WHERE business_date BETWEEN $s AND $e",
                                     {"s": start, "e": end}).fetchone()[0]
    return {"cold_s": cold, "warm_s": statistics.median(warm), "sql_s": statistics.median(sql),
            "branch_s": statistics.median(single), "start": start.isoformat(), "end": end.isoformat(),
            "outlets": int(adv["branch_id"].nunique()), "cells": len(adv), "tickets": int(tickets),
            "suggestions": len(sugg), "shortages": int((sugg["kind"] == "shortage").sum()),
            "erlang_a_cells": int((adv["model"] == "erlang_a").sum())}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--db", type=Path, help="another store (a smoke run; the results file is not written)")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT))
    from bench.scan_bench import CACHE, build_cache

    db = args.db or CACHE
    if args.child:
        print(json.dumps(measure(1, db)))
        return 0
    if args.db is None:
        build_cache()
    load_start = os.getloadavg()
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    colds = []
    for _ in range(args.runs):  # cold: a new process each time
        out = subprocess.run([sys.executable, __file__, "--child", "--db", str(db)], cwd=ROOT, check=True, capture_output=True,
                             text=True, env=env)
        colds.append(json.loads(out.stdout.strip().splitlines()[-1])["cold_s"])
    r = measure(args.runs, db)
    r["cold_s"] = statistics.median(colds)
    r["colds"] = [round(c, 3) for c in colds]
    load_end = os.getloadavg()
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                            text=True).stdout.strip()
    from bench.results import cpu, write_section

    ok = "PASS" if r["cold_s"] <= GOAL_S else "MISS"
    text = "\n".join([
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC · {cpu()}, {os.cpu_count()} cores · load average "
        f"{load_start[0]:.2f} at start, {load_end[0]:.2f} at end · commit {commit} · store: DemoSpec(branches=200, "
        "years=2), seed 7, through the real ingest (bench/out/scan200.duckdb, shared with scan_bench.py)",
        "",
        f"Whole bank, {r['start']} … {r['end']} (the last {get_weeks()} weeks): {r['outlets']} outlets, "
        f"{r['tickets']:,} tickets → {r['cells']:,} branch × weekday × hour cells ({r['erlang_a_cells']:,} sized "
        f"with Erlang A), {r['suggestions']:,} suggestions ({r['shortages']:,} shortages).",
        "",
        "| what | seconds | goal |",
        "|---|---:|---|",
        f"| advice + suggestions, cold (new process, median of {args.runs}: {', '.join(map(str, r['colds']))}) | "
        f"{r['cold_s']:.2f} | ≤ {GOAL_S:g} s {ok} |",
        f"| advice + suggestions, warm (median of {args.runs}) | {r['warm_s']:.2f} | |",
        f"| baseline: block `staffing.cells` alone (DuckDB), warm | {r['sql_s']:.2f} | |",
        f"| one outlet (`--branch`), warm | {r['branch_s']:.2f} | |",
        "",
        f"Ratio to the baseline of the same run: cold {r['cold_s'] / r['sql_s']:.2f}×, warm "
        f"{r['warm_s'] / r['sql_s']:.2f}× (the rest of the time is the Erlang sizing of every cell in Python). "
        "The counter page caches the advice per filters, target and data version, so a page rerun reads it "
        "from the cache.",
        ""])
    if args.db is None:
        write_section(RESULTS, "staffing_bench", "Staffing advice, 200 outlets × 2 years", text)
    else:
        print(text)
    print(json.dumps({**r, "cpu": cpu(), "load": [load_start, load_end], "commit": commit}))
    return 0


def get_weeks() -> int:
    from data.settings import get_settings

    return get_settings().staffing_weeks


if __name__ == "__main__":
    raise SystemExit(main())
