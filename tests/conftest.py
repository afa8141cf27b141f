"""Suite-wide test settings and the shared test plumbing.

The stores: `demo_db` (the demo, 3 outlets; page tests), `scanned_demo_db` (the same after a
scan), per-test copies with the app pointed at them (`app_db`, `scanned_app_db`), and
`demo_db_template` / `secure_store` (6 outlets in 3 regions, with the PEOPLE; access tests). The
one cache reset and the one AppTest start-up are tests/helpers_app.py, the one browser start-up
tests/helpers_browser.py (`running_app`, and the `browser` fixture here).

The pages' own tests open app.py without signing in: the suite runs with `BANKPULSE_AUTH=none`
(everyone is the local admin "test"; pages/_ui/auth.py refuses that mode off the loopback
address). Set before any test module imports the app, and inherited by the servers the browser
tests start. The sign-in, role and scope tests (tests/test_auth*.py, tests/test_security*.py,
tests/test_browser_oidc.py) switch to `local` or `oidc` with monkeypatch.
"""

import os
import shutil
import sys
from pathlib import Path

import pytest

os.environ["BANKPULSE_AUTH"] = "none"

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # `pages` is not an installed package; the app adds its own dir
    sys.path.insert(0, str(ROOT))

# -- shared by the sign-in, role and scope tests ------------------------------------------------
# The people of the access tests (branches from the demo data: 华东区 0101xxx/0102xxx, 华南区 02xxxxx).
PEOPLE = {
    "adm": ("admin", None, ""),
    "mgr": ("manager", None, "0201001"),  # a manager of 华南区 (the region of their branch)
    "ana": ("analyst", None, "0101001"),
    "vw": ("viewer", None, "0101001"),
}
PASSWORD = "correct-horse-battery"


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory) -> Path:
    """The demo store of the session (3 outlets × 1 year, seed 1, through the real ingest; built
    once, ~30 s). Read-only: a test that writes works on a copy (`app_db`)."""
    from helpers_demo import demo_store

    return demo_store(tmp_path_factory.getbasetemp() / "bankpulse_demo")


@pytest.fixture(scope="session")
def scanned_demo_db(demo_db, tmp_path_factory) -> Path:
    """The demo store after a full anomaly scan (built once from `demo_db`). Read-only."""
    from helpers_demo import scanned_copy

    return scanned_copy(demo_db, tmp_path_factory.getbasetemp() / "bankpulse_demo_scanned")


def _app_copy(src: Path, tmp_path: Path, monkeypatch):
    from helpers_app import reset_caches, use_store

    path = tmp_path / "bankpulse.duckdb"
    shutil.copy(src, path)
    yield use_store(path, monkeypatch)
    reset_caches()


@pytest.fixture()
def app_db(demo_db, tmp_path, monkeypatch) -> Path:
    """A copy of the demo store for this test, the app pointed at it, caches reset around it."""
    yield from _app_copy(demo_db, tmp_path, monkeypatch)


@pytest.fixture()
def scanned_app_db(scanned_demo_db, tmp_path, monkeypatch) -> Path:
    """A copy of the scanned demo store for this test, as `app_db`."""
    yield from _app_copy(scanned_demo_db, tmp_path, monkeypatch)


@pytest.fixture(scope="session")
def demo_db_template(tmp_path_factory):
    """A small demo store (6 outlets in 3 regions, one year), built once per session."""
    from helpers_demo import AS_OF, AS_OF_ARG, built_once

    from cli.main import main

    def build(d):
        assert main(["--db", str(d / "template.duckdb"), "demo", "--load", "--branches", "6", "--years", "1",
                     *AS_OF_ARG, "--out", str(d / "files"), "--no-scan", "--no-plans"]) == 0  # plans tests write their own

    return built_once(tmp_path_factory.getbasetemp() / "secure_demo", f"cli-6x1-{AS_OF:%Y%m%d}", build) / "template.duckdb"


@pytest.fixture()
def secure_store(demo_db_template, tmp_path, monkeypatch):
    """A copy of the demo store with the four PEOPLE, local sign-in on; caches cleared around it."""
    from helpers_app import reset_caches, use_store

    import data.store
    from data.users import UserStore

    path = tmp_path / "bankpulse.duckdb"
    shutil.copy(demo_db_template, path)
    monkeypatch.setenv("BANKPULSE_AUTH", "local")
    use_store(path, monkeypatch)
    store = data.store.open_store()
    users = UserStore(store)
    for name, (role, region, branches) in PEOPLE.items():
        users.add("test-setup", name, role, password=PASSWORD, region=region, branches=branches)
    yield store
    reset_caches()


@pytest.fixture(scope="session", autouse=True)
def router_in_charge():
    """Every AppTest run as a server runs once app.py's router is in charge (pages/_ui/router.py).

    AppTest re-detects the legacy `pages/` folder before every run, as a fresh process would, so
    each run would hand over to the router and drop the widget values of that run. The handover
    itself is covered on a fresh server by the browser tests (tests/test_browser_data_page.py
    opens /data first).
    """
    from streamlit.runtime.pages_manager import PagesManager

    original = PagesManager.__init__

    def init(self, *args, **kwargs):
        original(self, *args, **kwargs)
        PagesManager.uses_pages_directory = False

    mp = pytest.MonkeyPatch()
    mp.setattr(PagesManager, "__init__", init)
    yield
    mp.undo()


@pytest.fixture(scope="module")
def browser():
    """Headless system Chromium for a module's browser tests (skipped without /usr/bin/chromium)."""
    from helpers_browser import chromium, require_chromium

    require_chromium()
    with chromium() as b:
        yield b


@pytest.fixture(scope="module")
def demo_server(scanned_demo_db, tmp_path_factory):
    """The real app (`streamlit run server.py`, as `make run`) on a copy of the scanned demo store, for a module's
    browser tests: (base URL, db path)."""
    from helpers_browser import require_chromium, running_app

    require_chromium()
    tmp = tmp_path_factory.mktemp("demo_server")
    db = tmp / "bankpulse.duckdb"
    shutil.copy(scanned_demo_db, db)
    with running_app(db, tmp) as (base, _):
        yield base, db


# -- the adversarial suite's counts (tests/test_adversarial.py) ----------------------------------

def pytest_sessionstart(session):
    """Forget the counts of an earlier run (on the controller only: workers start after it)."""
    if not hasattr(session.config, "workerinput"):
        import shutil

        shutil.rmtree(ROOT / "tests" / "artifacts" / "adversarial", ignore_errors=True)


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    """Print what the adversarial suite tried and found, added up over the xdist workers."""
    import json

    files = sorted((ROOT / "tests" / "artifacts" / "adversarial").glob("*.json"))
    if not files:
        return
    totals: dict[str, dict[str, int]] = {}
    for f in files:
        d = json.loads(f.read_text(encoding="utf-8"))
        part = totals.setdefault(d.pop("part"), {})
        for k, v in d.items():
            part[k] = part.get(k, 0) + int(v)
    terminalreporter.section("adversarial suite")
    for part, counts in totals.items():
        terminalreporter.write_line(f"{part}: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
