"""`bankpulse detect FILE.csv --out flags.json` run as a user runs it: a real process, a real file.

The input is the long format of the generic detector (date, key columns…, value[, denominator]);
the output is `{series_id: [flagged dates]}` plus `_`-prefixed metadata — the format the shared
scorer (`shared/benchmarks/score.py`) reads, which scores it here when it is available.
"""

from __future__ import annotations

import json
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
              ROOT.parent / "shared" / "benchmarks" / "score.py")
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


@pytest.mark.skipif(not SCORER.exists(), reason="the shared scorer is not beside this checkout")
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
