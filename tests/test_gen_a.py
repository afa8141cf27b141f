"""Tests for the independent benchmark generator A (bench/independent/gen_a.py)."""
from __future__ import annotations

import csv
import json
import math
import subprocess
import sys
from collections import Counter
from datetime import date
from pathlib import Path

import pytest

from bench.independent import gen_a

SCORER = Path("/work/shared/benchmarks/score.py")
FILES = ("series.csv", "labels.json", "decoys.json", "ignore.json", "n_points.json", "meta.json")
ANOMALY_KINDS = {"spike", "level_shift", "ramp", "variance", "ratio_jump"}
KINDS = {"count", "rate", "amount", "duration"}


@pytest.fixture(scope="module")
def inst(tmp_path_factory):
    out = tmp_path_factory.mktemp("gen_a_seed3")
    summary = gen_a.generate(3, out)
    return out, summary


def _load(out: Path, name: str):
    with open(out / name, encoding="utf-8") as f:
        return json.load(f)


_ROWS: dict[Path, list[dict[str, str]]] = {}


def _rows(out: Path):
    if out not in _ROWS:
        with open(out / "series.csv", encoding="utf-8", newline="") as f:
            _ROWS[out] = list(csv.DictReader(f))
    return _ROWS[out]


def test_same_seed_identical_different_seed_differs(inst, tmp_path):
    out, summary = inst
    again = tmp_path / "again"
    other = tmp_path / "other"
    assert gen_a.generate(3, again) == summary
    for name in FILES:
        assert (out / name).read_bytes() == (again / name).read_bytes(), name
    gen_a.generate(4, other)
    assert (out / "series.csv").read_bytes() != (other / "series.csv").read_bytes()
    assert _load(out, "labels.json") != _load(other, "labels.json")


def test_summary_and_mix(inst):
    out, summary = inst
    meta = _load(out, "meta.json")
    assert meta["_generator"] == "A" and meta["_seed"] == 3
    series = {k: v for k, v in meta.items() if not k.startswith("_")}
    assert summary["series"] == len(series)
    assert 130 <= len(series) <= 170
    kpis = Counter(v["kpi"] for v in series.values())
    assert set(kpis) == {"counter_volume", "wait_mean", "overdue_rate", "complaints", "npl_ratio"}
    freqs = Counter((v["kpi"], v["freq"]) for v in series.values())
    assert freqs[("overdue_rate", "daily")] and freqs[("overdue_rate", "monthly")]
    assert {v["level"] for v in series.values()} == {"branch", "region", "bank"}
    for v in series.values():
        assert v["kind"] in KINDS and v["freq"] in ("daily", "monthly") and v["unit"]
    assert 28 <= summary["n_windows"] <= 45
    assert set(summary["windows"]) == ANOMALY_KINDS
    assert summary["points"] == sum(_load(out, "n_points.json").values())


def test_every_series_has_entries_and_windows_are_valid(inst):
    out, _ = inst
    meta = {k: v for k, v in _load(out, "meta.json").items() if not k.startswith("_")}
    labels, decoys, ignore, npts = (_load(out, n) for n in ("labels.json", "decoys.json", "ignore.json",
                                                              "n_points.json"))
    for obj in (labels, decoys, ignore, npts):
        assert set(obj) == set(meta)
    span: dict[str, list[str]] = {}
    for r in _rows(out):
        span.setdefault(r["series"], []).append(r["date"])
    assert set(span) == set(meta)
    clean = sum(1 for v in labels.values() if not v)
    assert clean >= len(meta) // 2
    for sid, wins in labels.items():
        first, last = min(span[sid]), max(span[sid])
        for a, b, kind in wins:
            assert kind in ANOMALY_KINDS
            assert first <= a <= b <= last, (sid, a, b)
            if meta[sid]["freq"] == "daily" and kind in ("level_shift", "ratio_jump"):
                assert (date.fromisoformat(b) - date.fromisoformat(a)).days == 14
        if meta[sid]["freq"] == "monthly":
            for a, b, _ in wins:  # month-end bounds
                for d in (a, b):
                    assert date.fromordinal(date.fromisoformat(d).toordinal() + 1).day == 1, (sid, d)
    for sid, wins in list(decoys.items()) + list(ignore.items()):
        for a, b, kind in wins:
            assert a <= b and kind and kind not in ANOMALY_KINDS, (sid, a, b, kind)
    assert any(k == "adjusted_workday" for w in decoys.values() for *_, k in w)
    assert any(k in ("launch", "relocation", "renovation") for w in ignore.values() for *_, k in w)


def test_rows_rates_and_points(inst):
    out, _ = inst
    meta = {k: v for k, v in _load(out, "meta.json").items() if not k.startswith("_")}
    npts = _load(out, "n_points.json")
    seen = set()
    counted: Counter = Counter()
    empties = 0
    months = set()
    for r in _rows(out):
        key = (r["series"], r["date"])
        assert key not in seen, key
        seen.add(key)
        m = meta[r["series"]]
        assert r["kind"] == m["kind"]
        if r["value"] == "":
            empties += 1
        else:
            v = float(r["value"])
            assert math.isfinite(v) and v >= 0
            counted[r["series"]] += 1
            if m["kind"] == "rate":
                assert 0.0 <= v <= 1.0 and r["denominator"] != "" and float(r["denominator"]) > 0
        if m["kind"] != "rate":
            assert r["denominator"] == ""
        if m["freq"] == "monthly":
            d = date.fromisoformat(r["date"])
            assert date.fromordinal(d.toordinal() + 1).day == 1
            months.add(r["date"][:7])
    assert dict(counted) == {k: v for k, v in npts.items() if v}
    assert empties > 0
    assert len(months) == 36


def test_calendar_is_the_real_one(inst):
    out, _ = inst
    rows = [r for r in _rows(out) if r["series"].startswith("A/counter_volume/b")]
    # Spring Festival 2024 (2-10 .. 2-17 off) and the 调休 Sunday 2024-02-04 / Saturday 2024-02-18
    by: dict[str, dict[str, str]] = {}
    for r in rows:
        by.setdefault(r["series"], {})[r["date"]] = r["value"]
    opened_adjusted = sum(1 for d in by.values() if d.get("2024-02-18") not in (None, "", "0"))
    assert opened_adjusted >= len(by) * 0.9
    closed_eve = sum(1 for d in by.values() if d.get("2024-02-12") in (None, "0"))
    assert closed_eve >= len(by) * 0.8


def test_scorer_accepts_files(inst, tmp_path):
    out, summary = inst
    flags = tmp_path / "flags.json"
    flags.write_text("{}", encoding="utf-8")
    res = tmp_path / "res.json"
    p = subprocess.run([sys.executable, str(SCORER), "--labels", str(out / "labels.json"), "--flags",
                        str(flags), "--points", str(out / "n_points.json"), "--decoys",
                        str(out / "decoys.json"), "--no-per-series", "--json", str(res)],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    total = json.loads(res.read_text(encoding="utf-8"))["total"]
    assert total["recall"] == 0
    assert total["windows"] == summary["n_windows"]
    assert total["n_points"] == summary["points"]
    assert total["fp"] == 0


def _by_series(out: Path):
    by: dict[str, dict[str, str]] = {}
    for r in _rows(out):
        by.setdefault(r["series"], {})[r["date"]] = r
    return by


def test_closed_days_consistent_per_branch_and_post_holiday_peak(inst):
    out, _ = inst
    by = _by_series(out)
    adjusted = set()
    with open(gen_a.CAL_PATHS[0], encoding="utf-8") as f:
        adjusted = {r["date"] for r in csv.DictReader(f) if r["day_type"] == "adjusted_workday"}
    sundays = [date.fromordinal(o).isoformat() for o in range(gen_a.START.toordinal(), gen_a.END.toordinal() + 1)
               if date.fromordinal(o).weekday() == 6]
    sundays = [d for d in sundays if d not in adjusted]
    ratios = []
    for sid, rows in by.items():
        if not sid.startswith("A/counter_volume/b"):
            continue
        vals = [rows[d]["value"] if d in rows else None for d in sundays]
        omitted, zero = vals.count(None), vals.count("0")
        opened = len(vals) - omitted - zero
        # a branch writes closed Sundays one way (omitted or 0), or it opens on Sundays
        assert (omitted == 0 or zero == 0) or opened > len(vals) * 0.5, (sid, omitted, zero, opened)
        ordinary = [float(r["value"]) for d, r in rows.items() if r["value"] not in ("", "0")
                    and date.fromisoformat(d).weekday() in (1, 2, 3) and d.startswith("2025-03")]
        first = rows.get("2025-02-05")  # first working day after Spring Festival 2025 (1-28 .. 2-4)
        if ordinary and first and first["value"]:
            ratios.append(float(first["value"]) / sorted(ordinary)[len(ordinary) // 2])
    ratios.sort()
    assert ratios[len(ratios) // 2] > 1.3


def test_labelled_anomalies_are_visible_and_clean_of_regime_changes(inst):
    out, _ = inst
    by = _by_series(out)
    labels, ignore = _load(out, "labels.json"), _load(out, "ignore.json")
    meta = _load(out, "meta.json")
    checked = 0
    for sid, wins in labels.items():
        rows = by[sid]
        for a, b, kind in wins:
            for ia, ib, _ in ignore[sid]:
                assert ib < a or ia > b, (sid, a, b, ia, ib)
            if kind == "spike" and meta[sid]["kpi"] in ("counter_volume", "wait_mean"):
                d0 = date.fromisoformat(a)
                same = [rows.get(date.fromordinal(d0.toordinal() - 7 * k).isoformat()) for k in range(1, 9)]
                ref = sorted(float(r["value"]) for r in same if r and r["value"] not in ("", "0"))
                v = float(rows[a]["value"])
                med = ref[len(ref) // 2]
                if meta[sid]["kpi"] == "counter_volume":
                    assert v < 0.7 * med, (sid, a, v, med)
                else:
                    assert v > 1.4 * med, (sid, a, v, med)
                checked += 1
            if kind == "ratio_jump" and meta[sid]["freq"] == "daily":
                d0, d1 = float(rows[a]["denominator"]), float(rows[b]["denominator"])
                assert abs(d1 / d0 - 1) < 0.03, (sid, a, d0, d1)
    assert checked >= 2
