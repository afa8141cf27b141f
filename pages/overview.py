"""总览 Overview: the headline KPI cards, the manager's trend summary, the latest market events
and how fresh each data type is — for the sidebar's period, grain and scope."""

from datetime import date

import pandas as pd
import streamlit as st

from metrics import summary
from metrics.catalogue import HEADLINE_IDS, get_metric, headlines
from metrics.format import fmt_change, fmt_value
from metrics.model import CATEGORY_LABELS, Category, Grain
from metrics.periods import label as period_label
from metrics.scope import Scope
from pages._ui import auth, cache, widgets
from pages._ui.filters import current
from pages._ui.i18n import current_lang, t
from pages._ui.store import data_version, get_store

lang = current_lang()
f = current()

st.title(t("ov.title"), anchor=False)
st.caption(t("ov.caption_scope", scope=f.scope.label(lang), grain=t(f"grain.{f.grain.value}"),
             end=f.end.isoformat()))


@st.cache_data(show_spinner=False, ttl=cache.TTL, max_entries=64)
def _summary(grain: str, as_of: date, scope: Scope, lang: str, version: int, _cards: dict) -> list[str]:
    """The briefing's executive summary for these filters (the very sentences the PDF prints), keyed
    by the data version; at a day or year grain, which briefings do not use, the KPI sentences."""
    if grain in ("week", "month", "quarter"):
        from briefing.content import executive_summary

        return executive_summary(get_store(), as_of, Grain(grain), scope, lang)
    return summary.summary_sentences(get_store(), Grain(grain), as_of, scope, lang, cards=_cards)


@st.cache_data(show_spinner=False, ttl=cache.TTL, max_entries=32)
def _freshness(scope: Scope, version: int) -> dict:
    return summary.freshness(get_store(), scope)


cards = {mid: cache.card(mid, f) for mid in HEADLINE_IDS}
has_data = any(c.value is not None for c in cards.values())

# -- the manager's summary -------------------------------------------------------------------
with st.container(border=True):
    st.subheader(t("ov.summary"), anchor=False)
    sentences = _summary(f.grain.value, f.end, f.scope, lang, data_version(), cards) if has_data else []
    if sentences:
        st.markdown("\n".join(f"- {s}" for s in sentences))
    else:
        st.info(t("ov.empty") if not has_data else t("ov.summary_none"), icon=":material/info:")

# -- what is past its deadline (plans with a late step, notices not rectified in time) ------------
@st.cache_data(show_spinner=False, ttl=cache.TTL, max_entries=64)
def _overdue(who, bound: tuple | None, fingerprint: str) -> tuple[int, int]:
    from data.plans import PlanStore, SupervisionStore

    store = get_store()
    return (len(PlanStore(store).list_plans(who, overdue=True, limit=10_000)),
            len(SupervisionStore(store).list_notices(who, overdue=True, limit=10_000)))


who = auth.current_user()
if who is not None:
    b = auth.boundary()
    late_plans, late_notices = _overdue(who, None if b is None else tuple(sorted(b)),
                                        get_store().query("actions.ops_version").value())
    if late_plans or late_notices:
        with st.container(border=True, horizontal=True, vertical_alignment="center"):
            st.warning(t("ov.overdue", plans=late_plans, notices=late_notices), icon=":material/alarm:")
            st.page_link("pages/actions.py", label=t("ov.overdue.link"), icon=":material/task_alt:")

# -- the work feed: the latest five items the person may see, and how many they have not read ------
@st.cache_data(show_spinner=False, ttl=cache.TTL, max_entries=64)
def _feed(who, bound: tuple | None, fingerprint: str) -> tuple[list, int]:
    from data.feed import Feed

    feed = Feed(get_store())
    return feed.items(who, limit=5), feed.unread_count(who)


if who is not None:
    latest, unread = _feed(who, None if b is None else tuple(sorted(b)), get_store().query("feed.feed_version").value())
    with st.container(border=True, key="ov_feed"):
        with st.container(horizontal=True, vertical_alignment="center"):
            st.subheader(t("fd.ov.header"), anchor=False)
            st.markdown(f":blue-badge[{t('fd.ov.unread', n=unread)}]")
        if not latest:
            st.caption(t("fd.ov.none"))
        for item in latest:
            marks = (":blue-badge[:material/fiber_manual_record:] " if item.unread else "") + \
                (":material/push_pin: " if item.pinned else "")
            st.markdown(f"{marks}{widgets.inert(item.title_in(lang))} · :gray[{item.kind.label(lang)} · "
                        f"{period_label(item.created_at.date(), Grain.DAY, lang)}]")
        st.page_link("pages/feed.py", label=t("fd.ov.link"), icon=":material/newspaper:")

# -- KPI cards by category ---------------------------------------------------------------------
st.subheader(t("ov.kpis"), anchor=False)
for category in Category:  # the categories with headline KPIs (market has none), in their order
    ids = [m.id for m in headlines(category)]
    if not ids:
        continue
    zh, en = CATEGORY_LABELS[category]
    st.markdown(f"**{zh if lang == 'zh' else en}**")
    with st.grid(4, gap="small", min_column_width=180, key=f"ov_grid_{category.value}"):
        for mid in ids:
            widgets.kpi_card(cards[mid], f)


def _kpi_frame() -> pd.DataFrame:
    rows = []
    for mid, c in cards.items():
        m = get_metric(mid)
        rows.append({
            t("ov.col.metric_id"): mid,
            t("ov.col.metric"): m.name(lang),
            t("ov.col.period"): period_label(c.period, f.grain, lang) if c.period else "—",
            t("ov.col.value"): fmt_value(m, c.value, lang),
            t("ov.col.prev"): fmt_value(m, c.prev_value, lang),
            t("ov.col.delta_prev"): fmt_change(m, c.delta_prev, lang),
            t("ov.col.yoy"): fmt_value(m, c.yoy_value, lang),
            t("ov.col.delta_yoy"): fmt_change(m, c.delta_yoy, lang),
            t("ov.col.target"): fmt_value(m, c.target, lang) if c.target is not None else "—",
            t("ov.col.status"): t(f"ov.status.{c.status}"),
        })
    return pd.DataFrame(rows)


widgets.download_csv(_kpi_frame(), f"overview_kpis_{f.grain.value}_{f.end.isoformat()}", key="ov_kpis_csv",
                     label=t("ov.kpis_csv"))

# -- latest market and policy events -----------------------------------------------------------
with st.container(border=True):
    st.subheader(t("ov.events"), anchor=False)
    ev = cache.events(f.start, f.end).head(8)
    if ev.empty:
        st.caption(t("ov.events_none"))
    else:
        def _type(code: str) -> str:
            key = f"ov.evt.{code}"
            text = t(key)
            return code if text == key else text

        table = pd.DataFrame({
            t("ov.col.date"): pd.to_datetime(ev["event_date"]).dt.date,
            t("ov.col.type"): [_type(c) for c in ev["event_type"].fillna("")],
            t("ov.col.title"): ev["title"].fillna(""),
        })
        st.dataframe(table, hide_index=True, alt=t("ov.events_alt"),
                     column_config={t("ov.col.date"): st.column_config.DateColumn(format="YYYY-MM-DD", width="small"),
                                    t("ov.col.type"): st.column_config.TextColumn(width="small"),
                                    t("ov.col.title"): st.column_config.TextColumn(width="large")})
        widgets.download_csv(table, f"overview_events_{f.start.isoformat()}_{f.end.isoformat()}", key="ov_events_csv")

# -- data freshness ----------------------------------------------------------------------------
fresh = _freshness(f.scope, data_version())
items = " · ".join(f"{t('ov.src.' + name)} {d.isoformat() if d else t('ov.no_data')}" for name, d in fresh.items())
st.caption(t("ov.freshness", items=items))
