"""Demo stores for tests: the seeded demo files loaded through the real ingest path.

Several modules need the same small store (3 outlets, one year, seed 1), some scanned; built here
once per session directory (tests/conftest.py: `demo_db`, `scanned_demo_db`) and copied or shared
by the modules that ask for it.
"""

from __future__ import annotations

import json
from pathlib import Path

from data.demo import DemoSpec


def ingest_demo(store, spec: DemoSpec, files: Path) -> Path:
    """Generate the demo's files into `files` and load each into `store` (every file must load);
    returns the files folder (it holds the story the demo planted, story.json)."""
    from data.demo import generate
    from data.ingest import ingest_file

    for path in generate(spec, files):
        res = ingest_file(store, path)
        assert res.status in ("loaded", "partial"), (path, res.status)
    return files


def demo_store(base: Path, spec: DemoSpec | None = None, *, scan: bool = False) -> Path:
    """`base`/demo.duckdb with the demo loaded (and scanned), built on the first call only: later
    calls with the same `base` return it as it is (a marker file says it is complete)."""
    from data.store import Store

    db = base / "demo.duckdb"
    if (base / "done").exists():
        return db
    base.mkdir(parents=True, exist_ok=True)
    store = Store(db)
    try:
        spec = spec or DemoSpec(seed=1, branches=3, years=1)
        ingest_demo(store, spec, base / "files")
        if scan:
            from anomaly.scan import scan as run_scan

            run_scan(store, trigger="test")
        from data.demo.plans import seed_plans

        seed_plans(store, json.loads((base / "files" / "story.json").read_text(encoding="utf-8")), end=spec.end)
    finally:
        store.close()
    (base / "done").write_text("ok")
    return db


def scanned_copy(src: Path, base: Path) -> Path:
    """`base`/demo.duckdb: a copy of the store `src` after a full anomaly scan, made on the first
    call only (as `demo_store`)."""
    import shutil

    from anomaly.scan import scan as run_scan
    from data.store import Store

    db = base / "demo.duckdb"
    if (base / "done").exists():
        return db
    base.mkdir(parents=True, exist_ok=True)
    shutil.copy(src, db)
    store = Store(db)
    try:
        run_scan(store, trigger="test")
    finally:
        store.close()
    (base / "done").write_text("ok")
    return db
