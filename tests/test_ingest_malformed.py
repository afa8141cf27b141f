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


def test_lone_crs_after_an_lf_header_name_their_line(tmp_path):
    """The case the 10,000-example fuzz found (upload_6391.csv): an LF header, then `\\r\\r` before
    the first record. Python's csv reads two empty records and a good one, a LF-only line split
    sees no change of ending, DuckDB refuses the file: the issue still names line 2."""
    header, rows = SAMPLES["counter_tickets"]
    text = csv_text([header, *rows])
    first, rest = text.split("\n", 1)
    r, n = _load(tmp_path, (first + "\n\r\r" + rest).encode())
    assert r.status == "rejected" and n == 0
    issue = r.issues[r.issues["code"] == "malformed_row"].iloc[0]
    assert int(issue["row"]) == 2 and issue["value"] == "CR ≠ LF" and issue["file"] == "f.csv"


def test_line_endings_inside_a_quoted_cell_do_not_count(tmp_path):
    """A multi-line complaint text may hold CRLF in an LF file; the scan skips quoted cells, so the
    line it names is the record's own ending that changed, not the cell's."""
    from data.ingest.stage import _first_other_line_end

    path = tmp_path / "q.csv"
    path.write_bytes(b'a,b\n1,"x\r\ny"\n2,z\r\n')
    assert _first_other_line_end(path) == (3, "CRLF ≠ LF")


def test_a_quote_inside_an_unquoted_cell_is_a_literal(tmp_path):
    """The fuzz's second case (upload_386.csv): `;"` in the middle of a cell does not open a quoted
    cell (DuckDB and Excel read it as a character), so the CRLF ending of the last record after LF
    lines is still the line to name; `""` inside a quoted cell stays inside it."""
    from data.ingest.stage import _first_other_line_end

    path = tmp_path / "q.csv"
    path.write_bytes(b'a,b\n1,;"x\n2,z\r\n')
    assert _first_other_line_end(path) == (3, "CRLF ≠ LF")
    path.write_bytes(b'a,b\n1,"say ""hi""\r\nthere"\n2,"""q"""\r\n')
    assert _first_other_line_end(path) == (3, "CRLF ≠ LF")
