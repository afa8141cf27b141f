"""The 工作动态 page at scale: 5,000 feed items (notices, meetings with 3 actions each, automatic
items) and 2,500 reads, cold and warm, with AppTest; plus the scoped SQL a regional reader runs.

    .venv/bin/python bench/feed_bench.py [--items 5000] [--runs 3]

Goal: warm run ≤ 0.5 s. The store is a 200-outlet branch master in 4 regions with N items
bulk-inserted into the ops tables (a benchmark fixture: the product writes them one by one through
data/feed with its checks and audit). Each page measurement is a fresh Python process (libraries
imported first, as a server has them): its first run is cold, the next runs of the same view warm.
The baseline is the same page on the same master with no items. `Feed.items` (the first 50) and
`Feed.unread_count` are also timed for a region manager (a 50-branch boundary, so the visibility
predicate runs over every item). Results go to bench/FEED_RESULTS.md; nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
OUT = ROOT / "bench/out"
REGIONS = ["华东区", "华南区", "华北区", "西部区"]


def build(path: Path, n: int) -> None:
    """A store with a 200-outlet branch master, `n` items and reads of half of them by `test`."""
    import numpy as np
    import pandas as pd

    from data.store import Store

    path.unlink(missing_ok=True)
    store = Store(path)
    rng = np.random.default_rng(16)
    outlets = [f"{1 + i // 50:02d}01{i % 50:03d}" for i in range(200)]
    branches = pd.DataFrame({"branch_id": outlets, "branch_name": [f"网点{i}" for i in range(200)],
                             "level": "outlet", "parent_id": None, "region": [REGIONS[i // 50] for i in range(200)],
                             "batch_id": 0})  # a bench fixture, not a load
    cur = store.cursor()
    cols = [r[0] for r in cur.execute("SELECT column_name FROM information_schema.columns WHERE table_schema = 'main' "
                                      "AND table_name = 'branches' ORDER BY ordinal_position").fetchall()]
    sel = ", ".join(c if c in branches.columns else f"NULL AS {c}" for c in cols)
    cur.register("bench_branches", branches)  # a bare `branches` would name the table itself (no rows copied)
    cur.execute(f"INSERT INTO main.branches SELECT {sel} FROM bench_branches")
    if n:
        kinds = rng.choice(["notice", "meeting", "plan_approved", "anomaly_raised"], n, p=[0.4, 0.2, 0.2, 0.2])
        aud = rng.choice(["bank", "region", "branches"], n, p=[0.2, 0.4, 0.4])
        reg = rng.integers(0, 4, n)
        pick = rng.integers(0, 200, n)
        t0 = datetime(2025, 1, 1, 9)
        audience = [None if a == "bank" else outlets[r * 50:(r + 1) * 50] if a == "region" else [outlets[p]]
                    for a, r, p in zip(aud, reg, pick, strict=True)]
        items = pd.DataFrame({
            # explicit ids (the sequence is not advanced: the bench posts nothing afterwards)
            "item_id": np.arange(1, n + 1), "kind": kinds, "title": [f"工作动态 {i} 柜面值守" for i in range(n)],
            "body": ["本周起高峰时段增开窗口。\n请各网点落实。"] * n, "title_en": None, "body_en": None,
            "audience_kind": aud, "audience_value": [None if a == "bank" else REGIONS[r] if a == "region"
                                                     else outlets[p] for a, r, p in zip(aud, reg, pick, strict=True)],
            "audience_branches": audience, "author": "bench",
            "created_at": [t0 + timedelta(hours=int(h)) for h in rng.integers(0, 8000, n)],
            "pinned": rng.random(n) < 0.01, "meeting_on": None,
            "source_ref": [f"src{i}" if k in ("plan_approved", "anomaly_raised") else None
                           for i, k in enumerate(kinds)]})
        cur.register("bench_items", items)
        cur.execute("INSERT INTO ops.feed_items BY NAME SELECT * FROM bench_items")
        meetings = items.loc[items["kind"] == "meeting", "item_id"].to_numpy()
        actions = pd.DataFrame({  # noqa: F841
            "item_id": np.repeat(meetings, 3), "seq": np.tile([1, 2, 3], len(meetings)),
            "action_kind": np.tile(["decision", "follow_up", "follow_up"], len(meetings)),
            "text": "落实排班调整", "owner": np.tile([None, "张三", "李四"], len(meetings)),
            "deadline": np.tile([None, datetime(2025, 6, 1).date(), datetime(2025, 7, 1).date()], len(meetings)),
            "plan_id": None})
        cur.execute("INSERT INTO ops.feed_actions BY NAME SELECT * FROM actions")
        reads = pd.DataFrame({"user_name": "test", "item_id": np.arange(1, n + 1, 2),  # noqa: F841
                              "read_at": datetime(2025, 12, 1)})
        cur.execute("INSERT INTO ops.feed_reads BY NAME SELECT * FROM reads")
    store.close()


def child(path: str) -> dict:
    """In a fresh process: the page's first run (cold) and the same view again (warm)."""
    import duckdb  # noqa: F401
    import pandas  # noqa: F401
    import streamlit  # noqa: F401
    from streamlit.runtime.pages_manager import PagesManager
    from streamlit.testing.v1 import AppTest

    import data.feed  # noqa: F401
    import metrics.compute  # noqa: F401

    original = PagesManager.__init__

    def init(self, *a, **k):  # app.py routes every run, as on a server after its first session
        original(self, *a, **k)
        PagesManager.uses_pages_directory = False

    PagesManager.__init__ = init
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
    at.switch_page(path)
    t0 = time.perf_counter()
    at.run()
    cold = time.perf_counter() - t0
    warm = []
    for _ in range(3):
        t0 = time.perf_counter()
        at.run()
        warm.append(time.perf_counter() - t0)
    shown = sum(1 for m in at.markdown if ":gray-badge[" in m.value)
    return {"cold": cold, "warm": statistics.median(warm), "exceptions": len(at.exception), "shown": shown}


def fresh(db: Path) -> dict:
    env = {**os.environ, "BANKPULSE_DB": str(db), "BANKPULSE_AUTH": "none", "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, __file__, "--child", "pages/feed.py"], env=env, cwd=ROOT,
                         capture_output=True, text=True, timeout=900)
    if out.returncode:
        raise RuntimeError(out.stderr[-3000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def scoped_sql(db: Path) -> dict:
    """`Feed.items` (50, and a search) and `Feed.unread_count` for a region manager, median of 5, s."""
    from data.feed import Feed
    from data.store import Store
    from data.users import Principal

    store = Store(db, read_only=True)
    try:
        who, feed = Principal("bench_mgr", "manager", region=REGIONS[1]), Feed(store)
        out = {}
        for name, fn in (("items", lambda: feed.items(who, limit=50)), ("search", lambda: feed.items(who, q="值守")),
                         ("unread", lambda: feed.unread_count(who))):
            times = []
            for _ in range(5):
                t0 = time.perf_counter()
                fn()
                times.append(time.perf_counter() - t0)
            out[name] = statistics.median(times)
        out["visible"] = len(feed.items(who, limit=100_000))
        return out
    finally:
        store.close()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--items", type=int, default=5000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(child(args.child)))
        return
    from bench.results import cpu, write_section

    OUT.mkdir(parents=True, exist_ok=True)
    full, empty = OUT / f"feed{args.items}.duckdb", OUT / "feed0.duckdb"
    build(full, args.items)
    build(empty, 0)
    res = {"full": [], "empty": []}
    for _ in range(args.runs):  # paired, alternating: the same machine state for both
        for name, db in (("empty", empty), ("full", full)):
            res[name].append(fresh(db))
    med = {k: {m: statistics.median(r[m] for r in v) for m in ("cold", "warm")} for k, v in res.items()}
    sql = scoped_sql(full)
    load = os.getloadavg()[0]
    text = (f"{time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC · {cpu()} · load {load:.1f} · "
            f"{args.items:,} items, {args.items // 2:,} reads ({res['full'][0]['shown']} shown: the page lists 50) · "
            f"median of {args.runs} fresh processes each (warm: median of 3 reruns)\n\n"
            "| store | cold run s | warm run s | goal warm ≤ 0.5 s |\n|---|---:|---:|---|\n"
            f"| no items (baseline) | {med['empty']['cold']:.2f} | {med['empty']['warm']:.2f} | |\n"
            f"| {args.items:,} items | {med['full']['cold']:.2f} | {med['full']['warm']:.2f} | "
            f"{'PASS' if med['full']['warm'] <= 0.5 else 'MISS'} |\n\n"
            f"A region manager ({sql['visible']:,} items visible), median of 5: the first 50 "
            f"{sql['items'] * 1000:.0f} ms, a search {sql['search'] * 1000:.0f} ms, the unread count "
            f"{sql['unread'] * 1000:.0f} ms.\n")
    print(text)
    write_section(ROOT / "bench/FEED_RESULTS.md", "feed-page", "The 工作动态 page at scale", text)


if __name__ == "__main__":
    main()
