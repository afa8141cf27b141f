"""Rollback restores the exact earlier state; a kill -9 in the middle of a load changes nothing.

Table state is compared by checksum: (row count, sum of row hashes) of every analytical table
(branches included) and its history archive, plus the operational tables.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
from helpers_ingest import (
    SAMPLES,
    count,
    n_batches,
    store_state,
    table_checksums,
    ticket_csv_sql,
    write_csv,
)

from data.batches import RollbackError, list_batches, rollback
from data.ingest import ingest_file
from data.store import Store

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "x.duckdb")
    yield s
    s.close()


def load(store, path, **kw):
    r = ingest_file(store, path, **kw)
    assert r.status in ("loaded", "partial"), r.issues
    return r


def batch1(store, tmp_path):
    """One batch of every source (branches from the tickets' unknown ids, then the master)."""
    out = []
    for source in ("counter_tickets", "loan_snapshot", "feedback_records", "market_indicators", "market_events"):
        header, rows = SAMPLES[source]
        out.append(load(store, write_csv(tmp_path / f"{source}_1.csv", [header, *rows])))
    return out


def changed(source: str, value_col: int, new_values: list[str], extra: list[list[str]]) -> list[list[str]]:
    header, rows = SAMPLES[source]
    out = [header]
    for r, v in zip(rows, new_values, strict=False):
        r = list(r)
        r[value_col] = v
        out.append(r)
    return out + extra


BATCH2 = {
    # source: (column index to change, new values for the first rows, extra new rows)
    "loan_snapshot": (8, ["1", "2"], [["2025-01-31", "L-NEW", "C9", "0109999", "消费贷", "2024-01-01", "2026-01-01",
                                       "10", "5", "0", "正常"]]),
    "counter_tickets": (4, ["对公业务"], [["0101003", "新网点", "2025-01-03", "B001", "个人存取款", "2025-01-03 10:00:00",
                                         "2025-01-03 10:01:00", "", "1", "T1", "过号"]]),
    "branches": (1, ["改名网点"], [["0101009", "新设网点", "网点", "0101000", "华东区", "2"]]),
}


@pytest.mark.parametrize("source", list(BATCH2))
def test_replace_then_rollback_restores_exact_state(store, tmp_path, source):
    batch1(store, tmp_path)
    if source == "branches":
        header, rows = SAMPLES["branches"]
        load(store, write_csv(tmp_path / "branches_1.csv", [header, *rows]))
    before = store_state(store)
    sums = table_checksums(store)
    col, values, extra = BATCH2[source]
    r2 = load(store, write_csv(tmp_path / f"{source}_2.csv", changed(source, col, values, extra)))
    assert r2.rows_updated == len(values)
    assert table_checksums(store) != sums
    res = rollback(store, r2.batch_id, user="tester")
    assert res.rows_restored == len(values)
    after = store_state(store)
    assert table_checksums(store) == sums
    # the only differences are the batch's own record (now rolled_back) and the data version
    for k in before:
        if k not in ("ops.batches", "ops.batch_issues", "data_version"):
            assert after[k] == before[k], k
    assert after["data_version"] > before["data_version"]
    b = {x.batch_id: x for x in list_batches(store)}[r2.batch_id]
    assert (b.status, b.rolled_back_by) == ("rolled_back", "tester")


def test_rollback_of_unknown_branch_additions(store, tmp_path):
    """Branches a batch added to the master leave with it."""
    sums = table_checksums(store)
    header, rows = SAMPLES["counter_tickets"]
    r = load(store, write_csv(tmp_path / "t.csv", [header, *rows]))
    assert count(store, "branches") == 2
    rollback(store, r.batch_id)
    assert table_checksums(store) == sums


def test_rollback_then_same_file_loads_again(store, tmp_path):
    header, rows = SAMPLES["market_events"]
    p = write_csv(tmp_path / "e.csv", [header, *rows])
    r1 = load(store, p)
    rollback(store, r1.batch_id)
    assert count(store, "market_events") == 0
    r2 = ingest_file(store, p)
    assert r2.status == "loaded" and r2.batch_id != r1.batch_id
    assert count(store, "market_events") == len(rows)


def test_rollback_blocked_by_later_live_batch(store, tmp_path):
    header, rows = SAMPLES["loan_snapshot"]
    r1 = load(store, write_csv(tmp_path / "l1.csv", [header, *rows]))
    r2 = load(store, write_csv(tmp_path / "l2.csv", changed("loan_snapshot", 8, ["7"], [])))
    before = store_state(store)
    with pytest.raises(RollbackError, match=str(r2.batch_id)):
        rollback(store, r1.batch_id)
    assert store_state(store) == before
    # after the later batch is rolled back, the earlier one can be
    rollback(store, r2.batch_id)
    rollback(store, r1.batch_id)
    assert count(store, "loan_snapshot") == 0
    assert count(store, "history.loan_snapshot") == 0


def test_rollback_twice_is_refused(store, tmp_path):
    header, rows = SAMPLES["market_events"]
    r = load(store, write_csv(tmp_path / "e.csv", [header, *rows]))
    rollback(store, r.batch_id)
    before = store_state(store)
    with pytest.raises(RollbackError):
        rollback(store, r.batch_id)
    assert store_state(store) == before


def test_rollback_of_missing_batch_is_refused(store):
    with pytest.raises(RollbackError):
        rollback(store, 999)


def test_rollback_of_partial_batch(store, tmp_path):
    sums = table_checksums(store)
    header, rows = SAMPLES["loan_snapshot"]
    bad = list(rows[0])
    bad[8] = "??"
    r = load(store, write_csv(tmp_path / "l.csv", [header, bad, *rows[1:]]), allow_partial=True)
    assert r.status == "partial"
    rollback(store, r.batch_id)
    assert table_checksums(store) == sums


# -- kill -9 in the middle of a load ----------------------------------------------------------

N_BIG = 300_000

CHILD = textwrap.dedent("""
    import sys, time
    sys.path.insert(0, {root!r})
    from data.store import Store
    from data.ingest import ingest_file
    store = Store({db!r})
    def progress(stage, done):
        print("PROGRESS", stage, flush=True)
    print("START", flush=True)
    r = ingest_file(store, {csv!r}, progress=progress)
    print("RESULT", r.status, r.rows_loaded, flush=True)
    store.close()
""")


@pytest.fixture(scope="module")
def big(tmp_path_factory):
    """A baseline DB (one small batch) and a large ticket CSV; the expected state after a full load."""
    d = tmp_path_factory.mktemp("kill")
    csv_path = d / "tickets_big.csv"
    base = d / "base.duckdb"
    s = Store(base)
    s.cursor().execute(ticket_csv_sql(csv_path, N_BIG))
    header, rows = SAMPLES["counter_tickets"]
    assert ingest_file(s, write_csv(d / "small.csv", [header, *rows])).status == "loaded"
    s.close()
    return d, base, csv_path


def _state_of(db: Path) -> tuple[dict, int]:
    s = Store(db)
    try:
        return store_state(s), n_batches(s)
    finally:
        s.close()


def _run_child(db: Path, csv_path: Path, kill_at) -> tuple[list[str], bool]:
    """Run the load in a child process; `kill_at(lines, elapsed)` says when to SIGKILL it."""
    code = CHILD.format(root=str(ROOT), db=str(db), csv=str(csv_path))
    p = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                         text=True, cwd=str(ROOT))
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(x.rstrip("\n") for x in p.stdout), daemon=True)
    reader.start()
    t_start = None
    killed = False
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline and p.poll() is None:
            seen = list(lines)
            if t_start is None and "START" in seen:
                t_start = time.monotonic()
            if t_start is not None and kill_at(seen, time.monotonic() - t_start):
                os.kill(p.pid, signal.SIGKILL)
                killed = True
                break
            time.sleep(0.005)
    finally:
        if p.poll() is None and not killed:
            p.kill()
        p.wait(timeout=30)
        reader.join(timeout=10)
    return list(lines), killed


# (name, predicate on (child output lines, seconds since START)): time-based kills while the
# rows are read and validated, and kills right after the write transaction began.
# Kill points follow the load's own progress stages (data.progress.INGEST), so they still land
# inside it as the ingest gets faster; the timed ones add variety.
READING, VALIDATING, WRITING = "PROGRESS ingest.read", "PROGRESS ingest.validate", "PROGRESS ingest.write"
KILLS = [
    ("reading", lambda lines, t: READING in lines),
    ("t+1.0s", lambda lines, t: t >= 1.0),
    ("validating+0.1s", lambda lines, t, _s={}: VALIDATING in lines and
        t - _s.setdefault("t", t) >= 0.1),
    ("writing", lambda lines, t: WRITING in lines),
    ("writing+0.1s", lambda lines, t, _s={}: WRITING in lines and t - _s.setdefault("t", t) >= 0.1),
    ("writing+0.3s", lambda lines, t, _s={}: WRITING in lines and t - _s.setdefault("t", t) >= 0.3),
]


@pytest.mark.slow
def test_kill_9_mid_load_leaves_store_unchanged(big, tmp_path):
    d, base, csv_path = big
    before, batches_before = _state_of(base)
    mid_load_kills, in_transaction = 0, 0
    for name, when in KILLS:
        for f in tmp_path.glob("run.duckdb*"):
            f.unlink()
        db = tmp_path / "run.duckdb"
        shutil.copyfile(base, db)
        lines, killed = _run_child(db, csv_path, when)
        committed = any(x == "PROGRESS done" or x.startswith("RESULT") for x in lines)
        print(f"kill at {name}: killed={killed} committed={committed} last={lines[-1:]}")
        # the database opens fine after the kill (WAL replayed or discarded)
        state, batches = _state_of(db)
        if killed and not committed:
            mid_load_kills += 1
            in_transaction += name.startswith("writing")
            assert state == before, f"kill at {name}: store changed ({lines[-3:]})"
            assert batches == batches_before, name
        else:  # the load finished before the kill: it is all there, as one batch
            assert batches == batches_before + 1, name
            assert state["main.counter_tickets"][0] == before["main.counter_tickets"][0] + N_BIG, name
    assert mid_load_kills >= len(KILLS) // 2, "most kills must land inside the load"
    assert in_transaction >= 1, "at least one kill must land inside the write transaction"
