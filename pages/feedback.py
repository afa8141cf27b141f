
# 客户反馈 Feedback: headline KPIs, volume by channel/kind/cause, complaint hot topics, open
# cases against their limit, satisfaction, and a searchable case list.
#
# Complaint descriptions are customer-written text: they are only ever shown in st.dataframe
# cells (never as Markdown or HTML), and labels taken from data are escaped before Plotly sees them.

import html
import math

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from data.exports import to_csv_bytes
from metrics import feedback_analysis as fa
from metrics import topics as tp
from metrics.catalogue import get_metric
from metrics.model import Grain
from metrics.options import resolve
from metrics.periods import label as period_label
from metrics.scope import Scope
from pages._ui import auth, cache, charts, plan_links
from pages._ui.filters import current
from pages._ui.i18n import current_lang, t, tr
from pages._ui.store import data_version, get_store
from pages._ui.widgets import download_csv, kpi_card

lang = current_lang()
f = current()
options = resolve(None)
FLAG_COLOURS = {"overdue": "#c0392b", "due_soon": "#d68910", "open": "#2874a6"}
CODE_KEYS = {"channel": "fb.ch", "feedback_kind": "fb.kind", "status": "fb.st", "complexity": "fb.cx",
             "satisfaction": "fb.sat"}


def md_escape(text: str) -> str:
    """Data-derived text inside a caption (Markdown): shown literally."""
    return "".join("\\" + c if c in "\\`*_{}[]()<>#+-.!|~$:" else c for c in str(text))


def plot_label(text) -> str:
    """Data-derived text as a Plotly trace name or category: Plotly reads a subset of HTML."""
    return html.escape(str(text), quote=True)


def code_label(column: str, code, lng: str) -> str:
    if code is None or (isinstance(code, float) and math.isnan(code)) or code is pd.NA:
        return ""
    key = f"{CODE_KEYS[column]}.{code}"
    text = tr(key, lng)
    return str(code) if text == key else text


def labelled(df: pd.DataFrame, columns: list[str], lng: str) -> pd.DataFrame:
    """Codes → words, headers in the language (the same frame is shown and downloaded)."""
    out = df[columns].copy()
    for c in columns:
        if c in CODE_KEYS:
            out[c] = [code_label(c, v, lng) for v in out[c]]
    return out.rename(columns={c: tr(f"fb.col.{c}", lng) for c in columns})


def scope_of(key: tuple) -> Scope:
    start, end, grain, region, branch, product, branch_ids = key
    return Scope(branch_ids=None if branch_ids is None else frozenset(branch_ids), region=region, branch=branch,
                 product=product)


# -- cached reads (plain, hashable arguments; the data version refreshes them) ----------------
@st.cache_data(show_spinner=False, ttl=cache.TTL, max_entries=32)
def load_topics(key: tuple, version: int) -> tp.TopicReport:
    start, end, grain = key[0], key[1], Grain(key[2])
    return tp.hot_topics(get_store().ibis(), start, end, grain, scope_of(key))


@st.cache_data(show_spinner=False, ttl=cache.TTL, max_entries=64)
def load_open(key: tuple, opts: tuple, version: int) -> tuple[pd.DataFrame, fa.OpenSummary]:
    backend, as_of, scope = get_store().ibis(), key[1], scope_of(key)
    return (fa.open_cases(backend, as_of, scope, dict(opts)), fa.open_summary(backend, as_of, scope, dict(opts)))


@st.cache_data(show_spinner=False, ttl=cache.TTL, max_entries=256)
def load_cases(key: tuple, text: str, channels: tuple, statuses: tuple, kinds: tuple, limit: int, offset: int,
               version: int) -> tuple[pd.DataFrame, int]:
    return fa.search_cases(get_store().ibis(), key[0], key[1], scope_of(key), text=text, channels=channels,
                           statuses=statuses, kinds=kinds, limit=limit, offset=offset)


def stacked_bars(df: pd.DataFrame, by: str, names: dict, events: pd.DataFrame) -> go.Figure:
    """Per-period counts stacked by one breakdown, with the event lines of the shared charts."""
    fig = go.Figure()
    order = df.groupby(by, dropna=False)["value"].sum().sort_values(ascending=False).index
    for i, k in enumerate(order):
        g = df[df[by].isna()] if pd.isna(k) else df[df[by] == k]
        g = g.sort_values("period")
        fig.add_trace(go.Bar(x=pd.to_datetime(g["period"]), y=g["value"], name=plot_label(names.get(k, k)),
                             marker_color=charts.PALETTE[i % len(charts.PALETTE)],
                             hovertemplate="%{x|%Y-%m-%d}: %{y:,.0f}<extra>%{fullData.name}</extra>"))
    charts.add_events(fig, events, lang)
    fig.update_layout(barmode="stack", height=360, margin={"l": 10, "r": 10, "t": 10, "b": 10},
                      legend={"orientation": "h", "y": -0.18}, plot_bgcolor="white", hovermode="x unified",
                      font={"family": "Noto Sans CJK SC, Microsoft YaHei, sans-serif"})
    fig.update_yaxes(gridcolor="#eeeeee", rangemode="tozero")
    return fig


key = f.cache_key()
version = data_version()
grain_name = t(f"grain.{f.grain.value}")
events = cache.events(f.start, f.end)

st.title(t("fb.title"), anchor=False)
st.caption(t("fb.caption", scope=md_escape(f.scope.label(lang)), start=f.start.isoformat(), end=f.end.isoformat(),
             grain=grain_name, s=options["sla_simple_days"], c=options["sla_complex_days"],
             v=options["sla_very_complex_days"]))

# -- headline cards -----------------------------------------------------------------------------
for col, mid in zip(st.columns(4), ("feedback.complaints", "feedback.on_time_closure_rate",
                                    "feedback.satisfaction_rate", "feedback.open_past_limit"), strict=True):
    with col:
        kpi_card(cache.card(mid, f, options), f)

volume = cache.series("feedback.volume", f, by=("channel",), options=options)
if volume.empty or not volume["value"].sum():
    st.info(t("fb.empty"), icon=":material/info:")
    st.stop()

# -- volume by channel / kind / cause -------------------------------------------------------------
with st.container(border=True):
    head = st.container(horizontal=True, vertical_alignment="bottom")
    head.subheader(t("fb.volume"), anchor=False)
    by = head.segmented_control(t("fb.volume.by"), ["channel", "kind", "category"], default="channel",
                                key="fb_by", format_func=lambda b: tr(f"fb.by.{b}", lang)) or "channel"
    if by == "channel":
        vol, names = volume, {c: code_label("channel", c, lang) for c in volume["channel"].dropna().unique()}
    elif by == "kind":
        vol = cache.series("feedback.volume", f, by=("kind",), options=options)
        names = {k: code_label("feedback_kind", k, lang) for k in vol["kind"].dropna().unique()}
    else:
        vol = cache.series("feedback.complaints", f, by=("category",), options=options)
        names = {}
    names = {**names, None: t("fb.uncategorised")}
    vol = vol.astype({by: "object"})
    vol[by] = vol[by].where(vol[by].notna(), None)
    st.plotly_chart(stacked_bars(vol, by, names, events), key="fb_volume_chart",
                    config={"displaylogo": False})
    st.caption(t("fb.volume.note.category" if by == "category" else "fb.volume.note"))
    vol_out = vol[["period", by, "value"]].assign(**{by: [names.get(v, v) for v in vol[by]]}).rename(
        columns={"period": t("fb.col.period"), by: t(f"fb.by.{by}"), "value": get_metric(
            "feedback.complaints" if by == "category" else "feedback.volume").name(lang)})
    download_csv(vol_out, f"feedback_volume_by_{by}", key="fb_dl_volume")

# -- hot topics --------------------------------------------------------------------------------------
with st.container(border=True):
    st.subheader(t("fb.topics"), anchor=False)
    with st.spinner():
        rep = load_topics(key, version)
    if rep.n_texts == 0:
        st.info(t("fb.topics.none"), icon=":material/info:")
    else:
        st.caption(t("fb.topics.caption", n=f"{rep.n_texts:,}"))
        if rep.sampled:
            st.warning(t("fb.topics.sampled", limit=f"{tp.MAX_TEXTS:,}", n=f"{rep.n_texts:,}",
                         total=f"{rep.n_total:,}"), icon=":material/filter_alt:")
        topic_names = {k: tp.topic_name(k, lang) for k in rep.trend["topic"].unique()}
        trend = rep.trend.assign(name=[plot_label(topic_names[k]) for k in rep.trend["topic"]],
                                 value=rep.trend["count"])
        left, right = st.columns([3, 2])
        with left:
            st.markdown(f"**{t('fb.topics.trend')}**")
            st.plotly_chart(charts.line(trend, get_metric("feedback.complaints"), lang, color="name", events=events,
                                        height=360), key="fb_topics_chart", config={"displaylogo": False})
            trend_out = rep.trend.assign(topic=[topic_names[k] for k in rep.trend["topic"]]).rename(columns={
                "period": t("fb.col.period"), "topic": t("fb.col.topic"), "count": t("fb.col.complaints"),
                "share": t("fb.col.share")})
            download_csv(trend_out, "feedback_topic_trend", key="fb_dl_topic_trend")
        with right:
            st.markdown(f"**{t('fb.topics.emerging')}**")
            if rep.emerging.empty:
                st.info(t("fb.topics.emerging.none"), icon=":material/info:")
            else:
                st.caption(t("fb.topics.emerging.caption", last=period_label(rep.last_period, f.grain, lang),
                             n=len(rep.prev_periods)))
                em = rep.emerging.assign(topic=[tp.topic_name(k, lang) for k in rep.emerging["topic"]])
                em = em[["term", "topic", "last_count", "prev_avg", "last_share", "prev_share", "lift"]]
                em_out = em.rename(columns={c: t(f"fb.col.{c}") for c in em.columns})
                st.dataframe(em_out, hide_index=True, height=320, key="fb_emerging", alt=t("fb.topics.emerging"),
                             column_order=[t(f"fb.col.{c}") for c in ("term", "topic", "last_count", "prev_avg",
                                                                     "lift")],
                             column_config={
                                 t("fb.col.prev_avg"): st.column_config.NumberColumn(format="%.1f"),
                                 t("fb.col.lift"): st.column_config.NumberColumn(
                                     format="%.2f×", help=t("fb.col.lift.help"))})
                download_csv(em_out, "feedback_emerging_terms", key="fb_dl_emerging")
        st.markdown(f"**{t('fb.topics.table')}**")
        tf = tp.topic_frame(rep, lang)
        tf_show = tf[["name", "complaints", "share", "trend", "terms"]].rename(columns={
            "name": t("fb.col.topic"), "complaints": t("fb.col.complaints"), "share": t("fb.col.share"),
            "trend": t("fb.col.trend"), "terms": t("fb.col.terms")})
        topic_pick = st.dataframe(tf_show, hide_index=True, key="fb_topic_table", alt=t("fb.topics.table"),
                                  on_select="rerun", selection_mode="single-row", column_config={
            t("fb.col.share"): st.column_config.NumberColumn(format="percent"),
            t("fb.col.trend"): st.column_config.LineChartColumn(y_min=0),
            t("fb.col.terms"): st.column_config.TextColumn(width="large")})
        download_csv(tf_show.drop(columns=t("fb.col.trend")), "feedback_topics", key="fb_dl_topics")
        picked_rows = topic_pick.selection.rows if topic_pick and topic_pick.selection else []
        if picked_rows:  # a hot topic becomes a plan in one click (pages/_ui/plan_links.py)
            topic = tf.iloc[picked_rows[0]]
            ref = f"{topic['topic']}@{f.start.isoformat()}..{f.end.isoformat()}"
            plan_links.show_plans_for("topic", ref)
            plan_links.create_plan_link(origin_kind="topic", origin_ref=ref,
                                        origin_label=f"{topic['name']}（{topic['complaints']} 件）",
                                        kpi="feedback.complaints", region=f.scope.region,
                                        branches=[f.scope.branch] if f.scope.branch else [],
                                        owner=plan_links.suggested_owner("feedback"),
                                        title=f"{topic['name']}投诉整治" if lang == "zh" else f"Complaints: {topic['name']}")

# -- open cases ---------------------------------------------------------------------------------------
with st.container(border=True):
    st.subheader(t("fb.open"), anchor=False)
    opened, summary = load_open(key, tuple(sorted(options.items())), version)
    if opened.empty:
        st.info(t("fb.open.none", as_of=f.end.isoformat()), icon=":material/task_alt:")
    else:
        st.caption(t("fb.open.caption", as_of=f.end.isoformat(), n=summary.open, late=summary.overdue,
                     due=summary.due_soon, soon=3)
                   + (" " + t("fb.open.limited", n=len(opened)) if summary.open > len(opened) else ""))
        cols = [c for c in fa.OPEN_CASE_COLUMNS if c != "branch_id"]
        shown = labelled(opened, cols, lang)
        flag = t("fb.col.status_flag")
        shown[flag] = [[code] for code in opened["status_flag"]]
        st.dataframe(shown, hide_index=True, key="fb_open_table", alt=t("fb.open.alt"), height=360, column_config={
            flag: st.column_config.MultiselectColumn(
                options=list(FLAG_COLOURS), color=list(FLAG_COLOURS.values()),
                format_func=lambda c: tr(f"fb.flag.{c}", lang), pinned=True),
            t("fb.col.feedback_id"): st.column_config.TextColumn(pinned=True),
            t("fb.col.days_left"): st.column_config.NumberColumn(format="%d"),
            t("fb.col.received_at"): st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm"),
            t("fb.col.description"): st.column_config.TextColumn(width="large")})
        csv = shown.assign(**{flag: [t(f"fb.flag.{c}") for c in opened["status_flag"]]})
        download_csv(csv, "feedback_open_cases", key="fb_dl_open")

# -- satisfaction ---------------------------------------------------------------------------------------
with st.container(border=True):
    st.subheader(t("fb.sat"), anchor=False)
    c1, c2 = st.columns(2)
    for col, mid in ((c1, "feedback.satisfaction_rate"), (c2, "feedback.nps")):
        with col:
            m = get_metric(mid)
            df = cache.series(mid, f, options=options)
            st.markdown(f"**{m.name(lang)}**")
            if df.empty:
                st.info(t("fb.sat.none"), icon=":material/info:")
                continue
            st.plotly_chart(charts.line(df, m, lang, events=events, height=300), key=f"fb_chart_{mid}",
                            config={"displaylogo": False})
            out = df[["period", "value", "prev_value", "yoy_value"]].rename(columns={
                "period": t("fb.col.period"), "value": m.name(lang)})
            download_csv(out, mid.replace(".", "_"), key=f"fb_dl_{mid}")


# -- case search (a fragment: searching reruns only this part) -------------------------------------
def _first_page() -> None:
    st.session_state["fb_page"] = 1


@st.fragment
def case_search() -> None:
    with st.container(border=True):
        st.subheader(t("fb.cases"), anchor=False)
        row = st.container(horizontal=True, vertical_alignment="bottom")
        with row:
            text = st.text_input(t("fb.cases.search"), key="fb_q", placeholder=t("fb.cases.search.ph"),
                                 max_chars=100, on_change=_first_page, icon=":material/search:")
            channels = st.multiselect(t("fb.cases.channel"), list(fa.CHANNELS), key="fb_ch",
                                      format_func=lambda c: code_label("channel", c, lang), on_change=_first_page,
                                      placeholder=t("fb.cases.all"))
            statuses = st.multiselect(t("fb.cases.status"), list(fa.STATUSES), key="fb_st",
                                      format_func=lambda c: code_label("status", c, lang), on_change=_first_page,
                                      placeholder=t("fb.cases.all"))
        kinds = st.pills(t("fb.cases.kind"), list(fa.KINDS), selection_mode="multi", key="fb_kind",
                         format_func=lambda c: code_label("feedback_kind", c, lang), on_change=_first_page)
        size = st.session_state.get("fb_size") or fa.PAGE_SIZES[0]
        page = max(1, int(st.session_state.get("fb_page") or 1))
        args = (key, (text or "").strip(), tuple(channels), tuple(statuses), tuple(kinds or ()))
        df, total = load_cases(*args, size, (page - 1) * size, version)
        pages = max(1, math.ceil(total / size))
        if page > pages:  # the filters shrank the result: show its last page
            page = pages
            df, total = load_cases(*args, size, (page - 1) * size, version)
        st.session_state["fb_page"] = page
        if total == 0:
            st.info(t("fb.cases.none"), icon=":material/search_off:")
            return
        shown = labelled(df, fa.CASE_COLUMNS, lang)
        st.dataframe(shown, hide_index=True, key="fb_case_table", alt=t("fb.cases.alt"), column_config={
            t("fb.col.feedback_id"): st.column_config.TextColumn(pinned=True),
            t("fb.col.received_at"): st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm"),
            t("fb.col.closed_at"): st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm"),
            t("fb.col.nps_score"): st.column_config.NumberColumn(format="%d"),
            t("fb.col.description"): st.column_config.TextColumn(width="large")})
        pager = st.container(horizontal=True, vertical_alignment="bottom")
        with pager:
            st.number_input(t("fb.cases.page"), min_value=1, max_value=pages, step=1, key="fb_page", width=140)
            st.segmented_control(t("fb.cases.page_size"), list(fa.PAGE_SIZES), key="fb_size",
                                 default=fa.PAGE_SIZES[0], on_change=_first_page)
            st.caption(t("fb.cases.count", total=f"{total:,}", page=page, pages=pages,
                         first=(page - 1) * size + 1, last=(page - 1) * size + len(df)))
        dl = st.container(horizontal=True)
        with dl:
            download_csv(shown, "feedback_cases_page", key="fb_dl_cases_page", label=t("fb.download_page"))
            store, lng = get_store(), lang

            def export() -> bytes:  # runs on click, in another thread: no Streamlit calls inside
                all_df, _ = fa.search_cases(store.ibis(), key[0], key[1], scope_of(key), text=args[1],
                                            channels=args[2], statuses=args[3], kinds=args[4], limit=fa.EXPORT_LIMIT)
                return to_csv_bytes(labelled(all_df, fa.CASE_COLUMNS, lng))

            st.download_button(t("fb.cases.download", n=f"{fa.EXPORT_LIMIT:,}"),
                               auth.audited(export, "export", "feedback_cases.csv", {"filters": auth.filters_text()}),
                               file_name="feedback_cases.csv", mime="text/csv", key="fb_dl_cases_all",
                               icon=":material/download:", on_click="ignore")


case_search()
