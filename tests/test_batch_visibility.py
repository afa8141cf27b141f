"""Batch issue rows (which hold cell values) are shown only inside the person's boundary.

The rule lives in `data.batches.may_see_details` (docs/security.md, "What the data page shows");
the data page disables the issue download of any other batch.
"""

from __future__ import annotations

from data.batches import list_batches, may_see_details, rollback
from data.ingest import ingest_file
from tests.helpers_ingest import write_csv
from tests.test_security import sign_in
from tests.test_write_boundary import MINE, OUTSIDE, person, rows_with_branches


def _batch(store, batch_id):
    return next(b for b in list_batches(store) if b.batch_id == batch_id)


def _load(store, tmp_path, name, branches, user, **rights):
    rows = rows_with_branches("counter_tickets", branches)
    col = rows[0].index("票号")
    for i, row in enumerate(rows[1:]):
        row[col] = f"V{name[0].upper()}{i:03d}"  # keys of their own: no batch replaces another's rows
    r = ingest_file(store, write_csv(tmp_path / name, rows), user=user, **rights)
    assert r.status == "loaded", r.issues.to_string()
    return r.batch_id


def test_who_sees_a_batchs_issue_rows(secure_store, tmp_path):
    ana = person(secure_store, "ana")
    bound = ana.boundary(secure_store)
    cur = secure_store.cursor()
    foreign = _load(secure_store, tmp_path, "a.csv", [OUTSIDE, OUTSIDE, MINE], "adm")
    inside = _load(secure_store, tmp_path, "b.csv", [MINE, MINE, MINE], "adm")
    own = _load(secure_store, tmp_path, "c.csv", [MINE] * 3, "ana", **ana.write_rights(secure_store))
    assert not may_see_details(cur, _batch(secure_store, foreign), bound, "ana")
    assert may_see_details(cur, _batch(secure_store, inside), bound, "ana")
    assert may_see_details(cur, _batch(secure_store, own), bound, "ana")
    assert may_see_details(cur, _batch(secure_store, foreign), None, "adm")  # the whole bank sees all
    # once rolled back, what it held is no longer in the live tables: only its uploader sees it
    rollback(secure_store, inside, user="adm")
    assert not may_see_details(cur, _batch(secure_store, inside), bound, "ana")
    assert may_see_details(cur, _batch(secure_store, inside), bound, "adm")


def test_the_data_page_disables_foreign_batch_issues(secure_store, tmp_path):
    foreign = _load(secure_store, tmp_path, "a.csv", [OUTSIDE, OUTSIDE, MINE], "adm")
    inside = _load(secure_store, tmp_path, "b.csv", [MINE, MINE, MINE], "adm")
    at = sign_in("ana")
    at.switch_page("pages/data.py").run()
    assert not at.exception, at.exception

    def download_disabled() -> bool:
        btn = next(b for b in at.get("download_button") if b.proto.id.endswith("data_batch_dl") or
                   "data_batch_dl" in b.proto.id)
        return bool(btn.proto.disabled)

    at.selectbox(key="data_batch").set_value(foreign).run()
    assert not at.exception
    assert download_disabled()
    at.selectbox(key="data_batch").set_value(inside).run()
    assert not download_disabled()
