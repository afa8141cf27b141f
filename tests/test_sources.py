"""Source declarations: complete, consistent, and their upload templates load cleanly."""

from __future__ import annotations

import duckdb
import pytest
from helpers_ingest import count, write_csv

from data.ingest import ingest_file
from data.ingest.headers import best_mapping, normalise
from data.sources import SOURCES, ColType
from data.sqlfiles import sql
from data.store import Store

ALL_COLUMNS = [(s.name, c.name) for s in SOURCES.values() for c in s.columns]


@pytest.mark.parametrize(("source", "column"), [(s.name, c.name) for s in SOURCES.values() for c in s.required])
def test_required_columns_have_aliases_and_an_example(source, column):
    col = SOURCES[source].column(column)
    assert col.aliases, f"{source}.{column} has no aliases"
    assert col.example.strip(), f"{source}.{column} has no example"


@pytest.mark.parametrize("source", list(SOURCES))
def test_checks_name_declared_columns(source):
    src = SOURCES[source]
    names = {c.name for c in src.columns}
    for chk in src.checks:
        assert set(chk.columns) <= names, chk.code
        assert chk.message_zh and chk.message_en
    assert len({c.code for c in src.checks}) == len(src.checks)


@pytest.mark.parametrize("source", list(SOURCES))
def test_key_columns_are_required_or_derived(source):
    src = SOURCES[source]
    for k in src.key:
        col = src.column(k)
        assert col.required or col.derive_sql, k


@pytest.mark.parametrize("source", list(SOURCES))
def test_aliases_do_not_collide_within_a_source(source):
    seen: dict[str, str] = {}
    for col in SOURCES[source].columns:
        for spelling in col.all_names():
            key = normalise(spelling).name
            assert seen.setdefault(key, col.name) == col.name, f"{spelling!r} maps to {seen[key]} and {col.name}"


@pytest.fixture(scope="module")
def con():
    c = duckdb.connect()
    c.execute(sql("parse.create_macros"))
    yield c
    c.close()


PARSER = {ColType.ID: "bp_id", ColType.STR: "bp_str", ColType.TEXT: "bp_text", ColType.DATE: "bp_date",
          ColType.DATETIME: "bp_ts", ColType.INT: "bp_int", ColType.NUMBER: "bp_num", ColType.MONEY: "bp_num",
          ColType.DURATION: "bp_num", ColType.PERCENT: "bp_num"}


@pytest.mark.parametrize(("source", "column"), ALL_COLUMNS)
def test_examples_parse_as_their_type(con, source, column):
    col = SOURCES[source].column(column)
    if not col.example:
        return
    if col.type is ColType.ENUM:
        spellings = {s.lower() for v in col.values.values() for s in v} | {k.lower() for k in col.values}
        assert col.example.strip().lower() in spellings
        return
    got = con.execute(f"SELECT {PARSER[col.type]}($v)", {"v": col.example}).fetchone()[0]
    assert got is not None, f"{source}.{column} example {col.example!r} does not parse"
    if col.min_value is not None:
        assert got >= col.min_value
    if col.max_value is not None:
        assert got <= col.max_value


@pytest.mark.parametrize("source", list(SOURCES))
def test_template_header_detects_its_source(source):
    header = [c.label_zh for c in SOURCES[source].columns]
    mp, _ = best_mapping(header)
    assert mp is not None and mp.source == source
    assert set(mp.columns) == {c.name for c in SOURCES[source].columns}


@pytest.mark.parametrize("encoding", ["utf-8-sig", "gbk"])
@pytest.mark.parametrize("source", list(SOURCES))
def test_upload_template_ingests_cleanly(tmp_path, source, encoding):
    src = SOURCES[source]
    path = write_csv(tmp_path / f"{source}_template.csv",
                     [[c.label_zh for c in src.columns], [c.example for c in src.columns]], encoding, "\r\n")
    s = Store(tmp_path / "x.duckdb")
    try:
        r = ingest_file(s, path)
        assert (r.status, r.source, r.rows_loaded) == ("loaded", source, 1), r.issues
        assert not (r.issues["severity"] == "error").any()
        assert set(r.issues["code"]) <= {"unknown_branch"}, r.issues
        assert count(s, source) == 1
    finally:
        s.close()
