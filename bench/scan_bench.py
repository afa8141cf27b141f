"""Full and incremental anomaly-scan timing on the 200-outlet × 2-year demo.

Run: .venv/bin/python bench/scan_bench.py [--workers N]
1. builds (once, cached in bench/out/) the demo store:
   bankpulse demo --branches 200 --years 2 --as-of 2025-12-31 --out bench/out/demo200 --load --no-scan \
     --db bench/out/scan200.duckdb  (a pinned last day: the recorded results stay comparable)
2. on a fresh copy: times `scan(store)` (every KPI × bank/region/branch, full history);
3. writes one extra day of tickets for every outlet (the day after the demo ends), ingests it and
   times `scan_after_batch` (what `bankpulse ingest` and the data page run after each load) in
   this process, which has just run the full scan (the app's case), and in a new process on a copy
   of the store as it was after the upload (the `bankpulse ingest` case: imports warm, nothing
   compiled yet).
Prints one JSON line with the numbers, the machine and the load average (absolute goals: full
< 30 s on 2 cores, incremental < 3 s).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"
CACHE = OUT / "scan200.duckdb"


def build_cache() -> None:
    if CACHE.exists() and (OUT / "scan200.done").exists():
        return
    CACHE.unlink(missing_ok=True)
    subprocess.run([sys.executable, "-m", "cli", "demo", "--branches", "200", "--years", "2", "--as-of", "2025-12-31",
                    "--out", str(OUT / "demo200"), "--load", "--no-scan", "--db", str(CACHE)], cwd=ROOT, check=True)
    (OUT / "scan200.done").write_text("ok")


def one_day_csv(store, path: Path) -> tuple[str, int]:
    """The tickets of the day after the data ends, for every outlet: the outlets' own last
    weekday-matched day, re-dated (same volume, waits and statuses)."""
    import pandas as pd

    last = sorted((OUT / "demo200").glob("counter_tickets_*.csv"))[-1]
    df = pd.read_csv(last, dtype=str, encoding="utf-8-sig")
    end = max(df["业务日期"])
    day = (pd.Timestamp(end) + pd.Timedelta(days=1)).date().isoformat()
    src = (pd.Timestamp(end) - pd.Timedelta(days=6)).date().isoformat()  # same weekday a week before
    one = df[df["业务日期"] == src].copy()
    for c in ("取号时间", "叫号时间", "开始办理时间", "完成时间"):
        if c in one:
            one[c] = one[c].str.replace(src, day, regex=False)
    one["业务日期"] = day
    one.to_csv(path, index=False)
    return day, len(one)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--workers", type=int, default=None)
    ap.add_argument("--new-process", nargs=2, metavar=("DB", "BATCH"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.new_process:
        return new_process(Path(args.new_process[0]), int(args.new_process[1]))
    if args.workers:
        os.environ["BANKPULSE_SCAN_WORKERS"] = str(args.workers)
    build_cache()
    sys.path.insert(0, str(ROOT))
    from anomaly.scan import scan, scan_after_batch, workers
    from data.ingest import ingest_file
    from data.ops import OPS
    from data.store import Store

    work = OUT / "scan200_run.duckdb"
    shutil.copy(CACHE, work)
    store = Store(work)
    try:
        load0 = os.getloadavg()
        t0 = time.perf_counter()
        full = scan(store, trigger="bench")
        t_full = time.perf_counter() - t0
        csv = OUT / "counter_tickets_oneday.csv"
        day, n = one_day_csv(store, csv)
        t1 = time.perf_counter()
        res = ingest_file(store, csv)
        t_ingest = time.perf_counter() - t1
        store.cursor().execute("CHECKPOINT")  # the file now holds the upload: copied for the new-process run
        cold = OUT / "scan200_cold.duckdb"
        shutil.copy(work, cold)
        t2 = time.perf_counter()
        inc = scan_after_batch(store, OPS.get_batch(store.cursor(), res.batch_id))
        t_inc = time.perf_counter() - t2
        load1 = os.getloadavg()
    finally:
        store.close()
    fresh = json.loads(subprocess.run([sys.executable, __file__, "--new-process", str(cold), str(res.batch_id)],
                                      cwd=ROOT, check=True, capture_output=True, text=True).stdout)
    out = {
        "date": datetime.now().isoformat(timespec="minutes"), "machine": f"{os.cpu_count()} CPUs, {platform.processor() or platform.machine()}",
        "python": platform.python_version(), "workers": workers(),
        "loadavg_before": [round(x, 2) for x in load0], "loadavg_after": [round(x, 2) for x in load1],
        "full": {"series": full.series, "flags": full.flags, "seconds": round(t_full, 1),
                 "stages": {k: round(v, 2) for k, v in full.stages.items()}},
        "one_day": {"date": day, "tickets": n, "ingest_seconds": round(t_ingest, 1)},
        "incremental": {"series": inc.series if inc else 0, "flags": inc.flags if inc else 0, "seconds": round(t_inc, 2),
                        "stages": {k: round(v, 2) for k, v in inc.stages.items()} if inc else {}},
        "incremental_new_process": fresh,
    }
    print(json.dumps(out, ensure_ascii=False))
    return 0


def new_process(db: Path, batch_id: int) -> int:
    """The incremental scan in a process that has run nothing else (modules imported first, as the
    `bankpulse` command has them before it ingests)."""
    sys.path.insert(0, str(ROOT))
    from anomaly.scan import scan_after_batch
    from data.ops import OPS
    from data.store import Store

    store = Store(db)
    try:
        batch = OPS.get_batch(store.cursor(), batch_id)
        t0 = time.perf_counter()
        inc = scan_after_batch(store, batch)
        took = time.perf_counter() - t0
    finally:
        store.close()
    print(json.dumps({"series": inc.series, "flags": inc.flags, "seconds": round(took, 2),
                      "stages": {k: round(v, 2) for k, v in inc.stages.items()}}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
