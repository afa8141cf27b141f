"""Scorecard timing at 200 outlets × 24 months (goal ≤ 2 s cold; the page ≤ 0.5 s warm).

Run: .venv/bin/python bench/scorecard_bench.py [--runs 5] [--period 2025-12]
1. builds (once, cached in bench/out/) the demo store with its plans and notices:
   bankpulse --db bench/out/score200.duckdb demo --branches 200 --years 2 --out bench/out/demo200 --load --no-scan
2. cold: a new process per run that imports the modules (the app has paid that before a page asks:
   metrics.scorecard, statsmodels for the effect estimates), opens the store and its Ibis backend and
   then, on the clock, scores the month for every outlet — the default definition, every criterion,
   the previous month for the trend, the plans' effect estimates; median of `--runs` processes. Warm:
   the same call again in one process (the effect verdicts cached; the KPIs re-run in DuckDB). The
   same for the regions and for the quarter. Where the cold time goes: one more process timing the
   three parts of `metrics.scorecard_values.measured` (the KPI union query, the market-response block,
   the effect estimates).
3. the page: AppTest of pages/scorecard.py in a fresh process — the first run (cold) and a rerun
   (warm, st.cache_data) —, median of `--runs` reruns.
4. writes the numbers, the machine, its load and the date into bench/SCORECARD_RESULTS.md (section
   `scorecard_bench`) and prints them as one JSON line. Nothing is asserted.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"
CACHE = OUT / "score200.duckdb"
FILES = OUT / "demo200"
RESULTS = ROOT / "bench" / "SCORECARD_RESULTS.md"
CASES = (("month", "branch"), ("month", "region"), ("quarter", "branch"))


def build_cache() -> None:
    if CACHE.exists() and (OUT / "score200.done").exists():
        return
    CACHE.unlink(missing_ok=True)
    subprocess.run([sys.executable, "-m", "cli", "--db", str(CACHE), "demo", "--branches", "200", "--years", "2",
                    "--out", str(FILES), "--load", "--no-scan"], cwd=ROOT, check=True)
    (OUT / "score200.done").write_text("ok")


def _start(period: str, grain: str) -> date:
    from metrics.periods import period_start

    y, m = (int(x) for x in period.split("-"))
    from metrics.model import Grain

    return period_start(date(y, m, 1), Grain(grain))


def one(period: str, grain: str, kind: str, runs: int) -> dict:
    """In this process: the first call (cold) and `runs` more (warm)."""
    import statsmodels.api  # noqa: F401  one-time process costs the app has paid before a page asks

    from data.store import Store
    from metrics.model import Grain
    from metrics.scorecard import scorecard
    from metrics.scorecard_def import UnitKind

    store = Store(CACHE)
    store.ibis()
    start = _start(period, grain)

    def call():
        t = time.perf_counter()
        sc = scorecard(store, start, Grain(grain), UnitKind(kind))
        return time.perf_counter() - t, sc

    cold, sc = call()
    warm = [call()[0] for _ in range(runs)]
    return {"grain": grain, "kind": kind, "cold_s": cold, "warm_s": statistics.median(warm),
            "units": len(sc.scores), "scored": int(sc.scores["score"].notna().sum()),
            "criteria": len(sc.definition.units[UnitKind(kind)].criteria)}


def parts(period: str) -> dict:
    """Where the cold time of the month × branch case goes (a fresh process, on the clock part by part)."""
    import statsmodels.api  # noqa: F401

    from data.store import Store
    from metrics.model import Grain
    from metrics.periods import shift
    from metrics.scorecard_def import UnitKind, load_default
    from metrics.scorecard_values import measured

    store = Store(CACHE)
    store.ibis()
    start = _start(period, "month")
    wanted = [shift(start, Grain.MONTH, -1), start]
    ms = [c.measure for c in load_default().units[UnitKind.BRANCH].criteria]
    groups = {"kpis": [m for m in ms if m not in ("scorecard.market_response_days", "scorecard.plan_effect_rate")],
              "market_response": ["scorecard.market_response_days"], "effects": ["scorecard.plan_effect_rate"]}
    out = {}
    for name, g in groups.items():
        t = time.perf_counter()
        df = measured(store, g, UnitKind.BRANCH, Grain.MONTH, wanted)
        out[name] = {"s": time.perf_counter() - t, "rows": len(df)}
    return out


def page(runs: int) -> dict:
    """The page in AppTest: the first run (cold, a fresh process) and `runs` reruns (warm)."""
    os.environ["BANKPULSE_DB"] = str(CACHE)
    os.environ["BANKPULSE_AUTH"] = "none"
    import statsmodels.api  # noqa: F401  the imports the server has done before the first request
    from streamlit.testing.v1 import AppTest

    from metrics import scorecard  # noqa: F401
    from pages._ui import auth, cache, charts, urlstate, widgets  # noqa: F401  (not the page: importing runs it)

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
    at.run()
    t = time.perf_counter()
    at.switch_page("pages/scorecard.py").run()
    cold = time.perf_counter() - t
    assert not at.exception, at.exception
    warm = []
    for _ in range(runs):
        t = time.perf_counter()
        at.run()
        warm.append(time.perf_counter() - t)
    return {"cold_s": cold, "warm_s": statistics.median(warm)}


def _child(*argv: str) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", *argv], cwd=ROOT, check=True, capture_output=True,
                         text=True, env={**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")})
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--period", default="2025-12")
    ap.add_argument("--child", nargs="*", help=argparse.SUPPRESS)
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT))
    if args.child is not None:
        what, *rest = args.child
        if what == "case":
            print(json.dumps(one(args.period, rest[0], rest[1], 1)))
        elif what == "parts":
            print(json.dumps(parts(args.period)))
        else:
            print(json.dumps(page(args.runs)))
        return 0
    build_cache()
    load0 = os.getloadavg()
    rows = []
    for grain, kind in CASES:
        colds = [_child("case", grain, kind)["cold_s"] for _ in range(args.runs)]
        r = one(args.period, grain, kind, args.runs)
        r["cold_s"] = statistics.median(colds)
        r["cold_max_s"] = max(colds)
        rows.append(r)
    split = _child("parts")
    pg = _child("page")
    from bench.results import cpu, write_section

    load = os.getloadavg()
    lines = [f"Machine: {cpu()}, {os.cpu_count()} cores, shared with other sessions' test runs and a long fuzz run "
             f"(load average {load0[0]:.2f} at the start, {load[0]:.2f} at the write-up: the machine was loaded); "
             f"date {date.today().isoformat()}. Store: DemoSpec(branches=200, years=2), seed 7, through the real "
             f"ingest, with the demo's plans and notices (no anomaly scan). Period {args.period} (its quarter for "
             f"the quarter row), the default definition (metrics/scorecards/default.toml). Median of {args.runs} "
             "runs; cold = a new process, imports and the DuckDB backend loaded, first call (every criterion of the "
             "period and of the previous one, the effect estimates included); warm = the same call again in one "
             "process. Goal ≤ 2 s cold.", "",
             "| grain | unit kind | units | scored | criteria | cold s (median) | cold s (max) | warm s |",
             "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['grain']} | {r['kind']} | {r['units']} | {r['scored']} | {r['criteria']} | "
                     f"{r['cold_s']:.2f} | {r['cold_max_s']:.2f} | {r['warm_s']:.2f} |")
    lines += ["", "Where the cold month × branch time goes (one fresh process, each part on the clock): "
              + "; ".join(f"{k} {v['s']:.2f} s ({v['rows']} rows)" for k, v in split.items()) + ".", "",
              f"The page (AppTest, app.py → pages/scorecard.py, month × branch): first run {pg['cold_s']:.2f} s in a "
              f"fresh process, rerun {pg['warm_s']:.2f} s warm (median of {args.runs}; goal ≤ 0.5 s warm).", ""]
    write_section(RESULTS, "scorecard_bench", "Scorecard, 200 outlets × 24 months", "\n".join(lines))
    print(json.dumps({"rows": rows, "parts": split, "page": pg, "cpu": cpu(), "load": [load0, load]}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
