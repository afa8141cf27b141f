"""总览 Overview: live row counts per data type and the latest loads (real data only)."""

import streamlit as st

from data.batches import list_batches
from data.sources import SOURCES
from data.sqlfiles import ident
from metrics.format import fmt_count
from pages._ui.i18n import current_lang, source_label, t
from pages._ui.router import ensure_router
from pages._ui.store import data_version, get_store
from pages._ui.tables import batches_frame

ensure_router()  # app.py routes every page (see pages/_ui/router.py)

lang = current_lang()
store = get_store()

st.title(t("ov.title"), anchor=False)
st.caption(t("ov.caption"))


@st.cache_data(show_spinner=False, max_entries=16)
def row_counts(db: str, version: int) -> dict[str, int]:
    """Rows per source table; keyed by the data version so loads refresh it."""
    cur = get_store().cursor()
    try:
        return {name: cur.execute(f"SELECT count(*) FROM {ident(src.table)}").fetchone()[0]
                for name, src in SOURCES.items()}
    finally:
        cur.close()


counts = row_counts(str(store.path), data_version())

st.subheader(t("ov.rows"), anchor=False)
with st.container(horizontal=True):
    for name, n in counts.items():
        st.metric(source_label(name, lang), f"{fmt_count(n)} {t('ov.rows_unit')}", border=True)

st.subheader(t("ov.latest"), anchor=False)
batches = list_batches(store, limit=10)
if batches:
    st.dataframe(batches_frame(batches, lang), hide_index=True, alt=t("ov.latest"))
else:
    st.info(t("ov.empty"), icon=":material/info:")
