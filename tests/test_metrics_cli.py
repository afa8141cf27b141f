"""`bankpulse metric`: the command line prints exactly what `metrics.compute.series` returns."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from cli.main import main
from data.store import Store
from metrics.catalogue import CATALOGUE
from metrics.compute import series
from metrics.model import Grain
from metrics.scope import Scope

ROOT = Path(__file__).resolve().parents[1]
PYTHON = ROOT / ".venv" / "bin" / "python" if (ROOT / ".venv" / "bin" / "python").exists() else Path(sys.executable)

# tickets: (branch, date, no, wait seconds, status)
TICKETS = [("B1", "2025-01-06", "A1", 300, "served"), ("B1", "2025-01-06", "A2", 1500, "served"),
           ("B2", "2025-01-07", "A1", 2400, "served"), ("B2", "2025-01-20", "A1", 600, "abandoned"),
           ("B1", "2025-02-03", "A1", 900, "served"), ("B2", "2025-02-04", "A1", 60, "served")]
# loans at 2025-01-31: (loan, branch, balance, overdue principal, dpd, class)
LOANS = [("L1", "B1", 1000, 0, 0, "normal"), ("L2", "B1", 500, 100, 120, "substandard"),
         ("L3", "B2", 400, 40, 30, "special_mention")]


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("cli") / "cli.duckdb"
    s = Store(path)
    cur = s.cursor()
    cur.execute("INSERT INTO main.branches (branch_id, region, open_windows, batch_id) VALUES "
                "('B1', 'East', 2, 1), ('B2', 'West', 1, 1)")
    for br, d, no, wait, st in TICKETS:
        cur.execute("INSERT INTO main.counter_tickets (branch_id, business_date, ticket_no, ticket_time, call_time, "
                    "status, wait_seconds, batch_id) VALUES (?, ?, ?, ?, ?, ?, ?, 1)",
                    [br, d, no, f"{d} 09:00:00", f"{d} 09:00:00", st, wait])
    for lid, br, bal, op, dpd, cls in LOANS:
        cur.execute("INSERT INTO main.loan_snapshot (snapshot_date, loan_id, branch_id, product, outstanding_balance, "
                    "overdue_principal, days_past_due, risk_class, batch_id) "
                    "VALUES ('2025-01-31', ?, ?, 'sme', ?, ?, ?, ?, 1)", [lid, br, bal, op, dpd, cls])
    s.close()
    return path


def _expected(db, metric_id, grain, start, end, by=(), scope=None, options=None) -> list[dict]:
    s = Store(db)
    try:
        df = series(s, metric_id, grain, start, end, by, scope, options)
    finally:
        s.close()
    return [{"period": r["period"].isoformat(), **{b: r[b] for b in by},
             "value": None if pd.isna(r["value"]) else float(r["value"])} for r in df.to_dict("records")]


def _run(capsys, *argv) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_default_grain_and_span_equal_series(db, capsys):
    code, out, _ = _run(capsys, "--db", str(db), "metric", "counter.tickets_served", "--format", "json")
    assert code == 0
    # default grain of tickets_served is day; default span = the data's first … last business date
    expected = _expected(db, "counter.tickets_served", Grain.DAY, date(2025, 1, 6), date(2025, 2, 4))
    assert json.loads(out) == expected
    # 01-06 ×2, 01-07, 01-20 (only an abandoned ticket: 0 served), 02-03, 02-04
    assert [(r["period"], r["value"]) for r in expected] == [
        ("2025-01-06", 2), ("2025-01-07", 1), ("2025-01-20", 0), ("2025-02-03", 1), ("2025-02-04", 1)]


def test_by_branch_grain_and_window(db, capsys):
    code, out, _ = _run(capsys, "metric", "counter.wait_avg_min", "--db", str(db), "--by", "branch",
                        "--grain", "month", "--from", "2025-01-01", "--to", "2025-01-31", "--format", "json")
    assert code == 0
    expected = _expected(db, "counter.wait_avg_min", Grain.MONTH, date(2025, 1, 1), date(2025, 1, 31), ("branch",))
    assert json.loads(out) == expected
    # B1 (5 + 25) / 2 = 15 min; B2 (40 + 10) / 2 = 25 min (called tickets, abandoned included)
    assert {r["branch"]: r["value"] for r in expected} == pytest.approx({"B1": 15.0, "B2": 25.0})


def test_ratio_with_option_and_region(db, capsys):
    args = ("metric", "credit.overdue_rate", "--db", str(db), "--by", "region", "--grain", "quarter",
            "--option", "overdue_basis=amount", "--format", "json")
    code, out, _ = _run(capsys, *args)
    assert code == 0
    expected = _expected(db, "credit.overdue_rate", Grain.QUARTER, date(2025, 1, 31), date(2025, 1, 31), ("region",),
                         options={"overdue_basis": "amount"})
    assert json.loads(out) == expected
    # East: 100 / 1500; West: 40 / 400
    assert {r["region"]: r["value"] for r in expected} == pytest.approx({"East": 100 / 1500, "West": 0.1})


def test_region_filter_and_csv(db, capsys):
    code, out, _ = _run(capsys, "metric", "credit.npl_ratio", "--db", str(db), "--region", "East")
    assert code == 0
    expected = _expected(db, "credit.npl_ratio", Grain.MONTH, date(2025, 1, 31), date(2025, 1, 31),
                         scope=Scope(region="East"))
    assert expected == [{"period": "2025-01-01", "value": pytest.approx(500 / 1500)}]
    lines = out.strip().splitlines()
    assert lines[0] == "period,value"
    assert lines[1].startswith("2025-01-01,0.3333")


def test_list_lists_every_id(capsys):
    code, out, _ = _run(capsys, "metric", "--list")
    assert code == 0
    listed = {line.split()[0] for line in out.strip().splitlines()}
    assert listed == set(CATALOGUE)


def test_unknown_id_is_a_usage_error(db, capsys):
    code, _, err = _run(capsys, "metric", "credit.no_such_kpi", "--db", str(db))
    assert code == 2
    assert "credit.no_such_kpi" in err


def test_disallowed_by_is_a_usage_error(db, capsys):
    code, _, err = _run(capsys, "metric", "counter.tickets_served", "--db", str(db), "--by", "product")
    assert code == 2
    assert "product" in err
    code, _, _ = _run(capsys, "metric", "--db", str(db))  # neither an id nor --list
    assert code == 2
    with pytest.raises(SystemExit) as exc:  # argparse: a grain that does not exist
        main(["metric", "counter.tickets_served", "--db", str(db), "--grain", "fortnight"])
    assert exc.value.code == 2


def test_real_subprocess_equals_series(db):
    proc = subprocess.run(
        [str(PYTHON), "-m", "cli", "metric", "counter.tickets_served", "--db", str(db), "--by", "branch",
         "--grain", "week", "--from", "2025-01-01", "--to", "2025-02-28", "--format", "json"],
        cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    expected = _expected(db, "counter.tickets_served", Grain.WEEK, date(2025, 1, 1), date(2025, 2, 28), ("branch",))
    assert json.loads(proc.stdout) == expected
    # weeks start on Monday: 2025-01-06 B1 2 + B2 1; 2025-01-20 B2 0 (abandoned only); 2025-02-03 B1 1 + B2 1
    assert [(r["period"], r["branch"], r["value"]) for r in expected] == [
        ("2025-01-06", "B1", 2), ("2025-01-06", "B2", 1), ("2025-01-20", "B2", 0),
        ("2025-02-03", "B1", 1), ("2025-02-03", "B2", 1)]
