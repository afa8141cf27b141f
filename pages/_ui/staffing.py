"""The counter page's staffing section (issue 16 item 2): windows needed against windows open per
weekday × hour, the ranked suggestions with one click each to a staffing plan, and a what-if planner.

The advice itself is metrics/staffing.py (block `staffing.cells` aggregates the tickets in DuckDB
inside the person's boundary, Erlang C / A in metrics/erlang.py); this module caches it at the page
boundary (filters, target, data version) and draws it. The branch of the heat map is chosen among
the branches the advice returned, so it lies inside the boundary by construction. docs/staffing.md.
"""

from __future__ import annotations

import math
from datetime import date

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from data.settings import get_settings
from metrics import staffing
from metrics.erlang import Load, Model, Target, performance, windows_needed
from metrics.scope import Scope
from pages._ui import cache, plan_links, widgets
from pages._ui.filters import Filters
from pages._ui.i18n import current_lang, t
from pages._ui.store import data_version, get_store

FONT = {"family": "Noto Sans CJK SC, Microsoft YaHei, sans-serif"}
PLOTLY_CONFIG = {"displaylogo": False}
TOP = 5  # suggestions drawn with their own link; the rest are in the table (select a row for its link)
# short (red) → balanced (white) → surplus (blue); the scale is symmetric around 0 (zmid)
SURPLUS_SCALE = [[0.0, "#b2182b"], [0.35, "#ef8a62"], [0.5, "#f7f7f7"], [0.65, "#67a9cf"], [1.0, "#2166ac"]]


@st.cache_data(show_spinner=False, ttl=cache.TTL, max_entries=32)
def advice(start: date, end: date, scope: Scope, share: float, within_min: float, max_occupancy: float,
           shrinkage: float, weeks: int, min_abandoned: int, version: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The per-cell advice and the ranked suggestions for the filters and target (metrics/staffing.py)."""
    target = Target(share=share, within_min=within_min, max_occupancy=max_occupancy, shrinkage=shrinkage)
    adv = staffing.advice(get_store(), start, end, scope, target, weeks=weeks, min_abandoned=min_abandoned)
    return adv, staffing.suggestions(adv)


def section(f: Filters, names: dict[str, str]) -> None:
    """The whole staffing section of the counter page, for the sidebar's period and scope."""
    lang = current_lang()
    s = get_settings()
    with st.container(border=True):
        st.subheader(t("sf.title"), anchor=False, help=t("sf.help"))
        c1, c2, c3 = st.columns([1, 1, 2])
        share = c1.number_input(t("sf.share"), min_value=50, max_value=99, step=5,
                                value=round(s.staffing_sl_share * 100), key="sf_share") / 100.0
        minutes = float(c2.number_input(t("sf.minutes"), min_value=1, max_value=120, step=1,
                                        value=round(s.staffing_sl_minutes), key="sf_minutes"))
        target = Target(share=share, within_min=minutes, max_occupancy=s.staffing_max_occupancy,
                        shrinkage=s.staffing_shrinkage)
        adv, sugg = advice(f.start, f.end, f.scope, share, minutes, s.staffing_max_occupancy, s.staffing_shrinkage,
                           s.staffing_weeks, s.staffing_min_abandoned, data_version())
        lo, hi = staffing.advice_window(f.start, f.end, s.staffing_weeks)
        st.caption(t("sf.caption", start=lo.isoformat(), end=hi.isoformat(), weeks=s.staffing_weeks,
                     share=round(share * 100), minutes=f"{minutes:g}", occ=round(s.staffing_max_occupancy * 100)))
        modelled = adv.dropna(subset=["windows_needed"])
        if modelled.empty:
            st.info(t("sf.empty"), icon=":material/info:")
            return
        branches = sorted(modelled["branch_id"].unique(), key=lambda b: (names.get(b, b), b))
        first = sugg.iloc[0]["branch_id"] if len(sugg) else branches[0]  # the branch of the largest shortage
        branch = c3.selectbox(t("sf.branch"), branches, index=branches.index(first), key="sf_branch",
                              format_func=lambda b: f"{names.get(b, b)}（{b}）" if lang == "zh"
                              else f"{names.get(b, b)} ({b})")
        mine = adv[adv["branch_id"] == branch]
        _model_caption(mine, names.get(branch, branch), s.staffing_min_abandoned)
        _heatmap(mine, branch)
        _suggestions(sugg, names, target, f)
        _what_if(mine, target)


def _model_caption(mine: pd.DataFrame, name: str, min_abandoned: int) -> None:
    patience = mine["patience_min"].dropna()
    if len(patience):
        st.caption(t("sf.model_a", name=name, patience=float(patience.iloc[0])))
    else:
        st.caption(t("sf.model_c", name=name, n=min_abandoned))


def surplus_grid(mine: pd.DataFrame, lang: str) -> tuple[pd.DataFrame, list[list[str]]]:
    """Weekday × hour of one branch: open − needed windows (NaN where not modelled) and the hover texts."""
    hours = list(range(int(mine["hour"].min()), int(mine["hour"].max()) + 1))
    days = sorted(mine["weekday"].unique())
    z = mine.pivot(index="weekday", columns="hour", values="surplus").reindex(index=days, columns=hours)
    cells = mine.set_index(["weekday", "hour"])
    text = []
    for d in days:
        row = []
        for h in hours:
            if (d, h) in cells.index and pd.notna(cells.loc[(d, h), "windows_needed"]):
                c = cells.loc[(d, h)]
                open_ = "—" if pd.isna(c["windows_open"]) else f"{c['windows_open']:.1f}"
                row.append(t("sf.hover", needed=int(c["windows_needed"]), open=open_))
            else:
                row.append("")
        text.append(row)
    z.index = [staffing.WEEKDAYS[int(d)][0 if lang == "zh" else 1] for d in z.index]
    z.columns = [f"{h}:00" for h in hours]
    return z, text


def _heatmap(mine: pd.DataFrame, branch: str) -> None:
    lang = current_lang()
    st.markdown(f"**{t('sf.heat')}**")
    z, text = surplus_grid(mine, lang)
    span = max(1.0, float(z.abs().max().max())) if z.notna().any().any() else 1.0
    fig = go.Figure(go.Heatmap(
        z=z.to_numpy(), x=list(z.columns), y=list(z.index), text=text, colorscale=SURPLUS_SCALE, zmid=0,
        zmin=-span, zmax=span, xgap=1, ygap=1, colorbar={"title": {"text": t("sf.colorbar")}},
        hovertemplate="%{y} %{x}<br>%{text}<br>%{z:+.1f}<extra></extra>"))
    fig.update_layout(height=300, margin={"l": 10, "r": 10, "t": 10, "b": 10}, font=FONT, plot_bgcolor="white")
    fig.update_yaxes(autorange="reversed")
    st.plotly_chart(fig, key="sf_heat", config=PLOTLY_CONFIG, alt=t("sf.heat_alt"))


def _link(s, names: dict[str, str], target: Target) -> None:
    """One click to a staffing plan made from suggestion `s` (pages/_ui/plan_links.py)."""
    lang = current_lang()
    name = names.get(s["branch_id"], s["branch_id"])
    title, change = staffing.plan_texts(s, name, target, lang)
    ref = staffing.suggestion_ref(s)
    plan_links.show_plans_for("staffing_advice", ref)
    plan_links.create_plan_link(
        origin_kind="staffing_advice", origin_ref=ref, origin_label=f"{name} {staffing.suggestion_text(s, lang)}",
        kpi="counter.wait_avg_min" if s["kind"] == "shortage" else "counter.window_utilisation",
        branches=[s["branch_id"]], owner=plan_links.suggested_owner("counter"), title=title, kind="staffing",
        change=change)


def _suggestions(sugg: pd.DataFrame, names: dict[str, str], target: Target, f: Filters) -> None:
    lang = current_lang()
    st.markdown(f"**{t('sf.suggestions')}**")
    if sugg.empty:
        st.success(t("sf.suggestions.none"), icon=":material/task_alt:")
        return
    for _, s in sugg.head(TOP).iterrows():
        with st.container(horizontal=True, vertical_alignment="center"):
            kind = t(f"sf.kind.{s['kind']}")
            st.markdown(f"**{int(s['rank'])}.** {kind} · {widgets.inert(names.get(s['branch_id'], s['branch_id']))} · "
                        f"{staffing.suggestion_text(s, lang)}", width="content")
            _link(s, names, target)
    table = pd.DataFrame({
        "rank": sugg["rank"], "kind": [t(f"sf.kind.{k}") for k in sugg["kind"]],
        "branch": [names.get(b, b) for b in sugg["branch_id"]], "branch_id": sugg["branch_id"],
        "text": [staffing.suggestion_text(s, lang) for _, s in sugg.iterrows()],
        "window_hours": sugg["window_hours"], "arrivals": sugg["arrivals"].round(1)})
    labels = {c: t(f"sf.col.{c}") for c in ("rank", "kind", "branch", "text", "window_hours", "arrivals")}
    labels["branch_id"] = t("ct.col.branch_id")
    if len(sugg) > TOP:
        st.caption(t("sf.suggestions.more", n=len(sugg) - TOP))
    out = table.rename(columns=labels)
    picked = st.dataframe(out, hide_index=True, key="sf_table", alt=t("sf.table_alt"), height=260,
                          on_select="rerun", selection_mode="single-row",
                          column_config={labels["text"]: st.column_config.TextColumn(width="large")})
    widgets.download_csv(out, f"counter_staffing_suggestions_{f.start}_{f.end}", key="sf_csv")
    rows = picked.selection.rows if picked and picked.selection else []
    if rows:
        s = sugg.iloc[rows[0]]
        st.markdown(f"**{int(s['rank'])}.** {widgets.inert(names.get(s['branch_id'], s['branch_id']))} · "
                    f"{staffing.suggestion_text(s, lang)}")
        _link(s, names, target)


def what_if(arrivals: float, aht_min: float, windows: int, patience_min: float, target: Target) -> dict:
    """The figures `bankpulse staffing what-if` prints, for the planner (patience 0: Erlang C)."""
    load = Load(arrivals, aht_min, patience_min or None)
    now = performance(load, windows, target.within_min)
    need = windows_needed(load, target)
    erlang_a = load.model == Model.ERLANG_A
    return {"model": load.model.value, "p_wait": now.p_wait, "service_level": now.service_level,
            "avg_wait_min": now.avg_wait_min, "occupancy": now.occupancy,
            "p_abandon": now.p_abandon if erlang_a else None, "stable": now.stable,
            "windows_needed": need.windows, "rostered": need.rostered}


def _what_if(mine: pd.DataFrame, target: Target) -> None:
    """Arrivals, handling time, windows, patience, shrinkage → the CLI's what-if figures."""
    st.markdown(f"**{t('sf.whatif')}**", help=t("sf.whatif.help"))
    busiest = mine.dropna(subset=["windows_needed"]).sort_values("arrivals_per_hour", ascending=False).iloc[0]
    patience = busiest["patience_min"]
    key = f"{busiest['branch_id']}"  # defaults follow the chosen branch
    c = st.columns(5)
    arrivals = c[0].number_input(t("sf.w.arrivals"), min_value=0.1, max_value=5000.0, step=1.0,
                                 value=round(float(busiest["arrivals_per_hour"]), 1), key=f"sf_w_arr_{key}")
    aht = c[1].number_input(t("sf.w.aht"), min_value=0.1, max_value=240.0, step=0.5,
                            value=round(float(busiest["aht_min"]), 1), key=f"sf_w_aht_{key}")
    windows = int(c[2].number_input(t("sf.w.windows"), min_value=1, max_value=2000, step=1,
                                    value=int(busiest["windows_needed"] if pd.isna(busiest["open_rounded"])
                                              else max(1, busiest["open_rounded"])),
                                    key=f"sf_w_win_{key}"))
    pat = c[3].number_input(t("sf.w.patience"), min_value=0.0, max_value=1000.0, step=1.0,
                            value=0.0 if pd.isna(patience) else round(float(patience), 1), key=f"sf_w_pat_{key}")
    shrink = c[4].number_input(t("sf.w.shrinkage"), min_value=0, max_value=90, step=5,
                               value=round(target.shrinkage * 100), key=f"sf_w_shr_{key}")
    tgt = Target(share=target.share, within_min=target.within_min, max_occupancy=target.max_occupancy,
                 shrinkage=shrink / 100.0)
    try:
        r = what_if(float(arrivals), float(aht), windows, float(pat), tgt)
    except ValueError as exc:
        st.error(str(exc), icon=":material/error:")
        return
    m = st.columns(6)
    m[0].metric(t("sf.m.p_wait"), f"{r['p_wait']:.1%}", border=True)
    m[1].metric(t("sf.m.sl"), f"{r['service_level']:.1%}", border=True)
    m[2].metric(t("sf.m.wait"), t("sf.m.unstable") if math.isinf(r["avg_wait_min"])
                else t("sf.m.minutes", v=r["avg_wait_min"]), border=True)
    m[3].metric(t("sf.m.occupancy"), f"{r['occupancy']:.1%}", border=True)
    m[4].metric(t("sf.m.abandon"), "—" if r["p_abandon"] is None else f"{r['p_abandon']:.2%}", border=True)
    m[5].metric(t("sf.m.needed"), t("sf.m.needed_value", n=r["windows_needed"], r=r["rostered"]), border=True)
