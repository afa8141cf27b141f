"""信贷 Credit: headline KPIs, trends (with the industry NPL ratio), breakdowns, the five-class
migration matrix, vintage curves by disbursement cohort and the loan list."""

import math
from datetime import date

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from metrics import credit_analysis as ca
from metrics.catalogue import get_metric
from metrics.format import fmt_pct
from metrics.model import Grain, Unit
from metrics.periods import label as period_label
from metrics.scope import Scope
from pages._ui import cache, charts
from pages._ui.filters import current
from pages._ui.i18n import current_lang, tr
from pages._ui.store import data_version, get_store
from pages._ui.widgets import download_csv, kpi_card

TTL = 3600
PAGE_SIZE = 100
VINTAGE_MOB = 6
FONT = {"family": "Noto Sans CJK SC, Microsoft YaHei, sans-serif"}

lang = current_lang()


def t(key: str, **fmt) -> str:
    """This run's language, bound: widget format_funcs are also called outside the script run."""
    return tr(key, lang, **fmt)

f = current()
scope = f.scope


# -- cached reads (page boundary: plain arguments + the data version) --------------------------
@st.cache_data(show_spinner=False, ttl=TTL, max_entries=8)
def branch_names(version: int) -> dict[str, str]:
    return {b[0]: b[1] for b in get_store().query("reads.branch_master").rows()}


@st.cache_data(show_spinner=False, ttl=TTL, max_entries=32)
def snapshot_dates(scope: Scope, version: int) -> list[date]:
    return ca.snapshot_dates(get_store().ibis(), scope)


@st.cache_data(show_spinner=False, ttl=TTL, max_entries=64)
def migration(scope: Scope, a: date, b: date, version: int) -> pd.DataFrame:
    return ca.migration_pairs(get_store().ibis(), a, b, scope)


@st.cache_data(show_spinner=False, ttl=TTL, max_entries=64)
def vintage(scope: Scope, grain: str, approver: str | None, branch: str | None, version: int) -> pd.DataFrame:
    return ca.vintage(get_store().ibis(), scope, grain, approver=approver, branch=branch)


@st.cache_data(show_spinner=False, ttl=TTL, max_entries=64)
def hotspots(scope: Scope, grain: str, approver: str | None, branch: str | None, mob: int,
             version: int) -> pd.DataFrame:
    return ca.vintage_hotspots(get_store().ibis(), scope, mob, grain, approver=approver, branch=branch)


@st.cache_data(show_spinner=False, ttl=TTL, max_entries=32)
def loan_options(scope: Scope, version: int) -> dict:
    return ca.loan_filter_options(get_store().ibis(), scope)


@st.cache_data(show_spinner=False, ttl=TTL, max_entries=128)
def loans(scope: Scope, branch, product, classes: tuple, min_dpd: int, approver, offset: int,
          version: int) -> tuple[pd.DataFrame, int, date | None]:
    return ca.loan_list(get_store().ibis(), scope, branch=branch, product=product, risk_classes=classes or None,
                        min_dpd=min_dpd, approver=approver, limit=PAGE_SIZE, offset=offset)


# -- helpers -----------------------------------------------------------------------------------
def wan(v):
    return None if v is None or pd.isna(v) else round(float(v) / 1e4, 2)


def branch_label(b) -> str:
    if b is None or (isinstance(b, float) and math.isnan(b)):
        return "—"
    name = branch_names(data_version()).get(str(b))
    return f"{name}（{b}）" if name and name != b else str(b)


def segment_label(code) -> str:
    key = f"cr.seg.{code}"
    text = t(key)
    return code if text == key else text


def chart_box(title: str):
    box = st.container(border=True)
    box.markdown(f"**{title}**")
    return box


def trend(metric_id: str, title: str, key: str, options: dict | None = None) -> None:
    metric = get_metric(metric_id)
    df = cache.series(metric_id, f, options=options)
    with chart_box(title):
        if df.empty:
            st.info(t("cr.no_series"), icon=":material/info:")
            return
        fig = charts.line(df, metric, lang, events=events)
        st.plotly_chart(fig, key=f"cr_{key}_chart", alt=t("cr.alt.trend", name=metric.name(lang)))
        download_csv(df, f"credit_{key}", key=f"cr_{key}_dl")


# -- header ------------------------------------------------------------------------------------
st.title(t("cr.title"), anchor=False)
st.caption(t("cr.caption", scope=scope.label(lang), start=f.start.isoformat(), end=f.end.isoformat()))

dates = snapshot_dates(scope, data_version())
if not dates:
    st.info(t("cr.empty"), icon=":material/info:")
    st.stop()

basis = st.segmented_control(t("cr.basis"), ["loan", "amount"], format_func=lambda b: t(f"cr.basis.{b}"),
                             key="cr_basis", required=True, default="loan", help=t("cr.basis.help"))
opts = {"overdue_basis": basis}
events = cache.events(f.start, f.end)

for col, mid in zip(st.columns(4), ("credit.balance", "credit.disbursed_amount", "credit.overdue_rate",
                                    "credit.npl_ratio"), strict=True):
    with col:
        kpi_card(cache.card(mid, f, options=opts if mid == "credit.overdue_rate" else None), f)

# -- trends ------------------------------------------------------------------------------------
st.subheader(t("cr.trends"), anchor=False)
c1, c2 = st.columns(2)
with c1:
    trend("credit.balance", t("cr.balance_trend"), "balance")
with c2:
    trend("credit.disbursed_amount", t("cr.disbursed_trend"), "disbursed")
c3, c4 = st.columns(2)
with c3:
    trend("credit.overdue_rate", t("cr.overdue_trend", basis=t(f"cr.basis.{basis}")), "overdue", opts)
with c4:
    ours = cache.series("credit.npl_ratio", f)
    industry = cache.series("market.industry_npl_ratio", f)
    with chart_box(t("cr.npl_trend")):
        if ours.empty and industry.empty:
            st.info(t("cr.no_series"), icon=":material/info:")
        else:
            fig = go.Figure()
            if not ours.empty:
                fig.add_trace(go.Scatter(
                    x=pd.to_datetime(ours["period"]), y=ours["value"] * 100, mode="lines+markers",
                    name=t("cr.npl_ours"), line={"color": charts.PALETTE[0], "width": 2.5},
                    hovertemplate="%{x|%Y-%m-%d}  %{y:.2f}%<extra>%{fullData.name}</extra>"))
            if not industry.empty:
                fig.add_trace(go.Scatter(
                    x=pd.to_datetime(industry["period"]), y=industry["value"], mode="lines",
                    line_shape="hv", name=t("cr.npl_industry"), line={"color": charts.PALETTE[1], "dash": "dash"},
                    hovertemplate="%{x|%Y-%m-%d}  %{y:.2f}%<extra>%{fullData.name}</extra>"))
            charts.add_events(fig, events, lang)
            fig.update_layout(height=340, margin={"l": 10, "r": 10, "t": 10, "b": 10}, hovermode="x unified",
                              legend={"orientation": "h", "y": -0.18}, plot_bgcolor="white", font=FONT,
                              yaxis={"ticksuffix": "%", "rangemode": "tozero", "gridcolor": "#eeeeee"})
            st.plotly_chart(fig, key="cr_npl_chart", alt=t("cr.npl_trend"))
            st.caption(t("cr.npl_note"))
            both = pd.concat([
                ours.assign(series="credit.npl_ratio", value_pct=ours["value"] * 100),
                industry.assign(series="market.industry_npl_ratio", value_pct=industry["value"]),
            ], ignore_index=True)[["period", "series", "value_pct"]] if not (ours.empty and industry.empty) else ours
            download_csv(both, "credit_npl_vs_industry", key="cr_npl_dl")


# -- breakdown ---------------------------------------------------------------------------------
BD_DIMS = ("product", "branch", "segment", "industry")
BD_METRICS = ("credit.balance", "credit.overdue_rate", "credit.npl_ratio", "credit.disbursed_amount")


@st.fragment
def breakdown() -> None:
    st.subheader(t("cr.breakdown"), anchor=False)
    with st.container(horizontal=True, vertical_alignment="bottom"):
        dim = st.segmented_control(t("cr.bd_dim"), BD_DIMS, format_func=lambda d: t(f"cr.dim.{d}"),
                                   key="cr_bd_dim", required=True, default="product")
        mid = st.selectbox(t("cr.bd_metric"), BD_METRICS, key="cr_bd_metric", width=280,
                           format_func=lambda m: get_metric(m).name(lang))
    metric = get_metric(mid)
    df = cache.series(mid, f, by=(dim,), options=opts if mid == "credit.overdue_rate" else None)
    if df.empty:
        st.info(t("cr.no_series"), icon=":material/info:")
        return
    last = df["period"].max()
    latest = df[df["period"] == last].copy()
    label = {"branch": branch_label, "segment": segment_label}.get(dim, lambda v: "—" if v is None else str(v))
    latest["group"] = [label(v) for v in latest[dim]]
    st.caption(t("cr.bd_period", p=period_label(last, f.grain, lang)))
    c1, c2 = st.columns([3, 2])
    with c1:
        fig = charts.bar(latest, "group", metric, lang, height=max(260, 34 * len(latest) + 40))
        st.plotly_chart(fig, key="cr_bd_chart", alt=t("cr.alt.bar", metric=metric.name(lang), dim=t(f"cr.dim.{dim}")))
    with c2:
        rate = metric.unit is Unit.RATE
        table = pd.DataFrame({t("cr.col.group"): latest["group"]})
        if rate:
            table[t("cr.col.value")] = latest["value"] * 100
            table[t("cr.col.numerator") + f"（{t('cr.unit.wan')}）"] = latest["numerator"].map(wan)
            table[t("cr.col.denominator") + f"（{t('cr.unit.wan')}）"] = latest["denominator"].map(wan)
            money = {c: st.column_config.NumberColumn(format="%,.2f") for c in table.columns[2:]}
            fmt = "%.2f%%"
        else:
            table[t("cr.col.value") + f"（{t('cr.unit.wan')}）"] = latest["value"].map(wan)
            fmt = "%,.2f"
            money = {}
        table = table.sort_values(table.columns[1], ascending=False)
        st.dataframe(table, hide_index=True, alt=t("cr.alt.bar", metric=metric.name(lang), dim=t(f"cr.dim.{dim}")),
                     column_config={table.columns[1]: st.column_config.NumberColumn(format=fmt)} | money)
        download_csv(latest.drop(columns=["group"]).assign(group_label=latest["group"]),
                     f"credit_breakdown_{dim}", key="cr_bd_dl")


breakdown()


# -- migration ---------------------------------------------------------------------------------
@st.fragment
def migration_section() -> None:
    st.subheader(t("cr.migration"), anchor=False)
    st.caption(t("cr.mig.caption"))
    pair = ca.default_pair(dates)
    if pair is None:
        st.info(t("cr.mig.need_two"), icon=":material/info:")
        return
    newest_first = sorted(dates, reverse=True)
    with st.container(horizontal=True, vertical_alignment="bottom"):
        a = st.selectbox(t("cr.mig.a"), newest_first, index=newest_first.index(pair[0]), key="cr_mig_a", width=200)
        b = st.selectbox(t("cr.mig.b"), newest_first, index=newest_first.index(pair[1]), key="cr_mig_b", width=200)
        show = st.segmented_control(t("cr.mig.value"), ["loans", "balance", "rates"], key="cr_mig_value",
                                    required=True, default="loans",
                                    format_func=lambda v: t({"loans": "cr.mig.loans", "balance": "cr.mig.balance",
                                                             "rates": "cr.mig.rates"}[v]))
    if a >= b:
        st.warning(t("cr.mig.same"), icon=":material/warning:")
        return
    pairs = migration(scope, a, b, data_version())
    counts = ca.migration_matrix(None, a, b, value="loans", pairs=pairs)
    if show == "rates":
        m = ca.migration_rates(counts) * 100
        fmt = "%.1f%%"
    elif show == "balance":
        m = ca.migration_matrix(None, a, b, value="balance", pairs=pairs) / 1e4
        fmt = "%,.2f"
    else:
        m = counts
        fmt = "%,d"
    names = {c: ca.class_label(c, lang) for c in (*ca.FROM_ORDER, *ca.TO_ORDER)} | {"total": t("cr.mig.total")}
    view = m.rename(index=names, columns=names)
    view.index.name = t("cr.mig.from")
    view = view.reset_index()
    st.dataframe(view, hide_index=True, alt=t("cr.migration"),
                 column_config={c: st.column_config.NumberColumn(format=fmt) for c in view.columns[1:]})
    down_n = int(counts.loc["normal", ["special_mention", "substandard", "doubtful", "loss"]].sum())
    sm = counts.loc["special_mention"]
    down_sm = int(sm[["substandard", "doubtful", "loss"]].sum())
    rate = down_sm / sm["total"] if sm["total"] else None
    st.caption(t("cr.mig.downgrade", n=f"{down_n:,}", m=f"{down_sm:,}", r=fmt_pct(rate)))
    download_csv(pairs.assign(from_label=[ca.class_label(c, lang) for c in pairs["from_class"]],
                              to_label=[ca.class_label(c, lang) for c in pairs["to_class"]],
                              snapshot_a=a, snapshot_b=b),
                 f"credit_migration_{a}_{b}", key="cr_mig_dl")


migration_section()


# -- vintage -----------------------------------------------------------------------------------
@st.fragment
def vintage_section() -> None:
    st.subheader(t("cr.vintage"), anchor=False)
    st.caption(t("cr.vin.caption"))
    opt = loan_options(scope, data_version())
    with st.container(horizontal=True, vertical_alignment="bottom"):
        grain = st.segmented_control(t("cr.vin.grain"), ["quarter", "month"], key="cr_vin_grain", required=True,
                                     default="quarter", format_func=lambda g: t(f"cr.vin.grain.{g}"))
        approver = st.selectbox(t("cr.vin.approver"), ["", *opt["approvers"]], key="cr_vin_approver", width=220,
                                format_func=lambda a: a or t("cr.vin.all_approvers"))
        branch = st.selectbox(t("cr.vin.branch"), ["", *opt["branches"]], key="cr_vin_branch", width=260,
                              format_func=lambda b: branch_label(b) if b else t("cr.vin.all_branches"))
        mob = st.number_input(t("cr.vin.mob_pick"), min_value=1, max_value=36, value=VINTAGE_MOB, step=1,
                              key="cr_vin_mob", width=160)
    v = vintage(scope, grain, approver or None, branch or None, data_version())
    if v.empty:
        st.info(t("cr.vin.empty"), icon=":material/info:")
        return
    hot = hotspots(scope, grain, approver or None, branch or None, int(mob), data_version())
    worst = hot["cohort"].iloc[0] if not hot.empty else None

    def cohort_name(c: date) -> str:
        return period_label(c, Grain.QUARTER if grain == "quarter" else Grain.MONTH, lang)

    fig = go.Figure()
    palette = [c for c in charts.PALETTE if c != "#c0392b"]
    for i, (c, g) in enumerate(v.groupby("cohort", sort=True)):
        is_worst = c == worst
        fig.add_trace(go.Scatter(
            x=g["months_on_book"], y=g["overdue_rate"] * 100, mode="lines+markers" if is_worst else "lines",
            name=cohort_name(c),
            line={"color": "#c0392b" if is_worst else palette[i % len(palette)], "width": 4 if is_worst else 1.5},
            opacity=1.0 if is_worst else 0.75,
            customdata=g[["loans"]].to_numpy(),
            hovertemplate=f"{cohort_name(c)} · %{{x}}M: %{{y:.2f}}%  (%{{customdata[0]:,}})<extra></extra>"))
    fig.add_vline(x=int(mob), line={"color": "#7f8c8d", "dash": "dot", "width": 1})
    fig.update_layout(height=420, margin={"l": 10, "r": 10, "t": 10, "b": 10}, plot_bgcolor="white", font=FONT,
                      legend={"title": {"text": t("cr.vin.cohort")}},
                      xaxis={"title": t("cr.vin.mob"), "dtick": 3, "showgrid": False},
                      yaxis={"title": t("cr.vin.rate"), "ticksuffix": "%", "gridcolor": "#eeeeee", "rangemode": "tozero"})
    with st.container(border=True):
        st.plotly_chart(fig, key="cr_vin_chart", alt=t("cr.alt.vintage"))
        if worst is not None:
            st.caption(t("cr.vin.highlight", c=cohort_name(worst), mob=int(mob)))
        download_csv(v, "credit_vintage", key="cr_vin_dl")

    st.markdown(f"**{t('cr.vin.top', mob=int(mob))}**")
    st.caption(t("cr.vin.top_caption"))
    if hot.empty:
        st.info(t("cr.vin.empty"), icon=":material/info:")
        return
    pct = lambda s: s.astype(float) * 100  # noqa: E731
    table = pd.DataFrame({
        t("cr.col.cohort"): [cohort_name(c) for c in hot["cohort"]],
        t("cr.col.loans"): hot["loans"],
        t("cr.col.balance_wan"): hot["balance"].map(wan),
        t("cr.col.overdue_rate"): pct(hot["overdue_rate"]),
        t("cr.col.top_approver"): hot["top_approver"],
        t("cr.col.appr_od_share"): pct(hot["approver_overdue_share"]),
        t("cr.col.appr_bal_share"): pct(hot["approver_balance_share"]),
        t("cr.col.top_branch"): [branch_label(b) for b in hot["top_branch"]],
        t("cr.col.br_od_share"): pct(hot["branch_overdue_share"]),
        t("cr.col.br_bal_share"): pct(hot["branch_balance_share"]),
    })
    pct_cols = [t(k) for k in ("cr.col.overdue_rate", "cr.col.appr_od_share", "cr.col.appr_bal_share",
                               "cr.col.br_od_share", "cr.col.br_bal_share")]
    st.dataframe(table, hide_index=True, alt=t("cr.vin.top", mob=int(mob)),
                 column_config={c: st.column_config.NumberColumn(format="%.1f%%") for c in pct_cols}
                 | {t("cr.col.balance_wan"): st.column_config.NumberColumn(format="%,.0f")})
    download_csv(hot, f"credit_vintage_top_mob{int(mob)}", key="cr_hot_dl")


vintage_section()


# -- loan list ---------------------------------------------------------------------------------
LOAN_LABELS = {"loan_id": "cr.lc.loan_id", "customer_id": "cr.lc.customer_id", "branch_id": "cr.lc.branch",
               "product": "cr.lc.product", "customer_segment": "cr.lc.segment", "industry": "cr.lc.industry",
               "disbursement_date": "cr.lc.disbursed", "maturity_date": "cr.lc.maturity",
               "loan_amount": "cr.lc.amount", "outstanding_balance": "cr.lc.balance",
               "overdue_principal": "cr.lc.overdue", "days_past_due": "cr.lc.dpd", "risk_class": "cr.lc.class",
               "guarantee_type": "cr.lc.guarantee", "approver_id": "cr.lc.approver",
               "approval_date": "cr.lc.approved", "loan_officer": "cr.lc.officer"}


@st.fragment
def loan_section() -> None:
    st.subheader(t("cr.loans"), anchor=False)
    opt = loan_options(scope, data_version())
    any_ = lambda v: v or t("cr.loans.any")  # noqa: E731
    with st.form("cr_loan_form", border=True):
        r1 = st.columns(5, vertical_alignment="bottom")
        branch = r1[0].selectbox(t("cr.loans.branch"), ["", *opt["branches"]], key="cr_ln_branch",
                                 format_func=lambda b: branch_label(b) if b else t("cr.loans.any"))
        product = r1[1].selectbox(t("cr.loans.product"), ["", *opt["products"]], key="cr_ln_product", format_func=any_)
        classes = r1[2].multiselect(t("cr.loans.classes"), list(ca.RISK_CLASSES), key="cr_ln_classes",
                                    format_func=lambda c: ca.class_label(c, lang), placeholder=t("cr.loans.any"))
        min_dpd = r1[3].number_input(t("cr.loans.min_dpd"), min_value=0, max_value=10000, value=0, step=1,
                                     key="cr_ln_dpd")
        approver = r1[4].selectbox(t("cr.loans.approver"), ["", *opt["approvers"]], key="cr_ln_approver",
                                   format_func=any_)
        if st.form_submit_button(t("cr.loans.apply"), icon=":material/search:"):
            st.session_state["cr_ln_page"] = 1  # new filters: back to the first page
    args = (scope, branch or None, product or None, tuple(classes), int(min_dpd), approver or None)
    first, total, as_of = loans(*args, 0, data_version())
    if total == 0:
        st.info(t("cr.loans.none"), icon=":material/info:")
        return
    pages = max(1, math.ceil(total / PAGE_SIZE))
    if st.session_state.get("cr_ln_page", 1) > pages:
        st.session_state["cr_ln_page"] = 1
    with st.container(horizontal=True, vertical_alignment="bottom"):
        page = st.number_input(t("cr.loans.page"), min_value=1, max_value=pages, step=1, key="cr_ln_page", width=140)
        st.caption(t("cr.loans.count", n=f"{total:,}", p=page, pages=pages, size=PAGE_SIZE))
    df = first if page == 1 else loans(*args, (int(page) - 1) * PAGE_SIZE, data_version())[0]
    st.caption(t("cr.loans.caption", d=as_of.isoformat() if as_of else "—"))
    view = df.copy()
    view["branch_id"] = [branch_label(b) for b in view["branch_id"]]
    view["customer_segment"] = [segment_label(s) for s in view["customer_segment"]]
    view["risk_class"] = [ca.class_label(c, lang) for c in view["risk_class"]]
    view = view.rename(columns={c: t(k) for c, k in LOAN_LABELS.items()})
    money = [t(k) for k in ("cr.lc.amount", "cr.lc.balance", "cr.lc.overdue")]
    st.dataframe(view, hide_index=True, alt=t("cr.loans"),
                 column_config={c: st.column_config.NumberColumn(format="%,.2f") for c in money}
                 | {t("cr.lc.loan_id"): st.column_config.TextColumn(pinned=True)})
    download_csv(view, f"credit_loans_{as_of}_p{int(page)}", key="cr_ln_dl", label=t("cr.loans.dl"))


loan_section()
