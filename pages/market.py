"""市场 Market: LPR and other indicators over their whole history, the industry NPL ratio next to
ours, the market / policy / competitor event timeline, and a form to add an event."""

from datetime import date

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from data.events import add_event
from data.sources.market import MARKET_EVENTS
from metrics import market_analysis as ma
from metrics.model import Grain
from pages._ui import auth, cache, charts, plan_links
from pages._ui.filters import current
from pages._ui.i18n import current_lang, pick, tr
from pages._ui.store import data_version, get_store
from pages._ui.widgets import download_csv, inert

TTL = 3600
USER = auth.user_name()  # recorded on the event's batch; adding events needs the upload permission
FONT = {"family": "Noto Sans CJK SC, Microsoft YaHei, sans-serif"}
LPR = ("LPR_1Y", "LPR_5Y")
NPL = "NPL_RATIO_CB"
_COL = {c.name: c for c in MARKET_EVENTS.columns}
EVENT_TYPES = tuple(_COL["event_type"].values)
IMPACT_AREAS = tuple(_COL["impact_area"].values)
DIRECTIONS = tuple(_COL["impact_direction"].values)
FORM_KEYS = ("mk_f_date", "mk_f_type", "mk_f_title", "mk_f_detail", "mk_f_competitor", "mk_f_area",
             "mk_f_direction", "mk_f_source")

lang = current_lang()


def t(key: str, **fmt) -> str:
    """This run's language, bound: widget format_funcs are also called outside the script run."""
    return tr(key, lang, **fmt)

f = current()


# -- cached reads ------------------------------------------------------------------------------
@st.cache_data(show_spinner=False, ttl=TTL, max_entries=8)
def catalog(version: int) -> pd.DataFrame:
    return ma.indicator_catalog(get_store().ibis())


@st.cache_data(show_spinner=False, ttl=TTL, max_entries=32)
def history(codes: tuple[str, ...], version: int) -> pd.DataFrame:
    return ma.indicator_history(get_store().ibis(), codes)


@st.cache_data(show_spinner=False, ttl=TTL, max_entries=32)
def event_table(start: date | None, end: date | None, types: tuple[str, ...], version: int) -> pd.DataFrame:
    return ma.events(get_store().ibis(), start, end, types or None)


def label(prefix: str, code) -> str:
    if code is None or (isinstance(code, float) and pd.isna(code)):
        return ""
    key = f"{prefix}.{code}"
    text = t(key)
    return str(code) if text == key else text


def style(fig: go.Figure, height: int = 340, suffix: str = "%") -> None:
    fig.update_layout(height=height, margin={"l": 10, "r": 10, "t": 10, "b": 10}, hovermode="x unified",
                      legend={"orientation": "h", "y": -0.18}, plot_bgcolor="white", font=FONT,
                      yaxis={"ticksuffix": suffix, "gridcolor": "#eeeeee"})
    fig.update_xaxes(showgrid=False)


def step_traces(fig: go.Figure, df: pd.DataFrame, names: dict[str, str] | None = None, start: int = 0) -> None:
    for i, (code, g) in enumerate(df.groupby("indicator_code", sort=True)):
        known = g["indicator_name"].dropna()
        name = (names or {}).get(code) or (known.iloc[0] if len(known) else code)
        unit = g["unit"].dropna().iloc[0] if g["unit"].notna().any() else ""
        fig.add_trace(go.Scatter(
            x=pd.to_datetime(g["date"]), y=g["value"], mode="lines", line_shape="hv", name=str(name),
            line={"color": charts.PALETTE[(start + i) % len(charts.PALETTE)], "width": 2},
            hovertemplate="%{x|%Y-%m-%d}  %{y:.2f}" + str(unit) + "<extra>%{fullData.name}</extra>"))


def may_add_events() -> bool:
    """Events apply to the whole bank: analysts and above whose scope is the whole bank, or who
    hold the "market" permission, add them (docs/security.md, "Writes stay inside the boundary")."""
    return auth.can("upload") and (auth.can("market") or auth.boundary() is None)


# -- the add-event form's callback (runs before the page, so every chart shows the new event) --
def save_event() -> None:
    s = st.session_state
    fields = {
        "event_date": s.get("mk_f_date"), "event_type": s.get("mk_f_type"), "title": s.get("mk_f_title"),
        "detail": s.get("mk_f_detail"), "competitor_name": s.get("mk_f_competitor"),
        "impact_area": s.get("mk_f_area") or None, "impact_direction": s.get("mk_f_direction") or None,
        "source": s.get("mk_f_source"),
    }
    if not may_add_events():
        auth.record("upload", target="market event", outcome="denied")
        return
    res = add_event(get_store(), fields, user=USER, may_write_bank_wide=True)
    auth.record("upload", target=f"market event: {fields.get('title') or ''}"[:200],
                outcome="ok" if res.ok else "failed", detail={"status": res.status, "batch": res.batch_id})
    issues = []
    if not res.ok:
        frame = res.issues[res.issues["severity"] == "error"]
        issues = [(str(r.column or ""), str(r.message or ""), str(r.value or "")) for r in frame.itertuples()]
    s["mk_add_result"] = {"status": res.status, "batch": res.batch_id, "issues": issues,
                          "title": fields["title"], "date": str(fields["event_date"] or ""),
                          "message": (res.message_zh, res.message_en)}
    if res.status == "loaded":
        for k in ("mk_f_title", "mk_f_detail", "mk_f_competitor", "mk_f_source"):
            s[k] = ""


# -- header ------------------------------------------------------------------------------------
st.title(t("mk.title"), anchor=False)
st.caption(t("mk.caption"))

cat = catalog(data_version())
if cat.empty:
    st.info(t("mk.empty"), icon=":material/info:")
all_events = cache.events(date(1900, 1, 1), date(2100, 12, 31))

# -- LPR and the industry NPL ratio ------------------------------------------------------------
c1, c2 = st.columns(2)
with c1, st.container(border=True):
    st.markdown(f"**{t('mk.lpr')}**")
    lpr = history(LPR, data_version())
    if lpr.empty:
        st.info(t("mk.lpr_none"), icon=":material/info:")
    else:
        fig = go.Figure()
        step_traces(fig, lpr)
        lo = lpr["date"].min()
        charts.add_events(fig, all_events[pd.to_datetime(all_events["event_date"]).dt.date >= lo], lang)
        style(fig)
        st.plotly_chart(fig, key="mk_lpr_chart", alt=t("mk.lpr"))
        download_csv(lpr, "market_lpr", key="mk_lpr_dl")
with c2, st.container(border=True):
    st.markdown(f"**{t('mk.npl')}**")
    ind = history((NPL,), data_version())
    ours = cache.series("credit.npl_ratio", f, grain=Grain.QUARTER, start=date(1900, 1, 1))
    if ind.empty and ours.empty:
        st.info(t("mk.npl_none"), icon=":material/info:")
    else:
        fig = go.Figure()
        if not ind.empty:
            fig.add_trace(go.Scatter(
                x=pd.to_datetime(ind["date"]), y=ind["value"], mode="lines+markers", line_shape="hv",
                name=t("mk.npl_industry"), line={"color": charts.PALETTE[1], "dash": "dash"}, marker={"size": 5},
                hovertemplate="%{x|%Y-%m-%d}  %{y:.2f}%<extra>%{fullData.name}</extra>"))
        if not ours.empty:
            # the quarter's end date, so our point sits where the industry's quarter-end release does
            q_end = pd.to_datetime(ours["period"]) + pd.offsets.QuarterEnd(0)
            fig.add_trace(go.Scatter(
                x=q_end, y=ours["value"] * 100, mode="lines+markers", name=t("mk.npl_ours"),
                line={"color": charts.PALETTE[0], "width": 2.5},
                hovertemplate="%{x|%Y-%m-%d}  %{y:.2f}%<extra>%{fullData.name}</extra>"))
        style(fig)
        fig.update_yaxes(rangemode="tozero")
        st.plotly_chart(fig, key="mk_npl_chart", alt=t("mk.npl"))
        st.caption(t("mk.npl_note"))
        both = pd.concat([
            ind.assign(series=NPL)[["date", "series", "value"]].rename(columns={"value": "value_pct"}),
            pd.DataFrame({"date": (pd.to_datetime(ours["period"]) + pd.offsets.QuarterEnd(0)).dt.date,
                          "series": "credit.npl_ratio", "value_pct": ours["value"] * 100}),
        ], ignore_index=True)
        download_csv(both, "market_npl_vs_ours", key="mk_npl_dl")

# -- any other loaded indicator ----------------------------------------------------------------
st.subheader(t("mk.other"), anchor=False)
codes = list(cat["indicator_code"]) if not cat.empty else []
others = [c for c in codes if c not in (*LPR, NPL)]
names = dict(zip(cat["indicator_code"], cat["name"], strict=False)) if not cat.empty else {}
picked = st.multiselect(t("mk.pick"), codes, default=others[:4] or codes[:1], key="mk_pick",
                        format_func=lambda c: f"{names.get(c) or c}（{c}）" if lang == "zh" else f"{names.get(c) or c} ({c})")
with st.container(border=True):
    if not picked:
        st.info(t("mk.pick_none"), icon=":material/info:")
    else:
        h = history(tuple(picked), data_version())
        fig = go.Figure()
        step_traces(fig, h)
        charts.add_events(fig, all_events[pd.to_datetime(all_events["event_date"]).dt.date >= h["date"].min()]
                          if not h.empty else None, lang)
        units = sorted(set(h["unit"].dropna()))
        style(fig, suffix=units[0] if len(units) == 1 and units[0] == "%" else "")
        st.plotly_chart(fig, key="mk_other_chart", alt=t("mk.other"))
        download_csv(h, "market_indicators", key="mk_other_dl")
with st.expander(t("mk.catalog"), icon=":material/list:"):
    view = cat.rename(columns={"indicator_code": t("mk.cat.code"), "name": t("mk.cat.name"), "unit": t("mk.cat.unit"),
                               "points": t("mk.cat.points"), "first": t("mk.cat.first"), "last": t("mk.cat.last")})
    st.dataframe(view, hide_index=True, alt=t("mk.catalog"))
    download_csv(cat, "market_indicator_catalog", key="mk_cat_dl")

# -- event timeline ----------------------------------------------------------------------------
st.subheader(t("mk.events"), anchor=False)
with st.container(horizontal=True, vertical_alignment="bottom"):
    window = st.segmented_control(t("mk.ev.window"), ["all", "filter"], key="mk_ev_window", required=True,
                                  default="all", format_func=lambda w: t(f"mk.ev.window.{w}"))
    types = st.multiselect(t("mk.ev.types"), list(EVENT_TYPES), key="mk_ev_types",
                           format_func=lambda c: label("mk.ev.type", c), placeholder=t("cr.loans.any"))
start, end = (f.start, f.end) if window == "filter" else (None, None)
ev = event_table(start, end, tuple(types), data_version())
if ev.empty:
    st.info(t("mk.ev.none"), icon=":material/info:")
else:
    st.caption(t("mk.ev.count", n=len(ev)))
    ev_types = [c for c in EVENT_TYPES if c in set(ev["event_type"])]
    fig = go.Figure()
    for i, code in enumerate(ev_types):
        g = ev[ev["event_type"] == code]
        fig.add_trace(go.Scatter(
            x=pd.to_datetime(g["event_date"]), y=[label("mk.ev.type", code)] * len(g), mode="markers",
            name=label("mk.ev.type", code), marker={"size": 12, "color": charts.PALETTE[i % len(charts.PALETTE)],
                                                    "symbol": "diamond"},
            text=[f"{d:%Y-%m-%d} {ti}" for d, ti in zip(pd.to_datetime(g["event_date"]), g["title"], strict=True)],
            hovertemplate="%{text}<extra></extra>"))
    fig.update_layout(height=max(220, 60 * len(ev_types) + 80), margin={"l": 10, "r": 10, "t": 10, "b": 10},
                      plot_bgcolor="white", font=FONT, showlegend=False,
                      yaxis={"type": "category", "gridcolor": "#eeeeee"})
    fig.update_xaxes(showgrid=True, gridcolor="#f3f3f3")
    st.plotly_chart(fig, key="mk_ev_chart", alt=t("mk.ev.alt"))
    table = pd.DataFrame({
        t("mk.ec.date"): ev["event_date"],
        t("mk.ec.type"): [label("mk.ev.type", c) for c in ev["event_type"]],
        t("mk.ec.title"): ev["title"],
        t("mk.ec.impact"): [label("mk.ev.area", c) for c in ev["impact_area"]],
        t("mk.ec.direction"): [label("mk.ev.dir", c) for c in ev["impact_direction"]],
        t("mk.ec.competitor"): ev["competitor_name"].fillna(""),
        t("mk.ec.detail"): ev["detail"].fillna(""),
        t("mk.ec.source"): ev["source"].fillna(""),
    })
    ev_pick = st.dataframe(table, hide_index=True, alt=t("mk.ev.alt"), key="mk_ev_table", on_select="rerun",
                           selection_mode="single-row",
                           column_config={t("mk.ec.date"): st.column_config.DateColumn(format="YYYY-MM-DD"),
                                          t("mk.ec.title"): st.column_config.TextColumn(width="large")})
    download_csv(table, "market_events", key="mk_ev_dl")
    ev_rows = ev_pick.selection.rows if ev_pick and ev_pick.selection else []
    if ev_rows:  # a market or policy event becomes a plan in one click (pages/_ui/plan_links.py)
        e = ev.iloc[ev_rows[0]]
        plan_links.show_plans_for("market_event", str(e["event_id"]))
        plan_links.create_plan_link(origin_kind="market_event", origin_ref=str(e["event_id"]),
                                    origin_label=f"{pd.Timestamp(e['event_date']):%Y-%m-%d} {e['title']}",
                                    kpi=plan_links.KPI_BY_IMPACT.get(e["impact_area"]),
                                    owner=plan_links.OWNER_BY_IMPACT.get(e["impact_area"], ""),
                                    title=(f"应对：{e['title']}" if lang == "zh" else f"Response: {e['title']}")[:120])

# -- add an event ------------------------------------------------------------------------------
if not may_add_events():  # viewers and branch-scoped people read the market; see may_add_events
    st.stop()
st.subheader(t("mk.add"), anchor=False)
st.caption(t("mk.add.caption"))
result = st.session_state.get("mk_add_result")
if result:
    if result["status"] == "loaded":
        st.success(t("mk.add.ok", batch=result["batch"], title=inert(result["title"]), date=result["date"]),
                   icon=":material/check_circle:")
    elif result["status"] == "already_loaded":
        st.info(t("mk.add.already", batch=result["batch"]), icon=":material/info:")
    else:
        lines = "\n".join(f"- {t('mk.add.issue', column=c or '—', message=pick(m, lang))}"
                          for c, m, _ in result["issues"]) or f"- {result['message'][0 if lang == 'zh' else 1]}"
        st.error(f"{t('mk.add.rejected')}\n\n{lines}", icon=":material/error:")
with st.form("mk_event_form", border=True):
    r1 = st.columns([1, 1, 2])
    r1[0].date_input(t("mk.f.date"), value=date.today(), key="mk_f_date", format="YYYY-MM-DD")
    r1[1].selectbox(t("mk.f.type"), EVENT_TYPES, key="mk_f_type", format_func=lambda c: label("mk.ev.type", c))
    r1[2].text_input(t("mk.f.title"), key="mk_f_title", max_chars=200, placeholder=t("mk.f.title.ph"))
    st.text_area(t("mk.f.detail"), key="mk_f_detail", height=80)
    r2 = st.columns(4)
    r2[0].text_input(t("mk.f.competitor"), key="mk_f_competitor")
    r2[1].selectbox(t("mk.f.area"), ["", *IMPACT_AREAS], key="mk_f_area",
                    format_func=lambda c: label("mk.ev.area", c) if c else t("mk.f.none"))
    r2[2].selectbox(t("mk.f.direction"), ["", *DIRECTIONS], key="mk_f_direction",
                    format_func=lambda c: label("mk.ev.dir", c) if c else t("mk.f.none"))
    r2[3].text_input(t("mk.f.source"), key="mk_f_source")
    st.form_submit_button(t("mk.f.submit"), type="primary", icon=":material/add:", on_click=save_event)
