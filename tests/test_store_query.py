"""The query gate, `Store.query(name, **params)`: named blocks only, values bound, a time limit,
a row cap and a debug log (datasette's `Database.execute`).

The gate's own cases run on a namespace of test blocks (`gate.sql`, written to a temporary
`data/sql/` stand-in) so that no slow or odd statement ships with the application.
"""

from __future__ import annotations

import logging
import time
from datetime import date

import pandas as pd
import pytest

from data import sqlfiles
from data.settings import Settings
from data.store import QueryParamError, QueryTimeout, QueryTooLarge, Store

GATE_SQL = """
-- name: echo
-- Two bound values back.
SELECT $a AS a, $b AS b;

-- name: numbers
-- 0 … n-1, with a date and a text column (the frame's dtypes are DuckDB's own).
SELECT range AS i, DATE '2025-01-01' + range::INTEGER AS d, CASE WHEN range % 2 = 0 THEN 'even' END AS s
FROM range($n) ORDER BY i;

-- name: slow
-- A cross join far too big to finish within any test's time limit.
SELECT count(*) FROM range(100000000) x, range(100000) y WHERE x.range + y.range = -1;

-- name: put
-- A statement.
INSERT INTO gate_t VALUES ($v);

-- name: count_in
-- Rows of an identifier from a declaration.
SELECT count(*) FROM {table};
"""


@pytest.fixture
def gate(tmp_path, monkeypatch):
    """The store's gate over the test blocks (and the real ones are out of reach meanwhile)."""
    sql_dir = tmp_path / "sql"
    sql_dir.mkdir()
    (sql_dir / "gate.sql").write_text(GATE_SQL, encoding="utf-8")
    monkeypatch.setattr(sqlfiles, "_SQL_DIR", sql_dir)
    sqlfiles.load.cache_clear()
    stores = []

    def make(**settings) -> Store:
        s = Store(":memory:", settings=Settings(**settings))
        stores.append(s)
        return s

    yield make
    for s in stores:
        s.close()
    sqlfiles.load.cache_clear()


def test_values_are_bound_never_spliced(gate):
    store = gate()
    hostile = "x'); DROP TABLE ops.batches; --"
    assert store.query("gate.echo", a=hostile, b=7).first() == (hostile, 7)
    assert store.query("gate.echo", a=None, b=date(2025, 1, 2)).rows() == [(None, date(2025, 1, 2))]
    assert store.query("gate.echo", a=1, b=2).value() == 1


def test_parameters_must_match_the_block(gate):
    store = gate()
    with pytest.raises(QueryParamError, match=r"gate\.echo.*missing b"):
        store.query("gate.echo", a=1)
    with pytest.raises(QueryParamError, match=r"unexpected c"):
        store.query("gate.echo", a=1, b=2, c=3)


@pytest.mark.parametrize("name", ["gate.nope", "nowhere.echo", "echo", "../gate.echo"])
def test_an_unknown_block_is_an_error_naming_it(gate, name):
    with pytest.raises(sqlfiles.UnknownBlockError) as err:
        gate().query(name)
    assert repr(name) in str(err.value) and "/" in str(err.value)  # both languages


def test_frames_and_rows_are_duckdbs_own_conversions(gate):
    store = gate()
    cur = store.cursor()
    direct = cur.execute(sqlfiles.sql("gate.numbers"), {"n": 5000}).df()
    pd.testing.assert_frame_equal(store.query("gate.numbers", n=5000).df(), direct)
    assert store.query("gate.numbers", n=5000).rows() == cur.execute(sqlfiles.sql("gate.numbers"), {"n": 5000}).fetchall()
    empty = store.query("gate.numbers", n=0).df()
    assert empty.empty and list(empty.columns) == ["i", "d", "s"]


def test_statements_and_identifiers(gate):
    store = gate()
    with store.transaction() as cur:
        cur.execute("CREATE TABLE gate_t (v INTEGER)")
        store.query("gate.put", v=1).run(cur)  # inside the caller's transaction
    store.query("gate.put", v=2).run()
    assert store.query("gate.count_in").render(table="gate_t").value() == 2
    with pytest.raises(ValueError, match="not a declared identifier"):
        store.query("gate.count_in").render(table="gate_t; DROP TABLE x")


def test_the_time_limit_interrupts_a_slow_query(gate):
    store = gate(query_time_limit_s=0.3)
    t0 = time.monotonic()
    with pytest.raises(QueryTimeout) as err:
        store.query("gate.slow").value()
    assert time.monotonic() - t0 < 10  # the cross join alone would take many minutes
    assert "gate.slow" in str(err.value) and "超过时间限制" in str(err.value) and "time limit" in str(err.value)
    # the store and the same cursor keep working, and a later query is not hit by a stale interrupt
    cur = store.cursor()
    with pytest.raises(QueryTimeout):
        store.query("gate.slow").value(cur)
    time.sleep(0.5)
    assert store.query("gate.echo", a=1, b=2).first(cur) == (1, 2)


def test_the_time_limit_interrupts_only_its_own_query(gate):
    from concurrent.futures import ThreadPoolExecutor

    store = gate(query_time_limit_s=3)  # room for the quick ones on a busy machine
    with ThreadPoolExecutor(2) as pool:
        slow = pool.submit(lambda: store.query("gate.slow").value())
        fast = [pool.submit(lambda i=i: store.query("gate.numbers", n=i).rows()) for i in range(30)]
        assert [len(f.result()) for f in fast] == list(range(30))
        with pytest.raises(QueryTimeout):
            slow.result()


def test_a_quick_query_outlives_many_deadlines(gate):
    store = gate(query_time_limit_s=0.05)
    for i in range(200):  # guards of finished queries never fire at a later one
        assert store.query("gate.echo", a=i, b=i).first() == (i, i)


def test_the_row_cap_refuses_rather_than_truncates(gate):
    store = gate(query_max_rows=3000)
    assert len(store.query("gate.numbers", n=3000).df()) == 3000  # at the cap: fine
    assert len(store.query("gate.numbers", n=3000).rows()) == 3000
    for fetch in ("df", "rows"):
        with pytest.raises(QueryTooLarge, match=r"gate\.numbers.*3,000") as err:
            getattr(store.query("gate.numbers", n=3001), fetch)()
        assert "已拒绝" in str(err.value) and "not truncated" in str(err.value)
    assert store.query("gate.numbers", n=10_000).first() == (0, date(2025, 1, 1), "even")  # one row: no cap
    assert len(gate(query_max_rows=0).query("gate.numbers", n=10_000).df()) == 10_000  # 0: no cap


def test_every_query_is_logged_with_its_name_and_duration(gate, caplog):
    store = gate(query_time_limit_s=0.3)
    with caplog.at_level(logging.DEBUG, logger="data.store"):
        store.query("gate.echo", a="secret value", b=1).first()
        with pytest.raises(QueryTimeout):
            store.query("gate.slow").value()
    lines = [r.getMessage() for r in caplog.records if r.name == "data.store"]
    assert len(lines) == 2
    assert lines[0].startswith("query gate.echo: ") and lines[0].endswith(" ms, ok")
    assert lines[1].startswith("query gate.slow: ") and lines[1].endswith(" ms, timeout")
    assert "secret value" not in " ".join(lines)  # names and durations, never values


def test_defaults_come_from_the_settings():
    s = Settings()
    assert s.query_time_limit_s == 30 and s.query_max_rows == 100_000


def test_every_described_setting_is_in_the_readme():
    """The README's configuration table names every operator setting (those with a description)."""
    from pathlib import Path

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    described = [n for n, f in Settings.model_fields.items() if f.description]
    assert {"query_time_limit_s", "query_max_rows"} <= set(described)
    missing = [n for n in described if f"`BANKPULSE_{n.upper()}`" not in readme]
    assert not missing, f"settings missing from the README's configuration table: {missing}"
