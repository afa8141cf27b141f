"""`bankpulse detect FILE.csv --out flags.json` run as a user runs it: a real process, a real file.

The input is the long format of the generic detector (date, key columns…, value[, denominator]);
the output is `{series_id: [flagged dates]}` plus `_`-prefixed metadata — the format the shared
scorer (`shared/benchmarks/score.py`) reads, which scores it here when it is available.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
# the shared scorer sits beside the main checkout (../shared) or, from a worktree, one level higher
SCORER = next((p for p in (ROOT.parent / "shared" / "benchmarks" / "score.py",
                           ROOT.parents[1] / "shared" / "benchmarks" / "score.py") if p.exists()),
              ROOT / "tests" / "data" / "score.py")  # a copy, for a clone without ../shared (tests/data/README.md)
DAYS = pd.date_range("2025-01-06", periods=200, freq="D")
SPIKE = 150


def _long_csv(path: Path) -> None:
    rng = np.random.default_rng(3)
    weekday = np.where(DAYS.day_of_week < 5, 1.0, 0.6)
    calm = rng.poisson(300 * weekday).astype(float)
    spiky = rng.poisson(300 * weekday).astype(float)
    spiky[SPIKE] *= 2.5
    loans = rng.integers(1800, 2200, len(DAYS))
    overdue = rng.binomial(loans, 0.02) / loans
    frames = [pd.DataFrame({"date": DAYS.strftime("%Y-%m-%d"), "branch": b, "kpi": "tickets", "value": v})
              for b, v in (("B1", calm), ("B2", spiky))]
    frames.append(pd.DataFrame({"date": DAYS.strftime("%Y-%m-%d"), "branch": "B1", "kpi": "overdue",
                                "value": overdue, "denominator": loans}))
    pd.concat(frames).to_csv(path, index=False)


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cli", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=300)


def test_detect_writes_flags_per_series(tmp_path):
    src, out = tmp_path / "kpis.csv", tmp_path / "flags.json"
    _long_csv(src)
    r = _run("detect", str(src), "--out", str(out))
    assert r.returncode == 0, r.stderr
    flags = json.loads(out.read_text(encoding="utf-8"))
    series = {k: v for k, v in flags.items() if not k.startswith("_")}
    assert set(series) == {"B1/tickets", "B2/tickets", "B1/overdue"}
    assert all(isinstance(v, list) and all(isinstance(d, str) for d in v) for v in series.values())
    assert DAYS[SPIKE].strftime("%Y-%m-%d") in series["B2/tickets"]
    assert len(series["B1/tickets"]) <= 2 and len(series["B1/overdue"]) <= 2  # quiet series stay quiet


def test_detect_refuses_a_file_without_a_value_column(tmp_path):
    src = tmp_path / "bad.csv"
    pd.DataFrame({"date": ["2025-01-01"], "branch": ["B1"], "amount": [1.0]}).to_csv(src, index=False)
    r = _run("detect", str(src), "--out", str(tmp_path / "flags.json"))
    assert r.returncode != 0
    assert "bad.csv" in r.stderr and "missing column: value" in r.stderr and "expected date," in r.stderr
    assert not (tmp_path / "flags.json").exists()


def test_detect_lists_every_bad_cell_with_its_row_and_leaves_the_old_output(tmp_path):
    """Bad dates, numbers and kinds are all reported (file, row as in the file, column, the cell as
    written), in file order; an empty value is an unknown point, not an error; flags.json from an
    earlier run is left as it was."""
    src, out = tmp_path / "messy.csv", tmp_path / "flags.json"
    out.write_text('{"_detector": "bankpulse", "earlier": []}', encoding="utf-8")
    src.write_text("date,branch,value,denominator,kind\n"
                   "2025-01-01,B1,1,10,rate\n"
                   "2025-13-45,B1,x,,\n"
                   ",B1,2,abc,ratio\n"
                   "2025-01-04,B1,,5,\n", encoding="utf-8")
    r = _run("detect", str(src), "--out", str(out))
    assert r.returncode != 0
    lines = [ln.strip() for ln in r.stderr.splitlines() if ln.strip().startswith("第")]
    assert [ln.split(" / ")[1].split(":")[0] for ln in lines] == [
        "row 3, column date", "row 3, column value", "row 4, column date", "row 4, column denominator",
        "row 4, column kind"]
    assert "messy.csv: 5" in r.stderr and "'2025-13-45'" in r.stderr and "count/rate/amount/duration" in r.stderr
    assert "row 5" not in r.stderr  # the empty value
    assert json.loads(out.read_text(encoding="utf-8")) == {"_detector": "bankpulse", "earlier": []}


def test_the_shared_scorer_reads_the_output(tmp_path):
    src, out = tmp_path / "kpis.csv", tmp_path / "flags.json"
    _long_csv(src)
    assert _run("detect", str(src), "--out", str(out)).returncode == 0
    day = DAYS[SPIKE].strftime("%Y-%m-%d")
    labels = tmp_path / "labels.json"
    labels.write_text(json.dumps({"B2/tickets": [[day, day]], "B1/tickets": [], "B1/overdue": []}))
    res = tmp_path / "score.json"
    subprocess.run([sys.executable, str(SCORER), "--labels", str(labels), "--flags", str(out), "--json", str(res)],
                   check=True, capture_output=True, text=True)
    total = json.loads(res.read_text())["total"]
    assert total["recall"] == 1.0


@pytest.mark.parametrize(("content", "expected"), [
    (b"", "the file is empty"),
    (b"\n\n", "no header and no rows"),
    (b"date,branch,value\n2025-01-01,B1,1,9,9\n", "5 cells, the header has 3 columns"),
    (b"date,branch,value\n\n2025-01-01,B1,1\n\n2025-13-01,B1,x\n", "row 5, column date: '2025-13-01'"),
    ("date,网点,value\n2025-01-01,人民路,1\n".encode() + b"2025-01-02,\xff\xfe\xfd,2\n", "UTF-8"),
], ids=["empty", "blank-lines-only", "ragged-row", "lines-counted-past-blank-lines", "mixed-encoding"])
def test_detect_refuses_unreadable_files_with_a_specific_message(tmp_path, content, expected):
    src, out = tmp_path / "kpis.csv", tmp_path / "flags.json"
    src.write_bytes(content)
    r = _run("detect", str(src), "--out", str(out))
    assert r.returncode != 0 and "kpis.csv" in r.stderr and expected in r.stderr, r.stderr
    assert not out.exists()


def test_detect_reads_a_gbk_export_with_chinese_keys(tmp_path):
    """The bank's systems export GBK: read like an upload, keys kept as written."""
    src, out = tmp_path / "指标.csv", tmp_path / "flags.json"
    days = pd.date_range("2025-01-01", periods=60, freq="D").strftime("%Y-%m-%d")
    body = "date,网点,value\n" + "".join(f"{d},人民路网点,{100 + i % 7}\n" for i, d in enumerate(days))
    src.write_bytes(body.encode("gbk"))
    r = _run("detect", str(src), "--out", str(out))
    assert r.returncode == 0, r.stderr
    flags = json.loads(out.read_text(encoding="utf-8"))
    assert {k for k in flags if not k.startswith("_")} == {"人民路网点"}
    assert set(flags["_input"]["series"]) == {"人民路网点"}


# -- real-file trouble: repeated timestamps, gaps, irregular spacing, time zones ---------------------

def _write(tmp_path: Path, text: str, name: str = "kpis.csv") -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


RATES = ("date,branch,value,denominator\n"
         "2025-01-01,B1,0.1,100\n"    # line 2 ┐ B1 2025-01-01 three times
         "2025-01-02,B1,0.2,50\n"     # line 3 │
         "2025-01-01,B1,0.3,300\n"    # line 4 │
         "2025-01-01,B1,0.2,100\n"    # line 5 ┘
         "2025-01-01,B2,0.5,10\n"     # line 6 ┐ B2: one part unknown
         "2025-01-01,B2,,\n")         # line 7 ┘


@pytest.mark.parametrize(("rule", "b1", "b2"), [
    ("first", (0.1, 100), (0.5, 10)),
    ("last", (0.2, 100), (np.nan, np.nan)),
    ("sum", ((10 + 90 + 20) / 500, 500), (np.nan, np.nan)),   # numerators and bases added; unknown part: unknown
    ("mean", ((10 + 90 + 20) / 500, 500 / 3), (0.5, 10)),     # weighted by the base, over the known parts
], ids=["first", "last", "sum", "mean"])
def test_each_rule_merges_repeated_rates_consistently(tmp_path, rule, b1, b2):
    from anomaly.generic import read_long

    df = read_long(_write(tmp_path, RATES), rule)
    got = {b: tuple(df[(df["branch"] == b) & (df["date"] == pd.Timestamp("2025-01-01"))][["value", "denominator"]]
                    .to_numpy()[0]) for b in ("B1", "B2")}
    np.testing.assert_allclose(got["B1"], b1)
    np.testing.assert_allclose(got["B2"], b2)
    assert len(df) == 3 and df.attrs["rule"] == rule
    assert [d.lines for d in df.attrs["resolved"]["B1"]] == [(2, 4, 5)]


@pytest.mark.parametrize(("rule", "value"), [("first", 5.0), ("last", 7.0), ("sum", 12.0), ("mean", 6.0)])
def test_each_rule_on_counts_via_the_cli(tmp_path, rule, value):
    """The merged point is what the detector sees: a spike made only by summing two halves is flagged
    with `sum` and not with `first`."""
    days = pd.date_range("2025-01-06", periods=90, freq="D")
    rows = [f"{d:%Y-%m-%d},B1,{100 + i % 3}" for i, d in enumerate(days)]
    rows.insert(61, f"{days[60]:%Y-%m-%d},B1,100")  # day 60 written twice (two half-day uploads)
    src = _write(tmp_path, "date,branch,value\n" + "\n".join(rows) + "\n")
    small = _write(tmp_path, "date,branch,value\n2025-01-01,B9,5\n2025-01-01,B9,7\n2025-01-02,B9,6\n", "small.csv")
    from anomaly.generic import read_long

    assert read_long(small, rule)["value"].iloc[0] == value
    out = tmp_path / "flags.json"
    r = _run("detect", str(src), "--out", str(out), "--on-duplicate", rule)
    assert r.returncode == 0, r.stderr
    flags = json.loads(out.read_text(encoding="utf-8"))
    spiked = f"{days[60]:%Y-%m-%d}" in flags["B1"]
    assert spiked == (rule == "sum"), (rule, flags["B1"])
    assert flags["_input"]["series"]["B1"]["duplicates"] == [{"timestamp": f"{days[60]:%Y-%m-%d}",
                                                              "lines": [62, 63]}]


def test_every_repeat_is_listed_with_series_and_lines_then_counted(tmp_path):
    """25 repeats over two series: all found, 20 shown in file order, the rest counted, one refusal."""
    days = pd.date_range("2025-01-01", periods=30, freq="D").strftime("%Y-%m-%d")
    rows = [f"{d},{b},1" for b in ("B1", "B2") for d in days]
    rows += [f"{d},B2,2" for d in days[:5]] + [f"{d},B1,3" for d in days[:20]]
    out = tmp_path / "flags.json"
    r = _run("detect", str(_write(tmp_path, "date,branch,value\n" + "\n".join(rows) + "\n")), "--out", str(out))
    assert r.returncode == 1 and not out.exists()
    assert "25 problem(s)" in r.stderr and "5 more" in r.stderr and "--on-duplicate" in r.stderr
    listed = [ln for ln in r.stderr.splitlines() if "appears on lines" in ln]
    assert len(listed) == 20
    assert "series B1: 2025-01-01 appears on lines 2 and 67" in listed[0]  # sorted by the first line
    assert "series B1: 2025-01-20 appears on lines 21 and 86" in listed[-1]  # B2's five (lines 32–36): counted


def test_a_rate_without_its_denominator_cannot_be_summed(tmp_path):
    """Two fractions added are not a fraction; without the bases there is nothing consistent to add."""
    src = _write(tmp_path, "date,branch,value,kind\n2025-01-01,B1,0.4,rate\n2025-01-01,B1,0.7,rate\n")
    out = tmp_path / "flags.json"
    r = _run("detect", str(src), "--out", str(out), "--on-duplicate", "sum")
    assert r.returncode == 1 and "序列 B1：比率没有分母不能相加" in r.stderr
    assert "series B1: a rate without its denominator cannot be summed; use mean, first or last" in r.stderr
    assert not out.exists()


def _hourly(days: int = 28, spike: int = 20 * 24 + 12) -> tuple[pd.DatetimeIndex, np.ndarray]:
    idx = pd.date_range("2025-03-03", periods=days * 24, freq="h")
    rng = np.random.default_rng(7)
    lam = 200 * (1 + 0.6 * np.sin(2 * np.pi * (idx.hour - 6) / 24))
    v = rng.poisson(lam).astype(float)
    v[spike] *= 4
    return idx, v


def test_time_zones_are_converted_and_flags_written_as_the_rows_were(tmp_path):
    """An hourly series written in UTC (`Z`) with gaps and a few seconds of jitter: detected on
    Asia/Shanghai time, flagged in the file's own `Z` form, scored by the shared scorer on it."""
    idx, v = _hourly()
    spike = 20 * 24 + 12
    jitter = pd.to_timedelta(np.where(np.arange(len(idx)) % 50 == 7, 20, 0), "s")
    stamps = (idx + jitter).strftime("%Y-%m-%dT%H:%M:%SZ")
    keep = [i for i in range(len(idx)) if not 300 <= i < 306]  # a 6-hour gap
    src = _write(tmp_path, "timestamp,value\n" + "".join(f"{stamps[i]},{v[i]:g}\n" for i in keep))
    out = tmp_path / "flags.json"
    r = _run("detect", str(src), "--out", str(out), "--series-id", "atm")
    assert r.returncode == 0, r.stderr
    assert "zone: Z converted to Asia/Shanghai" in r.stdout and "6 missing steps in 1 gap(s)" in r.stdout
    assert "off-grid point(s) moved to the nearest step (by at most 20 s)" in r.stdout
    flags = json.loads(out.read_text(encoding="utf-8"))
    assert stamps[spike] in flags["atm"]
    facts = flags["_input"]["series"]["atm"]
    assert (facts["zone"], facts["offsets"], facts["grid"], facts["missing_steps"], facts["gaps"]) == (
        "Asia/Shanghai", ["Z"], "regular", 6, 1)
    assert facts["off_grid"] == sum(1 for i in keep if i % 50 == 7)
    if SCORER.exists():
        labels = tmp_path / "labels.json"
        labels.write_text(json.dumps({"atm": [[stamps[spike], stamps[spike + 1]]]}))
        res = tmp_path / "score.json"
        subprocess.run([sys.executable, str(SCORER), "--labels", str(labels), "--flags", str(out), "--json", str(res)],
                       check=True, capture_output=True, text=True)
        assert json.loads(res.read_text())["total"]["recall"] == 1.0


def test_one_instant_written_in_two_offsets_is_a_repeat(tmp_path):
    src = _write(tmp_path, "date,branch,value\n2025-01-03T08:00:00+08:00,B1,1\n2025-01-03T00:00:00Z,B1,2\n"
                           "2025-01-03T09:00:00+08:00,B1,3\n")
    r = _run("detect", str(src), "--out", str(tmp_path / "flags.json"))
    assert r.returncode == 1
    assert "series B1: 2025-01-03T08:00:00+08:00 appears on lines 2 and 3" in r.stderr


def test_mixing_naive_and_aware_timestamps_in_a_series_is_refused_with_lines(tmp_path):
    """Every row that differs from its series' first row is named, with the other problems of the file."""
    src = _write(tmp_path, "date,branch,value\n"
                           "2025-01-03T08:00:00+08:00,B1,1\n"
                           "2025-01-03 09:00,B1,2\n"
                           "2025-01-03T10:00:00Z,B1,3\n"
                           "2025-01-03 11:00:00,B1,x\n"
                           "2025-01-03 08:00,B2,4\n"
                           "2025-01-03T09:00:00+08:00,B2,5\n")
    out = tmp_path / "flags.json"
    r = _run("detect", str(src), "--out", str(out))
    assert r.returncode == 1 and not out.exists()
    assert "4 problem(s)" in r.stderr
    assert "row 3, column date: '2025-01-03 09:00' 没有时区" in r.stderr
    assert "has no offset, but series B1's first row (line 2) has one" in r.stderr
    assert "row 5, column date: '2025-01-03 11:00:00'" in r.stderr and "row 5, column value: 'x'" in r.stderr
    assert "has an offset, but series B2's first row (line 6) has none" in r.stderr
    assert "row 4" not in r.stderr  # Z is an offset too


@pytest.mark.parametrize(("stamps", "grid", "step", "missing", "gaps", "off", "sharing", "slots"), [
    (pd.date_range("2025-01-01", periods=10, freq="D").delete([3, 4, 8]), "regular", "1 d", 3, 2, 0, 0, 10),
    (pd.date_range("2025-01-01", periods=10, freq="h") + pd.to_timedelta([0, 0, 5, 0, 0, -7, 0, 0, 0, 0], "min"),
     "regular", "1 h", 0, 0, 2, 0, 10),
    # one odd first point does not put the others off the grid
    (pd.DatetimeIndex(["2025-01-01 00:04"]).append(pd.date_range("2025-01-01 00:10", periods=9, freq="5min")),
     "regular", "5 min", 0, 0, 1, 0, 10),
    (pd.DatetimeIndex(["2025-01-01 00:00", "2025-01-01 00:05", "2025-01-01 00:06", "2025-01-01 00:10",
                       "2025-01-01 00:15", "2025-01-01 00:30"]), "irregular", "5 min", 2, 1, 1, 1, 6),
    (pd.date_range("2023-01-01", periods=24, freq="MS").delete([5, 6, 10]), "monthly", "1 month", 3, 2, 0, 0, 24),
    (pd.date_range("2023-01-31", periods=12, freq="ME"), "monthly", "1 month", 0, 0, 0, 0, 12),
    (pd.DatetimeIndex(["2025-01-01"]), "single", "1 month", 0, 0, 0, 0, 1),
], ids=["daily-gaps", "hourly-jitter", "odd-first-point", "irregular", "monthly-gaps", "month-ends", "single"])
def test_the_time_axis_of_a_series(stamps, grid, step, missing, gaps, off, sharing, slots):
    from anomaly.generic import time_axis

    a = time_axis(pd.DatetimeIndex(stamps))
    got_step = "1 month" if a.step is None else _span_en(a.step)
    assert (a.grid, a.missing, a.gaps, a.off_grid, a.sharing, len(a.index)) == (grid, missing, gaps, off, sharing,
                                                                                  slots)
    assert grid == "single" or got_step == step
    assert len(set(a.at)) == len(stamps) and (np.diff(a.at) > 0).all()


def _span_en(step: pd.Timedelta) -> str:
    from anomaly.generic import _span

    return _span(step)[1]


def test_gaps_are_unknown_points_and_flags_keep_the_rows_own_time(tmp_path):
    """On the grid a missing hour is NaN (never flagged), and a flagged point moved onto the grid is
    written at the time its row gave."""
    from anomaly.generic import detect_file

    idx, v = _hourly()
    spike = 20 * 24 + 12
    stamps = idx.strftime("%Y-%m-%d %H:%M:%S").tolist()
    stamps[spike] = (idx[spike] + pd.Timedelta(minutes=3)).strftime("%Y-%m-%d %H:%M:%S")
    keep = [i for i in range(len(idx)) if not 100 <= i < 130]
    src = _write(tmp_path, "date,value\n" + "".join(f"{stamps[i]},{v[i]:g}\n" for i in keep))
    d = detect_file(src)
    p = d.prepared[0]
    assert len(p.series) == len(idx) and p.series.values.isna().sum() == 30 and p.rows == len(keep)
    assert p.series.step == pd.Timedelta(hours=1)
    assert stamps[spike] in d.flags["series"]
    assert d.meta()["series"]["series"]["max_shift_seconds"] == 180.0


def test_series_the_detectors_cannot_take_are_all_named(tmp_path):
    src = _write(tmp_path, "date,branch,value,kind\n2025-01-01,B1,-3,count\n2025-01-02,B1,4,count\n"
                           "2025-01-01,B2,1.5,rate\n2025-01-02,B2,0.5,rate\n")
    r = _run("detect", str(src), "--out", str(tmp_path / "flags.json"))
    assert r.returncode == 1 and "2 problem(s)" in r.stderr
    assert "series B1 cannot be detected: negative count" in r.stderr
    assert "series B2 cannot be detected: rate outside [0, 1]" in r.stderr


def test_series_id_is_only_for_a_file_without_key_columns(tmp_path):
    src = _write(tmp_path, "date,branch,value\n2025-01-01,B1,1\n")
    r = _run("detect", str(src), "--out", str(tmp_path / "flags.json"), "--series-id", "x")
    assert r.returncode == 1 and "--series-id is only for a file without key columns; this one has branch" in r.stderr


@pytest.mark.parametrize(("text", "expected"), [
    ("date,timestamp,value\n2025-01-01,2025-01-01,1\n", "give the time as date or as timestamp, not both"),
    ("date,value\n2025-01-01 08:00 EST,1\n2025-01-02 08:00,2\n", "row 2, column date: '2025-01-01 08:00 EST'"),
], ids=["date-and-timestamp", "zone-name"])
def test_times_that_cannot_be_placed_are_refused_with_their_line(tmp_path, text, expected):
    from anomaly.generic import LongInputError, read_long

    with pytest.raises(LongInputError, match=re.escape(expected)):
        read_long(_write(tmp_path, text))


def test_a_utc_suffix_is_an_offset_of_zero(tmp_path):
    from anomaly.generic import read_long

    df = read_long(_write(tmp_path, "timestamp,value\n2025-01-01 16:00 UTC,1\n2025-01-01T17:00:00Z,2\n"))
    assert list(df["date"]) == [pd.Timestamp("2025-01-02 00:00"), pd.Timestamp("2025-01-02 01:00")]


def test_the_read_table_carries_no_per_row_attrs(tmp_path):
    """pandas deep-copies `DataFrame.attrs` on every operation; a per-row list there made reading a
    200-outlet × 2-year file take 75 s instead of 5."""
    from anomaly.generic import read_long

    rows = "".join(f"2025-01-{d:02d},B{b},1\n" for b in range(3) for d in range(1, 29)) + "2025-01-01,B0,2\n"
    df = read_long(_write(tmp_path, "date,branch,value\n" + rows), "first")
    assert set(df.attrs) == {"name", "resolved", "rule"} and "lines" not in df.attrs
    assert list(df.attrs["resolved"]) == ["B0"]
