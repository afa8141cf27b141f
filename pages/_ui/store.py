"""The store shared by all sessions of this process."""

from __future__ import annotations

import streamlit as st

from data.settings import get_settings
from data.store import Store, open_store


@st.cache_resource(show_spinner=False, max_entries=4)
def _store_for(db: str) -> Store:
    return open_store(db)


def get_store() -> Store:
    """One store (one DuckDB connection) per process; callers take a cursor per query."""
    return _store_for(str(get_settings().db))


def data_version() -> int:
    """The store's data version: bumped by every load and rollback (a cache key)."""
    return get_store().data_version()
