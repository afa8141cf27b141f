"""Calibration of the false-alarm budget: on clean series, does the observed false-alarm rate
match the nominal one? Writes bench/calibration.svg (observed vs nominal, log-log) and a table
into the calibration section of bench/ANOMALY_RESULTS.md.

Clean series: (a) four noise families written here (normal durations; counts with Student-t₃
noise on the log scale; over-dispersed low counts; beta-binomial rates with bases from 300 to
20,000), 80 series × 3 years each; (b) the series of the independent generators A and B that carry
no labelled anomaly (their decoys — holidays, campaigns, late reports — are normal and count as
false alarms: that is the rate a user sees). Budgets 0.03, 0.1, 0.3 and 1 false alarm per
series-year; everything else at its default.

Run: .venv/bin/python bench/calibration.py [--write]
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from anomaly.base import Controls, SeriesInput  # noqa: E402
from anomaly.budget import BUDGET  # noqa: E402
from anomaly.ensemble import detect  # noqa: E402
from anomaly.generic import iter_series, read_long  # noqa: E402
from bench.generalization import RESULTS, instance  # noqa: E402
from bench.results import write_section  # noqa: E402

BUDGETS = (0.03, 0.1, 0.3, 1.0)
SVG = ROOT / "bench" / "calibration.svg"
IDX = pd.date_range("2023-01-02", periods=3 * 364, freq="D")
WEEK = np.array([1.15, 1.0, 0.95, 0.97, 1.1, 0.5, 0.4])


def families(n: int = 80, seed: int = 11) -> dict[str, list[SeriesInput]]:
    rng = np.random.default_rng(seed)
    wk = WEEK[IDX.day_of_week]
    out: dict[str, list[SeriesInput]] = {k: [] for k in ("normal", "t3 counts", "low counts", "rates")}
    for _ in range(n):
        out["normal"].append(SeriesInput(pd.Series(20 + rng.normal(0, 1.5, len(IDX)), IDX), kind="duration"))
        v = np.round(rng.uniform(40, 400) * wk * np.exp(0.12 * rng.standard_t(3, len(IDX))))
        out["t3 counts"].append(SeriesInput(pd.Series(v, IDX), kind="count"))
        mu = rng.uniform(0.3, 4.0)
        out["low counts"].append(SeriesInput(pd.Series(
            rng.negative_binomial(2.0, 2.0 / (2.0 + mu), len(IDX)).astype(float), IDX), kind="count"))
        base = rng.integers(300, 20000, len(IDX)).astype(float)
        x = rng.binomial(base.astype(int), rng.beta(6, 294, len(IDX)))
        out["rates"].append(SeriesInput(pd.Series(x / base, IDX), pd.Series(base, IDX), kind="rate"))
    return out


def generator_clean(gen: str, seeds) -> list[SeriesInput]:
    series = []
    for seed in seeds:
        d = instance(gen, seed)
        labels = json.loads((d / "labels.json").read_text())
        series += [s for s in iter_series(read_long(d / "series.csv")) if not labels.get(s.series_id)]
    return series


def rate(series: list[SeriesInput], budget: float) -> float:
    """False alarms per series-year (every flag on a clean series is one)."""
    c = Controls(false_alarms_per_year=budget)
    flags = sum(len(detect(s, c)) for s in series)
    years = sum(max(len(s), 1) / 365.25 if s.freq.value != "monthly" else len(s) / 12 for s in series)
    return flags / years


def svg(rows: dict[str, list[float]]) -> str:
    """Observed vs nominal on log-log axes (0.01 … 3), the diagonal = perfect calibration."""
    w, h, m = 520, 420, 60
    lo, hi = np.log10(0.01), np.log10(3.0)
    px = lambda v: m + (np.log10(max(v, 0.01)) - lo) / (hi - lo) * (w - 2 * m)  # noqa: E731
    py = lambda v: h - m - (np.log10(max(v, 0.01)) - lo) / (hi - lo) * (h - 2 * m)  # noqa: E731
    colours = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"]
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" font-family="sans-serif" '
             'font-size="12">', f'<rect width="{w}" height="{h}" fill="white"/>',
             f'<line x1="{px(0.01)}" y1="{py(0.01)}" x2="{px(3)}" y2="{py(3)}" stroke="#999" stroke-dasharray="4"/>']
    for tick in (0.01, 0.03, 0.1, 0.3, 1, 3):
        parts.append(f'<text x="{px(tick)}" y="{h - m + 18}" text-anchor="middle">{tick:g}</text>')
        parts.append(f'<text x="{m - 8}" y="{py(tick) + 4}" text-anchor="end">{tick:g}</text>')
    parts.append(f'<rect x="{m}" y="{m}" width="{w - 2 * m}" height="{h - 2 * m}" fill="none" stroke="#333"/>')
    parts.append(f'<text x="{w / 2}" y="{h - 15}" text-anchor="middle">nominal false alarms per series-year '
                 '(budget)</text>')
    parts.append(f'<text transform="translate(15,{h / 2}) rotate(-90)" text-anchor="middle">observed on clean '
                 'series</text>')
    parts.append(f'<text x="{w / 2}" y="30" text-anchor="middle" font-size="14">BankPulse false-alarm budget: '
                 'calibration</text>')
    for k, (name, vals) in enumerate(rows.items()):
        col = colours[k % len(colours)]
        pts = " ".join(f"{px(b):.1f},{py(v):.1f}" for b, v in zip(BUDGETS, vals, strict=True))
        parts.append(f'<polyline points="{pts}" fill="none" stroke="{col}" stroke-width="2"/>')
        parts += [f'<circle cx="{px(b):.1f}" cy="{py(v):.1f}" r="3" fill="{col}"/>' for b, v in zip(BUDGETS, vals,
                                                                                                   strict=True)]
        parts.append(f'<text x="{m + 10}" y="{m + 18 + 16 * k}" fill="{col}">{name}</text>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--write", action="store_true")
    a = ap.parse_args(argv)
    groups = families()
    groups["generator A clean (seeds 1–3)"] = generator_clean("A", (1, 2, 3))
    groups["generator B clean (seeds 101–103)"] = generator_clean("B", (101, 102, 103))
    rows = {}
    for name, series in groups.items():
        rows[name] = [rate(series, b) for b in BUDGETS]
        print(name, len(series), [round(v, 3) for v in rows[name]], flush=True)
    table = ["| clean series | n | " + " | ".join(f"budget {b:g}" for b in BUDGETS) + " |",
             "|---|---|" + "---|" * len(BUDGETS)]
    table += [f"| {name} | {len(groups[name])} | " + " | ".join(f"{v:.3f}" for v in vals) + " |"
              for name, vals in rows.items()]
    text = (f"Run {datetime.now():%Y-%m-%d %H:%M} UTC (`bench/calibration.py`); observed false alarms per "
            f"series-year on clean series at each budget (default {BUDGET:g}); plot: "
            "[calibration.svg](calibration.svg).\n\n" + "\n".join(table) + "\n")
    print(text)
    if a.write:
        SVG.write_text(svg(rows), encoding="utf-8")
        write_section(RESULTS, "calibration", "False-alarm calibration", text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
