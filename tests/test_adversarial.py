"""The adversarial suite, counted: broken files, kill -9 mid-load, injection payloads.

Each part records what it tried and what went wrong in `tests/artifacts/adversarial/` (one JSON
file per test, so pytest-xdist workers do not share state); `conftest.pytest_terminal_summary`
adds them up and prints the counts at the end of every `make test`. The sizes are environment
knobs so a bench run can ask for more than CI does:

| variable | CI default | bench run (bench/RELIABILITY_RESULTS.md) |
| --- | --- | --- |
| `BANKPULSE_FUZZ_EXAMPLES` | 2000 | 10000 |
| `BANKPULSE_KILL_RUNS` | 5 | 20 |

A failure of any kind fails the test as well: the counts are a report, not the check.
"""

from __future__ import annotations

import json
import os
import random
import shutil
from pathlib import Path

import pytest
from helpers_ingest import SAMPLES, csv_text, n_batches, store_state, ticket_csv_sql, write_csv
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_ingest_fuzz import STATUSES, broken_files
from test_ingest_rollback import N_BIG, _run_child, _state_of

from data.exports import to_csv_bytes
from data.ingest import ingest_file
from data.ingest.issues import ISSUE_COLUMNS
from data.store import Store

pytestmark = pytest.mark.adversarial

ARTIFACTS = Path(__file__).parent / "artifacts" / "adversarial"
FUZZ_EXAMPLES = int(os.environ.get("BANKPULSE_FUZZ_EXAMPLES", "2000"))
KILL_RUNS = int(os.environ.get("BANKPULSE_KILL_RUNS", "5"))
# ≈ 0.3 s an example alone, up to twice that beside other work: the fuzz's own limit grows with its size.
FUZZ_TIMEOUT_S = max(2400, int(FUZZ_EXAMPLES * 0.9))
FUZZ_PROGRESS_EVERY = 500  # the counts so far are recorded this often, so an interrupted run still reports
# Issue codes about one cell: such an issue must say which row and which column; about one row: which row.
CELL_CODES = {"type", "required", "enum", "range", "id_scientific"}
ROW_CODES = CELL_CODES | {"malformed_row", "duplicate_key", "check"}


def record(part: str, counts: dict[str, int], name: str = "") -> None:
    """Write this test's counts where the terminal summary finds them (one file per part, `name`
    and worker: several tests may add to one part, e.g. the URL payloads to "injection")."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    stem = f"{part}-{name}" if name else part
    (ARTIFACTS / f"{stem}-{worker}.json").write_text(json.dumps({"part": part, **counts}), encoding="utf-8")


# -- broken CSV/XLSX files --------------------------------------------------------------------

@pytest.fixture(scope="module")
def store(tmp_path_factory):
    d = tmp_path_factory.mktemp("adversarial")
    s = Store(d / "x.duckdb")
    for source in ("branches", "loan_snapshot"):
        header, rows = SAMPLES[source]
        assert ingest_file(s, write_csv(d / f"{source}.csv", [header, *rows])).status == "loaded"
    s.fuzz_dir = d
    yield s
    s.close()


FUZZ = {"examples": 0, "crashes": 0, "partial_writes": 0, "rejected": 0, "rejections_unlocated": 0}
_seq = iter(range(10**9))
_STATE: dict = {}  # the store's checksums and batch count as the last upload left them (None: unknown)


def _judge(store, suffix: str, data: bytes, partial: bool) -> None:
    """One broken upload: it must not raise, a rejection must change nothing and say where."""
    path = store.fuzz_dir / f"upload_{next(_seq)}{suffix}"
    path.write_bytes(data)
    # The state before this upload is the state after the previous one (checked or re-read there):
    # one checksum pass an example instead of two.
    if _STATE.get("before") is None:
        _STATE["before"], _STATE["batches"] = store_state(store), n_batches(store)
    before, batches = _STATE["before"], _STATE["batches"]
    FUZZ["examples"] += 1
    if FUZZ["examples"] % FUZZ_PROGRESS_EVERY == 0:
        record("broken_files", FUZZ)
    _STATE["before"] = None  # re-read before the next upload unless this one is shown to change nothing
    try:
        r = ingest_file(store, path, allow_partial=partial)
    except Exception:
        FUZZ["crashes"] += 1
        raise
    assert r.status in STATUSES and list(r.issues.columns) == ISSUE_COLUMNS
    if r.status == "rejected":
        FUZZ["rejected"] += 1
        after, after_batches = store_state(store), n_batches(store)
        if after != before or after_batches != batches:
            FUZZ["partial_writes"] += 1
            pytest.fail(f"a rejected upload changed the store: {path.name}")
        _STATE["before"], _STATE["batches"] = after, after_batches
        errors = r.issues[r.issues["severity"] == "error"]
        cells = errors[errors["code"].isin(CELL_CODES)]
        rows = errors[errors["code"].isin(ROW_CODES)]
        located = len(errors) > 0 and (errors["file"].astype(str) == path.name).all() and \
            rows["row"].notna().all() and cells["column"].astype(str).str.len().gt(0).all()
        if not located:
            FUZZ["rejections_unlocated"] += 1
            pytest.fail(f"a rejection without file/row/column: {path.name}\n{errors.to_string()}")
    elif r.status == "already_loaded":
        assert store_state(store) == before
        _STATE["before"], _STATE["batches"] = before, batches


@settings(max_examples=FUZZ_EXAMPLES, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(case=broken_files, partial=st.booleans())
def _fuzz(store, case, partial):
    _judge(store, *case, partial)


# 2,000 loads plus two store checksums each: ≈ 600 s alone, > 600 s (the suite's default limit) beside
# the browser tests on 2 cores, where pytest-timeout interrupted a DuckDB query at example 1,956.
@pytest.mark.timeout(FUZZ_TIMEOUT_S)
def test_broken_files_counted(store):
    """FUZZ_EXAMPLES hypothesis-made broken uploads: 0 crashes, 0 partial writes, every rejection located."""
    _STATE.clear()  # the module's store may have been written by another test first
    try:
        _fuzz(store)
    finally:
        record("broken_files", FUZZ)
    assert FUZZ["examples"] >= FUZZ_EXAMPLES
    assert FUZZ["crashes"] == FUZZ["partial_writes"] == FUZZ["rejections_unlocated"] == 0


# -- kill -9 at random points of a load ---------------------------------------------------------

@pytest.fixture(scope="module")
def big(tmp_path_factory):
    d = tmp_path_factory.mktemp("kill_random")
    csv_path, base = d / "tickets_big.csv", d / "base.duckdb"
    s = Store(base)
    s.cursor().execute(ticket_csv_sql(csv_path, N_BIG))
    header, rows = SAMPLES["counter_tickets"]
    assert ingest_file(s, write_csv(d / "small.csv", [header, *rows])).status == "loaded"
    s.close()
    return base, csv_path


@pytest.mark.slow
def test_kill_9_at_random_points(big, tmp_path):
    """KILL_RUNS loads killed at a random progress step plus a random delay: the store's checksum
    afterwards is the one before (or, when the load won the race, the whole batch is there)."""
    base, csv_path = big
    before, batches_before = _state_of(base)
    rng = random.Random(20261203)
    counts = {"runs": 0, "killed_mid_load": 0, "completed_first": 0, "changed_store": 0}
    try:
        for i in range(KILL_RUNS):
            step = rng.choice(["PROGRESS 0.15", "PROGRESS 0.55", "PROGRESS 0.7", "START"])
            delay = rng.uniform(0.0, 0.6)
            mark: dict[str, float] = {}

            def when(lines, t, step=step, delay=delay, mark=mark):
                if step in lines:
                    mark.setdefault("t", t)
                    return t - mark["t"] >= delay
                return False

            db = tmp_path / f"run{i}.duckdb"
            shutil.copyfile(base, db)
            lines, killed = _run_child(db, csv_path, when)
            counts["runs"] += 1
            committed = any(x.startswith(("PROGRESS 1.0", "RESULT")) for x in lines)
            state, batches = _state_of(db)
            if killed and not committed:
                counts["killed_mid_load"] += 1
                if state != before or batches != batches_before:
                    counts["changed_store"] += 1
            else:
                counts["completed_first"] += 1
                if batches != batches_before + 1 or \
                        state["main.counter_tickets"][0] != before["main.counter_tickets"][0] + N_BIG:
                    counts["changed_store"] += 1
    finally:
        record("kill_9", counts)
    assert counts["changed_store"] == 0, counts
    assert counts["killed_mid_load"] >= max(1, KILL_RUNS // 2), counts


# -- injection payloads: upload -> stored text -> CSV export -> PDF ----------------------------

PAYLOADS = [
    "<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "<svg/onload=alert(1)>", "javascript:alert(1)",
    "<iframe src=//evil>", "\"><script>alert(document.cookie)</script>", "**粗体** [点我](http://evil.example)",
    "![x](http://evil.example/x.png)", "# 标题注入", "<style>body{display:none}</style>",
    "=cmd|' /C calc'!A0", "=HYPERLINK(\"http://evil\",\"点击\")", "+1+cmd|' /C calc'!A0", "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0", "\t=1+1", "%0D%0A=1+1", "=DDE(\"cmd\";\"/C calc\";\"x\")",
    "'; DROP TABLE counter_tickets; --", "1' OR '1'='1", "\" OR \"\"=\"", "'); DELETE FROM ops.batches; --",
    "UNION SELECT password_hash FROM ops.users --", "$(rm -rf /)", "`id`", "../../../../etc/passwd",
    "..\\..\\windows\\win.ini", "%2e%2e%2f%2e%2e%2fetc%2fpasswd", "{{7*7}}${7*7}", "\u202egnp.exe",
]


def test_thirty_injection_payloads_stay_inert(store, tmp_path):
    """30 payloads in the free-text fields of a complaint export (and in its file name): stored as
    written, exported formula-safe, and nothing else in the store touched."""
    assert len(PAYLOADS) == 30
    header, rows = SAMPLES["feedback_records"]
    base = rows[0]
    i_id, i_text, i_cat = header.index("工单号"), header.index("投诉内容"), header.index("业务类别")
    body = []
    for k, p in enumerate(PAYLOADS):
        r = list(base)
        r[i_id], r[i_text], r[i_cat] = f"INJ{k:04d}", p, p[:20]
        body.append(r)
    # a traversal-looking file name is just a name: the upload is stored under its base name
    path = tmp_path / "..%2f..%2fetc%2fpasswd; DROP TABLE x.csv"
    path.write_text(csv_text([header, *body]), encoding="utf-8")
    tables_before = sorted(r[0] for r in store.cursor().execute(
        "SELECT table_schema || '.' || table_name FROM information_schema.tables").fetchall())
    r = ingest_file(store, path)
    assert r.status in ("loaded", "partial"), r.issues.to_string()
    counts = {"payloads": len(PAYLOADS), "stored_verbatim": 0, "export_formula_cells": 0, "escapes": 0}
    stored = dict(store.cursor().execute(
        "SELECT feedback_id, description FROM main.feedback_records WHERE feedback_id LIKE 'INJ%'").fetchall())
    for k, p in enumerate(PAYLOADS):
        got = stored.get(f"INJ{k:04d}")
        counts["stored_verbatim"] += got == p
    import pandas as pd

    frame = pd.DataFrame({"内容": [stored.get(f"INJ{k:04d}") for k in range(len(PAYLOADS))]})
    text = to_csv_bytes(frame).decode("utf-8-sig")
    for line in text.splitlines()[1:]:
        cell = line.strip('"')
        if cell[:1] in ("=", "+", "-", "@", "\t", "\r"):
            counts["export_formula_cells"] += 1
    tables_after = sorted(r[0] for r in store.cursor().execute(
        "SELECT table_schema || '.' || table_name FROM information_schema.tables").fetchall())
    counts["escapes"] += tables_after != tables_before
    names = {r[0] for r in store.cursor().execute("SELECT DISTINCT source_file FROM main.feedback_records "
                                                  "WHERE feedback_id LIKE 'INJ%'").fetchall()}
    counts["escapes"] += any("/" in n or "\\" in n for n in names)
    record("injection", counts)
    assert counts["stored_verbatim"] == len(PAYLOADS), stored
    assert counts["export_formula_cells"] == 0, text
    assert counts["escapes"] == 0, (names, tables_after)
