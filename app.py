"""BankPulse 银行工作动态监测 — the router: page config, language, navigation."""

import streamlit as st

from pages._ui.i18n import LANG_NAMES, LANGS, t
from pages._ui.router import ensure_router
from pages._ui.store import data_version, get_store

ensure_router()  # app.py routes every page (see pages/_ui/router.py)

st.set_page_config(page_title="BankPulse 银行工作动态监测", page_icon=":material/monitoring:", layout="wide")

with st.sidebar:
    # Bound to the URL (key "lang"). A bound widget writes its *label* to the URL, so English is
    # ?lang=English; the value stays in the URL across page switches. Chinese is the default
    # (no parameter). t() reads st.session_state["lang"] ("zh" | "en").
    st.segmented_control(
        "语言 / Language",
        LANGS,
        default="zh",
        format_func=LANG_NAMES.get,
        key="lang",
        bind="query-params",
    )

page = st.navigation(
    [
        st.Page("pages/overview.py", title=t("nav.overview"), icon=":material/dashboard:",
                help=t("nav.overview.help"), default=True),
        st.Page("pages/data.py", title=t("nav.data"), icon=":material/upload_file:",
                help=t("nav.data.help")),
    ]
)

store_info = st.sidebar.container()

page.run()

# Filled after the page ran, so a load or rollback on this run shows its new data version.
with store_info:
    st.caption(t("app.db", path=get_store().path))
    st.caption(t("app.data_version", v=data_version()))
