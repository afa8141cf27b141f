"""The store: migrations apply once, the schema mirrors the declarations, cursors per thread."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from helpers_ingest import LINEAGE, sample_csv

from data.ingest import ingest_file
from data.sources import SOURCES, VIEWS
from data.store import Store, migrations


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "x.duckdb")
    yield s
    s.close()


def columns(store, schema: str, table: str) -> list[tuple[str, str]]:
    return store.cursor().execute(
        "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = $s AND table_name = $t "
        "ORDER BY ordinal_position", {"s": schema, "t": table}).fetchall()


def test_migrations_are_numbered_and_contiguous():
    ms = migrations()
    assert [m.version for m in ms] == list(range(1, len(ms) + 1))
    assert ms[0].name == "init"


def test_migrations_apply_once_and_reopen_is_idempotent(tmp_path):
    path = tmp_path / "x.duckdb"
    s = Store(path)
    latest = migrations()[-1].version
    assert s.schema_version() == latest == len(migrations())
    assert s.migrate() == []  # nothing pending in the same process
    applied_at = s.cursor().execute("SELECT version, applied_at FROM ops.schema_migrations").fetchall()
    assert len(applied_at) == latest
    s.close()
    for _ in range(2):
        s = Store(path)
        try:
            assert s.schema_version() == latest
            assert s.migrate() == []
            assert s.cursor().execute("SELECT version, applied_at FROM ops.schema_migrations").fetchall() == applied_at
            assert s.data_version() == 0 and s.is_empty()
        finally:
            s.close()


def test_data_survives_reopen(tmp_path):
    path = tmp_path / "x.duckdb"
    s = Store(path)
    assert ingest_file(s, sample_csv(tmp_path / "b.csv", "branches")).status == "loaded"
    version = s.data_version()
    s.close()
    s = Store(path)
    try:
        assert s.cursor().execute("SELECT count(*) FROM branches").fetchone()[0] == 3
        assert s.data_version() == version == 1 and not s.is_empty()
    finally:
        s.close()


@pytest.mark.parametrize("source", list(SOURCES))
def test_table_columns_equal_declaration_plus_lineage(store, source):
    src = SOURCES[source]
    declared = [(c.name, c.sql_type) for c in src.columns]
    got = columns(store, "main", src.table)
    assert [n for n, _ in got] == [c.name for c in src.columns] + list(LINEAGE)
    assert got[: len(declared)] == declared
    assert dict(got[len(declared):]) == {"batch_id": "BIGINT", "source_file": "VARCHAR", "source_row": "BIGINT"}
    # the replaced-row archive is the same row plus the replacing batch
    assert columns(store, "history", src.table) == got + [("replaced_by", "BIGINT")]


def test_no_undeclared_analytical_tables(store):
    """Tables in main are the uploaded sources; views are the declared read-only ones (VIEWS)."""
    rows = store.cursor().execute(
        "SELECT table_name, table_type FROM information_schema.tables WHERE table_schema = 'main'").fetchall()
    assert {t for t, kind in rows if kind == "BASE TABLE"} == set(SOURCES)
    assert {t for t, kind in rows if kind == "VIEW"} == set(VIEWS)


def test_one_cursor_per_thread_from_four_threads(store, tmp_path):
    assert ingest_file(store, sample_csv(tmp_path / "l.csv", "loan_snapshot")).status == "loaded"

    def work(i: int) -> tuple[int, float, int]:
        cur = store.cursor()
        try:
            out = None
            for _ in range(50):
                n = cur.execute("SELECT count(*) FROM loan_snapshot WHERE $i >= 0", {"i": i}).fetchone()[0]
                total = cur.execute("SELECT sum(outstanding_balance) FROM loan_snapshot").fetchone()[0]
                big = cur.execute("SELECT count(*) FROM range(100000 + $i) t(x) WHERE x % 7 = 0",
                                  {"i": i}).fetchone()[0]
                out = (n, total, big)
            return out
        finally:
            cur.close()

    with ThreadPoolExecutor(max_workers=4) as ex:
        results = list(ex.map(work, range(8)))
    for i, (n, total, big) in enumerate(results):
        assert n == 3
        assert total == pytest.approx(420000 + 250000.5 + 800000)
        assert big == len(range(0, 100000 + i, 7))


def test_transaction_rolls_back_on_error(store):
    with pytest.raises(RuntimeError), store.transaction() as cur:
        cur.execute("UPDATE ops.meta SET value = 42 WHERE key = 'data_version'")
        raise RuntimeError("boom")
    assert store.data_version() == 0
