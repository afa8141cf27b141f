"""BankPulse 银行工作动态监测 — the router: page config, language, filters, navigation."""

import streamlit as st

from pages._ui import urlstate
from pages._ui.filters import render_sidebar
from pages._ui.i18n import LANG_NAMES, LANGS, t
from pages._ui.router import ensure_router
from pages._ui.store import data_version, get_store

ensure_router()  # app.py routes every page (see pages/_ui/router.py)

st.set_page_config(page_title="BankPulse 银行工作动态监测", page_icon=":material/monitoring:", layout="wide")

with st.sidebar:
    # The language is a code in the URL (?lang=en; Chinese, the default, needs none), so a copied
    # link opens in the same language on any page (see pages/_ui/urlstate.py).
    urlstate.seed("lang", urlstate.choice_parser(LANGS), "zh")
    lang = st.segmented_control("语言 / Language", LANGS, format_func=LANG_NAMES.get, key="lang") or "zh"
    urlstate.publish("lang", lang, "zh")

page = st.navigation(
    {
        "": [
            st.Page("pages/overview.py", title=t("nav.overview"), icon=":material/dashboard:",
                    help=t("nav.overview.help"), default=True),
        ],
        t("nav.section.monitor"): [
            st.Page("pages/counter.py", title=t("nav.counter"), icon=":material/groups:", help=t("nav.counter.help")),
            st.Page("pages/credit.py", title=t("nav.credit"), icon=":material/account_balance:", help=t("nav.credit.help")),
            st.Page("pages/feedback.py", title=t("nav.feedback"), icon=":material/forum:", help=t("nav.feedback.help")),
            st.Page("pages/market.py", title=t("nav.market"), icon=":material/trending_up:", help=t("nav.market.help")),
            st.Page("pages/anomalies.py", title=t("nav.anomalies"), icon=":material/notification_important:",
                    help=t("nav.anomalies.help")),
            st.Page("pages/briefing.py", title=t("nav.briefing"), icon=":material/picture_as_pdf:",
                    help=t("nav.briefing.help")),
        ],
        t("nav.section.manage"): [
            st.Page("pages/data.py", title=t("nav.data"), icon=":material/upload_file:", help=t("nav.data.help")),
        ],
    }
)

if page.url_path not in ("data", "anomalies"):
    render_sidebar()
store_info = st.sidebar.container()

page.run()

# Filled after the page ran, so a load or rollback on this run shows its new data version.
with store_info:
    st.caption(t("app.db", path=get_store().path))
    st.caption(t("app.data_version", v=data_version()))
