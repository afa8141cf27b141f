"""Anomaly benchmark: BankPulse detectors at shipped defaults vs the baselines a user would pick.

Benchmarks: the seeded synthetic bank benchmark (bench/anomaly_synthetic.py; labels + decoys) and
the NAB subset in ../shared/benchmarks/nab (read in place). Baselines: rolling 3σ z-score
(window 28), STL + MAD (statsmodels STL, robust; period 7 daily / one day intraday; |robust z| >
3.5), PyOD ECOD (default contamination, features [value, weekday]). Every method's point flags are
collapsed to the first point of each run of consecutive flagged points (the same courtesy our
event grouping gets; otherwise the baselines' false-alarm counts would be far worse).
Scoring is done by /work/shared/benchmarks/score.py (event level). Also times a full scan:
6,000 daily series × 730 points through `anomaly.ensemble.detect` on 2 worker processes.

Run: .venv/bin/python bench/anomaly_bench.py [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
import warnings
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from anomaly.base import Controls, Freq, SeriesInput  # noqa: E402
from anomaly.ensemble import detect  # noqa: E402
from anomaly.generic import fmt_ts, iter_series, read_long, write_flags  # noqa: E402
from bench import anomaly_synthetic  # noqa: E402
from bench.results import cpu  # noqa: E402

SHARED = Path(os.environ.get("BANKPULSE_SHARED", ROOT.parent / "shared")) / "benchmarks"
NAB = SHARED / "nab"
SCORER = SHARED / "score.py"
OUT = ROOT / "bench" / "out" / "anomaly"
RESULTS = ROOT / "bench" / "ANOMALY_RESULTS.md"
METHODS = ("bankpulse", "zscore3", "stl_mad", "ecod")


# ---------------------------------------------------------------- baselines
def _run_starts(mask: np.ndarray) -> np.ndarray:
    return np.flatnonzero(mask & ~np.r_[False, mask[:-1]])


def zscore3(s: SeriesInput) -> np.ndarray:
    v = pd.Series(s.values.to_numpy())
    m = v.rolling(28, min_periods=7).mean().shift(1)
    sd = v.rolling(28, min_periods=7).std().shift(1)
    z = ((v - m) / sd).to_numpy()
    return _run_starts(np.nan_to_num(np.abs(z)) > 3)


def stl_mad(s: SeriesInput) -> np.ndarray:
    from statsmodels.tsa.seasonal import STL

    v = s.values.interpolate(limit_direction="both").to_numpy()
    period = 7 if s.freq is Freq.DAILY else max(int(round(pd.Timedelta(days=1) / s.step)), 2)
    if len(v) < 2 * period + 1:
        return np.array([], int)
    r = STL(v, period=period, robust=True).fit().resid
    mad = 1.4826 * np.median(np.abs(r - np.median(r)))
    z = (r - np.median(r)) / (mad if mad > 0 else 1e-9)
    return _run_starts((np.abs(z) > 3.5) & np.isfinite(s.values.to_numpy()))


def ecod(s: SeriesInput) -> np.ndarray:
    from pyod.models.ecod import ECOD

    v = s.values.interpolate(limit_direction="both").to_numpy()
    X = np.c_[v, s.index.day_of_week.to_numpy()]
    m = ECOD()
    m.fit(X)
    return _run_starts(m.labels_.astype(bool) & np.isfinite(s.values.to_numpy()))


BASELINES = {"zscore3": zscore3, "stl_mad": stl_mad, "ecod": ecod}


def run_methods(series: list[SeriesInput]) -> dict[str, dict[str, list[str]]]:
    out: dict[str, dict[str, list[str]]] = {m: {} for m in METHODS}
    timing = {}
    t0 = time.perf_counter()
    for s in series:
        out["bankpulse"][s.series_id] = [fmt_ts(f.date, s.freq) for f in detect(s, Controls())]
    timing["bankpulse"] = time.perf_counter() - t0
    for name, fn in BASELINES.items():
        t0 = time.perf_counter()
        for s in series:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                pos = fn(s)
            out[name][s.series_id] = [fmt_ts(s.index[i], s.freq) for i in pos]
        timing[name] = time.perf_counter() - t0
    out["_timing"] = timing  # type: ignore[assignment]
    return out


def score(flags_path: Path, labels: Path, points: Path, decoys: Path | None, out_json: Path) -> dict:
    cmd = [sys.executable, str(SCORER), "--labels", str(labels), "--flags", str(flags_path),
           "--points", str(points), "--no-per-series", "--json", str(out_json)]
    if decoys:
        cmd += ["--decoys", str(decoys)]
    subprocess.run(cmd, check=True, capture_output=True, text=True)
    return json.loads(out_json.read_text())["total"]


# ---------------------------------------------------------------- benchmarks
def bank_bench() -> dict:
    data_dir = anomaly_synthetic.main(OUT)
    series = list(iter_series(read_long(data_dir / "data.csv")))
    flags = run_methods(series)
    res = {}
    for m in METHODS:
        p = OUT / f"flags_bank_{m}.json"
        write_flags(flags[m], p, m)
        res[m] = score(p, data_dir / "labels.json", data_dir / "n_points.json", data_dir / "decoys.json",
                       OUT / f"score_bank_{m}.json")
        res[m]["seconds"] = flags["_timing"][m]
    return res


def nab_series() -> list[SeriesInput]:
    labels = json.loads((NAB / "labels.json").read_text())
    out = []
    for name in labels:
        # one NAB traffic file repeats a timestamp: keep its first reading (the API rejects duplicates)
        df = pd.read_csv(NAB / "data" / name).drop_duplicates("timestamp").sort_values("timestamp")
        idx = pd.DatetimeIndex(pd.to_datetime(df["timestamp"]))
        out.append(SeriesInput(pd.Series(df["value"].to_numpy(float), idx), series_id=name))
    return out


def nab_bench() -> dict:
    flags = run_methods(nab_series())
    res = {}
    for m in METHODS:
        p = OUT / f"flags_nab_{m}.json"
        write_flags(flags[m], p, m)
        res[m] = score(p, NAB / "labels.json", NAB / "n_points.json", None, OUT / f"score_nab_{m}.json")
        res[m]["seconds"] = flags["_timing"][m]
    return res


# ---------------------------------------------------------------- full-scan timing
def _scan_chunk(args) -> int:
    seed, k = args
    rng = np.random.default_rng(seed)
    idx = pd.date_range("2024-01-01", periods=730, freq="D")
    wk = np.array([1.1, 1, 0.95, 0.97, 1.08, 0.45, 0.35])[idx.day_of_week]
    n = 0
    for i in range(k):
        r = i % 10
        if r < 6:  # counts / durations / amounts
            s = SeriesInput(pd.Series(rng.poisson(rng.uniform(50, 3000) * wk).astype(float), idx), kind="count")
        elif r < 8:  # complaints
            s = SeriesInput(pd.Series(rng.poisson(rng.uniform(0.5, 5), 730).astype(float), idx), kind="count")
        else:  # rates
            den = rng.poisson(rng.uniform(50, 50000), 730).astype(float) + 1
            x = rng.binomial(den.astype(int), 0.03)
            s = SeriesInput(pd.Series(x / den, idx), pd.Series(den, idx), kind="rate")
        n += len(detect(s))
    return n


def full_scan(n_series: int = 6000, workers: int = 2) -> dict:
    chunks = [(1000 + i, n_series // (workers * 4)) for i in range(workers * 4)]
    _scan_chunk((1, 5))  # warm the calendar cache / imports in this process
    t0 = time.perf_counter()
    with ProcessPoolExecutor(workers) as ex:
        flags = sum(ex.map(_scan_chunk, chunks))
    return {"series": sum(k for _, k in chunks), "points": 730, "workers": workers,
            "seconds": time.perf_counter() - t0, "flags": flags}


# ---------------------------------------------------------------- report
def _f(x, nd=3):
    return "n/a" if x is None else f"{x:.{nd}f}"


def table(res: dict, decoys: bool) -> list[str]:
    head = "| method | windows | detected | flags | FP | precision | recall | F1 | FA/1k | "
    head += "decoy spans hit | " if decoys else ""
    head += "seconds |"
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for m, t in res.items():
        row = (f"| {m} | {t['windows']} | {t['detected']} | {t['flags']} | {t['fp']} | {_f(t['precision'])} | "
               f"{_f(t['recall'])} | {_f(t['f1'])} | {_f(t['fa_per_1k'], 2)} | ")
        if decoys:
            row += f"{decoy_hit(t) * 100:.1f} % | "
        row += f"{t['seconds']:.1f} |"
        lines.append(row)
    return lines


def decoy_hit(t: dict) -> float:
    dk = t.get("decoy_by_kind", {})
    spans = sum(d["decoy_windows"] for d in dk.values())
    return sum(d["windows_hit"] for d in dk.values()) / spans if spans else 0.0


def report(bank: dict, nab: dict, scan: dict | None) -> str:
    bp = bank["bankpulse"]
    goals = [
        ("bank: event F1 ≥ 0.6", bp["f1"] is not None and bp["f1"] >= 0.6, _f(bp["f1"])),
        ("bank: ≤ 1 false alarm / 1,000 points", bp["fa_per_1k"] <= 1.0, _f(bp["fa_per_1k"], 2)),
        ("bank: < 5 % of decoy spans hit", decoy_hit(bp) < 0.05, f"{decoy_hit(bp) * 100:.1f} %"),
        ("NAB: F1 above every baseline", all((nab["bankpulse"]["f1"] or 0) > (nab[m]["f1"] or 0)
                                             for m in BASELINES),
         f"{_f(nab['bankpulse']['f1'])} vs best baseline "
         f"{_f(max((nab[m]['f1'] or 0) for m in BASELINES))}"),
    ]
    if scan:
        goals.append(("full scan (≈6,000 series × 730 days) < 30 s on 2 cores", scan["seconds"] < 30,
                      f"{scan['seconds']:.1f} s"))
    lines = ["# Anomaly detection benchmark", "",
             f"Run {datetime.now():%Y-%m-%d %H:%M}, machine: {os.cpu_count()} CPUs ({cpu()}), "
             f"Python {platform.python_version()}. Generated by `bench/anomaly_bench.py`; "
             "BankPulse at shipped defaults (`Controls()`), no tuning on labels.", "",
             "## Goals", "", "| goal | result | status |", "|---|---|---|"]
    lines += [f"| {g} | {v} | {'PASS' if ok else 'MISS'} |" for g, ok, v in goals]
    lines += ["", "## Synthetic bank benchmark (82 daily series, 2023–2025, seeded)", ""]
    lines += table(bank, True)
    lines += ["", "Decoy spans hit by BankPulse, per kind:", ""]
    for k, d in sorted(bp.get("decoy_by_kind", {}).items()):
        lines.append(f"- {k}: {d['windows_hit']}/{d['decoy_windows']} spans, {d['flags']} flags")
    lines += ["", "## NAB subset (28 series, 151,254 points, 58 windows)", ""]
    lines += table(nab, False)
    if scan:
        lines += ["", "## Full-scan timing", "",
                  f"{scan['series']} daily series × {scan['points']} points through `ensemble.detect` "
                  f"on {scan['workers']} worker processes: **{scan['seconds']:.1f} s** "
                  f"({scan['flags']} flags)."]
    lines += ["", "Baselines' point flags are collapsed to the first point of each run of consecutive "
              "flags (otherwise their FP counts are higher still). Scores by `shared/benchmarks/score.py` "
              "(event level: one TP per detected window, one FP per distinct flag outside all windows)."]
    return "\n".join(lines) + "\n"


def kept_sections() -> str:
    """The sections other benches own (generalization.py, calibration.py), kept as they are."""
    import re

    old = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else ""
    blocks = re.findall(r"<!-- (\w+):start -->.*?<!-- \1:end -->\n?", old, flags=re.S)
    found = [m.group(0) for m in re.finditer(r"<!-- (\w+):start -->.*?<!-- \1:end -->\n?", old, flags=re.S)]
    return "".join("\n" + b.rstrip("\n") + "\n" for b in found) if blocks else ""


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="skip the full-scan timing")
    ap.add_argument("--only", choices=["bank", "nab"], help="run one benchmark, print, no report")
    a = ap.parse_args(argv)
    OUT.mkdir(parents=True, exist_ok=True)
    if a.only:
        res = bank_bench() if a.only == "bank" else nab_bench()
        print("\n".join(table(res, a.only == "bank")))
        if a.only == "bank":
            print(json.dumps(res["bankpulse"].get("decoy_by_kind"), indent=0))
        return 0
    bank, nab = bank_bench(), nab_bench()
    scan = None if a.quick else full_scan()
    text = report(bank, nab, scan) + kept_sections()
    RESULTS.write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
