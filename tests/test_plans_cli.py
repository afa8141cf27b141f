"""`bankpulse plan list|show|export` and `bankpulse rectification list` through the real CLI
entry point (in-process `main`): csv and json, filters, the `--as` boundary (another region's plan
or notice is refused or absent), and each run audited."""

from __future__ import annotations

import csv
import io
import json

import pytest
from helpers_plans import FOREIGN, notice_in, plan_in, plan_store

from data import audit
from data.store import Store


@pytest.fixture(scope="module")
def cli_world(demo_db_template, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("plans_cli")
    store, people = plan_store(demo_db_template, tmp)
    ids = {"mine": plan_in(store, people["adm"], "approved"), "theirs": plan_in(store, people["adm"], "evaluated",
                                                                                FOREIGN),
           "notice": notice_in(store, people["adm"], "issued"), "foreign_notice": notice_in(store, people["adm"],
                                                                                            "issued", FOREIGN)}
    path = store.path
    store.close()
    return path, ids, tmp


def _run(capsys, db, *argv):
    from cli.main import main

    code = main(["--db", str(db), *argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_plan_list_csv_and_json_in_scope(cli_world, capsys):
    db, ids, _ = cli_world
    code, out, _ = _run(capsys, db, "--as", "ana", "plan", "list")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [r["plan_id"] for r in rows] == [ids["mine"]] and rows[0]["status"] == "approved"
    code, out, _ = _run(capsys, db, "--as", "far", "plan", "list", "--format", "json", "--status", "evaluated")
    assert code == 0 and [r["plan_id"] for r in json.loads(out)] == [ids["theirs"]]
    code, out, _ = _run(capsys, db, "plan", "list", "--format", "json")  # the operator: whole bank
    assert {ids["mine"], ids["theirs"]} <= {r["plan_id"] for r in json.loads(out)}
    code, _, err = _run(capsys, db, "--as", "ana", "plan", "list", "--status", "bogus")
    assert code == 2 and "--status" in err


def test_plan_show_and_export(cli_world, capsys):
    db, ids, tmp = cli_world
    code, out, _ = _run(capsys, db, "--as", "ana", "plan", "show", ids["mine"])
    assert code == 0 and "已批准 / Approved" in out and "步骤 1" in out
    code, out, _ = _run(capsys, db, "--as", "ana", "plan", "show", ids["mine"], "--format", "json")
    d = json.loads(out)
    assert d["plan_id"] == ids["mine"] and d["steps"][0]["dept"] and d["history"][-1]["action"] == "approve"
    code, out, err = _run(capsys, db, "--as", "ana", "plan", "show", ids["theirs"])
    assert code == 1 and "within your access scope" in err and FOREIGN not in out + err
    out_file = tmp / "export.csv"
    code, _, _ = _run(capsys, db, "--as", "ana", "plan", "export", "--out", str(out_file))
    rows = list(csv.DictReader(io.StringIO(out_file.read_text(encoding="utf-8-sig"))))
    assert code == 0 and {r["plan_id"] for r in rows} == {ids["mine"]} and rows[0]["step_dept"]
    code, out, _ = _run(capsys, db, "--as", "ana", "plan", "export", "--format", "json")
    assert [r["plan_id"] for r in json.loads(out)] == [ids["mine"]]


def test_rectification_list_in_scope(cli_world, capsys):
    db, ids, _ = cli_world
    code, out, _ = _run(capsys, db, "--as", "ana", "rectification", "list")
    assert code == 0 and [r["notice_id"] for r in csv.DictReader(io.StringIO(out))] == [ids["notice"]]
    code, out, _ = _run(capsys, db, "--as", "far", "rectification", "list", "--format", "json", "--status", "issued")
    assert [r["notice_id"] for r in json.loads(out)] == [ids["foreign_notice"]]
    code, out, err = _run(capsys, db, "--as", "ana", "rectification", "list", "--branch", FOREIGN)
    assert code == 1 and ids["foreign_notice"] not in out
    code, out, _ = _run(capsys, db, "--as", "ana", "rectification", "list", "--overdue")
    assert code == 0 and len(list(csv.DictReader(io.StringIO(out)))) == 0


def test_cli_runs_are_audited(cli_world, capsys):
    db, ids, _ = cli_world
    _run(capsys, db, "--as", "ana", "plan", "show", ids["theirs"])
    store = Store(db)
    try:
        denied = audit.search(store, user="ana", outcome="denied", limit=100)
        exports = audit.search(store, user="ana", action="export", limit=100)
        assert any(ids["theirs"] in t for t in denied["target"])
        assert {"plan list", "plan export", "rectification list"} <= set(exports["target"])
        assert audit.verify(store).ok
    finally:
        store.close()


def test_user_groups_through_the_cli(cli_world, capsys):
    db, _, _ = cli_world
    code, _, _ = _run(capsys, db, "user", "add", "insp", "--role", "viewer", "--branches", "0101001",
                      "--group", "supervision")
    assert code == 0
    code, out, _ = _run(capsys, db, "user", "list")
    assert "groups=supervision" in next(line for line in out.splitlines() if line.startswith("insp"))
    code, _, _ = _run(capsys, db, "user", "update", "insp", "--no-groups")
    code, out, _ = _run(capsys, db, "user", "list", "--json")
    assert next(u for u in json.loads(out) if u["user_name"] == "insp")["groups"] == ""
    code, _, err = _run(capsys, db, "user", "update", "insp", "--group", "wizards")
    assert code == 1 and "unknown group" in err
