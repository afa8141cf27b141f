"""柜台业务 Counter: daily volume by branch, the wait-time distribution and P90 trend, the weekday ×
hour pattern of arrivals and waits, the staffing advice (windows needed against open, suggestions
that become staffing plans in one click, a what-if planner), the branch ranking and the split by
service type — for the sidebar's period, grain and scope. Market and policy events mark every time-series chart."""

from datetime import date

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from metrics import counter_analysis
from metrics.catalogue import get_metric
from metrics.model import Grain
from metrics.options import DEFAULT_OPTIONS
from metrics.periods import label as period_label
from metrics.scope import Scope
from pages._ui import cache, charts, widgets
from pages._ui import staffing as staffing_section
from pages._ui.filters import current
from pages._ui.i18n import current_lang, t
from pages._ui.store import data_version, get_store
from pages._ui.text_counter import SERVICE_EN

lang = current_lang()
f = current()
FONT = {"family": "Noto Sans CJK SC, Microsoft YaHei, sans-serif"}
PLOTLY_CONFIG = {"displaylogo": False}
M_SERVED = get_metric("counter.tickets_served")
M_P90 = get_metric("counter.wait_p90_min")
M_AVG = get_metric("counter.wait_avg_min")

st.title(t("ct.title"), anchor=False)
st.caption(t("ct.caption", scope=f.scope.label(lang), start=f.start.isoformat(), end=f.end.isoformat()))


@st.cache_data(show_spinner=False, ttl=cache.TTL, max_entries=32)
def _histogram(start: date, end: date, scope: Scope, version: int) -> pd.DataFrame:
    return counter_analysis.wait_histogram(get_store(), start, end, scope)


@st.cache_data(show_spinner=False, ttl=cache.TTL, max_entries=32)
def _heatmap(start: date, end: date, scope: Scope, version: int) -> pd.DataFrame:
    return counter_analysis.heatmap(get_store(), start, end, scope)


@st.cache_data(show_spinner=False, ttl=cache.TTL, max_entries=8)
def _branches(scope: Scope, version: int) -> pd.DataFrame:
    return counter_analysis.branch_master(get_store(), scope)


def _service_name(s) -> str:
    if s is None or pd.isna(s):
        return "—"
    return SERVICE_EN.get(s, s) if lang == "en" else s


version = data_version()
events = cache.events(f.start, f.end)
daily = cache.series("counter.tickets_served", f, by=("branch",), grain=Grain.DAY)
master = _branches(f.scope, version)
names = dict(zip(master["branch_id"], master["branch_name"], strict=True))

if daily.empty:
    st.info(t("ct.empty"), icon=":material/info:")
else:
    # -- daily volume by branch ----------------------------------------------------------------
    with st.container(border=True):
        head, ctl = st.columns([3, 1], vertical_alignment="bottom")
        head.subheader(t("ct.volume"), anchor=False, help=t("ct.volume.help"))
        top_n = ctl.segmented_control(t("ct.top_n"), [3, 5, 10], default=5, key="ct_top_n") or 5
        totals = daily.groupby("branch")["value"].sum().sort_values(ascending=False)
        top = list(totals.index[:top_n])
        vol = daily[["period", "branch", "value"]].copy()
        # the other branches as one line: their average per branch, on the same scale as the top ones
        vol["name"] = [names.get(b, b) if b in top else t("ct.others") for b in vol["branch"]]
        n_other = max(len(totals) - len(top), 1)
        vol = vol.groupby(["period", "name"], as_index=False)["value"].sum()
        vol.loc[vol["name"] == t("ct.others"), "value"] /= n_other
        order = [names.get(b, b) for b in top] + ([t("ct.others")] if len(totals) > top_n else [])
        vol["name"] = pd.Categorical(vol["name"], categories=order, ordered=True)
        fig = charts.line(vol, M_SERVED, lang, color="name", events=events, height=380)
        st.plotly_chart(fig, key="ct_volume_chart", config=PLOTLY_CONFIG, alt=t("ct.volume_alt"))
        out = vol.assign(name=vol["name"].astype(str)).rename(
            columns={"period": t("ct.col.date"), "name": t("ct.col.branch"),
                     "value": t("ct.col.served")})
        widgets.download_csv(out, f"counter_daily_volume_{f.start}_{f.end}", key="ct_volume_csv")

    # -- waits: distribution and trend ---------------------------------------------------------
    left, right = st.columns(2)
    threshold = DEFAULT_OPTIONS["wait_threshold_min"]
    with left, st.container(border=True, height="stretch"):
        st.subheader(t("ct.wait_dist"), anchor=False, help=t("ct.wait_dist.help"))
        hist = _histogram(f.start, f.end, f.scope, version)
        labels = [f"{b}–{int(u)}" if pd.notna(u) else f"≥{b}" for b, u in zip(hist["bucket"], hist["upper"], strict=True)]
        fig = go.Figure(go.Bar(
            x=hist["bucket"] + 2.5, y=hist["tickets"], width=4.6, marker_color=charts.PALETTE[0],
            customdata=list(zip(labels, [f"{s:.1%}" for s in hist["share"]], strict=True)),
            hovertemplate="%{customdata[0]} " + t("ct.minutes") + "<br>%{y:,}（%{customdata[1]}）<extra></extra>"
            if lang == "zh" else "%{customdata[0]} " + t("ct.minutes") + "<br>%{y:,} (%{customdata[1]})<extra></extra>"))
        fig.add_vline(x=threshold, line={"color": "#c0392b", "dash": "dash", "width": 1.5},
                      annotation_text=t("ct.threshold", n=threshold), annotation_position="top right",
                      annotation_font={"color": "#c0392b"})
        ticks = list(hist["bucket"]) + [int(hist["bucket"].max()) + 5]
        fig.update_layout(height=340, margin={"l": 10, "r": 10, "t": 24, "b": 10}, plot_bgcolor="white", font=FONT,
                          bargap=0, showlegend=False,
                          xaxis={"title": f"{t('ct.bucket')}（{t('ct.minutes')}）" if lang == "zh"
                                 else f"{t('ct.bucket')} ({t('ct.minutes')})",
                                 "tickvals": ticks, "ticktext": [str(v) if v < ticks[-1] - 5 else f"{v}+" for v in ticks[:-1]] + [""],
                                 "range": [0, ticks[-1]]},
                          yaxis={"title": t("ct.tickets"), "gridcolor": "#eeeeee", "tickformat": ",d"})
        st.plotly_chart(fig, key="ct_wait_hist", config=PLOTLY_CONFIG, alt=t("ct.wait_dist_alt"))
        out = pd.DataFrame({t("ct.bucket_lower"): hist["bucket"], t("ct.bucket_upper"): hist["upper"],
                            t("ct.tickets"): hist["tickets"], t("ct.share"): hist["share"].round(4)})
        widgets.download_csv(out, f"counter_wait_distribution_{f.start}_{f.end}", key="ct_hist_csv")

    with right, st.container(border=True, height="stretch"):
        st.subheader(t("ct.wait_trend"), anchor=False, help=t("ct.wait_trend.help"))
        p90 = cache.series(M_P90.id, f)
        avg = cache.series(M_AVG.id, f)
        trend = pd.concat([p90.assign(series=M_P90.name(lang)), avg.assign(series=M_AVG.name(lang))],
                          ignore_index=True)
        trend["series"] = pd.Categorical(trend["series"], categories=[M_P90.name(lang), M_AVG.name(lang)],
                                         ordered=True)
        fig = charts.line(trend[["period", "series", "value"]], M_P90, lang, color="series", events=events,
                          height=340)
        if M_P90.target is not None:
            fig.add_hline(y=M_P90.target, line={"color": "#c0392b", "dash": "dash", "width": 1},
                          annotation_text=f"P90 {t('ct.target')} {M_P90.target:g}{'分钟' if lang == 'zh' else ' min'}",
                          annotation_position="top left", annotation_font={"color": "#c0392b", "size": 11})
        st.plotly_chart(fig, key="ct_wait_trend", config=PLOTLY_CONFIG, alt=t("ct.wait_trend_alt"))
        out = (trend.pivot_table(index="period", columns="series", values="value", observed=True)
               .round(2).reset_index().rename(columns={"period": t("ct.col.period")}))
        out.columns = [str(c) for c in out.columns]
        widgets.download_csv(out, f"counter_wait_trend_{f.grain.value}_{f.start}_{f.end}", key="ct_trend_csv")

    # -- weekday × hour ------------------------------------------------------------------------
    with st.container(border=True):
        st.subheader(t("ct.heatmap"), anchor=False, help=t("ct.heatmap.help"))
        hm = _heatmap(f.start, f.end, f.scope, version)
        wd = {i: t(f"ct.wd.{i}") for i in range(1, 8)}
        hours = sorted(hm["hour"].unique())
        hour_label = {h: f"{h}:00" for h in hours}

        def _pivot(col: str) -> pd.DataFrame:
            z = hm.pivot(index="weekday", columns="hour", values=col).reindex(columns=hours)
            z.index = [wd[i] for i in z.index]
            z.columns = [hour_label[h] for h in z.columns]
            return z

        c1, c2 = st.columns(2)
        with c1:
            st.markdown(f"**{t('ct.arrivals')}**")
            fig = charts.heatmap(_pivot("arrivals_per_day"), lang, colorscale="Blues", height=300)
            fig.update_yaxes(autorange="reversed")
            st.plotly_chart(fig, key="ct_heat_arrivals", config=PLOTLY_CONFIG, alt=t("ct.heat_arrivals_alt"))
        with c2:
            st.markdown(f"**{t('ct.avg_wait')}**")
            fig = charts.heatmap(_pivot("avg_wait_min"), lang, colorscale="Oranges",
                                 suffix="分钟" if lang == "zh" else " min", height=300)
            fig.update_yaxes(autorange="reversed")
            st.plotly_chart(fig, key="ct_heat_wait", config=PLOTLY_CONFIG, alt=t("ct.heat_wait_alt"))
        out = hm.assign(weekday=[wd[i] for i in hm["weekday"]]).rename(columns={
            "weekday": t("ct.weekday"), "hour": t("ct.hour"), "tickets": t("ct.tickets"), "days": t("ct.days"),
            "arrivals_per_day": t("ct.arrivals"), "avg_wait_min": t("ct.avg_wait")}).round(2)
        widgets.download_csv(out, f"counter_weekday_hour_{f.start}_{f.end}", key="ct_heat_csv")

    # -- staffing advice: windows needed vs open, suggestions, what-if (pages/_ui/staffing.py) ---------
    staffing_section.section(f, names)

    # -- branch ranking (last period) ----------------------------------------------------------
    RANK_METRICS = {"counter.tickets_served": "served", "counter.wait_avg_min": "wait_avg",
                    "counter.wait_p90_min": "wait_p90", "counter.overtime_wait_rate": "overtime",
                    "counter.abandonment_rate": "abandon", "counter.window_utilisation": "util"}
    frames = {col: cache.series(mid, f, by=("branch",), start=f.end) for mid, col in RANK_METRICS.items()}
    served = frames["served"]
    last = served["period"].max() if not served.empty else None
    with st.container(border=True):
        plabel = period_label(last, f.grain, lang) if last is not None else "—"
        st.subheader(t("ct.ranking", period=plabel), anchor=False, help=t("ct.ranking.help"))
        rank = master[["branch_id", "branch_name", "region"]].rename(columns={"branch_id": "branch"})
        keep = None
        for col, df in frames.items():
            cur = df[df["period"] == last] if last is not None else df.iloc[0:0]
            part = cur[["branch", "value"]].rename(columns={"value": col})
            if col == "served":
                part = part.assign(served_chg=cur["delta_prev"].to_numpy())
                keep = set(part["branch"])
            rank = rank.merge(part, on="branch", how="left")
        rank = rank[rank["branch"].isin(keep or set())].sort_values("served", ascending=False)
        rank = rank[["branch_name", "region", "served", "served_chg", "wait_avg", "wait_p90", "overtime",
                     "abandon", "util", "branch"]]
        for c in ("served_chg", "overtime", "abandon", "util"):  # fractions → percent (points) for display
            rank[c] = rank[c] * 100
        labels_map = {c: t(f"ct.col.{c}") for c in ("served", "served_chg", "wait_avg", "wait_p90", "overtime",
                                                     "abandon", "util")}
        labels_map.update({"branch": t("ct.col.branch_id"), "branch_name": t("ct.col.branch"),
                           "region": t("ct.col.region")})
        pct = st.column_config.NumberColumn
        st.dataframe(
            rank, hide_index=True, alt=t("ct.ranking_alt"), key="ct_ranking",
            column_config={
                "branch": st.column_config.TextColumn(labels_map["branch"], width="small"),
                "branch_name": st.column_config.TextColumn(labels_map["branch_name"], pinned=True),
                "region": st.column_config.TextColumn(labels_map["region"], width="small"),
                "served": pct(labels_map["served"], format="localized"),
                "served_chg": pct(labels_map["served_chg"], format="%+.1f%%"),
                "wait_avg": pct(labels_map["wait_avg"], format="%.1f"),
                "wait_p90": pct(labels_map["wait_p90"], format="%.1f"),
                "overtime": pct(labels_map["overtime"], format="%.2f%%"),
                "abandon": pct(labels_map["abandon"], format="%.2f%%"),
                "util": pct(labels_map["util"], format="%.1f%%"),
            })
        csv_labels = {k: (f"{v} (%)" if k in ("served_chg", "overtime", "abandon", "util") else v)
                      for k, v in labels_map.items()}
        widgets.download_csv(rank.rename(columns=csv_labels).round(3),
                             f"counter_branch_ranking_{f.grain.value}_{last}", key="ct_ranking_csv")

    # -- by service type (last period) ---------------------------------------------------------
    with st.container(border=True):
        st.subheader(t("ct.service", period=plabel), anchor=False, help=t("ct.service.help"))
        sv = cache.series(M_SERVED.id, f, by=("service_type",), start=f.end)
        sw = cache.series(M_AVG.id, f, by=("service_type",), start=f.end)
        sv = sv[sv["period"] == last][["service_type", "value"]].rename(columns={"value": "served"})
        sw = sw[sw["period"] == last][["service_type", "value"]].rename(columns={"value": "wait_avg"})
        svc = sv.merge(sw, on="service_type", how="outer")
        svc["name"] = [_service_name(s) for s in svc["service_type"]]
        c1, c2 = st.columns(2)
        with c1:
            st.markdown(f"**{M_SERVED.name(lang)}**")
            fig = charts.bar(svc.dropna(subset=["served"]).rename(columns={"served": "value"}), "name", M_SERVED, lang,
                             height=280)
            st.plotly_chart(fig, key="ct_service_served", config=PLOTLY_CONFIG, alt=t("ct.service_alt"))
        with c2:
            st.markdown(f"**{M_AVG.name(lang)}**")
            fig = charts.bar(svc.dropna(subset=["wait_avg"]).rename(columns={"wait_avg": "value"}), "name", M_AVG,
                             lang, height=280)
            st.plotly_chart(fig, key="ct_service_wait", config=PLOTLY_CONFIG, alt=t("ct.service_alt"))
        total = svc["served"].sum()
        out = pd.DataFrame({t("ct.col.service_type"): svc["name"], t("ct.col.served"): svc["served"],
                            t("ct.col.share"): (svc["served"] / total).round(4) if total else None,
                            t("ct.col.wait_avg"): svc["wait_avg"].round(2)})
        widgets.download_csv(out, f"counter_service_types_{f.grain.value}_{last}", key="ct_service_csv")
