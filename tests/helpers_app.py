"""Shared pieces of the AppTest tests: the app's entry point, the one cache reset, the one start-up.

`use_store` points the app at a DuckDB file (BANKPULSE_DB) with every cache reset, so the next
run reads that file; `open_app` runs app.py (optionally in a language, optionally on a page) the
way a browser first opens it.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

import data.settings
import data.store

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app.py")


def reset_caches() -> None:
    """Forget open stores, settings and Streamlit's caches (the next run reads the environment afresh)."""
    data.store.close_all()
    data.settings.get_settings.cache_clear()
    st.cache_resource.clear()
    st.cache_data.clear()


def use_store(path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point the app at `path` (BANKPULSE_DB) with the caches reset; undone with `monkeypatch`."""
    monkeypatch.setenv("BANKPULSE_DB", str(path))
    reset_caches()
    return path


def open_app(page: str | None = None, lang: str | None = None, *, query: dict | None = None,
             user: dict | None = None, timeout: float = 120) -> AppTest:
    """app.py after its first run, then switched to `page` (a file path, "pages/x.py") if given.

    `lang` goes into the URL (?lang=en), as a copied link carries it; tests that need an English
    page rerun after widget changes choose it with the language control instead (AppTest formats
    a selectbox value outside a script run, where the text falls back to Chinese). `user` is
    `st.user` (single sign-on).
    """
    at = AppTest.from_file(APP, default_timeout=timeout)
    if lang:
        at.query_params["lang"] = lang
    for k, v in (query or {}).items():
        at.query_params[k] = v
    if user is not None:
        at.user = user
    at.run()
    if page:  # the first run's own errors are the caller's to check (a damaged store breaks "/")
        at.switch_page(page).run()
    return at
