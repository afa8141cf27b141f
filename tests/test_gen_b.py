"""Tests of the independent benchmark generator B (bench/independent/gen_b.py)."""
from __future__ import annotations

import csv
import functools
import json
import subprocess
import sys
from collections import defaultdict
from datetime import date
from pathlib import Path

import pytest

from bench.independent import gen_b

SCORER = Path("/work/shared/benchmarks/score.py")
FILES = ("series.csv", "labels.json", "decoys.json", "ignore.json", "n_points.json", "meta.json")
KINDS = {"spike", "level_shift", "ramp", "variance", "ratio_jump"}


@pytest.fixture(scope="module")
def inst(tmp_path_factory):
    root = tmp_path_factory.mktemp("genb")
    a, a2, b = root / "a", root / "a2", root / "b"
    summary = gen_b.generate(3, a)
    gen_b.generate(3, a2)
    gen_b.generate(4, b)
    return {"a": a, "a2": a2, "b": b, "summary": summary}


@functools.lru_cache(maxsize=4)
def _load(d: Path):
    rows = defaultdict(list)
    with open(d / "series.csv", encoding="utf-8", newline="") as f:
        rd = csv.DictReader(f)
        assert rd.fieldnames == ["date", "series", "value", "denominator", "kind"]
        for r in rd:
            rows[r["series"]].append(r)
    js = {n: json.loads((d / n).read_text(encoding="utf-8")) for n in FILES if n.endswith(".json")}
    return rows, js


def test_deterministic_per_seed_and_seeds_differ(inst):
    for name in FILES:
        assert (inst["a"] / name).read_bytes() == (inst["a2"] / name).read_bytes(), name
    assert (inst["a"] / "series.csv").read_bytes() != (inst["b"] / "series.csv").read_bytes()
    assert (inst["a"] / "labels.json").read_bytes() != (inst["b"] / "labels.json").read_bytes()


def test_summary_and_size(inst):
    s = inst["summary"]
    assert 140 <= s["series"] <= 160
    assert 20 <= s["windows"] <= 60
    assert set(s["windows_by_kind"]) <= KINDS
    assert s["clean_series"] > s["labelled_series"] > 10
    assert s["seconds"] < 30


@pytest.mark.parametrize("key", ["a", "b"])
def test_every_series_annotated_and_windows_valid(inst, key):
    rows, js = _load(inst[key])
    meta = {k: v for k, v in js["meta.json"].items() if not k.startswith("_")}
    assert js["meta.json"]["_generator"] == "B"
    assert set(meta) == set(rows)
    for name in ("labels.json", "decoys.json", "ignore.json", "n_points.json"):
        assert set(js[name]) == set(meta), name
    n_lab = 0
    for sid, rs in rows.items():
        dates = [r["date"] for r in rs]
        assert len(dates) == len(set(dates)), f"duplicate date in {sid}"
        lo, hi = min(dates), max(dates)
        assert js["n_points.json"][sid] == sum(1 for r in rs if r["value"] != "")
        valued = sorted(r["date"] for r in rs if r["value"] != "")
        for a, b, kind in js["labels.json"][sid]:
            assert kind in KINDS
            assert lo <= a <= b <= hi, (sid, a, b, lo, hi)
            assert any(a <= d <= b for d in valued), f"{sid}: no value inside label window {a}..{b}"
            n_lab += 1
        for name in ("decoys.json", "ignore.json"):
            for a, b, _k in js[name][sid]:
                assert lo <= a <= b <= hi, (name, sid, a, b)
        m = meta[sid]
        assert m["kind"] in {"count", "rate", "amount", "duration"}
        assert m["freq"] in {"daily", "monthly"} and m["level"] in {"branch", "region", "bank"}
        assert m["kpi"] in {"counter_volume", "wait_mean", "overdue_rate", "complaints", "npl_ratio"}
        assert all(r["kind"] == m["kind"] for r in rs)
        if m["freq"] == "monthly":
            for d in dates:
                dd = date.fromisoformat(d)
                nxt = date(dd.year + (dd.month == 12), dd.month % 12 + 1, 1)
                assert (nxt - dd).days == 1, f"{sid}: {d} is not a month end"
    assert n_lab >= 20


@pytest.mark.parametrize("key", ["a", "b"])
def test_rates_and_values(inst, key):
    rows, js = _load(inst[key])
    meta = js["meta.json"]
    empty_rows = omitted_days = 0
    for sid, rs in rows.items():
        m = meta[sid]
        for r in rs:
            if m["kind"] == "rate":
                assert r["denominator"] != "", sid
                assert float(r["denominator"]) > 0
                if r["value"] != "":
                    assert 0.0 <= float(r["value"]) <= 1.0
            else:
                assert r["denominator"] == ""
                if r["value"] != "":
                    assert float(r["value"]) >= 0
            empty_rows += r["value"] == ""
        if m["freq"] == "daily" and m["level"] == "branch" and m["kpi"] == "counter_volume":
            omitted_days += 1096 - len(rs)
    assert empty_rows > 0 and omitted_days > 0


def _vals(rs):
    return {r["date"]: (float(r["value"]) if r["value"] != "" else None) for r in rs}


@pytest.mark.parametrize("key", ["a", "b"])
def test_totals_are_sums_of_their_parts(inst, key):
    rows, js = _load(inst[key])
    regions = sorted({s.split("/")[2] for s in rows if s.split("/")[2].startswith("r")})
    reg_tot = {}
    for r in regions:
        branches = [s for s in rows if s.startswith(f"B/counter_volume/{r}/b")]
        assert len(branches) >= 5
        bv = [_vals(rows[s]) for s in branches]
        tot = _vals(rows[f"B/counter_volume/{r}/total"])
        checked = 0
        for d, v in tot.items():
            if v is not None:
                assert v == sum((x.get(d) or 0.0) for x in bv), (r, d)
                checked += 1
        assert checked > 600
        reg_tot[r] = tot
    bank = _vals(rows["B/counter_volume/bank/total"])
    for d, v in bank.items():
        if v is not None:
            assert all(reg_tot[r].get(d) is not None for r in regions if d in reg_tot[r]), d
            assert v == sum((reg_tot[r].get(d) or 0.0) for r in regions), d
    # ledger aggregates: bank rate = sum of region numerators / sum of region denominators
    for kpi in ("overdue_rate", "npl_ratio"):
        bank = {r["date"]: r for r in rows[f"B/{kpi}/bank/total"]}
        parts = [{r["date"]: r for r in rows[f"B/{kpi}/{g}/total"]} for g in regions]
        assert len(bank) == 36
        for d, r in bank.items():
            den = sum(float(p[d]["denominator"]) for p in parts)
            num = sum(float(p[d]["value"]) * float(p[d]["denominator"]) for p in parts)
            assert float(r["denominator"]) == pytest.approx(den, rel=1e-9)
            assert float(r["value"]) == pytest.approx(num / den, rel=1e-6)


def test_scorer_accepts_files(inst, tmp_path):
    d = inst["a"]
    flags = tmp_path / "flags.json"
    flags.write_text("{}", encoding="utf-8")
    res = tmp_path / "res.json"
    p = subprocess.run([sys.executable, str(SCORER), "--labels", str(d / "labels.json"), "--flags", str(flags),
                        "--points", str(d / "n_points.json"), "--decoys", str(d / "decoys.json"),
                        "--no-per-series", "--json", str(res)], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    tot = json.loads(res.read_text(encoding="utf-8"))["total"]
    assert tot["recall"] == 0
    assert tot["windows"] == inst["summary"]["windows"] > 0
    assert tot["series"] == inst["summary"]["series"]
    assert tot["n_points"] == inst["summary"]["points"]


@pytest.mark.parametrize("key", ["a", "b"])
def test_overdue_counts_are_whole_loans(inst, key):
    rows, js = _load(inst[key])
    n = 0
    for sid, rs in rows.items():
        if js["meta.json"][sid]["kpi"] != "overdue_rate":
            continue
        for r in rs:
            if r["value"] != "":
                num = float(r["value"]) * float(r["denominator"])
                assert abs(num - round(num)) < 1e-4, (sid, r)
                n += 1
    assert n > 10000


@pytest.mark.parametrize("key", ["a", "b"])
def test_ignore_spans_never_cover_labels_and_decoy_kinds(inst, key):
    _rows, js = _load(inst[key])
    kinds = set()
    for sid, spans in js["ignore.json"].items():
        for a, b, _reason in spans:
            for la, lb, _k in js["labels.json"][sid]:
                assert b < la or a > lb, (sid, a, b, la, lb)
    for spans in js["decoys.json"].values():
        kinds |= {k for _a, _b, k in spans}
    assert {"holiday", "post_holiday", "adjusted_workday", "month_end", "quarter_end", "year_end",
            "late_report", "outage", "small_denominator", "writeoff", "policy_change"} <= kinds
    assert kinds & {"launch", "campaign", "renovation", "relocation", "staffing"}
    assert any(spans for spans in js["ignore.json"].values())


def _by_kpi(rows, meta, kpi, level="branch"):
    return {s: rs for s, rs in rows.items() if meta[s]["kpi"] == kpi and meta[s]["level"] == level}


def _median(xs):
    xs = sorted(xs)
    return xs[len(xs) // 2]


def test_magnitudes_are_realistic(inst):
    rows, js = _load(inst["a"])
    meta = js["meta.json"]

    def values(kpi, level="branch", freq=None):
        return [float(r["value"]) for s, rs in _by_kpi(rows, meta, kpi, level).items() for r in rs
                if r["value"] != "" and (freq is None or meta[s]["freq"] == freq)]

    vol_medians = [_median([float(r["value"]) for r in rs if r["value"] not in ("", "0")])
                   for rs in _by_kpi(rows, meta, "counter_volume").values()]
    assert min(vol_medians) >= 10 and max(vol_medians) <= 800
    assert max(vol_medians) / min(vol_medians) >= 5            # branches differ in size
    wait = values("wait_mean")
    assert 5 <= _median(wait) <= 15 and max(wait) <= 120
    assert sorted(wait)[int(0.99 * len(wait))] > 2 * _median(wait)   # heavy right tail
    cmp = values("complaints")
    assert sorted(cmp)[int(0.95 * len(cmp))] <= 5
    od = values("overdue_rate", "region")
    assert min(od) >= 0.005 and max(od) <= 0.05
    npl = values("npl_ratio", "bank")
    assert min(npl) >= 0.010 and max(npl) <= 0.026


def test_calendar_closures_tiaoxiu_and_backlog(inst):
    rows, js = _load(inst["a"])
    meta = js["meta.json"]
    vols = {s: _vals(rs) for s, rs in _by_kpi(rows, meta, "counter_volume").items()}
    # first day of Spring Festival 2024: every branch closed (no row or 0)
    assert all(not v.get("2024-02-10") for v in vols.values())
    # 调休 Sunday 2024-02-04: branches work (rows with volume at nearly all of them)
    open_adj = sum(1 for v in vols.values() if v.get("2024-02-04"))
    assert open_adj >= 0.8 * len(vols)
    # first working day after Spring Festival is busier than the same branch's median working day
    busier = 0
    for v in vols.values():
        base = _median([x for d, x in v.items() if x and d.startswith("2024-03")])
        busier += (v.get("2024-02-18") or 0) > 1.2 * base
    assert busier >= 0.6 * len(vols)
