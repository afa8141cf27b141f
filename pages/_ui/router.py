"""Keep Streamlit's legacy `pages/` auto-discovery from bypassing app.py's router — in one place.

The pages live in `pages/` (a project decision). Streamlit decides once per process, when the
first session starts, whether the app is a legacy (v1) multipage app: it is when a `pages/`
folder sits next to the entry point and no script has called `st.navigation` yet. The first
session that opens a page URL directly (a fresh server and a bookmark of /data) then runs that
page on its own, without app.py: no sign-in gate, no language control, no wide layout, a
navigation of raw file names. Streamlit (1.67) has no setting for this and runs nothing of the
app at server start, so the handover happens on the first import of `pages._ui`, which app.py
and every page make before drawing anything: `pages/_ui/__init__.py` calls `take_charge()`.
It switches the process to the v2 behaviour (what `st.navigation` itself does) and reruns, so
app.py routes the same page URL; in every later run it is a no-op.

AppTest starts each run as a fresh process would; the tests put the router in charge the same
way once for the whole test process (tests/conftest.py, `router_in_charge`).
"""

from __future__ import annotations


def take_charge() -> None:
    """Hand a legacy `pages/` run over to app.py (a no-op outside a script run and once app.py routes)."""
    import streamlit as st
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    try:  # a private flag of Streamlit: guard against it moving in a later version
        from streamlit.runtime.pages_manager import PagesManager
    except ImportError:  # pragma: no cover
        return
    if get_script_run_ctx() is not None and getattr(PagesManager, "uses_pages_directory", False):
        PagesManager.uses_pages_directory = False
        st.rerun()
