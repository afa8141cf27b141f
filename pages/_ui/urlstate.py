"""Widgets whose value lives in the URL as a stable code (`?lang=en&grain=month&region=华东区`).

Streamlit's `bind="query-params"` writes a widget's *label* to the URL, which changes with the
language (a Chinese link would not reopen in English) and cannot spell `?lang=en`. So the app
keeps codes itself: on every run (app.py runs before every page) a widget is seeded from the
URL when the URL changed — a pasted link, the browser's back button — and its value is written
back, dropped when it equals the default so links stay short. Pages switch without losing it,
because app.py writes it again on the new page's first run.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st

_SEEN = "_url_seen_{}"


def seed(key: str, parse: Callable[[str], Any], default: Any) -> None:
    """Put the URL's value for `key` into Session State before the widget renders.

    `parse` turns the URL text into a value or raises ValueError (then the default is kept).
    """
    raw = st.query_params.get(key)
    seen = st.session_state.get(_SEEN.format(key))
    if key in st.session_state and (raw is None or raw == seen):
        return
    value = default
    if raw is not None:
        try:
            value = parse(raw)
        except (ValueError, TypeError):
            value = default
    st.session_state[key] = value


def publish(key: str, value: Any, default: Any, code: Callable[[Any], str] = str) -> None:
    """Write the widget's value to the URL (remove it when it is the default)."""
    if value is None or value == default:
        if key in st.query_params:
            del st.query_params[key]
        st.session_state[_SEEN.format(key)] = None
        return
    text = code(value)
    if st.query_params.get(key) != text:
        st.query_params[key] = text
    st.session_state[_SEEN.format(key)] = text


def choice_parser(options: list | tuple) -> Callable[[str], Any]:
    """A parser that accepts exactly one of `options` (compared as text)."""
    by_text = {str(o): o for o in options}

    def parse(raw: str):
        if raw not in by_text:
            raise ValueError(raw)
        return by_text[raw]

    return parse
