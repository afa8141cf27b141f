"""BankPulse 银行工作动态监测 — the router: page config, language, sign-in, filters, navigation.

Every page runs through here: the navigation is built from the page declarations
(pages/_ui/pagelist.py), lists only the pages of the signed-in role, and a deep link to another
page is refused by name (pages/_ui/auth.py).
"""

import streamlit as st

from pages._ui import auth, urlstate
from pages._ui.filters import render_sidebar
from pages._ui.i18n import LANG_NAMES, LANGS, t
from pages._ui.pagelist import PageDecl, by_section, page_at
from pages._ui.store import data_version, get_store

st.set_page_config(page_title="BankPulse 银行工作动态监测", page_icon=":material/monitoring:", layout="wide")

with st.sidebar:
    # The language is a code in the URL (?lang=en; Chinese, the default, needs none), so a copied
    # link opens in the same language on any page (see pages/_ui/urlstate.py).
    urlstate.seed("lang", urlstate.choice_parser(LANGS), "zh")
    lang = st.segmented_control("语言 / Language", LANGS, format_func=LANG_NAMES.get, key="lang") or "zh"
    urlstate.publish("lang", lang, "zh")

user = auth.session()  # None before sign-in (or after the idle timeout)


def _page(p: PageDecl) -> st.Page:
    """A declared page, shown in the navigation only when the role may open it. Pages the role may
    not open stay registered but hidden, so a deep link resolves and is refused by name."""
    shown = user is not None and auth.may_open(p.url)
    return st.Page(p.path, title=t(p.title_key), icon=p.icon, help=t(p.help_key), url_path=p.url,
                   default=p.default, visibility="visible" if shown else "hidden")


page = st.navigation(
    {t(s.title_key) if s.title_key else "": [_page(p) for p in ps] for s, ps in by_section().items()},
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
    if page_at(page.url_path).filters:
        render_sidebar()  # the person's access boundary is folded into every Scope (filters.py)
    page.run()

# Filled after the page ran, so a load or rollback on this run shows its new data version.
with store_info:
    if auth.can("settings"):  # the file path is for administrators
        st.caption(t("app.db", path=get_store().path))
    st.caption(t("app.data_version", v=data_version()))
