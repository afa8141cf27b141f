"""The 调整与整改 page at scale: 5,000 plans and 20,000 steps (issue 13), cold and warm, with AppTest.

    .venv/bin/python bench/plans_page_bench.py [--plans 5000] [--runs 3]

Goal: warm run ≤ 0.5 s, cold ≤ 2 s. The store is the 3-outlet test demo's shape grown to 200
outlets' worth of plans: a branch master of 200 outlets in 4 regions and N plans of 4 steps each,
in every status, plus N/5 notices. The rows are bulk-inserted into the ops tables (a benchmark
fixture: the product writes them one by one through data/plans, with its checks and audit). Each
measurement is a fresh Python process (the libraries imported first, as a server has them): its
first run of the page is cold, the next run of the same view is warm. The baseline of the same run
is the same page on the same store with no plans: the ratio says what the records cost. Results
are written to bench/PLANS_RESULTS.md (machine, date, load); nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from datetime import date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
OUT = ROOT / "bench/out"
STATUSES = ["proposed", "evaluated", "approved", "in_progress", "done", "reviewed", "rejected", "withdrawn"]


def build(path: Path, n_plans: int) -> None:
    """A store with a 200-outlet branch master and `n_plans` plans (4 steps each), n/5 notices."""
    import numpy as np
    import pandas as pd

    from data.store import Store

    path.unlink(missing_ok=True)
    store = Store(path)
    rng = np.random.default_rng(13)
    regions = ["华东区", "华南区", "华北区", "西部区"]
    outlets = [f"{1 + i // 50:02d}01{i % 50:03d}" for i in range(200)]
    branches = pd.DataFrame({"branch_id": outlets, "branch_name": [f"网点{i}" for i in range(200)],  # noqa: F841
                             "level": "outlet", "parent_id": None, "region": [regions[i // 50] for i in range(200)]})
    cur = store.cursor()
    cols = [r[0] for r in cur.execute("SELECT column_name FROM information_schema.columns WHERE table_schema = 'main' "
                                      "AND table_name = 'branches' ORDER BY ordinal_position").fetchall()]
    sel = ", ".join(c if c in branches.columns else f"NULL AS {c}" for c in cols)
    cur.execute(f"INSERT INTO main.branches SELECT {sel} FROM branches")
    now = datetime(2025, 12, 31, 12)
    day0 = date(2024, 1, 1)
    status = rng.choice(STATUSES, n_plans)
    proposed = [day0 + timedelta(days=int(d)) for d in rng.integers(0, 600, n_plans)]
    pick = rng.integers(0, 200, n_plans)
    plans = pd.DataFrame({  # noqa: F841 - read by DuckDB below
        "plan_id": [f"FA-2025-{i:05d}" for i in range(n_plans)],
        "kind": rng.choice(["process", "product_service", "staffing"], n_plans),
        "title": [f"调整方案 {i}" for i in range(n_plans)], "change_text": "高峰时段增开窗口",
        "target_kpis": [["counter.wait_avg_min"]] * n_plans, "scope_kind": "branches", "scope_region": None,
        "scope_branches": [[outlets[p], outlets[(p + 1) % 200]] for p in pick],
        "effect_start": [d + timedelta(days=30) for d in proposed], "owner_dept": rng.choice(
            ["运营管理部", "人力资源部", "授信审批部", "消费者权益保护部"], n_plans),
        "owner_person": None, "necessity": "必要", "feasibility": "可行", "expected_impact": "缩短等候",
        "status": status,
        "evaluated_on": [d + timedelta(days=5) for d in proposed],
        "approved_on": [d + timedelta(days=10) if s not in ("proposed", "evaluated", "rejected", "withdrawn") else None
                        for d, s in zip(proposed, status, strict=True)],
        "started_on": None, "done_on": [d + timedelta(days=80) if s in ("done", "reviewed") else None
                                        for d, s in zip(proposed, status, strict=True)],
        "reviewed_on": None, "closed_on": None, "created_at": now, "created_by": "bench", "updated_at": now,
        "updated_by": "bench", "version": 1, "proposed_on": proposed})
    cur.execute("INSERT INTO ops.plans BY NAME SELECT * FROM plans")
    steps = pd.DataFrame({  # noqa: F841
        "plan_id": np.repeat(plans["plan_id"].to_numpy(), 4), "step_no": np.tile(np.arange(1, 5), n_plans),
        "what": "实施步骤", "dept": "运营管理部",
        "deadline": [d + timedelta(days=15 * k) for d in proposed for k in range(1, 5)],
        "done_on": [d + timedelta(days=15 * k - 1) if rng.random() < 0.6 else None for d in proposed for k in range(1, 5)],
        "note": None})
    cur.execute("INSERT INTO ops.plan_steps BY NAME SELECT * FROM steps")
    n_not = n_plans // 5
    cur.execute("INSERT INTO ops.inspections VALUES ('JC-2025-0001', '批量检查', '内控合规部', DATE '2025-01-10', "
                "$b, NULL, $now, 'bench')", {"b": outlets, "now": now})
    findings = pd.DataFrame({"finding_id": [f"JC-2025-0001-{i:04d}" for i in range(n_not)],  # noqa: F841
                             "inspection_id": "JC-2025-0001", "branch_id": [outlets[i % 200] for i in range(n_not)],
                             "text": "窗口开放不足", "severity": "medium"})
    cur.execute("INSERT INTO ops.findings BY NAME SELECT * FROM findings")
    notices = pd.DataFrame({  # noqa: F841
        "notice_id": [f"ZG-2025-{i:05d}" for i in range(n_not)], "finding_id": findings["finding_id"],
        "branch_id": findings["branch_id"], "issued_on": date(2025, 1, 15), "first_deadline": date(2025, 3, 1),
        "deadline": date(2025, 3, 1), "responsible_dept": "运营管理部", "measures": None,
        "status": rng.choice(["issued", "rectified", "rechecked_pass"], n_not), "round": 1, "rectified_on": None,
        "rechecked_on": None, "recheck_note": None, "created_at": now, "created_by": "bench", "updated_at": now,
        "updated_by": "bench", "version": 1})
    cur.execute("INSERT INTO ops.notices BY NAME SELECT * FROM notices")
    store.close()


def child(path: str) -> dict:
    """In a fresh process: the page's first run (cold) and the same view again (warm)."""
    import duckdb  # noqa: F401
    import pandas  # noqa: F401
    import plotly.graph_objects  # noqa: F401
    import streamlit  # noqa: F401
    from streamlit.runtime.pages_manager import PagesManager
    from streamlit.testing.v1 import AppTest

    import data.plans  # noqa: F401
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
    return {"cold": cold, "warm": statistics.median(warm), "exceptions": len(at.exception),
            "rows": len(at.dataframe(key="ac_table").value) if not at.exception and len(at.dataframe) else 0}


def fresh(db: Path) -> dict:
    env = {**os.environ, "BANKPULSE_DB": str(db), "BANKPULSE_AUTH": "none", "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, __file__, "--child", "pages/actions.py"], env=env, cwd=ROOT,
                         capture_output=True, text=True, timeout=900)
    if out.returncode:
        raise RuntimeError(out.stderr[-3000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--plans", type=int, default=5000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(child(args.child)))
        return
    from bench.results import cpu, write_section

    OUT.mkdir(parents=True, exist_ok=True)
    full, empty = OUT / "plans5000.duckdb", OUT / "plans0.duckdb"
    build(full, args.plans)
    build(empty, 0)
    res = {"full": [], "empty": []}
    for _ in range(args.runs):  # paired, alternating: the same machine state for both
        for name, db in (("empty", empty), ("full", full)):
            res[name].append(fresh(db))
    med = {k: {m: statistics.median(r[m] for r in v) for m in ("cold", "warm")} for k, v in res.items()}
    rows = res["full"][0]["rows"]
    load = os.getloadavg()[0]
    text = (f"{time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC · {cpu()} · load {load:.1f} · "
            f"{args.plans:,} plans, {args.plans * 4:,} steps, {args.plans // 5:,} notices ({rows:,} rows listed) · "
            f"median of {args.runs} fresh processes each (warm: median of 3 reruns)\n\n"
            "| store | cold run s | warm run s | goal cold ≤ 2 s | goal warm ≤ 0.5 s |\n|---|---:|---:|---|---|\n"
            f"| no plans (baseline) | {med['empty']['cold']:.2f} | {med['empty']['warm']:.2f} | | |\n"
            f"| {args.plans:,} plans | {med['full']['cold']:.2f} | {med['full']['warm']:.2f} | "
            f"{'PASS' if med['full']['cold'] <= 2 else 'MISS'} | {'PASS' if med['full']['warm'] <= 0.5 else 'MISS'} |\n"
            f"\nRatio to the baseline of the same run: cold {med['full']['cold'] / med['empty']['cold']:.2f}×, "
            f"warm {med['full']['warm'] / med['empty']['warm']:.2f}×.\n")
    print(text)
    write_section(ROOT / "bench/PLANS_RESULTS.md", "plans-page", "The 调整与整改 page at scale", text)


if __name__ == "__main__":
    main()
