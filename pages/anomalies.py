"""异常预警 Anomalies: the list, one anomaly's series with its band, the root cause and triage."""

import json

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from anomaly.base import MOST_SEVERE_FIRST
from anomaly.store import STATUS_LABELS, TRANSITIONS, AnomalyStore, NoiseControls, TriageError
from metrics.catalogue import CATALOGUE, get_metric
from metrics.format import fmt_value
from metrics.model import CATEGORY_LABELS, Category, Grain
from metrics.periods import label as period_label
from pages._ui import auth, cache, charts, plan_links
from pages._ui.i18n import current_lang, t
from pages._ui.progress import ProgressBar
from pages._ui.store import data_version, get_store
from pages._ui.widgets import download_csv

lang = current_lang()
zh = lang == "zh"
store = get_store()
astore = AnomalyStore(store)
user = auth.current_user()  # recorded on triage changes and in the audit trail

st.title(t("an.title"), anchor=False)
st.caption(t("an.caption"))

# -- filters --------------------------------------------------------------------------------
c1, c2, c3, c4 = st.columns(4)
status = c1.selectbox(t("an.status"), ["", *STATUS_LABELS], key="an_status",
                      format_func=lambda s: STATUS_LABELS[s][0 if zh else 1] if s else t("an.any"))
severity = c2.selectbox(t("an.severity"), ["", *MOST_SEVERE_FIRST], key="an_sev",
                        format_func=lambda s: t(f"sev.{s}") if s else t("an.any"))
category = c3.selectbox(t("an.category"), ["", *[c.value for c in Category]], key="an_cat",
                        format_func=lambda c: CATEGORY_LABELS[Category(c)][0 if zh else 1] if c else t("an.any"))
scope_kind = c4.selectbox(t("an.scope"), ["", "bank", "region", "branch"], key="an_scope",
                          format_func=lambda s: t(f"scope.{s}") if s else t("an.any"))


PAGE_SIZE = 1000  # rows of the list per page


def _filters(status, severity, category, scope_kind, bound) -> dict:
    return {"status": status or None, "severity": severity or None, "category": category or None,
            "scope_kind": scope_kind or None, "boundary": None if bound is None else frozenset(bound)}


# The person's scope is applied in the query, before the page's LIMIT/OFFSET (bound: sorted ids).
@st.cache_data(show_spinner=False, ttl=600, max_entries=64)
def _count(status, severity, category, scope_kind, bound: tuple | None, version: int) -> int:
    return astore.count(**_filters(status, severity, category, scope_kind, bound))


@st.cache_data(show_spinner=False, ttl=600, max_entries=64)
def _list(status, severity, category, scope_kind, bound: tuple | None, page: int, version: int) -> pd.DataFrame:
    return astore.list(**_filters(status, severity, category, scope_kind, bound), limit=PAGE_SIZE,
                       offset=(page - 1) * PAGE_SIZE)


version = data_version() + st.session_state.get("_triage_v", 0)
boundary = auth.boundary()
bound = None if boundary is None else tuple(sorted(boundary))
total = _count(status, severity, category, scope_kind, bound, version)
if total == 0:
    st.info(t("an.none"))
    st.stop()
n_pages = -(-total // PAGE_SIZE)
page = 1
if n_pages > 1:
    if not 1 <= st.session_state.get("an_page", 1) <= n_pages:  # fewer pages after a filter change
        st.session_state["an_page"] = 1
    page = int(st.number_input(t("an.page"), min_value=1, max_value=n_pages, step=1, key="an_page",
                               help=t("an.page.help", size=PAGE_SIZE)))
rows = _list(status, severity, category, scope_kind, bound, page, version)
rows = auth.visible(rows).reset_index(drop=True)  # the same rule again, in pandas (a no-op by now)
if rows.empty:
    st.info(t("an.none"))
    st.stop()


def _fmt(row, col):
    m = CATALOGUE.get(row["metric_id"])
    return fmt_value(m, row[col], lang) if m is not None and pd.notna(row[col]) else "—"


table = pd.DataFrame({
    t("an.col.period"): [period_label(pd.Timestamp(p).date(), Grain(g), lang) for p, g in zip(rows["period"], rows["grain"], strict=True)],
    t("an.col.metric"): [CATALOGUE[m].name(lang) if m in CATALOGUE else m for m in rows["metric_id"]],
    t("an.col.scope"): [("全行" if zh else "Bank") if k == "bank" else lab for k, lab in zip(rows["scope_kind"], rows["scope_label"], strict=True)],
    t("an.col.observed"): [_fmt(r, "observed") for _, r in rows.iterrows()],
    t("an.col.expected"): [_fmt(r, "expected") for _, r in rows.iterrows()],
    t("an.col.severity"): [t(f"sev.{s}") for s in rows["severity"]],
    t("an.col.tone"): [t(f"tone.{s}") for s in rows["tone"]],
    t("an.col.status"): [STATUS_LABELS[s][0 if zh else 1] for s in rows["status"]],
    t("an.col.cause"): [t(f"cause.{c}") if isinstance(c, str) and c else "" for c in rows["cause"]],
    t("an.col.owner"): rows["owner_dept"].fillna(""),
})
st.caption(t("an.count", n=total, k=page, m=n_pages))
picked = st.dataframe(table, hide_index=True, on_select="rerun", selection_mode="single-row", key="an_table",
                      height=320)
d1, d2 = st.columns([1, 5])
with d1:
    download_csv(table, "anomalies", key="dl_anomalies")
with d2:
    if auth.can("scan") and st.button(t("an.rescan"), icon=":material/radar:", key="an_rescan"):
        from anomaly.scan import scan

        bar = ProgressBar(t("an.scan.title"), lang)
        r = scan(store, trigger=f"web:{user.name}", progress=bar.report)
        bar.finish(t("an.scan.done"))
        auth.record("scan", detail={"series": r.series, "new": r.new})
        st.session_state["_triage_v"] = st.session_state.get("_triage_v", 0) + 1
        st.success(t("an.rescanned", series=r.series, new=r.new))

sel = picked.selection.rows if picked and picked.selection else []
if not sel:
    st.info(t("an.pick"))
    st.stop()
a = rows.iloc[sel[0]].to_dict()
metric = get_metric(a["metric_id"])
grain = Grain(a["grain"])

st.subheader(t("an.detail"), anchor=False)
with st.container(border=True):
    st.text(a["sentence_zh"] if zh else a["sentence_en"])  # generated text, shown as plain text
    # the plans this flag led to, and one click to a pre-filled new one (pages/_ui/plan_links.py)
    plan_links.show_plans_for("anomaly", a["anomaly_id"])
    plan_links.create_plan_link(
        origin_kind="anomaly", origin_ref=a["anomaly_id"],
        origin_label=f"{metric.name(lang)} {a.get('scope_label') or ''} {pd.Timestamp(a['period']):%Y-%m-%d}",
        kpi=a["metric_id"], branches=[a["scope_value"]] if a["scope_kind"] == "branch" else [],
        region=a["scope_value"] if a["scope_kind"] == "region" else None,
        owner=a.get("owner_dept") or plan_links.suggested_owner(metric.category.value, a.get("cause")),
        kind="process")


@st.cache_data(show_spinner=False, ttl=600, max_entries=32)
def _band(anomaly_id: str, metric_id: str, scope_kind: str, scope_value: str, version: int) -> pd.DataFrame:
    """The series around the anomaly with the detector's expected band (re-scored, not stored)."""
    from anomaly.ensemble import choose
    from anomaly.scan import _levels, series_for
    from metrics.compute import metric_span
    from metrics.options import resolve

    m = get_metric(metric_id)
    lo, hi = metric_span(store, m)
    by = dict(_levels(m)).get(scope_kind, ())
    s = series_for(store, m, m.default_grain, lo, hi, scope_kind, by, resolve(None)).get(scope_value)
    if s is None:
        return pd.DataFrame()
    sc = choose(s).score(s).frame()
    sc["value"] = s.values
    return sc.reset_index(names="period")


band = _band(a["anomaly_id"], a["metric_id"], a["scope_kind"], a["scope_value"], data_version())
st.markdown(f"**{t('an.series')}**")
if not band.empty:
    p = pd.Timestamp(a["period"])
    win = band[(band["period"] >= p - pd.Timedelta(days=120 if grain is Grain.DAY else 900))
               & (band["period"] <= p + pd.Timedelta(days=30 if grain is Grain.DAY else 200))]
    scale = 100 if metric.unit.value == "rate" else 1
    fig = go.Figure()
    bw = win[win["lower"].notna() & win["upper"].notna()]  # a band with gaps would fill across them
    fig.add_trace(go.Scatter(x=bw["period"], y=bw["upper"] * scale, line={"width": 0}, showlegend=False, hoverinfo="skip"))
    fig.add_trace(go.Scatter(x=bw["period"], y=bw["lower"] * scale, fill="tonexty", fillcolor="rgba(31,78,121,0.12)",
                             line={"width": 0}, name=t("an.band")))
    fig.add_trace(go.Scatter(x=win["period"], y=win["expected"] * scale, line={"dash": "dot", "color": "#7f8c8d"},
                             name=t("an.expected")))
    fig.add_trace(go.Scatter(x=win["period"], y=win["value"] * scale, line={"color": "#1f4e79"}, name=t("an.observed")))
    same = rows[(rows["metric_id"] == a["metric_id"]) & (rows["scope_kind"] == a["scope_kind"])
                & (rows["scope_value"] == a["scope_value"]) & (rows["anomaly_id"] != a["anomaly_id"])]
    same = same[(pd.to_datetime(same["period"]) >= win["period"].min()) & (pd.to_datetime(same["period"]) <= win["period"].max())]
    if not same.empty:  # the series' other flagged points
        fig.add_trace(go.Scatter(x=pd.to_datetime(same["period"]), y=same["observed"] * scale, mode="markers",
                                 name=t("an.other_flags"), marker={"color": "#e67e22", "size": 9, "symbol": "diamond"}))
    fig.add_trace(go.Scatter(x=[p], y=[a["observed"] * scale], mode="markers", name=metric.name(lang),
                             marker={"color": "#c0392b", "size": 13, "symbol": "circle-open", "line": {"width": 3}}))
    charts.add_events(fig, cache.events(win["period"].min().date(), win["period"].max().date()), lang)
    # the axis follows the data, not the band: on heavy-tailed noise the calibrated band is honestly
    # very wide (anomaly/calibrate.py) and would flatten the series it is drawn around
    seen = pd.concat([win["value"], win["expected"], pd.Series([a["observed"]])]).dropna() * scale
    yaxis = {"ticksuffix": "%" if scale == 100 else ""}
    if not seen.empty:
        top, bottom = float(seen.max()), float(seen.min())
        pad = 0.15 * max(top - bottom, abs(top), 1e-9)
        yaxis["range"] = [0.0 if bottom >= 0 else bottom - pad, top + pad]
    fig.update_layout(height=320, margin={"l": 10, "r": 10, "t": 10, "b": 10}, plot_bgcolor="white",
                      legend={"orientation": "h", "y": -0.2}, yaxis=yaxis)
    st.plotly_chart(fig, key="an_band_chart")
    download_csv(win, f"anomaly_{a['anomaly_id']}", key="dl_band")

st.markdown(f"**{t('an.cause')}**")
if a.get("cause_json"):
    info = json.loads(a["cause_json"])
    if "cause" in info:
        st.markdown(f"**{t('cause.' + info['cause'])}**")
        st.text(info["evidence_zh"] if zh else info["evidence_en"])
        contrib = pd.DataFrame([
            {"dim": c["dimension"], "member": c["member"], "pp": c["total_pp"]}
            for rows_ in info.get("by_dimension", {}).values() for c in rows_[:3]])
        if not contrib.empty:
            from metrics.columns import DIMENSIONS

            contrib["label"] = [f"{DIMENSIONS[d].label(lang)}：{m}" for d, m in zip(contrib["dim"], contrib["member"], strict=True)]
            contrib = contrib.sort_values("pp")
            fig = go.Figure(go.Bar(y=contrib["label"], x=contrib["pp"], orientation="h",
                                   marker_color=["#c0392b" if v > 0 else "#2e8b57" for v in contrib["pp"]],
                                   text=[f"{v:+.2f}" for v in contrib["pp"]], textposition="auto"))
            fig.update_layout(height=max(260, 24 * len(contrib)), margin={"l": 10, "r": 10, "t": 10, "b": 10},
                              xaxis={"title": t("an.contrib")}, plot_bgcolor="white")
            st.plotly_chart(fig, key="an_contrib")
            download_csv(contrib[["dim", "member", "pp"]], f"contributors_{a['anomaly_id']}", key="dl_contrib")
else:
    st.caption(t("an.no_cause"))

if not auth.can("triage"):  # viewers read; analysts and above triage
    st.stop()
st.markdown(f"**{t('an.triage')}**")
with st.form("an_triage"):
    options = [a["status"], *TRANSITIONS[a["status"]]]
    to = st.selectbox(t("an.to_status"), options, format_func=lambda s: STATUS_LABELS[s][0 if zh else 1])
    owner = st.text_input(t("an.owner"), value=a.get("owner_dept") or "", max_chars=60)
    note = st.text_area(t("an.note"), max_chars=1000)
    if st.form_submit_button(t("an.save"), type="primary"):
        try:
            astore.transition(a["anomaly_id"], to, user, owner_dept=owner or None, note=note or None)
            st.session_state["_triage_v"] = st.session_state.get("_triage_v", 0) + 1
            st.success(t("an.saved"))
            st.rerun()
        except TriageError as exc:
            st.error(str(exc).split(" / ")[0 if zh else -1])

hist = astore.history(a["anomaly_id"])
with st.expander(t("an.history")):
    def _st(v):
        return STATUS_LABELS[v][0 if zh else 1] if isinstance(v, str) and v in STATUS_LABELS else ""

    st.dataframe(pd.DataFrame({
        t("an.h.when"): pd.to_datetime(hist["happened_at"]).dt.strftime("%Y-%m-%d %H:%M"),
        t("an.h.user"): hist["user_name"],
        t("an.h.action"): [t(f"an.h.{x}") if x in ("detected", "status", "note", "owner") else x for x in hist["action"]],
        t("an.h.from"): [_st(v) for v in hist["from_status"]],
        t("an.h.to"): [_st(v) for v in hist["to_status"]],
        t("an.col.owner"): hist["owner_dept"].fillna(""),
        t("an.note"): hist["note"].fillna(""),
    }), hide_index=True)

with st.expander(t("an.controls")):
    c = astore.controls(a["metric_id"], a["scope_kind"], a["scope_value"])
    st.caption(t("an.false_alarms", n=c.false_alarms))
    with st.form("an_controls"):
        sens = st.number_input(t("an.sensitivity"), 0.5, 3.0, float(c.sensitivity), 0.05)
        minc = st.number_input(t("an.min_change"), 0.0, 10.0, float(c.min_change or 0.0), 0.001, format="%.3f")
        mind = st.number_input(t("an.min_den"), 0.0, 1e9, float(c.min_denominator or 30.0), 10.0)
        if st.form_submit_button(t("an.save")):
            astore.set_controls(a["metric_id"], a["scope_kind"], a["scope_value"],
                                NoiseControls(sens, minc or None, mind, c.false_alarms), user)
            st.success(t("an.saved"))
