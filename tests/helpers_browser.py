"""Shared pieces of the browser tests: the real app on a free port, headless Chromium.

`running_app` starts the app the way `make run` does (`streamlit run server.py` with the Makefile's
SERVE_FLAGS: st.App with the sign-in cookie's routes, no file watching) as a subprocess against a
given DuckDB file and the worktree's code (PYTHONPATH), waits for its health endpoint, yields the
base URL and, on exit, stops it and fails the test if the server log holds a traceback or a file
watcher's (inotify) message. `chromium` launches the system Chromium through Playwright.
"""

from __future__ import annotations

import contextlib
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM = "/usr/bin/chromium"


def serve_flags() -> list[str]:
    """The Makefile's SERVE_FLAGS (`make run`), as `--option=value` arguments."""
    m = re.search(r"^SERVE_FLAGS := (.*)$", (ROOT / "Makefile").read_text(), re.M)
    words = m.group(1).split()
    return [f"{k}={v}" for k, v in zip(words[::2], words[1::2], strict=True)]


def require_chromium() -> None:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} not installed (apt-get install chromium fonts-noto-cjk)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def running_app(db: Path, tmp: Path, *, script: str | Path = "server.py", env: dict[str, str] | None = None,
                port: int | None = None, host: str = "127.0.0.1", extra_args: tuple[str, ...] = (),
                timeout: float = 90) -> Iterator[tuple[str, subprocess.Popen]]:
    """The app served from `script` (default: server.py, as `make run`) with BANKPULSE_DB=`db`:
    yields (base URL on `host`, process); the server's log is `tmp`/server.log."""
    port = port or free_port()
    log_path = tmp / "server.log"
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", str(script), "--server.headless=true", f"--server.port={port}",
             "--server.address=127.0.0.1", *serve_flags(), "--browser.gatherUsageStats=false", *extra_args],
            cwd=ROOT, env={**os.environ, "PYTHONPATH": _pythonpath(), "BANKPULSE_DB": str(db), **(env or {})},
            stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + timeout
            while True:
                try:
                    if urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2).read() == b"ok":
                        break
                except OSError:
                    pass
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"streamlit did not start:\n{log_path.read_text()}")
                time.sleep(0.3)
            yield f"http://{host}:{port}", proc
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
    server_log = log_path.read_text()
    assert "Traceback" not in server_log, server_log
    assert "inotify" not in server_log.lower(), server_log  # the served app watches no files


def _pythonpath() -> str:
    """The worktree first: the editable install would otherwise import another checkout's code."""
    rest = os.environ.get("PYTHONPATH", "")
    return os.pathsep.join([str(ROOT), *([rest] if rest else [])])


@contextlib.contextmanager
def chromium():
    """Headless system Chromium (Playwright)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync"])
        try:
            yield b
        finally:
            b.close()


def idle(page, timeout: int = 60_000, settle: int = 400) -> None:
    """Wait until the script run triggered by the last interaction has finished."""
    page.wait_for_timeout(settle)
    page.wait_for_selector("[data-testid=stApp][data-test-script-state=notRunning]", timeout=timeout)
