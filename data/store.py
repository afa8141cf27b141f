"""The embedded DuckDB store: one connection per process, a cursor per query.

A DuckDB connection shared across Streamlit's script threads fails in surprising ways, so
the store keeps one connection and hands every caller its own cursor (a cheap, thread-safe
child connection to the same database). Writes that must not interleave (loads, rollbacks)
also take the store's write lock, because DuckDB's optimistic concurrency would otherwise
abort one of two concurrent loads touching the same table.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb

from data.settings import Settings, get_settings

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
