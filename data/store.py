"""The embedded DuckDB store: one connection per process, a cursor per query.

A DuckDB connection shared across Streamlit's script threads fails in surprising ways, so
the store keeps one connection and hands every caller its own cursor (a cheap, thread-safe
child connection to the same database). Writes that must not interleave (loads, rollbacks)
also take the store's write lock, because DuckDB's optimistic concurrency would otherwise
abort one of two concurrent loads touching the same table.

Hand-written SQL runs through one gate, `Store.query(name, **params)` (datasette's
`Database.execute`): a named block of `data/sql/*.sql`, its parameters always bound, a time
limit, a row cap and a debug log of the block's name and duration. KPIs are Ibis expressions
(`Store.ibis`) and do not pass through it.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb

from data import sqlfiles
from data.settings import Settings, get_settings

log = logging.getLogger(__name__)

_MIGRATIONS = Path(__file__).with_name("sql") / "migrations"


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    path: Path


def migrations() -> list[Migration]:
    """The versioned schema changes, in order (`NNNN_name.sql`)."""
    out = []
    for p in sorted(_MIGRATIONS.glob("[0-9][0-9][0-9][0-9]_*.sql")):
        out.append(Migration(int(p.name[:4]), p.stem[5:], p))
    return out


class StoreLockedError(RuntimeError):
    """Another process holds the database file (DuckDB allows one writer process)."""


# -- the query gate ----------------------------------------------------------------------
class QueryError(RuntimeError):
    """A named block the gate would not run, or stopped: the message names it, in both languages."""


class QueryParamError(QueryError, ValueError):
    """The parameters given do not match the block's `$name` placeholders."""


class QueryTimeout(QueryError):
    """The block ran past the time limit and was interrupted (`BANKPULSE_QUERY_TIME_LIMIT_S`)."""


class QueryTooLarge(QueryError):
    """The block returned more rows than the cap (`BANKPULSE_QUERY_MAX_ROWS`): refused, not truncated.

    A silently shortened result would be read as the whole truth (a KPI, a list "of all"
    anomalies), so the gate refuses; a block that may legitimately return many rows pages
    with LIMIT/OFFSET parameters instead.
    """


class _Guard:
    """One running query's deadline; `stop` and `fire` exclude each other, so a late interrupt
    can never hit the next statement on the same cursor."""

    __slots__ = ("cursor", "done", "fired", "lock")

    def __init__(self, cursor):
        self.cursor, self.done, self.fired, self.lock = cursor, False, False, threading.Lock()

    def fire(self) -> None:
        with self.lock:
            if not self.done:
                self.fired = True
                self.cursor.interrupt()

    def stop(self) -> None:
        with self.lock:
            self.done = True


class _Watchdog:
    """One thread that interrupts queries past their deadline (a `threading.Timer` per query
    cost ~2 ms each; this costs a heap push)."""

    def __init__(self):
        self._cv = threading.Condition()
        self._heap: list[tuple[float, int, _Guard]] = []
        self._seq = itertools.count()
        self._thread: threading.Thread | None = None

    def watch(self, cursor, seconds: float) -> _Guard:
        guard = _Guard(cursor)
        with self._cv:
            entry = (time.monotonic() + seconds, next(self._seq), guard)
            heapq.heappush(self._heap, entry)
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="bankpulse-query-watchdog", daemon=True)
                self._thread.start()
            elif self._heap[0] is entry:  # sooner than what the thread waits for
                self._cv.notify()
        return guard

    def _loop(self) -> None:
        with self._cv:
            while True:
                while self._heap and self._heap[0][2].done:
                    heapq.heappop(self._heap)
                if not self._heap:
                    self._cv.wait()
                    continue
                wait = self._heap[0][0] - time.monotonic()
                if wait > 0:
                    self._cv.wait(wait)
                    continue
                heapq.heappop(self._heap)[2].fire()


_WATCHDOG = _Watchdog()
# a forked child (the scan's workers) has no watchdog thread and may inherit its lock held
os.register_at_fork(after_in_child=lambda: globals().update(_WATCHDOG=_Watchdog()))


def _rows(cursor, cap: int) -> list[tuple]:
    return cursor.fetchall() if not cap else cursor.fetchmany(cap + 1)


def _frame(cursor, cap: int):
    """The result as DuckDB's own DataFrame conversion, read in chunks so that the cap is checked
    before a huge result is converted (the chunks carry the same dtypes as `df()`)."""
    import pandas as pd

    if not cap:
        return cursor.df()
    parts, n = [], 0
    vectors = max(1, (cap + 1) // 2048 + 1)
    while n <= cap:
        chunk = cursor.fetch_df_chunk(vectors)
        if len(chunk) == 0:
            break
        parts.append(chunk)
        n += len(chunk)
    if not parts:
        return chunk
    return parts[0] if len(parts) == 1 else pd.concat(parts, ignore_index=True)


class Query:
    """A named block bound to its parameters. Nothing runs until one of the fetch methods says
    which shape the caller wants: `df()`, `rows()`, `first()`, `value()` or `run()` (a statement).

    Each takes an optional `cursor`: a transaction's (`Store.transaction`) or one holding
    registered frames; by default the query gets a cursor of its own.
    """

    def __init__(self, store: Store, name: str, block: sqlfiles.SqlBlock, params: dict[str, Any],
                 text: str | None = None):
        self.store, self.name, self.block, self.params = store, name, block, params
        self.sql = block.sql if text is None else text

    def render(self, **identifiers: str | tuple[str, ...]) -> Query:
        """The same query with the block's `{field}` identifier slots filled from declarations."""
        return Query(self.store, self.name, self.block, self.params, self.block.render(**identifiers))

    def df(self, cursor=None):
        """Every row, as a pandas DataFrame (DuckDB's conversion: dates as datetime64, …)."""
        return self._run(cursor, _frame, capped=True)

    def rows(self, cursor=None) -> list[tuple]:
        """Every row, as tuples of Python values."""
        return self._run(cursor, _rows, capped=True)

    def first(self, cursor=None) -> tuple | None:
        """The first row (None when there is none)."""
        return self._run(cursor, lambda cur, cap: cur.fetchone())

    def value(self, cursor=None) -> Any:
        """The first column of the first row (None when there is no row)."""
        row = self.first(cursor)
        return None if row is None else row[0]

    def run(self, cursor=None) -> None:
        """A statement (INSERT, UPDATE, DELETE): run to its end, nothing returned."""
        self._run(cursor, lambda cur, cap: None)

    def _run(self, cursor, fetch: Callable[[Any, int], Any], capped: bool = False):
        s = self.store.settings
        limit, cap = s.query_time_limit_s, s.query_max_rows
        cur = self.store.cursor() if cursor is None else cursor
        guard = _WATCHDOG.watch(cur, limit) if limit else None
        t0 = time.perf_counter()
        outcome = "failed"
        try:
            cur.execute(self.sql, self.params)
            out = fetch(cur, cap)
            outcome = "ok"
        except duckdb.InterruptException as exc:
            if guard is not None and guard.fired:
                outcome = "timeout"
                raise QueryTimeout(
                    f"查询 {self.name} 超过时间限制（{limit:g} 秒），已中止 / query {self.name} ran past its time "
                    f"limit of {limit:g} s and was interrupted (BANKPULSE_QUERY_TIME_LIMIT_S)") from exc
            raise
        finally:
            if guard is not None:
                guard.stop()
            if cursor is None:
                cur.close()
            log.debug("query %s: %.1f ms, %s", self.name, (time.perf_counter() - t0) * 1000, outcome)
        if capped and cap and len(out) > cap:
            raise QueryTooLarge(
                f"查询 {self.name} 返回超过 {cap:,} 行，已拒绝（未截断） / query {self.name} returned more than "
                f"{cap:,} rows and was refused, not truncated (page it, or raise BANKPULSE_QUERY_MAX_ROWS)")
        return out


class Store:
    """The DuckDB database behind BankPulse.

    `cursor()` for one query; `transaction()` for an atomic unit of work; `ibis()` for the
    analytical query layer. Open with :func:`open_store` to share one per process.
    """

    def __init__(self, path: Path | str, *, settings: Settings | None = None, read_only: bool = False):
        self.path = Path(path)
        self.settings = settings or get_settings()
        self.read_only = read_only
        if str(self.path) != ":memory:":
            self.path.parent.mkdir(parents=True, exist_ok=True)
        config = {"memory_limit": self.settings.duckdb_memory_limit}
        if self.settings.duckdb_threads:
            config["threads"] = str(self.settings.duckdb_threads)
        try:
            self._con = duckdb.connect(str(self.path), read_only=read_only, config=config)
        except duckdb.IOException as exc:  # the file lock of another process
            raise StoreLockedError(
                f"数据库文件被其他进程占用 / the database {self.path} is in use by another process "
                f"(stop the app or the other command first): {exc}"
            ) from exc
        self.write_lock = threading.RLock()
        self._local = threading.local()
        if not read_only:
            self.migrate()

    # -- connections --------------------------------------------------------------------
    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A new cursor: use one per query or per unit of work, in one thread."""
        return self._con.cursor()

    def query(self, name: str, /, **params: Any) -> Query:
        """The named block `namespace.block` of `data/sql/` bound to `params`, to fetch from:
        ``store.query("reads.branch_master").rows()``.

        The one way BankPulse runs hand-written SQL: values only ever bound (`$name`), checked
        against the block's placeholders; a time limit (`query_time_limit_s`) and a row cap
        (`query_max_rows`) from the settings; the block's name and duration logged at DEBUG
        (logger ``data.store``). An unknown block is an `UnknownBlockError` naming it.
        """
        block = sqlfiles.block(name)
        missing, extra = block.params - params.keys(), params.keys() - block.params
        if missing or extra:
            detail = "; ".join(p for p in (missing and f"missing {', '.join(sorted(missing))}",
                                           extra and f"unexpected {', '.join(sorted(extra))}") if p)
            raise QueryParamError(f"查询 {name} 的参数不符 / the parameters of query {name} do not match "
                                  f"its block: {detail}")
        return Query(self, name, block, params)

    @contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """An atomic unit of work under the write lock: all of it commits, or none of it."""
        with self.write_lock:
            cur = self.cursor()
            cur.execute("BEGIN TRANSACTION")
            try:
                yield cur
            except BaseException:
                cur.execute("ROLLBACK")
                raise
            else:
                cur.execute("COMMIT")
            finally:
                cur.close()

    def ibis(self):
        """This thread's Ibis backend over its own cursor (the analytical query layer)."""
        import ibis

        backend = getattr(self._local, "ibis", None)
        if backend is None:
            backend = ibis.duckdb.from_connection(self.cursor())
            self._local.ibis = backend
        return backend

    def close(self) -> None:
        self._con.close()

    # -- schema --------------------------------------------------------------------------
    def schema_version(self) -> int:
        cur = self.cursor()
        exists = cur.execute(
            "SELECT count(*) FROM information_schema.tables "
            "WHERE table_schema = 'ops' AND table_name = 'schema_migrations'"
        ).fetchone()[0]
        if not exists:
            return 0
        return cur.execute("SELECT coalesce(max(version), 0) FROM ops.schema_migrations").fetchone()[0]

    def migrate(self) -> list[int]:
        """Apply pending migrations, each in its own transaction. Returns the versions applied."""
        applied = []
        with self.write_lock:
            cur = self.cursor()
            cur.execute("CREATE SCHEMA IF NOT EXISTS ops")
            cur.execute(
                "CREATE TABLE IF NOT EXISTS ops.schema_migrations "
                "(version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, applied_at TIMESTAMP NOT NULL)"
            )
            current = self.schema_version()
            for m in migrations():
                if m.version <= current:
                    continue
                cur.execute("BEGIN TRANSACTION")
                try:
                    cur.execute(m.path.read_text(encoding="utf-8"))
                    cur.execute(
                        "INSERT INTO ops.schema_migrations VALUES ($v, $n, $t)",
                        {"v": m.version, "n": m.name, "t": datetime.now()},
                    )
                    cur.execute("COMMIT")
                except BaseException:
                    cur.execute("ROLLBACK")
                    raise
                applied.append(m.version)
        return applied

    # -- cache key -----------------------------------------------------------------------
    def data_version(self) -> int:
        """A number that changes whenever analytical data changes (loads, rollbacks)."""
        return self.cursor().execute("SELECT value FROM ops.meta WHERE key = 'data_version'").fetchone()[0]

    def is_empty(self) -> bool:
        """True when no batch was ever loaded (then `make run` loads the demo data)."""
        return self.cursor().execute("SELECT count(*) FROM ops.batches").fetchone()[0] == 0


_STORES: dict[str, Store] = {}
_STORES_LOCK = threading.Lock()


def open_store(path: Path | str | None = None, *, settings: Settings | None = None) -> Store:
    """The process-wide store for `path` (default: settings.db), opened once."""
    settings = settings or get_settings()
    key = str(Path(path or settings.db).resolve()) if str(path) != ":memory:" else ":memory:"
    with _STORES_LOCK:
        store = _STORES.get(key)
        if store is None:
            store = Store(path or settings.db, settings=settings)
            _STORES[key] = store
        return store


def close_all() -> None:
    """Close every process-wide store (tests, CLI exit)."""
    with _STORES_LOCK:
        for s in _STORES.values():
            s.close()
        _STORES.clear()
