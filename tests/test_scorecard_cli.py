"""`bankpulse scorecard`: CSV, JSON and XLSX of the same rows, inside the --as boundary, audited;
`--check` lists every issue of a definition file."""

from __future__ import annotations

import io
import json

import pandas as pd
import pytest
from helpers_scorecard import A, B, build_world

from data.users import UserStore

PASSWORD = "correct-horse-battery"


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    store = build_world(tmp_path_factory.mktemp("scorecard_cli"))
    users = UserStore(store)
    users.add("test-setup", "vb", "viewer", password=PASSWORD, branches=B)
    users.add("test-setup", "mgr", "manager", password=PASSWORD, branches=A)
    path = store.path
    store.close()
    return path


def _run(capsys, db, *argv):
    from cli.main import main

    code = main(["--db", str(db), *argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_json_csv_and_xlsx_hold_the_same_rows(db, capsys, tmp_path):
    code, out, _ = _run(capsys, db, "scorecard", "--period", "2025-02", "--format", "json")
    rows = json.loads(out)
    assert code == 0 and len(rows) == 4 * 4  # 4 outlets × 4 criteria
    a = {r["measure"]: r for r in rows if r["unit"] == A}
    assert a["scorecard.market_response_days"]["value"] == 10 and a["scorecard.csat_change"]["points"] == 30
    assert {r["score"] for r in rows if r["unit"] == A} == {92.5} and rows[0]["version"] == 2
    code, out, _ = _run(capsys, db, "scorecard", "--period", "2025-02", "--format", "csv")
    csv = pd.read_csv(io.StringIO(out), dtype={"unit": str})
    assert code == 0 and len(csv) == 16 and csv.loc[csv["unit"] == A, "score"].unique().tolist() == [92.5]
    code, out, _ = _run(capsys, db, "scorecard", "--period", "2025-02", "--format", "xlsx",
                        "--out", str(tmp_path / "s.xlsx"))
    x = pd.read_excel(tmp_path / "s.xlsx", dtype={"unit": str}, engine="openpyxl")
    assert code == 0 and len(x) == 16 and x.loc[x["unit"] == A, "score"].unique().tolist() == [92.5]
    code, _, err = _run(capsys, db, "scorecard", "--period", "2025-02", "--format", "xlsx")
    assert code == 2 and "--out" in err


def test_a_branch_user_gets_their_rows_and_rank_only(db, capsys):
    code, out, _ = _run(capsys, db, "--as", "vb", "scorecard", "--period", "2025-02", "--format", "json")
    rows = json.loads(out)
    assert code == 0 and {r["unit"] for r in rows} == {B}
    assert all(r["fraction"] is None or isinstance(r["fraction"], float) for r in rows)
    assert {(r["score"], r["rank"], r["ranked"]) for r in rows} == {(22.5, 3, 3)}
    code, out, _ = _run(capsys, db, "--as", "vb", "scorecard", "--period", "2025-02", "--unit-kind", "region",
                        "--format", "json")
    assert code == 0 and json.loads(out) == []
    code, out, _ = _run(capsys, db, "--as", "mgr", "scorecard", "--period", "2025-02", "--unit-kind", "region",
                        "--format", "json")
    assert {r["unit"] for r in json.loads(out)} == {"华东区"}
    from data.store import Store

    s = Store(db)
    try:
        got = s.cursor().execute("SELECT user_name, target FROM ops.audit_log WHERE action = 'export' "
                                 "AND target LIKE 'scorecard%' ORDER BY audit_id").fetchall()
    finally:
        s.close()
    assert ("vb", "scorecard 2025-02") in got and ("mgr", "scorecard 2025-02") in got


def test_bad_period_and_check(db, capsys, tmp_path):
    code, _, err = _run(capsys, db, "scorecard", "--period", "2025-W07")
    assert code == 2 and "month" in err
    bad = tmp_path / "bad.toml"
    bad.write_text('version = 1\nname_zh = "x"\n[branch]\n[[branch.criteria]]\nmeasure = "x.y"\ngroup = "business"\n'
                   'weight = 50\ntarget = 1\nfloor = 0\n', encoding="utf-8")
    code, out, _ = _run(capsys, db, "scorecard", "--check", str(bad), "--lang", "en")
    assert code == 1
    issues = pd.read_csv(io.StringIO(out))
    assert set(issues["code"]) == {"missing", "unknown_measure", "weights_not_100"}
