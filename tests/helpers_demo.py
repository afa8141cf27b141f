"""Demo stores for tests: the seeded demo files loaded through the real ingest path.

Several modules need the same small store (3 outlets, one year, seed 1), some scanned; built here
once per session directory (tests/conftest.py: `demo_db`, `scanned_demo_db`) and copied or shared
by the modules that ask for it.

Every test demo ends on a pinned day (`AS_OF`, or the `as_of` its module passes), never on the
clock's yesterday as `bankpulse demo` does: the figures the tests assert must not move with the date.
"""

from __future__ import annotations

import fcntl
import json
import shutil
from collections.abc import Callable
from datetime import date
from pathlib import Path

from data.demo import DemoSpec

AS_OF = date(2025, 12, 31)  # the last day of the test demos (a Wednesday; whole months, whole quarters)
AS_OF_ARG = ["--as-of", AS_OF.isoformat()]  # the same for `bankpulse demo` in tests


def ingest_demo(store, spec: DemoSpec, files: Path) -> Path:
    """Generate the demo's files into `files` and load each into `store` (every file must load);
    returns the files folder (it holds the story the demo planted, story.json)."""
    from data.demo import generate
    from data.ingest import ingest_file

    for path in generate(spec, files):
        res = ingest_file(store, path)
        assert res.status in ("loaded", "partial"), (path, res.status)
    return files


def built_once(base: Path, key: str, build: Callable[[Path], None]) -> Path:
    """`base` as `build(folder)` fills it, built once per test run: under pytest-xdist the first
    worker to ask builds it in a folder beside the workers' own (under a file lock) and every
    worker copies that folder — a demo store costs 15–90 s to load through the real ingest, and
    each worker used to load its own. `key` names the recipe, whole: two modules asking for the
    same recipe under other folder names share one build; it must name every input that changes the
    data (a demo's seed, size, as-of date, scan). Without xdist, or when `base` is not directly in a
    worker's temporary folder, it builds in place. A folder is complete when it holds the marker file
    `done`, which holds the key (`key_of`)."""
    if (base / "done").exists():
        assert key_of(base) == key, f"{base} holds {key_of(base)!r}, not {key!r}"
        return base
    worker_tmp = base.parent
    if not worker_tmp.name.startswith("popen-gw"):
        build(base)
        (base / "done").write_text(key)
        return base
    shared = worker_tmp.parent / "built_once" / key
    shared.parent.mkdir(parents=True, exist_ok=True)
    with open(shared.parent / f"{shared.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes, also if the build fails
        if not (shared / "done").exists():
            shutil.rmtree(shared, ignore_errors=True)  # a build that failed half-way
            build(shared)
            (shared / "done").write_text(key)
    shutil.copytree(shared, base, dirs_exist_ok=True)
    return base


def key_of(folder: Path) -> str:
    """The recipe key a folder `built_once` completed was built from."""
    return (folder / "done").read_text()


def demo_store(base: Path, spec: DemoSpec | None = None, *, scan: bool = False) -> Path:
    """`base`/demo.duckdb with the demo loaded (and scanned), built on the first call only: later
    calls with the same `base` return it as it is (a marker file says it is complete); shared by
    the xdist workers (`built_once`)."""
    spec = spec or DemoSpec(seed=1, branches=3, years=1, as_of=AS_OF)
    key = f"demo-{spec.seed}-{spec.branches}-{spec.years}-{spec.as_of:%Y%m%d}-{'scan' if scan else 'noscan'}"
    built_once(base, key, lambda folder: _build_demo(folder, spec, scan))
    return base / "demo.duckdb"


def _build_demo(base: Path, spec: DemoSpec, scan: bool) -> None:
    from data.store import Store

    db = base / "demo.duckdb"
    base.mkdir(parents=True, exist_ok=True)
    store = Store(db)
    try:
        ingest_demo(store, spec, base / "files")
        if scan:
            from anomaly.scan import scan as run_scan

            run_scan(store, trigger="test")
        from data.demo.plans import seed_plans

        seed_plans(store, json.loads((base / "files" / "story.json").read_text(encoding="utf-8")), end=spec.as_of)
    finally:
        store.close()


def scanned_copy(src: Path, base: Path) -> Path:
    """`base`/demo.duckdb: a copy of the store `src` after a full anomaly scan, made on the first
    call only and shared by the xdist workers (as `demo_store`; `src` must be one of its stores)."""
    from anomaly.scan import scan as run_scan
    from data.store import Store

    def build(folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copy(src, folder / "demo.duckdb")
        store = Store(folder / "demo.duckdb")
        try:
            run_scan(store, trigger="test")
        finally:
            store.close()

    built_once(base, f"scanned-{key_of(src.parent)}", build)  # the source's recipe, as-of date included
    return base / "demo.duckdb"
