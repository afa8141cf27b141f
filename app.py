"""BankPulse 银行工作动态监测 — the router: page config, language, sign-in, filters, navigation.

Every page runs through here: the navigation lists only the pages of the signed-in role, and a
deep link to another page is refused by name (pages/_ui/auth.py).
"""

import streamlit as st

from pages._ui import auth, urlstate
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

user = auth.session()  # None before sign-in (or after the idle timeout)


def _page(path: str, title: str, icon: str, help_key: str | None = None, **kw) -> st.Page:
    """A page shown in the navigation only when the role may open it (`auth.PAGES`). Pages the role
    may not open stay registered but hidden, so a deep link resolves and is refused by name."""
    url = kw.get("url_path") or path.rsplit("/", 1)[-1].removesuffix(".py")
    shown = user is not None and auth.may_open(url)
    return st.Page(path, title=title, icon=icon, help=t(help_key) if help_key else None,
                   visibility="visible" if shown else "hidden", **kw)


page = st.navigation(
    {
        "": [
            _page("pages/overview.py", t("nav.overview"), ":material/dashboard:", "nav.overview.help", default=True),
        ],
        t("nav.section.monitor"): [
            _page("pages/counter.py", t("nav.counter"), ":material/groups:", "nav.counter.help"),
            _page("pages/credit.py", t("nav.credit"), ":material/account_balance:", "nav.credit.help"),
            _page("pages/feedback.py", t("nav.feedback"), ":material/forum:", "nav.feedback.help"),
            _page("pages/market.py", t("nav.market"), ":material/trending_up:", "nav.market.help"),
            _page("pages/anomalies.py", t("nav.anomalies"), ":material/notification_important:", "nav.anomalies.help"),
            _page("pages/briefing.py", t("nav.briefing"), ":material/picture_as_pdf:", "nav.briefing.help"),
        ],
        t("nav.section.manage"): [
            _page("pages/data.py", t("nav.data"), ":material/upload_file:", "nav.data.help"),
        ],
        t("nav.section.admin"): [
            _page("pages/admin.py", t("nav.admin"), ":material/admin_panel_settings:", "nav.admin.help"),
        ],
    },
    # before sign-in nothing is listed, but the URL (a deep link) is kept for after it
    position="sidebar" if user is not None else "hidden",
)

# Sign-in (or the signed-in person, with the idle timeout checked); stop here without one.
if auth.gate() is None:
    st.stop()
auth.account_box()

store_info = st.sidebar.container()
if not auth.may_open(page.url_path):
    auth.refuse(page.title)  # a deep link or a stale link to a page this role may not open
else:
    if page.url_path not in ("data", "anomalies", "admin"):
        render_sidebar()  # the person's access boundary is folded into every Scope (filters.py)
    page.run()

# Filled after the page ran, so a load or rollback on this run shows its new data version.
with store_info:
    if auth.can("settings"):  # the file path is for administrators
        st.caption(t("app.db", path=get_store().path))
    st.caption(t("app.data_version", v=data_version()))
