"""数据管理 Data: upload exports, review their issues, roll back loads, download templates."""

from pathlib import Path

import streamlit as st

from data.batches import RollbackError, list_batches, may_see_details, rollback
from data.exports import to_csv_bytes
from data.ops import OPS
from data.settings import get_settings
from data.sources import SOURCES
from metrics.format import fmt_count
from pages._ui import auth
from pages._ui.i18n import current_lang, pick, source_label, t, tr
from pages._ui.progress import ProgressBar
from pages._ui.store import get_store
from pages._ui.tables import batches_frame, columns_frame, issues_frame_for, mapping_frame, template_frame
from pages._ui.upload import ACCEPTED_TYPES, load_upload, rejected_too_large, rights_for, too_large
from pages._ui.widgets import inert

USER = auth.user_name()  # app.py lets analysts and above open this page; rollback is for admins
ISSUE_PREVIEW_ROWS = 200
STATUS_STYLE = {  # badge colour, alert kind
    "loaded": ("green", "success"),
    "partial": ("orange", "warning"),
    "already_loaded": ("blue", "info"),
    "rejected": ("red", "error"),
    "preview": ("violet", "info"),
}

lang = current_lang()
store = get_store()
max_mb = get_settings().upload_max_mb

if "data_results" not in st.session_state:
    st.session_state.data_results = []  # IngestResult of the last load, kept across reruns
if "data_rb_pending" not in st.session_state:
    st.session_state.data_rb_pending = None  # batch id awaiting rollback confirmation
if "data_rb_outcome" not in st.session_state:
    st.session_state.data_rb_outcome = None  # ("success" | "error", text)

st.title(t("data.title"), anchor=False)
st.caption(t("data.caption"))

# -- upload ------------------------------------------------------------------------------
st.subheader(t("up.header"), anchor=False)
with st.container(border=True):
    files = st.file_uploader(
        t("up.files"),
        type=ACCEPTED_TYPES,
        accept_multiple_files=True,
        key="data_files",
        help=t("up.files.help", mb=max_mb),
        max_upload_size=max_mb,
    )
    with st.container(horizontal=True, vertical_alignment="bottom"):
        source = st.selectbox(
            t("up.source"),
            [None, *SOURCES],
            format_func=lambda s: tr("up.auto", lang) if s is None else source_label(s, lang),
            key="data_source",
            width=320,
        )
        allow_partial = st.checkbox(t("up.partial"), key="data_partial", help=t("up.partial.help"))
        preview_clicked = st.button(t("up.preview"), key="data_preview", icon=":material/preview:",
                                    help=t("up.preview.help"))
        load_clicked = st.button(t("up.load"), key="data_load", type="primary", icon=":material/upload:")
    progress_area = st.container()

if preview_clicked and files:
    # detect and validate only: nothing is written, so nothing to audit; the preview shows the
    # rows outside the person's boundary as the load would refuse them
    rights = rights_for(auth.current_user(), store)
    previews = []
    with progress_area:
        for f in files:
            bar = ProgressBar(inert(f.name), lang)
            res = rejected_too_large(store, f.name, f.size) if too_large(store, f.size) else \
                load_upload(store, f.name, f.getvalue(), source=source, allow_partial=allow_partial, user=USER,
                            dry_run=True, rights=rights, progress=bar.report)
            bar.finish(t(f"status.{res.status}"))
            previews.append(res)
    st.session_state.data_results = previews

if (load_clicked or preview_clicked) and not files:
    st.warning(t("up.none"), icon=":material/warning:")
elif load_clicked:
    if not files:
        st.warning(t("up.none"), icon=":material/warning:")
    else:
        results = []
        rights = rights_for(auth.current_user(), store)  # the boundary before any of these files loads
        with progress_area:
            for f in files:
                bar = ProgressBar(inert(f.name), lang)
                if too_large(store, f.size):  # checked before the bytes are read or parsed
                    res = rejected_too_large(store, f.name, f.size)
                else:
                    res = load_upload(store, f.name, f.getvalue(), source=source, allow_partial=allow_partial,
                                      user=USER, progress=bar.report, rights=rights)
                bar.finish(t(f"status.{res.status}"))
                auth.record("upload", target=res.file_name, outcome="ok" if res.ok else "failed",
                            detail={"status": res.status, "batch": res.batch_id, "source": res.source,
                                    "rows": res.rows_loaded, "bytes": f.size})
                results.append(res)
        st.session_state.data_results = results


def clear_results() -> None:
    st.session_state.data_results = []


# -- results of the last load ------------------------------------------------------------
if st.session_state.data_results:
    with st.container(horizontal=True, vertical_alignment="center"):
        st.subheader(t("res.header"), anchor=False)
        st.button(t("res.clear"), key="data_clear", on_click=clear_results, type="tertiary", icon=":material/close:")
    for i, res in enumerate(st.session_state.data_results):
        color, kind = STATUS_STYLE.get(res.status, ("gray", "info"))
        with st.container(border=True, key=f"data_result_{i}"):
            with st.container(horizontal=True, vertical_alignment="center"):
                st.markdown(f"**{inert(res.file_name)}**")  # a file name is user input
                st.badge(t(f"status.{res.status}"), color=color)
            getattr(st, kind)(res.message(lang).replace(res.file_name, inert(res.file_name)))
            facts = {
                t("res.source"): source_label(res.source, lang),
                t("res.encoding"): res.encoding or "—",
                t("res.batch"): str(res.batch_id) if res.batch_id is not None else "—",
                t("res.rows_in"): fmt_count(res.rows_in),
                t("col.rows_loaded"): fmt_count(res.rows_loaded),
                t("col.rows_updated"): fmt_count(res.rows_updated),
                t("col.rows_rejected"): fmt_count(res.rows_rejected),
            }
            st.table(facts, border="horizontal", width="content")
            if res.preview is not None and not res.preview.empty:
                with st.expander(t("res.preview"), expanded=True):
                    st.dataframe(res.preview, hide_index=True, alt=t("res.preview"))
            if res.mapping:
                with st.expander(t("res.mapping")):
                    st.dataframe(mapping_frame(res.mapping, res.source, lang), hide_index=True,
                                 alt=t("res.mapping"))
            n = len(res.issues)
            if n:
                st.markdown(f"**{t('res.issues', n=fmt_count(n))}**")
                if n > ISSUE_PREVIEW_ROWS:
                    st.caption(t("res.issues_preview", n=ISSUE_PREVIEW_ROWS))
                st.dataframe(issues_frame_for(res.issues.head(ISSUE_PREVIEW_ROWS), lang), hide_index=True,
                             alt=t("res.issues", n=n))
                st.download_button(
                    t("res.download_issues"),
                    data=auth.audited(lambda res=res: to_csv_bytes(issues_frame_for(res.issues, lang, one_language=False)),
                                      "export", f"{Path(res.file_name).stem}_issues.csv"),
                    file_name=f"{Path(res.file_name).stem}_issues.csv",
                    mime="text/csv",
                    key=f"data_result_dl_{i}",
                    icon=":material/download:",
                    on_click="ignore",
                )
            else:
                st.caption(t("res.no_issues"))

# -- batch history -----------------------------------------------------------------------
st.subheader(t("hist.header"), anchor=False)
batches = list_batches(store)
by_id = {b.batch_id: b for b in batches}


def ask_rollback() -> None:
    st.session_state.data_rb_pending = st.session_state.get("data_batch")
    st.session_state.data_rb_outcome = None


def cancel_rollback() -> None:
    st.session_state.data_rb_pending = None


def do_rollback(batch_id: int) -> None:
    """Runs before the rerun, so the history below already shows the result."""
    st.session_state.data_rb_pending = None
    if not auth.can("rollback"):
        auth.record("rollback", target=f"batch {batch_id}", outcome="denied")
        st.session_state.data_rb_outcome = ("error", t("auth.no_permission"))
        return
    try:
        r = rollback(get_store(), batch_id, user=USER, boundary=auth.boundary())
    except RollbackError as exc:
        auth.record("rollback", target=f"batch {batch_id}", outcome="failed", detail={"error": str(exc)})
        st.session_state.data_rb_outcome = ("error", pick(str(exc), current_lang()))
    else:
        auth.record("rollback", target=f"batch {batch_id}",
                    detail={"removed": r.rows_removed, "restored": r.rows_restored})
        st.session_state.data_rb_outcome = (
            "success", t("hist.rolled_back", id=r.batch_id, removed=r.rows_removed, restored=r.rows_restored))


if not batches:
    st.info(t("hist.empty"), icon=":material/info:")
else:
    st.dataframe(batches_frame(batches, lang), hide_index=True, alt=t("hist.header"), key="data_history")
    with st.container(horizontal=True, vertical_alignment="bottom"):
        chosen = st.selectbox(
            t("hist.pick"),
            list(by_id),
            format_func=lambda i: f"{i} · {by_id[i].file_name} · {tr('status.' + by_id[i].status, lang)}",
            key="data_batch",
            width=420,
        )
        batch = by_id[chosen]
        # issue rows hold cell values: only for people whose boundary covers the batch (docs/security.md)
        visible = may_see_details(store.cursor(), batch, auth.boundary(), USER)
        st.download_button(
            t("hist.download"),
            data=auth.audited(lambda: to_csv_bytes(issues_frame_for(OPS.batch_issues(store.cursor(), chosen), lang,
                                                                   one_language=False)),
                              "export", f"batch_{chosen}_issues.csv"),
            file_name=f"batch_{chosen}_issues.csv",
            mime="text/csv",
            key="data_batch_dl",
            icon=":material/download:",
            on_click="ignore",
            disabled=not visible,
            help=None if visible else t("hist.outside"),
        )
        if auth.can("rollback"):
            st.button(t("hist.rollback"), key="data_rollback", icon=":material/undo:", on_click=ask_rollback,
                      disabled=batch.status == "rolled_back",
                      help=t("hist.already") if batch.status == "rolled_back" else None)

    pending = st.session_state.data_rb_pending
    if pending is not None and pending in by_id and auth.can("rollback"):
        pb = by_id[pending]
        with st.container(border=True, key="data_rb_confirm"):
            st.warning(t("hist.confirm_body", id=pending, file=inert(pb.file_name), rows=fmt_count(pb.rows_loaded)),
                       title=t("hist.confirm_title", id=pending), icon=":material/warning:")
            with st.container(horizontal=True):
                st.button(t("hist.confirm"), key="data_rb_yes", type="primary", on_click=do_rollback,
                          args=(pending,), icon=":material/undo:")
                st.button(t("hist.cancel"), key="data_rb_no", on_click=cancel_rollback)

outcome = st.session_state.data_rb_outcome
if outcome is not None:
    kind, text = outcome
    if kind == "error":
        st.error(text, title=t("hist.rollback_failed"), icon=":material/error:")
    else:
        st.success(text, icon=":material/check_circle:")

# -- templates ---------------------------------------------------------------------------
st.subheader(t("tpl.header"), anchor=False)
st.caption(t("tpl.caption"))
with st.container(horizontal=True):
    for name in SOURCES:
        st.download_button(
            t("tpl.download", label=source_label(name, lang)),
            data=to_csv_bytes(template_frame(name)),
            file_name=f"template_{name}.csv",
            mime="text/csv",
            key=f"data_tpl_{name}",
            icon=":material/download:",
            on_click="ignore",
        )
with st.expander(t("tpl.columns")):
    tabs = st.tabs([source_label(name, lang) for name in SOURCES])
    for tab, name in zip(tabs, SOURCES, strict=True):
        with tab:
            desc = SOURCES[name].description_zh if lang == "zh" else SOURCES[name].description_en
            st.caption(desc)
            st.dataframe(columns_frame(name, lang), hide_index=True, alt=source_label(name, lang))
