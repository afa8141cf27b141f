"""Writes respect the boundary (issue 12, item 1): uploads, market events and rollbacks by a
branch-scoped person stay inside the branches they may see; the branch master needs the admin.

Real files, the real demo store (tests/conftest.py `secure_store`) and, for the CLI, a real
subprocess. The boundary is the one computed from the master before the load.
"""

from __future__ import annotations

import pytest

from data.batches import RollbackError, rollback
from data.events import add_event
from data.ingest import ingest_file
from data.users import UserStore
from tests.helpers_ingest import SAMPLES, count, issues_of, run_cli, write_csv

OUTSIDE = "0201001"  # an outlet of 华南区: outside ana (analyst of outlet 0101001)
MINE = "0101001"
BRANCH_COLUMN = {"counter_tickets": "网点编号", "loan_snapshot": "内部机构号", "feedback_records": "被投诉网点"}


def person(store, name):
    return UserStore(store).get(name).principal()


def rows_with_branches(source: str, branches: list[str]) -> list[list[str]]:
    """The sample file of `source` with its rows' branch column set to `branches` (one per row)."""
    header, rows = SAMPLES[source]
    col = header.index(BRANCH_COLUMN[source])
    out = [header]
    for row, b in zip(rows, branches, strict=False):
        row = list(row)
        row[col] = b
        out.append(row)
    return out


def master(store) -> list[tuple]:
    return store.cursor().execute("SELECT branch_id, parent_id, region FROM main.branches ORDER BY branch_id").fetchall()


def test_the_exploit_reparenting_an_outlet_is_refused(secure_store, tmp_path):
    ana = person(secure_store, "ana")
    before_master, before_boundary = master(secure_store), ana.boundary(secure_store)
    assert OUTSIDE not in before_boundary
    header = SAMPLES["branches"][0]
    f = write_csv(tmp_path / "机构信息.csv", [header, [OUTSIDE, "抢来的网点", "网点", MINE, "华东区", "6"]])
    res = ingest_file(secure_store, f, user="ana", **ana.write_rights(secure_store))
    assert res.status == "rejected"
    refused = issues_of(res, "not_permitted", "error")
    assert len(refused) == 1 and "administrator" in refused.iloc[0]["message"]
    assert master(secure_store) == before_master
    assert ana.boundary(secure_store) == before_boundary
    # the administrator may load the very same file
    adm = person(secure_store, "adm")
    assert ingest_file(secure_store, f, user="adm", **adm.write_rights(secure_store)).status == "loaded"


@pytest.mark.parametrize("source", ["counter_tickets", "loan_snapshot", "feedback_records"])
def test_one_row_outside_rejects_the_whole_file(secure_store, tmp_path, source):
    ana = person(secure_store, "ana")
    f = write_csv(tmp_path / f"{source}.csv", rows_with_branches(source, [MINE, MINE, OUTSIDE]))
    before = count(secure_store, source)
    for partial in (False, True):  # --allow-partial does not load the rows inside either
        res = ingest_file(secure_store, f, user="ana", allow_partial=partial, **ana.write_rights(secure_store))
        assert res.status == "rejected", res.issues
        bad = issues_of(res, "out_of_scope", "error")
        assert len(bad) == 1
        i = bad.iloc[0]
        assert (i["file"], int(i["row"]), i["column"], i["value"]) == (f.name, 4, BRANCH_COLUMN[source], OUTSIDE)
        assert i["message"] == "超出您的数据范围 / outside your access scope"
        assert count(secure_store, source) == before
    # the preview shows the same refusal without writing
    prev = ingest_file(secure_store, f, user="ana", dry_run=True, **ana.write_rights(secure_store))
    assert len(issues_of(prev, "out_of_scope", "error")) == 1
    assert count(secure_store, source) == before


@pytest.mark.parametrize("source", ["counter_tickets", "loan_snapshot", "feedback_records"])
def test_a_file_inside_the_boundary_loads(secure_store, tmp_path, source):
    ana = person(secure_store, "ana")
    f = write_csv(tmp_path / f"{source}.csv", rows_with_branches(source, [MINE, MINE]))
    res = ingest_file(secure_store, f, user="ana", **ana.write_rights(secure_store))
    assert res.status == "loaded", res.issues
    assert res.rows_loaded == 2
    assert issues_of(res, "out_of_scope").empty


def test_a_branch_unknown_to_the_master_is_outside(secure_store, tmp_path):
    ana = person(secure_store, "ana")
    f = write_csv(tmp_path / "t.csv", rows_with_branches("counter_tickets", [MINE, "9999999"]))
    res = ingest_file(secure_store, f, user="ana", **ana.write_rights(secure_store))
    assert res.status == "rejected"
    assert list(issues_of(res, "out_of_scope")["value"]) == ["9999999"]
    assert "9999999" not in {b for b, *_ in master(secure_store)}


def test_a_whole_bank_writer_keeps_todays_behaviour(secure_store, tmp_path):
    adm = person(secure_store, "adm")
    assert adm.write_rights(secure_store) == {"boundary": None, "may_change_master": True,
                                              "may_write_bank_wide": True}
    f = write_csv(tmp_path / "t.csv", rows_with_branches("counter_tickets", [MINE, MINE, OUTSIDE]))
    assert ingest_file(secure_store, f, user="adm", **adm.write_rights(secure_store)).status == "loaded"


def test_a_manager_writes_their_region_only(secure_store, tmp_path):
    mgr = person(secure_store, "mgr")  # 华南区
    ok = write_csv(tmp_path / "south.csv", rows_with_branches("feedback_records", [OUTSIDE]))
    assert ingest_file(secure_store, ok, user="mgr", **mgr.write_rights(secure_store)).status == "loaded"
    bad = write_csv(tmp_path / "east.csv", rows_with_branches("feedback_records", [MINE]))
    res = ingest_file(secure_store, bad, user="mgr", **mgr.write_rights(secure_store))
    assert res.status == "rejected" and len(issues_of(res, "out_of_scope")) == 1


def test_market_events_need_the_whole_bank(secure_store):
    fields = {"event_date": "2025-05-20", "event_type": "monetary_policy", "title": "LPR 下调 10 个基点"}
    before = count(secure_store, "market_events")
    ana = person(secure_store, "ana")
    res = add_event(secure_store, fields, user="ana",
                    may_write_bank_wide=ana.write_rights(secure_store)["may_write_bank_wide"])
    assert res.status == "rejected" and len(issues_of(res, "not_permitted")) == 1
    assert count(secure_store, "market_events") == before
    adm = person(secure_store, "adm")
    res = add_event(secure_store, fields, user="adm",
                    may_write_bank_wide=adm.write_rights(secure_store)["may_write_bank_wide"])
    assert res.status == "loaded", res.issues
    # market indicators carry no branch: not branch-scoped
    ind = write_csv(secure_store.path.parent / "ind.csv", [SAMPLES["market_indicators"][0],
                                                           *SAMPLES["market_indicators"][1]])
    assert ingest_file(secure_store, ind, user="ana", **ana.write_rights(secure_store)).ok


def test_rollback_of_a_batch_touching_other_branches(secure_store, tmp_path):
    f = write_csv(tmp_path / "t.csv", rows_with_branches("counter_tickets", [MINE, MINE, OUTSIDE]))
    res = ingest_file(secure_store, f, user="adm")
    assert res.status == "loaded"
    ana = person(secure_store, "ana")
    before = count(secure_store, "counter_tickets")
    with pytest.raises(RollbackError, match="outside your access scope"):
        rollback(secure_store, res.batch_id, user="ana", boundary=ana.boundary(secure_store))
    assert count(secure_store, "counter_tickets") == before
    adm = person(secure_store, "adm")
    r = rollback(secure_store, res.batch_id, user="adm", boundary=adm.boundary(secure_store))
    assert r.rows_removed == 3
    # a batch inside the boundary: the boundary does not stand in the way
    inside = write_csv(tmp_path / "mine.csv", rows_with_branches("counter_tickets", [MINE, MINE]))
    mine = ingest_file(secure_store, inside, user="ana", **ana.write_rights(secure_store))
    assert rollback(secure_store, mine.batch_id, user="ana", boundary=ana.boundary(secure_store)).rows_removed == 2


def test_rollback_of_a_branch_master_batch_needs_the_whole_bank(secure_store, tmp_path):
    header = SAMPLES["branches"][0]
    f = write_csv(tmp_path / "机构信息.csv", [header, [OUTSIDE, "调整后的网点", "网点", MINE, "华东区", "6"]])
    res = ingest_file(secure_store, f, user="adm")
    assert res.status == "loaded"
    with pytest.raises(RollbackError):
        rollback(secure_store, res.batch_id, user="ana", boundary=person(secure_store, "ana").boundary(secure_store))
    assert rollback(secure_store, res.batch_id, user="adm").batch_id == res.batch_id


def test_cli_ingest_as_a_scoped_analyst_is_refused(secure_store, tmp_path):
    import data.store

    db = secure_store.path
    before = count(secure_store, "counter_tickets")
    f = write_csv(tmp_path / "tickets.csv", rows_with_branches("counter_tickets", [MINE, MINE, OUTSIDE]))
    data.store.close_all()  # the CLI is another process: one writer at a time
    out = run_cli("--as", "ana", "ingest", str(f), "--no-scan", db=db)
    assert out.returncode == 1, out.stdout + out.stderr
    assert "超出您的数据范围 / outside your access scope" in out.stdout
    assert OUTSIDE in out.stdout
    master_file = write_csv(tmp_path / "机构信息.csv", [SAMPLES["branches"][0],
                                                       [OUTSIDE, "抢来的网点", "网点", MINE, "华东区", "6"]])
    out = run_cli("--as", "ana", "ingest", str(master_file), "--no-scan", db=db)
    assert out.returncode == 1 and "administrator" in out.stdout
    store = data.store.open_store(db)
    assert count(store, "counter_tickets") == before
    assert store.cursor().execute("SELECT parent_id FROM main.branches WHERE branch_id = ?",
                                  [OUTSIDE]).fetchone()[0] != MINE


def test_the_data_page_refuses_the_exploit(secure_store):
    from data.audit import search
    from tests.helpers_ingest import csv_text
    from tests.test_security import sign_in

    before = master(secure_store)
    at = sign_in("ana")
    at.switch_page("pages/data.py").run()
    text = csv_text([SAMPLES["branches"][0], [OUTSIDE, "抢来的网点", "网点", MINE, "华东区", "6"]])
    at.file_uploader(key="data_files").upload("机构信息.csv", text.encode("utf-8-sig"))
    at.button(key="data_load").click().run()
    assert not at.exception, at.exception
    assert master(secure_store) == before
    up = search(secure_store, action="upload", user="ana")
    assert len(up) == 1 and up.iloc[0]["outcome"] == "failed"
    # the market page offers no event form to a branch-scoped analyst
    at.switch_page("pages/market.py").run()
    assert not at.exception
    assert "mk_f_title" not in {w.key for w in at.text_input}
    at = sign_in("adm")  # the whole bank: the form is there
    at.switch_page("pages/market.py").run()
    assert "mk_f_title" in {w.key for w in at.text_input}
