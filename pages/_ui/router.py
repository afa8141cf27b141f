"""Keep Streamlit's legacy `pages/` auto-discovery from bypassing app.py's router.

The pages live in `pages/` (a project decision). While a process has not yet run
`st.navigation`, Streamlit treats that folder as a v1 multipage app: the first session that
opens a page URL directly (a fresh server and a bookmark of /data) runs the page on its own,
without app.py — no language control, no wide layout, a navigation of raw file names. AppTest
does this on every run. `ensure_router()` switches the process to the v2 behaviour (which
`st.navigation` itself would do) and reruns, so app.py routes to the same page URL.
"""

from __future__ import annotations

import streamlit as st


def ensure_router() -> None:
    """Call first in app.py and in every page; a no-op once the router is in charge."""
    try:  # a private flag of Streamlit: guard against it moving in a later version
        from streamlit.runtime.pages_manager import PagesManager
    except ImportError:  # pragma: no cover
        return
    if getattr(PagesManager, "uses_pages_directory", False):
        PagesManager.uses_pages_directory = False
        st.rerun()
