"""`bankpulse detect` on the real NAB files (shared/benchmarks/nab), repeated timestamps and all.

Four of the 28 files repeat a timestamp: the detector used to refuse them with
"duplicate timestamps: [Timestamp(...)]", naming neither the series nor the line. Here they are
refused with series and lines, accepted with each `--on-duplicate` rule (the merged value checked
against the file's two rows), and the output still scores with the shared scorer.
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pandas as pd
import pytest

from anomaly.generic import LongInputError, detect_file, read_long

ROOT = Path(__file__).resolve().parents[1]
SHARED = next((p for p in (ROOT.parent / "shared", ROOT.parents[1] / "shared") if (p / "benchmarks").exists()),
              None)
# the whole NAB subset beside the checkout, else the copies of the four files in tests/data (README there)
NAB = SHARED / "benchmarks" / "nab" if SHARED else ROOT / "tests" / "data" / "nab"
SCORER = SHARED / "benchmarks" / "score.py" if SHARED else ROOT / "tests" / "data" / "score.py"

# name → (timestamp, its two lines, the two values as written)
REPEATED = {
    "realAdExchange/exchange-2_cpc_results.csv": ("2011-08-24 12:00:01", (1305, 1306), (0.13125, 0.119452887538)),
    "realAdExchange/exchange-2_cpm_results.csv": ("2011-08-24 12:00:01", (1305, 1306), (0.408489668886, 0.461744524861)),
    "realTraffic/occupancy_t4013.csv": ("2015-09-10 05:33:00", (895, 896), (2.56, 8.94)),
    "realTraffic/speed_t4013.csv": ("2015-09-10 05:33:00", (894, 895), (66.0, 62.0)),
}


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cli", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=300)


def test_the_four_files_with_a_repeated_timestamp_are_the_ones_named_here():
    """Every NAB file checked with the csv module alone: which repeat a timestamp, where."""
    found = {}
    for path in sorted((NAB / "data").glob("*/*.csv")):
        with path.open(newline="") as f:
            lines = defaultdict(list)
            for n, row in enumerate(csv.reader(f), start=1):
                if n > 1:
                    lines[row[0]].append(n)
        rep = {t: tuple(ns) for t, ns in lines.items() if len(ns) > 1}
        if rep:
            found[path.relative_to(NAB / "data").as_posix()] = rep
    assert found == {name: {t: ln} for name, (t, ln, _) in REPEATED.items()}


@pytest.mark.parametrize("name", sorted(REPEATED))
def test_a_repeated_timestamp_is_refused_with_series_and_lines(tmp_path, name):
    ts, (a, b), _ = REPEATED[name]
    out = tmp_path / "flags.json"
    r = _run("detect", str(NAB / "data" / name), "--out", str(out), "--series-id", name)
    assert r.returncode == 1, r.stderr
    assert f"series {name}: {ts} appears on lines {a} and {b}" in r.stderr
    assert f"出现在第 {a}、{b} 行" in r.stderr and "--on-duplicate first|last|sum|mean" in r.stderr
    assert "1 problem(s)" in r.stderr
    assert not out.exists()


@pytest.mark.parametrize("name", sorted(REPEATED))
@pytest.mark.parametrize("rule", ["first", "last", "sum", "mean"])
def test_each_rule_gives_the_expected_value(name, rule):
    ts, _, (x, y) = REPEATED[name]
    df = read_long(NAB / "data" / name, rule)
    at = df[df["date"] == pd.Timestamp(ts)]
    want = {"first": x, "last": y, "sum": x + y, "mean": (x + y) / 2}[rule]
    assert len(at) == 1 and at["value"].iloc[0] == pytest.approx(want, rel=1e-12)
    assert len(df) == sum(1 for _ in (NAB / "data" / name).open()) - 2  # one row fewer than the file's
    assert not df.duplicated("date").any()


def test_the_kind_is_read_from_the_rows_as_written():
    """speed_t4013 holds whole numbers: a count. Its mean of 66 and 61 would not be whole, and must not
    turn the series into an amount (another detector)."""
    name = "realTraffic/speed_t4013.csv"
    kinds = {rule: detect_file(NAB / "data" / name, on_duplicate=rule).prepared[0].series.kind.value
             for rule in ("first", "mean")}
    assert kinds == {"first": "count", "mean": "count"}


@pytest.mark.parametrize("rule", ["first", "last", "sum", "mean"])
def test_the_cli_accepts_each_rule_and_states_what_it_did(tmp_path, rule):
    name = "realAdExchange/exchange-2_cpc_results.csv"
    out = tmp_path / "flags.json"
    r = _run("detect", str(NAB / "data" / name), "--out", str(out), "--series-id", name, "--on-duplicate", rule)
    assert r.returncode == 0, r.stderr
    assert f"1 repeated timestamp(s) resolved by {rule}" in r.stdout and f"已按 {rule} 合并" in r.stdout
    assert "step 1 h" in r.stdout and "25 missing steps in 5 gap(s)" in r.stdout
    flags = json.loads(out.read_text(encoding="utf-8"))
    facts = flags["_input"]["series"][name]
    assert flags["_input"]["on_duplicate"] == rule and flags["_input"]["file"] == "exchange-2_cpc_results.csv"
    assert facts["duplicates"] == [{"timestamp": "2011-08-24 12:00:01", "lines": [1305, 1306]}]
    assert (facts["points"], facts["step_seconds"], facts["missing_steps"], facts["gaps"], facts["grid"]) == (
        1623, 3600.0, 25, 5, "regular")
    assert all(t.endswith(":00:01") for t in flags[name])  # written as the file writes them


def test_irregular_traffic_is_detected_on_its_own_timestamps():
    """realTraffic's points come every 1–10 minutes: on a 5-minute grid several would share a step,
    so the series keeps its own timestamps (and says so); flags are timestamps of the file."""
    name = "realTraffic/occupancy_t4013.csv"
    d = detect_file(NAB / "data" / name, on_duplicate="first", series_id=name)
    facts = d.meta()["series"][name]
    assert facts["grid"] == "irregular" and facts["step"] == "5 min" and facts["sharing_a_step"] > 0
    assert facts["points"] == 2499 and facts["off_grid"] > 1000
    stamps = set(pd.read_csv(NAB / "data" / name)["timestamp"])
    assert set(d.flags[name]) <= stamps


def test_the_shared_scorer_reads_the_output_with_the_nab_labels(tmp_path):
    """--series-id names the series as labels.json does, so the scorer matches it (and skips none)."""
    name = "realAdExchange/exchange-2_cpc_results.csv"
    out, res = tmp_path / "flags.json", tmp_path / "score.json"
    assert _run("detect", str(NAB / "data" / name), "--out", str(out), "--series-id", name,
                "--on-duplicate", "mean").returncode == 0
    r = subprocess.run([sys.executable, str(SCORER), "--labels", str(NAB / "labels.json"), "--flags", str(out),
                        "--points", str(NAB / "n_points.json"), "--json", str(res)],
                       capture_output=True, text=True, check=True)
    assert "skipped" not in r.stderr
    series = json.loads(res.read_text())["series"][name]
    labels = json.loads((NAB / "labels.json").read_text())[name]
    ours = json.loads(out.read_text())[name]
    assert ours and series["windows"] == len(labels) and series["flags"] == len(ours)  # every flag parsed
    assert series["n_points"] == json.loads((NAB / "n_points.json").read_text())[name]


def test_without_a_rule_the_function_refuses_too():
    with pytest.raises(LongInputError, match="appears on lines 895 and 896"):
        detect_file(NAB / "data" / "realTraffic/occupancy_t4013.csv")
