"""Detection on data it was not tuned on (issue 18): the evaluation protocol and its report.

Generators: `bench/independent/gen_a.py` and `gen_b.py`, each written by someone who had not read
the detector, from the plain description in bench/independent/DESCRIPTION.md; both write one
instance per seed in the layout below. The in-house generator (bench/anomaly_synthetic.py, written
beside the detector) is reported too, marked in-sample.

Protocol (fixed before any result was seen, and not to be changed after):
* **tune** — the only instances anyone may look at while changing the detector or its defaults:
  generator A, seeds 1–3, and the in-house generator.
* **report** — unseen seeds 101–103 of generator A and of generator B (whose output was never
  looked at while tuning), and the NAB subset (all 58 windows). `--split report` runs these.

Scoring follows /work/shared/benchmarks/score.py (event level: a window is detected by any flag
inside it; each distinct flag outside all windows is one false alarm), computed here so it can be
broken down per KPI and per anomaly kind; the totals are cross-checked against score.py itself.
Flags inside `ignore.json` spans (the first days of a *normal* regime change, where a flag is
neither right nor wrong) are dropped first. Decoy spans hit = decoy windows with a false alarm.

Detection is exactly `bankpulse detect` at its defaults: `anomaly.generic.read_long` →
`iter_series` → `anomaly.ensemble.detect(series, Controls())`.

Instance layout (one directory per generator × seed): series.csv (date,series,value,denominator,kind),
labels.json {series: [[start, end, kind]]}, decoys.json, ignore.json, n_points.json, meta.json.

Run: .venv/bin/python bench/generalization.py [--split tune|report|all] [--write]
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import subprocess
import sys
import time
from collections import defaultdict
from datetime import datetime
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from anomaly.base import Controls  # noqa: E402
from anomaly.ensemble import detect  # noqa: E402
from anomaly.generic import fmt_ts, iter_series, read_long  # noqa: E402
from bench.results import cpu, write_section  # noqa: E402

# the shared folder sits beside the checkout; BANKPULSE_SHARED points elsewhere (a worktree)
SHARED = Path(os.environ.get("BANKPULSE_SHARED", ROOT.parent / "shared")) / "benchmarks"
NAB = SHARED / "nab"
SCORER = SHARED / "score.py"
OUT = ROOT / "bench" / "out" / "generalization"
RESULTS = ROOT / "bench" / "ANOMALY_RESULTS.md"

TUNE = [("A", 1), ("A", 2), ("A", 3), ("inhouse", 0)]
REPORT = [("A", s) for s in (101, 102, 103)] + [("B", s) for s in (101, 102, 103)] + [("NAB", 0)]
GOALS = {"f1": 0.6, "fa_per_1k": 0.5, "decoy_share": 0.02, "nab_f1": 0.4}


# ---------------------------------------------------------------- instances
def instance(gen: str, seed: int) -> Path:
    """The instance directory, generated when absent (generators are deterministic per seed)."""
    out = OUT / gen / str(seed)
    if (out / "meta.json").exists() or (out / "series.csv").exists() and gen == "inhouse":
        return out
    out.mkdir(parents=True, exist_ok=True)
    if gen == "inhouse":
        _inhouse(out)
    else:
        mod = importlib.import_module(f"bench.independent.gen_{gen.lower()}")
        mod.generate(seed, out)
    return out


def _inhouse(out: Path) -> None:
    """The in-house generator's files in the common layout (its ids are branch/kpi)."""
    from bench import anomaly_synthetic

    src = anomaly_synthetic.main(out / "raw")
    data = pd.read_csv(src / "data.csv", dtype=str, keep_default_na=False)
    data.insert(1, "series", data.pop("branch") + "/" + data.pop("kpi"))
    data.to_csv(out / "series.csv", index=False)
    labels = json.loads((src / "labels.json").read_text())
    meta = {sid: {"kpi": sid.rsplit("/", 1)[-1], "freq": "daily"} for sid in labels}
    for name, obj in (("labels", labels), ("meta", meta), ("ignore", {})):
        (out / f"{name}.json").write_text(json.dumps(obj), encoding="utf-8")
    for name in ("decoys", "n_points"):
        (out / f"{name}.json").write_text((src / f"{name}.json").read_text(), encoding="utf-8")


def nab_instance() -> tuple[list, dict, dict, dict]:
    """NAB as series, read as the anomaly bench reads it (its repeated timestamps: the first reading,
    as `--on-duplicate first`)."""
    from bench.anomaly_bench import nab_series

    labels = json.loads((NAB / "labels.json").read_text())
    series = nab_series()
    n_points = json.loads((NAB / "n_points.json").read_text())
    return series, labels, n_points, {name: {"kpi": name.split("/", 1)[0]} for name in labels}


# ---------------------------------------------------------------- detection and scoring
def run_detector(series, controls: Controls | None = None) -> tuple[dict[str, list[str]], float]:
    controls = controls or Controls()
    t0 = time.perf_counter()
    flags = {s.series_id: [fmt_ts(f.date, s.freq) for f in detect(s, controls)] for s in series}
    return flags, time.perf_counter() - t0


def _ts(x) -> pd.Timestamp:
    return pd.Timestamp(x)


def evaluate(flags: dict, labels: dict, decoys: dict, ignore: dict, n_points: dict, meta: dict) -> dict:
    """Event-level counts, in total, per KPI and per anomaly kind (score.py's rules)."""
    tot = defaultdict(int)
    by_kpi: dict[str, dict] = defaultdict(lambda: defaultdict(int))
    by_kind: dict[str, dict] = defaultdict(lambda: defaultdict(int))
    decoy_kind: dict[str, dict] = defaultdict(lambda: defaultdict(int))
    clean_fp = clean_points = 0
    for sid in set(labels) | set(flags):
        kpi = meta.get(sid, {}).get("kpi", "?")
        wins = [(_ts(w[0]), _ts(w[1]), w[2] if len(w) > 2 else "?") for w in labels.get(sid, [])]
        ign = [(_ts(w[0]), _ts(w[1])) for w in ignore.get(sid, [])]
        fl = sorted({_ts(f) for f in flags.get(sid, [])})
        fl = [f for f in fl if not any(a <= f <= b for a, b in ign)]
        hit = [any(a <= f <= b for f in fl) for a, b, _ in wins]
        fps = [f for f in fl if not any(a <= f <= b for a, b, _ in wins)]
        n = int(n_points.get(sid, 0))
        for d in (tot, by_kpi[kpi]):
            d["windows"] += len(wins)
            d["detected"] += sum(hit)
            d["fp"] += len(fps)
            d["points"] += n
            d["flags"] += len(fl)
        for (_, _, k), h in zip(wins, hit, strict=True):
            by_kind[k]["windows"] += 1
            by_kind[k]["detected"] += int(h)
        if not wins:
            clean_fp += len(fps)
            clean_points += n
        for a, b, k in ((_ts(w[0]), _ts(w[1]), w[2] if len(w) > 2 else "?") for w in decoys.get(sid, [])):
            decoy_kind[k]["spans"] += 1
            decoy_kind[k]["hit"] += int(any(a <= f <= b for f in fps))
    out = _rates(dict(tot))
    out["by_kpi"] = {k: _rates(dict(v)) for k, v in sorted(by_kpi.items())}
    out["by_kind"] = {k: {**v, "recall": v["detected"] / v["windows"] if v["windows"] else None}
                      for k, v in sorted(by_kind.items())}
    out["decoys"] = {k: dict(v) for k, v in sorted(decoy_kind.items())}
    spans = sum(v["spans"] for v in decoy_kind.values())
    out["decoy_share"] = sum(v["hit"] for v in decoy_kind.values()) / spans if spans else 0.0
    out["clean"] = {"fp": clean_fp, "points": clean_points,
                    "fa_per_1k": 1000 * clean_fp / clean_points if clean_points else None}
    return out


def _rates(d: dict) -> dict:
    det, fp, w = d.get("detected", 0), d.get("fp", 0), d.get("windows", 0)
    p = det / (det + fp) if det + fp else None
    r = det / w if w else None
    f1 = 2 * p * r / (p + r) if p and r else (0.0 if w else None)
    return {**d, "precision": p, "recall": r, "f1": f1,
            "fa_per_1k": 1000 * fp / d["points"] if d.get("points") else None}


def score_py(flags: dict, labels_path: Path, points_path: Path, tmp: Path) -> dict:
    """The shared scorer's totals, as a cross-check (it knows nothing of ignore spans)."""
    fpath, jpath = tmp / "flags.json", tmp / "score.json"
    fpath.write_text(json.dumps(flags), encoding="utf-8")
    subprocess.run([sys.executable, str(SCORER), "--labels", str(labels_path), "--flags", str(fpath),
                    "--points", str(points_path), "--no-per-series", "--json", str(jpath)],
                   check=True, capture_output=True, text=True)
    return json.loads(jpath.read_text())["total"]


def run_instance(gen: str, seed: int, controls: Controls | None = None) -> dict:
    if gen == "NAB":
        series, labels, n_points, meta = nab_instance()
        flags, secs = run_detector(series, controls)
        res = evaluate(flags, labels, {}, {}, n_points, meta)
        check = score_py(flags, NAB / "labels.json", NAB / "n_points.json", OUT)
    else:
        d = instance(gen, seed)
        read = lambda n: json.loads((d / f"{n}.json").read_text()) if (d / f"{n}.json").exists() else {}  # noqa: E731
        labels, meta = read("labels"), read("meta")
        meta = {k: v for k, v in meta.items() if not k.startswith("_")}
        series = list(iter_series(read_long(d / "series.csv")))
        flags, secs = run_detector(series, controls)
        res = evaluate(flags, labels, read("decoys"), read("ignore"), read("n_points"), meta)
        # without ignore spans the shared scorer must agree with our own count
        check = score_py(flags, d / "labels.json", d / "n_points.json", d) if not read("ignore") else None
        res["series"] = len(series)
    if check is not None:
        assert (check["detected"], check["fp"]) == (res["detected"], res["fp"]), (check, res)
    res["seconds"] = secs
    return res


def pooled(results: list[dict]) -> dict:
    """Counts summed over instances, rates recomputed (micro average)."""
    tot = defaultdict(int)
    for r in results:
        for k in ("windows", "detected", "fp", "points", "flags"):
            tot[k] += r[k]
    out = _rates(dict(tot))
    spans = sum(v["spans"] for r in results for v in r["decoys"].values())
    out["decoy_share"] = sum(v["hit"] for r in results for v in r["decoys"].values()) / spans if spans else 0.0
    for part in ("by_kpi", "by_kind"):
        acc: dict = defaultdict(lambda: defaultdict(int))
        for r in results:
            for k, v in r[part].items():
                for c in ("windows", "detected", "fp", "points"):
                    acc[k][c] += v.get(c, 0)
        out[part] = {k: _rates(dict(v)) for k, v in sorted(acc.items())}
    dk: dict = defaultdict(lambda: defaultdict(int))
    for r in results:
        for k, v in r["decoys"].items():
            dk[k]["spans"] += v["spans"]
            dk[k]["hit"] += v["hit"]
    out["decoys"] = {k: dict(v) for k, v in sorted(dk.items())}
    cf = sum(r["clean"]["fp"] for r in results)
    cp = sum(r["clean"]["points"] for r in results)
    out["clean"] = {"fp": cf, "points": cp, "fa_per_1k": 1000 * cf / cp if cp else None}
    out["seconds"] = sum(r["seconds"] for r in results)
    return out


# ---------------------------------------------------------------- report
def _f(x, nd=3):
    return "—" if x is None else f"{x:.{nd}f}"


def summary_row(name: str, r: dict) -> str:
    return (f"| {name} | {r['windows']} | {r['detected']} | {r['fp']} | {_f(r['precision'])} | {_f(r['recall'])} | "
            f"**{_f(r['f1'])}** | {_f(r['fa_per_1k'], 2)} | {r.get('decoy_share', 0) * 100:.1f} % | "
            f"{_f(r['clean']['fa_per_1k'], 2)} | {r['seconds']:.1f} |")


def report(groups: dict[str, dict], split: str) -> str:
    lines = [f"Run {datetime.now():%Y-%m-%d %H:%M} UTC, machine: {os.cpu_count()} CPUs ({cpu()}), Python "
             f"{platform.python_version()}; `bench/generalization.py --split {split}`, BankPulse at shipped "
             "defaults (`Controls()`).", "",
             "| instances | windows | detected | FP | precision | recall | F1 | FA/1k | decoy spans hit | "
             "FA/1k on clean series | seconds |", "|" + "---|" * 11]
    lines += [summary_row(k, v) for k, v in groups.items()]
    goals = []
    for name, r in groups.items():
        if "(report)" in name:
            goals.append((f"{name}: F1 ≥ {GOALS['f1']}", r["f1"] is not None and r["f1"] >= GOALS["f1"], _f(r["f1"])))
            goals.append((f"{name}: ≤ {GOALS['fa_per_1k']} false alarms / 1,000 points",
                          r["fa_per_1k"] <= GOALS["fa_per_1k"], _f(r["fa_per_1k"], 2)))
            goals.append((f"{name}: < {GOALS['decoy_share']:.0%} of decoy spans hit",
                          r["decoy_share"] < GOALS["decoy_share"], f"{r['decoy_share'] * 100:.1f} %"))
        if name == "NAB subset":
            goals.append((f"NAB: F1 ≥ {GOALS['nab_f1']} at defaults", (r["f1"] or 0) >= GOALS["nab_f1"], _f(r["f1"])))
    if goals:
        lines += ["", "Goals (issue 18):", "", "| goal | result | status |", "|---|---|---|"]
        lines += [f"| {g} | {v} | {'PASS' if ok else 'MISS'} |" for g, ok, v in goals]
    for name, r in groups.items():
        lines += ["", f"**{name}** — per KPI (FP = false alarms) and per anomaly kind (recall):", "",
                  "| KPI | windows | detected | FP | F1 | FA/1k |", "|---|---|---|---|---|---|"]
        lines += [f"| {k} | {v['windows']} | {v['detected']} | {v['fp']} | {_f(v['f1'])} | {_f(v['fa_per_1k'], 2)} |"
                  for k, v in r["by_kpi"].items()]
        kinds = ", ".join(f"{k} {v['detected']}/{v['windows']}" for k, v in r["by_kind"].items())
        decoys = ", ".join(f"{k} {v['hit']}/{v['spans']}" for k, v in r["decoys"].items())
        lines += ["", f"Anomaly kinds detected: {kinds}.", "", f"Decoy spans hit: {decoys or '—'}."]
    return "\n".join(lines) + "\n"


def run_split(split: str) -> dict[str, dict]:
    plan = {"tune": TUNE, "report": REPORT, "all": TUNE + REPORT}[split]
    by_group: dict[str, list[dict]] = defaultdict(list)
    for gen, seed in plan:
        res = run_instance(gen, seed)
        tag = "tune" if (gen, seed) in TUNE else "report"
        label = {"inhouse": "in-house generator (in-sample)", "NAB": "NAB subset"}.get(
            gen, f"generator {gen}, seeds {'1–3' if tag == 'tune' else '101–103'} ({tag})")
        by_group[label].append(res)
        print(f"{gen}/{seed}: F1 {_f(res['f1'])} P {_f(res['precision'])} R {_f(res['recall'])} "
              f"FA/1k {_f(res['fa_per_1k'], 2)} decoys {res['decoy_share'] * 100:.1f} % "
              f"({res['seconds']:.1f} s)", flush=True)
    return {k: pooled(v) for k, v in by_group.items()}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--split", choices=["tune", "report", "all"], default="tune")
    ap.add_argument("--write", action="store_true", help="write the section of bench/ANOMALY_RESULTS.md")
    ap.add_argument("--json", type=Path, help="also write the pooled results as JSON")
    a = ap.parse_args(argv)
    OUT.mkdir(parents=True, exist_ok=True)
    groups = run_split(a.split)
    text = report(groups, a.split)
    print(text)
    if a.json:
        a.json.write_text(json.dumps(groups, indent=1, default=str), encoding="utf-8")
    if a.write:
        write_section(RESULTS, "generalization", "Generalization (issue 18 protocol)", text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
