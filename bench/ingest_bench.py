"""Ingest speed and memory benchmark (run by hand; never part of the test suite).

    .venv/bin/python bench/ingest_bench.py [--rows 1000000] [--big-rows 10000000] [--big-gbk]
                                           [--repeat 3] [--out bench/out] [--no-profile]

Goals (issue "ingest speed"): a 1M-row counter_tickets CSV ingests in at most 2x (UTF-8) / 3x
(GBK) the time DuckDB's bare `read_csv` takes on the same UTF-8 file, measured side by side in the
same run; a 10M-row file ingests with peak RSS under 2 GB. Results are appended to
bench/RESULTS.md (machine, date, ratios); nothing is asserted.

Both sides are timed over the same span — open the database file, load, close it (DuckDB:
connect → CREATE TABLE AS read_csv → close; BankPulse: Store(...) → ingest_file → close, so the
store's migrations and checkpoint count) — and the runs are paired: run i measures the baseline
and both BankPulse files back to back, the order alternating run by run (baseline first on odd
runs, last on even ones), and the figure to read is the median of the per-pair ratios (a load
spike from another process hits one pair, not the comparison).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import re
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import duckdb  # noqa: E402
import psutil  # noqa: E402
from gen_tickets import ensure  # noqa: E402

UPLOAD_MAX_MB = 100_000  # the default upload limit (100 MB) would refuse these files


# -- one ingest ---------------------------------------------------------------------------------

def _settings(**over):
    from data.settings import Settings

    return Settings(upload_max_mb=UPLOAD_MAX_MB, **over)


def baseline(csv: Path, tmp: Path) -> float:
    """DuckDB's bare read_csv (auto-detect) into a table of a fresh database file."""
    db = tmp / f"base_{time.monotonic_ns()}.duckdb"
    t = time.perf_counter()
    con = duckdb.connect(str(db))
    con.execute("CREATE TABLE t AS SELECT * FROM read_csv($p)", {"p": str(csv)})
    con.close()
    return time.perf_counter() - t


def bankpulse(csv: Path, tmp: Path, store_cls=None) -> dict:
    """ingest_file into a fresh store. `seconds` is the baseline's span: the store opened (file
    created, migrations), the load, the store closed; `pipeline` is ingest_file's own clock."""
    from data.ingest import ingest_file
    from data.store import Store

    db = tmp / f"bp_{time.monotonic_ns()}.duckdb"
    t = time.perf_counter()
    store = (store_cls or Store)(db, settings=_settings())
    opened = time.perf_counter() - t
    r = ingest_file(store, csv)
    store.close()
    span = time.perf_counter() - t
    return {"status": r.status, "rows": r.rows_loaded, "seconds": span, "pipeline": r.seconds, "open": opened,
            "encoding": r.encoding,
            "issues": {f"{s}:{c}": int(n) for (s, c), n in r.issues.groupby(["severity", "code"]).size().items()}}


# -- where the time goes ----------------------------------------------------------------------

STAGES = [  # (stage, predicate on the logged label), first match wins
    ("fingerprint (sha256)", lambda s: s == "PY sha256_of"),
    ("encoding detect", lambda s: s == "PY detect"),
    ("transcode GBK→UTF-8", lambda s: s == "PY to_utf8"),
    ("header sniff", lambda s: s == "PY read_csv_head"),
    ("read_csv (typed read, or text for the general path)", lambda s: "read_csv(" in s),
    ("non-finite check after the typed read", lambda s: "isfinite(" in s and s.startswith("SELECT count(*) FROM \"raw_")),
    ("distinct values parsed (low-cardinality columns)",
     lambda s: s.startswith(("CREATE OR REPLACE TEMP TABLE \"values_", "CREATE OR REPLACE TEMP VIEW \"values_"))
     or "approx_count_distinct" in s),
    ("row numbers (raw copy / view)", lambda s: s.startswith(("CREATE OR REPLACE TEMP TABLE \"raw_", "CREATE OR REPLACE TEMP VIEW \"raw_"))),
    ("parse (bp_* macros)", lambda s: s.startswith("CREATE OR REPLACE TEMP TABLE \"parsed_") or s.startswith("INSERT INTO \"parsed_")),
    ("validate rules", lambda s: s.startswith("RULE ")),
    ("duplicate-key probe", lambda s: s.startswith("SELECT EXISTS (SELECT 1 FROM \"rows_")),
    ("branch names → ids", lambda s: "JOIN main.branches b ON b.branch_name" in s or s.startswith("UPDATE \"parsed_")),
    ("unknown branches", lambda s: "main.branches b WHERE" in s and s.startswith("SELECT")),
    ("load: valid rows table", lambda s: "TEMP TABLE valid" in s or "TEMP VIEW valid" in s),
    ("load: insert rows", lambda s: s.startswith("INSERT INTO main.")),
    ("load: archive/delete replaced", lambda s: s.startswith("INSERT INTO history.") or s.startswith("DELETE FROM main.")),
    ("load: batch/issues/commit", lambda s: True),
]


def profile(csv: Path, tmp: Path) -> tuple[float, list[tuple[str, float]], list[tuple[float, str]]]:
    """One ingest with every SQL statement and pipeline step timed."""
    import data.ingest.pipeline as pl
    from data.store import Store

    log: list[tuple[float, str]] = []

    class Cur:  # times each statement; DuckDB's replacement scans then need all frames
        def __init__(self, c):
            self._c = c
            c.execute("SET python_scan_all_frames = true")

        def execute(self, q, *a, **k):
            t = time.perf_counter()
            self._c.execute(q, *a, **k)
            log.append((time.perf_counter() - t, re.sub(r"\s+", " ", q).strip()))
            return self

        def __getattr__(self, n):
            return getattr(self._c, n)

    class TimedStore(Store):
        def cursor(self):
            return Cur(super().cursor())

    saved = {}

    def wrap(name, label=None):
        fn = saved[name] = getattr(pl, name)

        def timed(*a, **k):
            t = time.perf_counter()
            try:
                return fn(*a, **k)
            finally:
                log.append((time.perf_counter() - t, label or f"PY {name}"))
        setattr(pl, name, timed)

    for n in ("sha256_of", "detect", "to_utf8", "read_csv_head"):
        wrap(n)
    orig_rules = pl.validate.rules

    def rules(*a, **k):  # tag rule SQL so the stage table can find it
        out = orig_rules(*a, **k)
        return [dataclasses.replace(r, sql="/*RULE*/ " + r.sql, where=r.where and "/*RULE*/ " + r.where) for r in out]
    pl.validate.rules = rules
    try:
        r = bankpulse(csv, tmp, TimedStore)
    finally:
        for n, fn in saved.items():
            setattr(pl, n, fn)
        pl.validate.rules = orig_rules
    log = [(t, "RULE " + s[len("/*RULE*/ "):] if s.startswith("/*RULE*/") or "count_if(/*RULE*/" in s else s)
           for t, s in log]
    by_stage: dict[str, float] = {name: 0.0 for name, _ in STAGES}
    for t, s in log:
        for name, pred in STAGES:
            if pred(s):
                by_stage[name] += t
                break
    return r["pipeline"], [(k, v) for k, v in by_stage.items() if v >= 0.005], sorted(log, reverse=True)[:12]


# -- the 10M-row run: a subprocess, its peak RSS polled ------------------------------------------

def child(csv: str, db: str) -> None:
    """Entry point of the measured subprocess (prints one JSON line)."""
    r = bankpulse(Path(csv), Path(db))
    print(json.dumps(r, default=str))


def big_run(csv: Path, tmp: Path, env_extra: dict[str, str] | None = None) -> dict:
    env = {**os.environ, **(env_extra or {})}
    t = time.perf_counter()
    p = subprocess.Popen([sys.executable, __file__, "--child", str(csv), str(tmp)], stdout=subprocess.PIPE, env=env,
                         cwd=ROOT, text=True)
    proc, peak = psutil.Process(p.pid), 0
    while p.poll() is None:
        try:
            rss = proc.memory_info().rss + sum(c.memory_info().rss for c in proc.children(recursive=True))
            peak = max(peak, rss)
        except psutil.Error:
            pass
        time.sleep(0.05)
    out = p.stdout.read()
    wall = time.perf_counter() - t
    res = json.loads(out.strip().splitlines()[-1]) if p.returncode == 0 else {"status": f"exit {p.returncode}"}
    res.update(peak_rss=peak, wall_subprocess=wall,
               ru_maxrss=resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024)
    return res


# -- report --------------------------------------------------------------------------------------

def machine() -> dict:
    cpu = next((ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text().splitlines()
                if ln.startswith("model name")), platform.processor())
    mem = psutil.virtual_memory().total / 2**30
    load = os.getloadavg()
    return {"cpu": cpu, "nproc": os.cpu_count(), "mem_gb": round(mem, 1), "python": platform.python_version(),
            "duckdb": duckdb.__version__, "load": f"{load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}"}


def fmt_mb(n: float) -> str:
    return f"{n / 2**20:,.0f} MB"


def median(xs: list[float]) -> float:
    ys = sorted(xs)
    k = len(ys) // 2
    return ys[k] if len(ys) % 2 else (ys[k - 1] + ys[k]) / 2


def report(res: dict) -> str:
    m, n = res["machine"], res["rows"]
    b, u, g = res["baseline"], res["utf8"], res["gbk"]
    ru, rg = res["median_ratio_utf8"], res["median_ratio_gbk"]
    lines = [
        f"## {res['date']} — {n:,} rows{' — ' + res['label'] if res.get('label') else ''}",
        "",
        f"Machine: {m['cpu']}, {m['nproc']} cores, {m['mem_gb']} GB RAM; Python {m['python']}, DuckDB {m['duckdb']}; "
        f"load average at start {res['load_start']}, at end {m['load']} (other processes were running: "
        "timings are noisy, ratios are measured side by side and are the figure to read).",
        "",
        f"Files: UTF-8 {fmt_mb(res['size_utf8'])}, GBK {fmt_mb(res['size_gbk'])}; {res['repeat']} paired runs, "
        "each side timed from opening a fresh database file to closing it (see the module docstring); "
        "seconds are the median of the runs, the ratio is the median of the per-pair ratios.",
        "",
        "| measure | seconds (median) | rows/s | ratio to baseline (median of pairs) | goal | result |",
        "|---|---:|---:|---:|---|---|",
        f"| DuckDB bare `read_csv` (UTF-8, baseline) | {b:.2f} | {n / b:,.0f} | 1.00 | | |",
        f"| BankPulse ingest, UTF-8 | {u:.2f} | {n / u:,.0f} | {ru:.2f} | ≤ 2x | {'PASS' if ru <= 2 else 'MISS'} |",
        f"| BankPulse ingest, GBK | {g:.2f} | {n / g:,.0f} | {rg:.2f} | ≤ 3x | {'PASS' if rg <= 3 else 'MISS'} |",
        "",
        "| pair | order | baseline s | UTF-8 s (of which open) | GBK s (of which open) | UTF-8 / baseline | GBK / baseline |",
        "|---:|---|---:|---:|---:|---:|---:|",
    ]
    for i, p in enumerate(res["pairs"], 1):
        lines.append(f"| {i} | {p['order']} | {p['baseline']:.2f} | {p['utf8']:.2f} ({p['utf8_open']:.2f}) | "
                     f"{p['gbk']:.2f} ({p['gbk_open']:.2f}) | {p['utf8'] / p['baseline']:.2f} | "
                     f"{p['gbk'] / p['baseline']:.2f} |")
    lines.append("")
    for big in res.get("big", []):
        ok = big.get("status") == "loaded"
        peak = big["peak_rss"]
        s = big.get("seconds", float("nan"))
        lines.append(
            f"| {big['rows']:,} rows {big['kind']} ({fmt_mb(big['size'])}){big.get('note', '')}: peak RSS {peak / 2**30:.2f} GB "
            f"| {s:.1f} | {big['rows'] / s if ok else 0:,.0f} | | RSS < 2 GB | "
            f"{'PASS' if ok and peak < 2 * 2**30 else 'MISS'}{'' if ok else ' (' + str(big.get('status')) + ')'} |")
    lines.append("")
    for key in ("profile_utf8", "profile_gbk"):
        if key not in res:
            continue
        total, stages, top = res[key]
        lines += ["", f"Where the time goes ({key.split('_')[1].upper()}, one profiled run, {total:.2f} s; "
                      "statement timing adds a little overhead):", "", "| stage | s | share |", "|---|---:|---:|"]
        lines += [f"| {name} | {t:.2f} | {t / total:.0%} |" for name, t in stages]
    lines.append("")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--big-rows", type=int, default=10_000_000, help="0 skips the bounded-memory run")
    ap.add_argument("--big-gbk", action="store_true", help="also run the big file in GBK")
    ap.add_argument("--big-memory-limit", default="", help="also run the big UTF-8 file with this BANKPULSE_DUCKDB_MEMORY_LIMIT")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "out")
    ap.add_argument("--results", type=Path, default=ROOT / "bench" / "RESULTS.md")
    ap.add_argument("--label", default="", help="a note for the results heading (e.g. 'before optimisation')")
    ap.add_argument("--no-profile", action="store_true")
    ap.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        return child(*a.child)
    load = os.getloadavg()
    t0 = time.perf_counter()
    utf8, gbk = ensure(a.out, a.rows)
    print(f"files ready ({time.perf_counter() - t0:.1f} s): {utf8.name}, {gbk.name}", flush=True)
    res = {"date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), "rows": a.rows, "repeat": a.repeat,
           "label": a.label, "load_start": f"{load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}",
           "size_utf8": utf8.stat().st_size, "size_gbk": gbk.stat().st_size}
    with tempfile.TemporaryDirectory(prefix="bp-bench-", dir=a.out) as tmp:
        tmp = Path(tmp)
        runs = {"baseline": [], "utf8": [], "gbk": []}
        pairs = []
        for i in range(a.repeat):
            # alternate the order run by run, so neither side always runs first (a cold page cache)
            order = ["baseline", "utf8", "gbk"] if i % 2 == 0 else ["utf8", "gbk", "baseline"]
            got = {}
            for k in order:
                got[k] = baseline(utf8, tmp) if k == "baseline" else bankpulse(utf8 if k == "utf8" else gbk, tmp)
                runs[k].append(got[k])
            for p in tmp.glob("*.duckdb*"):
                p.unlink()
            pairs.append({"order": " → ".join(order), "baseline": got["baseline"], "utf8": got["utf8"]["seconds"],
                          "gbk": got["gbk"]["seconds"], "utf8_open": got["utf8"]["open"], "gbk_open": got["gbk"]["open"]})
            print(f"run {i + 1} ({pairs[-1]['order']}): baseline {got['baseline']:.2f} s, utf8 {got['utf8']['seconds']:.2f} s "
                  f"({got['utf8']['status']}), gbk {got['gbk']['seconds']:.2f} s ({got['gbk']['status']}); ratios "
                  f"{got['utf8']['seconds'] / got['baseline']:.2f} / {got['gbk']['seconds'] / got['baseline']:.2f}",
                  flush=True)
        for k in ("utf8", "gbk"):
            bad = [r for r in runs[k] if r["status"] != "loaded" or r["rows"] != a.rows]
            if bad:
                print(f"WARNING: {k} ingest did not load every row: {bad[0]}", flush=True)
        res["baseline"] = median(runs["baseline"])
        res["utf8"] = median([r["seconds"] for r in runs["utf8"]])
        res["gbk"] = median([r["seconds"] for r in runs["gbk"]])
        res["pairs"] = pairs
        res["median_ratio_utf8"] = median([p["utf8"] / p["baseline"] for p in pairs])
        res["median_ratio_gbk"] = median([p["gbk"] / p["baseline"] for p in pairs])
        res["runs"] = runs
        if not a.no_profile:
            for k, f in (("utf8", utf8), ("gbk", gbk)):
                total, stages, top = profile(f, tmp)
                res[f"profile_{k}"] = (total, stages, [(t, s[:200]) for t, s in top])
                print(f"profile {k}: " + ", ".join(f"{n} {t:.2f}" for n, t in stages), flush=True)
                for p in tmp.glob("*.duckdb*"):
                    p.unlink()
        res["big"] = []
        if a.big_rows:
            bu, bg = ensure(a.out, a.big_rows)
            todo = [("UTF-8", bu, {}, "")]
            if a.big_memory_limit:
                todo.append(("UTF-8", bu, {"BANKPULSE_DUCKDB_MEMORY_LIMIT": a.big_memory_limit},
                             f", memory_limit={a.big_memory_limit}"))
            if a.big_gbk:
                todo.append(("GBK", bg, {}, ""))
            for kind, f, env, note in todo:
                r = big_run(f, tmp, env)
                r.update(rows=a.big_rows, kind=kind, size=f.stat().st_size, note=note)
                res["big"].append(r)
                print(f"big {kind}{note}: {r.get('status')} {r.get('seconds', 0):.1f} s, peak RSS {r['peak_rss'] / 2**30:.2f} GB",
                      flush=True)
                for p in tmp.glob("*.duckdb*"):
                    p.unlink()
    res["machine"] = machine()
    text = report(res)
    print(text)
    (a.out / f"result_{datetime.now(UTC):%Y%m%dT%H%M%S}.json").write_text(json.dumps(res, default=str, indent=1))
    old = a.results.read_text(encoding="utf-8") if a.results.exists() else (
        "# Ingest benchmark results\n\nAppended by `bench/ingest_bench.py` (newest last); see bench/README.md.\n\n")
    a.results.write_text(old.rstrip("\n") + "\n\n" + text, encoding="utf-8")


if __name__ == "__main__":
    main()
