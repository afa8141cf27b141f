"""A CSV that DuckDB cannot read at all still gets a row: the first bad line, found by Python's csv.

DuckDB's "state machine reached an invalid state" names no line; the issue row must still point
the person at the line to fix (stray CR in a cell, a short record, changed line endings).
"""

from __future__ import annotations

from helpers_ingest import SAMPLES, csv_text, write_csv

from data.ingest import ingest_file
from data.store import Store


def _load(tmp_path, data: bytes):
    s = Store(tmp_path / "x.duckdb")
    header, rows = SAMPLES["branches"]
    assert ingest_file(s, write_csv(tmp_path / "b.csv", [header, *rows])).status == "loaded"
    path = tmp_path / "f.csv"
    path.write_bytes(data)
    try:
        r = ingest_file(s, path)
        n = s.cursor().execute("SELECT (SELECT count(*) FROM main.feedback_records) + (SELECT count(*) FROM main.counter_tickets)").fetchone()[0]
    finally:
        s.close()
    return r, n


def test_stray_cr_inside_a_cell_names_its_line(tmp_path):
    header, rows = SAMPLES["feedback_records"]
    bad = list(rows[1])
    bad[header.index("投诉内容")] = "年费\r扣费"  # unquoted: a lone CR ends the record here
    r, n = _load(tmp_path, csv_text([header, rows[0], bad]).encode())
    assert r.status == "rejected" and n == 0
    issue = r.issues[r.issues["code"] == "malformed_row"].iloc[0]
    assert int(issue["row"]) == 3 and issue["file"] == "f.csv"
    assert "年费" in issue["value"]


def test_changed_line_endings_name_the_first_other_line(tmp_path):
    header, rows = SAMPLES["counter_tickets"]
    text = csv_text([header, *rows])
    lines = text.split("\n")
    data = ("\n".join(lines[:3]) + "\n" + lines[3] + "\r\n").encode()  # the last record ends in CRLF
    r, n = _load(tmp_path, data)
    assert r.status == "rejected" and n == 0  # DuckDB refuses it: the issue must say where
    issue = r.issues[r.issues["code"] == "malformed_row"].iloc[0]
    assert int(issue["row"]) == 4 and "CRLF" in issue["value"]
