"""调整与整改 Actions & rectification: adjustment plans from proposal to measured effect, and the
supervision loop of inspections, rectification notices and re-checks (DOMAIN.md §1.5).

Everything is read and written through data/plans (PlanStore, SupervisionStore): the scope, the
declared transition table and the validation live there, so this page only draws what the person
may do (`allowed_actions`) and shows every refused write's problems at once. Lists are cached on the
plans' and notices' fingerprint (data/sql/actions.sql `ops_version`), so a change made elsewhere
shows on the next run.
"""

from datetime import date, timedelta

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from data.plans import NewFinding, NewStep, PlanError, PlanStore, SupervisionStore, allowed_actions
from data.plans.model import NoticeStatus, PlanKind, PlanStatus, ScopeKind
from data.plans.transitions import ACTION_LABELS
from metrics.catalogue import CATALOGUE
from metrics.model import Grain
from metrics.periods import label as period_label
from pages._ui import auth, charts
from pages._ui.i18n import current_lang, t
from pages._ui.plan_links import KEYS as PREFILL_KEYS
from pages._ui.plan_links import OWNER_BY_CATEGORY, read_prefill, suggested_owner
from pages._ui.store import get_store
from pages._ui.widgets import download_csv, inert

lang = current_lang()
zh = lang == "zh"
store = get_store()
plans = PlanStore(store)
sup = SupervisionStore(store)
user = auth.current_user()
today = date.today()
L = 0 if zh else 1


def fmt_date(d, lang: str) -> str:
    """2025年3月5日 / 2025-03-05 (the day label every page uses); empty for no date."""
    if d is None or (not isinstance(d, date) and pd.isna(d)):
        return ""
    return period_label(pd.Timestamp(d).date(), Grain.DAY, lang)


def _label(enum_value) -> str:
    return enum_value.label(lang)


def _act(a: str) -> str:
    return ACTION_LABELS[a][L]


def _show_problems(exc: PlanError) -> None:
    """Every problem of a refused write, in the person's language, as one list."""
    lines = "\n".join(f"- {inert(p.zh if zh else p.en)}" for p in exc.problems)
    st.error(f"{t('ac.refused')}\n{lines}")


def _bump() -> None:
    st.session_state["_plans_v"] = st.session_state.get("_plans_v", 0) + 1


def _done(message: str) -> None:
    """A change went through: keep its message for the next run (forms and expanders are redrawn
    closed by the rerun that shows the change) and rerun."""
    _bump()
    st.session_state["ac_flash"] = message
    st.rerun()


def _version() -> str:
    return f"{store.query('actions.ops_version').value()}#{st.session_state.get('_plans_v', 0)}"


boundary = auth.boundary()
bound = None if boundary is None else tuple(sorted(boundary))
version = _version()


@st.cache_data(show_spinner=False, ttl=600, max_entries=32)
def _branches(bound: tuple | None, v: str) -> pd.DataFrame:
    b = store.query("reads.branch_master").df()
    b = b if bound is None else b[b["branch_id"].isin(bound)]
    return b.reset_index(drop=True)


@st.cache_data(show_spinner=False, ttl=600, max_entries=64)
def _plan_table(status, kind, owner, overdue, bound: tuple | None, v: str) -> pd.DataFrame:
    """The list: one row per plan inside the boundary (data/sql/plans.sql `list_plans`, the block
    PlanStore.list_plans runs, scoped in SQL), with its step summary (one query for all)."""
    df = store.query("plans.list_plans", status=status or None, kind=kind or None, owner_dept=owner or None,
                     boundary=None if bound is None else list(bound), branch=None, overdue=bool(overdue),
                     today=today, origin_kind=None, origin_ref=None, limit=10_000, offset=0).df()
    df = df[["plan_id", "title", "kind", "status", "owner_dept", "scope_kind", "scope_region", "scope_branches",
             "target_kpis", "proposed_on", "created_at"]]
    df = df.assign(n_branches=[len(x) if x is not None and not isinstance(x, float) else 0 for x in df["scope_branches"]],
                   created=pd.to_datetime(df["proposed_on"]).fillna(pd.to_datetime(df["created_at"])).dt.date)
    if df.empty:
        return df.assign(steps=0, done=0, next_deadline=None, late=False)
    steps = store.query("actions.step_summary", ids=df["plan_id"].tolist(), today=today).df()
    df = df.merge(steps, on="plan_id", how="left")
    df["steps"] = df["steps"].fillna(0).astype(int)
    df["done"] = df["done"].fillna(0).astype(int)
    df["late"] = df["late"].fillna(False).astype(bool) & df["status"].isin(["approved", "in_progress"])
    return df


@st.cache_data(show_spinner=False, ttl=600, max_entries=64)
def _plan_display(status, kind, owner, overdue, bound: tuple | None, v: str, lang: str) -> pd.DataFrame:
    """The list as shown: labels and 2025年3月5日 dates, built once per list and language (vectorised:
    5,000 plans must not cost a Python loop of labels per rerun)."""
    df = _plan_table(status, kind, owner, overdue, bound, v)
    kinds = {k.value: k.label(lang) for k in PlanKind}
    statuses = {x.value: x.label(lang) for x in PlanStatus}
    days = {d: fmt_date(d, lang) for d in pd.unique(pd.concat([df["created"], df["next_deadline"]]).dropna())}
    scope = [t("ac.scope.bank") if k == "bank" else t("ac.scope.region", r=r or "") if k == "region" else
             t("ac.scope.branch" if n == 1 else "ac.scope.branches", n=n)
             for k, r, n in zip(df["scope_kind"], df["scope_region"], df["n_branches"], strict=True)]
    kpi_names = {k: _kpi_names(k) for k in {tuple(x) for x in df["target_kpis"]}}
    return pd.DataFrame({
        t("ac.col.id"): df["plan_id"], t("ac.col.title"): df["title"],
        t("ac.col.kind"): df["kind"].map(kinds), t("ac.col.status"): df["status"].map(statuses),
        t("ac.col.owner"): df["owner_dept"], t("ac.col.scope"): scope,
        t("ac.col.kpis"): [kpi_names[tuple(k)] for k in df["target_kpis"]],
        t("ac.col.steps"): df["done"].astype(str) + "/" + df["steps"].astype(str),
        t("ac.col.next"): df["next_deadline"].map(lambda d: days.get(d, "") if pd.notna(d) else ""),
        t("ac.col.late"): df["late"].map({True: t("ac.yes"), False: ""}),
        t("ac.col.created"): df["created"].map(days),
    })


@st.cache_data(show_spinner=False, ttl=600, max_entries=64)
def _notice_table(status, overdue, bound: tuple | None, v: str) -> pd.DataFrame:
    """Notices inside the boundary (data/sql/plans.sql `list_notices`, scoped in SQL)."""
    df = store.query("plans.list_notices", status=status or None, branch=None, inspection_id=None,
                     boundary=None if bound is None else list(bound), overdue=bool(overdue), today=today,
                     limit=10_000, offset=0).df()
    return df.assign(late=(df["status"] == "issued") & (pd.to_datetime(df["deadline"]) < pd.Timestamp(today)))


@st.cache_data(show_spinner=False, ttl=600, max_entries=64)
def _notice_display(status, overdue, bound: tuple | None, v: str, lang: str) -> pd.DataFrame:
    nd = _notice_table(status, overdue, bound, v)
    days = {d: fmt_date(d, lang) for d in pd.unique(pd.concat([nd["issued_on"], nd["deadline"],
                                                              nd["rectified_on"]]).dropna())}
    statuses = {x.value: x.label(lang) for x in NoticeStatus}
    return pd.DataFrame({
        t("ac.n.col.id"): nd["notice_id"], t("ac.n.col.branch"): nd["branch_id"],
        t("ac.n.col.finding"): nd["finding_id"],
        t("ac.n.col.issued"): nd["issued_on"].map(days), t("ac.n.col.deadline"): nd["deadline"].map(days),
        t("ac.n.col.round"): nd["round"], t("ac.n.col.dept"): nd["responsible_dept"],
        t("ac.n.col.status"): nd["status"].map(statuses),
        t("ac.n.col.rectified"): nd["rectified_on"].map(lambda d: days.get(d, "") if pd.notna(d) else ""),
        t("ac.n.col.late"): nd["late"].map({True: t("ac.yes"), False: ""}),
    })


def _kpi_names(ids) -> str:
    return "、".join(CATALOGUE[k].name(lang) if k in CATALOGUE else k for k in ids) if zh else \
        ", ".join(CATALOGUE[k].name(lang) if k in CATALOGUE else k for k in ids)


st.title(t("ac.title"), anchor=False)
st.caption(t("ac.caption"))

if user is None:
    st.stop()
all_plans = _plan_table("", "", "", False, bound, version)
all_notices = _notice_table("", False, bound, version)
m1, m2, m3, m4, m5 = st.columns(5)
open_statuses = ["proposed", "evaluated", "approved", "in_progress"]
m1.metric(t("ac.m.open"), int(all_plans["status"].isin(open_statuses).sum()) if len(all_plans) else 0, border=True)
m2.metric(t("ac.m.overdue"), int(all_plans["late"].sum()) if len(all_plans) else 0, border=True)
m3.metric(t("ac.m.done"), int(all_plans["status"].isin(["done", "reviewed"]).sum()) if len(all_plans) else 0,
          border=True)
n_open = int(all_notices["status"].isin(["issued", "rectified"]).sum()) if len(all_notices) else 0
m4.metric(t("ac.m.notices_open"), n_open, border=True)
m5.metric(t("ac.m.notices_overdue"), int(all_notices["late"].sum()) if len(all_notices) else 0, border=True)

prefill = read_prefill(st.query_params)
if st.session_state.get("ac_flash"):
    st.success(st.session_state.pop("ac_flash"), icon=":material/check_circle:")
# a link to a notice (?notice=ZG-2025-0003) opens its tab; a link to a plan (?plan=…) the first
linked_notice = st.query_params.get("notice")
tab_plans, tab_notices = st.tabs([t("ac.tab.plans"), t("ac.tab.notices")],
                                 default=t("ac.tab.notices") if linked_notice else None)


# == plans ====================================================================================
def _new_plan_form(prefill: dict | None) -> None:
    """The new-plan form; filled in from the origin's link when there is one."""
    pre = prefill or {}
    branches = _branches(bound, version)
    kpi_ids = list(CATALOGUE)
    with st.expander(t("ac.new"), expanded=prefill is not None, icon=":material/add_task:"):
        if pre.get("origin_kind") and pre.get("origin_ref"):
            st.caption(t("ac.new.from", label=inert(pre.get("origin_label") or pre["origin_ref"])))
        with st.form("ac_new_plan", clear_on_submit=False):
            c1, c2 = st.columns([3, 1])
            title = c1.text_input(t("ac.f.title"), value=pre.get("title", ""), max_chars=120, key="ac_f_title")
            kinds = [k.value for k in PlanKind]
            kind = c2.selectbox(t("ac.f.kind"), kinds, index=kinds.index(pre["kind"]) if pre.get("kind") in kinds else 0,
                                format_func=lambda k: PlanKind(k).label(lang))
            change = st.text_area(t("ac.f.change"), value=pre.get("change", ""), max_chars=2000, height=80,
                                  key="ac_f_change")
            kpis = st.multiselect(t("ac.f.kpis"), kpi_ids, key="ac_f_kpis", placeholder=t("ac.f.pick"), default=[pre["kpi"]] if pre.get("kpi") in CATALOGUE else [],
                                  format_func=lambda k: CATALOGUE[k].name(lang))
            pre_br = [b for b in pre.get("branches", "").split(",") if b in set(branches["branch_id"])]
            kinds_scope = [s.value for s in ScopeKind]
            default_scope = "branches" if pre_br else ("region" if pre.get("region") else
                                                       ("bank" if boundary is None else "branches"))
            s1, s2 = st.columns([1, 3])
            scope_kind = s1.selectbox(t("ac.f.scope_kind"), kinds_scope, index=kinds_scope.index(default_scope),
                                      format_func=lambda s: ScopeKind(s).label(lang))
            regions = sorted(branches["region"].dropna().unique())
            region = s2.selectbox(t("ac.f.region"), ["", *regions], format_func=lambda r: r or t("ac.f.region.none"),
                                  index=(regions.index(pre["region"]) + 1) if pre.get("region") in regions else 0)
            names = dict(zip(branches["branch_id"], branches["branch_name"], strict=True))
            picked = st.multiselect(t("ac.f.branches"), list(branches["branch_id"]), default=pre_br, key="ac_f_branches",
                                    placeholder=t("ac.f.pick"),
                                    format_func=lambda b: f"{names.get(b, b)}（{b}）" if zh else f"{names.get(b, b)} ({b})")
            o1, o2, o3 = st.columns(3)
            owner_default = pre.get("owner") or (suggested_owner(CATALOGUE[pre["kpi"]].category.value)
                                                 if pre.get("kpi") in CATALOGUE else "")
            owner = o1.text_input(t("ac.f.owner"), value=owner_default, max_chars=60, key="ac_f_owner")
            person = o2.text_input(t("ac.f.person"), max_chars=60)
            effect_start = o3.date_input(t("ac.f.effect_start"), value=None, help=t("ac.f.effect_start.help"),
                                         key="ac_f_start")
            e1, e2, e3 = st.columns(3)
            necessity = e1.text_area(t("ac.f.necessity"), max_chars=1000, height=80, key="ac_f_nec")
            feasibility = e2.text_area(t("ac.f.feasibility"), max_chars=1000, height=80, key="ac_f_fea")
            impact = e3.text_area(t("ac.f.impact"), max_chars=1000, height=80, key="ac_f_imp")
            steps_text = st.text_area(t("ac.f.steps"), max_chars=4000, height=100, key="ac_f_steps",
                                      placeholder="调整叫号规则｜运营管理部｜2026-01-15" if zh else
                                      "Change the queue rules | Operations | 2026-01-15")
            if st.form_submit_button(t("ac.f.create"), type="primary", key="ac_f_create"):
                steps, bad = [], []
                for n, line in enumerate([x for x in steps_text.splitlines() if x.strip()], 1):
                    parts = [x.strip() for x in line.replace("｜", "|").split("|")]
                    if len(parts) != 3:
                        bad.append(t("ac.f.steps.bad", n=n))
                        continue
                    steps.append(NewStep(parts[0], parts[1], parts[2]))
                if bad:
                    st.error("\n".join(f"- {b}" for b in bad))
                    return
                origins = ([{"origin_kind": pre["origin_kind"], "origin_ref": pre["origin_ref"],
                             "label": pre.get("origin_label") or None}]
                           if pre.get("origin_kind") and pre.get("origin_ref") else [])
                try:
                    p = plans.create_plan(
                        user, kind=kind, title=title, change_text=change, target_kpis=kpis, scope_kind=scope_kind,
                        scope_region=region or None, scope_branches=picked or None, owner_dept=owner,
                        owner_person=person or None, effect_start=effect_start, necessity=necessity or None,
                        feasibility=feasibility or None, expected_impact=impact or None, origins=origins, steps=steps)
                except PlanError as exc:
                    _show_problems(exc)
                    return
                for k in list(st.query_params):
                    if k in PREFILL_KEYS:
                        del st.query_params[k]
                st.session_state["ac_selected"] = p.plan_id
                _done(t("ac.created", id=p.plan_id))


def _timeline(plan) -> go.Figure:
    """The steps as bars from the plan's start (or the previous step's deadline) to their deadline."""
    # each bar runs from the previous step's deadline (the first from the day the plan was proposed)
    # to its own; a plan entered after the fact may have deadlines before that day
    first = min(s.deadline for s in plan.steps)
    prev = min(plan.proposed_on or plan.created_at.date(), first - timedelta(days=14))
    fig = go.Figure()
    colours = {"done": "#2e8b57", "late_done": "#e67e22", "open": "#1f4e79", "overdue": "#c0392b"}
    for s in plan.steps:
        state = ("done" if s.on_time() else "late_done") if s.done_on else ("overdue" if s.overdue(today) else "open")
        start = prev if prev < s.deadline else s.deadline - timedelta(days=7)
        label = f"{s.step_no}. {s.what}"
        fig.add_trace(go.Bar(y=[label], x=[(pd.Timestamp(s.deadline) - pd.Timestamp(start)).days or 1],
                             base=[pd.Timestamp(start)], orientation="h", marker_color=colours[state],
                             name=t(f"ac.step.{state}"), legendgroup=state, showlegend=False,
                             hovertemplate=f"{inert(s.dept)} · {t('ac.step.deadline')} {fmt_date(s.deadline, lang)}"
                             "<extra></extra>"))
        if s.done_on:
            fig.add_trace(go.Scatter(y=[label], x=[pd.Timestamp(s.done_on)], mode="markers", showlegend=False,
                                     marker={"symbol": "diamond", "size": 11, "color": "#111"},
                                     hovertemplate=f"{t('ac.step.done')} {fmt_date(s.done_on, lang)}<extra></extra>"))
        prev = s.deadline
    for state, colour in colours.items():  # one legend entry per state
        fig.add_trace(go.Bar(y=[None], x=[None], marker_color=colour, name=t(f"ac.step.{state}")))
    fig.add_vline(x=pd.Timestamp(today).timestamp() * 1000, line_dash="dot", line_color="#7f8c8d")
    fig.update_layout(height=max(180, 46 * len(plan.steps) + 80), barmode="overlay", plot_bgcolor="white",
                      margin={"l": 10, "r": 10, "t": 10, "b": 10}, xaxis={"type": "date", "tickformat": "%Y-%m"},
                      yaxis={"autorange": "reversed"}, legend={"orientation": "h", "y": -0.25})
    return fig


@st.cache_data(show_spinner=False, ttl=3600, max_entries=64)
def _effect(plan_id: str, metric_id: str, treated: tuple[str, ...], start: date, bound: tuple | None, v: str):
    """The plan's effect estimate on one KPI (metrics/effect.py), or the reason it cannot be made."""
    from metrics.effect import EffectRefused, estimate_effect

    try:
        return estimate_effect(store, metric_id, frozenset(treated), start,
                               boundary=None if bound is None else frozenset(bound)), None
    except EffectRefused as exc:
        return None, (exc.zh, exc.en)


def _effect_section(plan) -> None:
    st.markdown(f"**{t('ac.effect')}**")
    if plan.effect_start is None or not plan.target_kpis or not plan.scope_branches:
        st.caption(t("ac.effect.none"))
        return
    kpi = st.selectbox(t("ac.effect.kpi"), list(plan.target_kpis), key=f"ac_eff_kpi_{plan.plan_id}",
                       format_func=lambda k: CATALOGUE[k].name(lang) if k in CATALOGUE else k)
    est, why = _effect(plan.plan_id, kpi, tuple(sorted(plan.scope_branches)), plan.effect_start, bound, version)
    if est is None:
        st.warning(t("ac.effect.refused", why=inert(why[0] if zh else why[1])))
        return
    unit = est.unit_zh if zh else est.unit_en
    with st.container(border=True):
        st.metric(t("ac.effect.estimate"), f"{est.effect:+.2f} {unit}".replace("-", "−"),
                  help=t("ac.effect.ci", lo=f"{est.ci_low:+.2f}", hi=f"{est.ci_high:+.2f}"))
        st.text(est.words(lang))  # generated text, shown as plain text
        if not est.credible:
            st.warning(t("ac.effect.not_credible", why="；".join(r.zh if zh else r.en for r in est.reasons)))
        st.caption(t("ac.effect.method", rule=est.rule.name, n=len(est.comparison)))
    metric = CATALOGUE[kpi]
    f = est.frame
    scale, _suffix = charts.y_scale(metric, pd.concat([f["treated_mean"], f["comparison_mean"]]), lang)
    fig = go.Figure()
    x = pd.to_datetime(f["period"])
    fig.add_trace(go.Scatter(x=x, y=f["treated_mean"] * scale, name=t("ac.effect.treated"), line={"color": "#c0392b"}))
    fig.add_trace(go.Scatter(x=x, y=f["comparison_mean"] * scale, name=t("ac.effect.comparison"),
                             line={"color": "#1f4e79"}))
    post = f["post"].astype(bool)
    fig.add_trace(go.Scatter(x=x[post], y=f.loc[post, "counterfactual"] * scale, name=t("ac.effect.counterfactual"),
                             line={"color": "#c0392b", "dash": "dot"}))
    fig.add_vline(x=pd.Timestamp(est.start).timestamp() * 1000, line_dash="dash", line_color="#555",
                  annotation_text=t("ac.effect.start"))
    fig.update_layout(height=320, plot_bgcolor="white", margin={"l": 10, "r": 10, "t": 10, "b": 10},
                      legend={"orientation": "h", "y": -0.2}, yaxis={"title": unit})
    st.plotly_chart(fig, key=f"ac_effect_chart_{plan.plan_id}")
    download_csv(f, f"effect_{plan.plan_id}_{kpi}", key=f"dl_effect_{plan.plan_id}")


def _moves(plan) -> None:
    st.markdown(f"**{t('ac.move')}**")
    actions = allowed_actions("plan", plan.status.value, user)
    if not actions:
        st.caption(t("ac.move.none"))
        return
    with st.form(f"ac_move_{plan.plan_id}"):
        c1, c2 = st.columns([3, 1])
        reason = c1.text_input(t("ac.move.reason"), max_chars=500, key=f"ac_reason_{plan.plan_id}")
        on = c2.date_input(t("ac.move.on"), value=today, max_value=today)
        cols = st.columns(len(actions))
        pressed = None
        for col, a in zip(cols, actions, strict=True):
            if col.form_submit_button(_act(a), type="primary" if a in ("approve", "evaluate", "start", "complete")
                                      else "secondary", key=f"ac_btn_{a}"):
                pressed = a
        if pressed:
            try:
                plans.move(plan.plan_id, pressed, user, reason or None, on=on, expected_version=plan.version)
            except PlanError as exc:
                _show_problems(exc)
                return
            _done(t("ac.moved", a=_act(pressed)))


def _steps(plan) -> None:
    st.markdown(f"**{t('ac.steps')}**")
    if not plan.steps:
        st.caption(t("ac.steps.none"))
    else:
        st.plotly_chart(_timeline(plan), key=f"ac_timeline_{plan.plan_id}")
        st.dataframe(pd.DataFrame({
            "#": [s.step_no for s in plan.steps], t("ac.step.what"): [s.what for s in plan.steps],
            t("ac.step.dept"): [s.dept for s in plan.steps],
            t("ac.step.deadline"): [fmt_date(s.deadline, lang) for s in plan.steps],
            t("ac.step.on"): [fmt_date(s.done_on, lang) if s.done_on else "" for s in plan.steps],
        }), hide_index=True)
    if not auth.can("plan"):
        return
    open_steps = [s for s in plan.steps if s.done_on is None]
    if open_steps and plan.status.value in ("approved", "in_progress"):
        with st.form(f"ac_step_done_{plan.plan_id}"):
            c1, c2, c3 = st.columns([3, 1, 1])
            no = c1.selectbox(t("ac.step.which"), [s.step_no for s in open_steps],
                              format_func=lambda n: next(f"{s.step_no}. {s.what}" for s in open_steps if s.step_no == n))
            on = c2.date_input(t("ac.step.on"), value=today, max_value=today)
            if c3.form_submit_button(t("ac.step.complete")):
                try:
                    plans.complete_step(plan.plan_id, int(no), user, done_on=on, expected_version=plan.version)
                except PlanError as exc:
                    _show_problems(exc)
                    return
                _done(t("ac.step.completed", n=int(no)))
    if plan.status.value in ("proposed", "evaluated", "approved", "in_progress"):
        with st.expander(t("ac.step.add")), st.form(f"ac_step_add_{plan.plan_id}"):
            c1, c2, c3 = st.columns([3, 2, 1])
            what = c1.text_input(t("ac.step.what"), max_chars=200)
            dept = c2.text_input(t("ac.step.dept"), value=plan.owner_dept, max_chars=60)
            deadline = c3.date_input(t("ac.step.deadline"), value=today + timedelta(days=30))
            if st.form_submit_button(t("ac.step.save")):
                try:
                    plans.add_step(plan.plan_id, user, what=what, dept=dept, deadline=deadline,
                                   expected_version=plan.version)
                except PlanError as exc:
                    _show_problems(exc)
                    return
                _done(t("ac.step.added"))


def _history(rows: list[dict], status_enum) -> None:
    def _s(v):
        try:
            return status_enum(v).label(lang) if v else ""
        except ValueError:
            return str(v)

    with st.expander(t("ac.history")):
        st.dataframe(pd.DataFrame({
            t("ac.h.when"): [pd.Timestamp(r["happened_at"]).strftime("%Y-%m-%d %H:%M") for r in rows],
            t("ac.h.user"): [r["user_name"] for r in rows],
            t("ac.h.action"): [ACTION_LABELS.get(r["action"], (r["action"], r["action"]))[L] for r in rows],
            t("ac.h.from"): [_s(r["from_status"]) for r in rows],
            t("ac.h.to"): [_s(r["to_status"]) for r in rows],
            t("ac.h.reason"): [r.get("reason") or "" for r in rows],
        }), hide_index=True)


def _plan_detail(plan_id: str) -> None:
    plan = plans.get_plan(plan_id, user)
    if plan is None:  # gone, or outside the boundary
        return
    st.subheader(f"{t('ac.detail')} {plan.plan_id}", anchor=False)
    with st.container(border=True):
        st.markdown(f"**{inert(plan.title)}** · {_label(plan.kind)} · {_label(plan.status)}")
        st.text(plan.change_text)
        colon = "：" if zh else ": "
        st.caption(f"{t('ac.owner')}{colon}{plan.owner_dept}"
                   + ((f"（{plan.owner_person}）" if zh else f" ({plan.owner_person})") if plan.owner_person else "")
                   + f" · {t('ac.col.kpis')}{colon}{_kpi_names(plan.target_kpis)}"
                   + (f" · {t('ac.f.effect_start')}{colon}{fmt_date(plan.effect_start, lang)}" if plan.effect_start
                      else ""))
        origin_text = ("；" if zh else "; ").join(f"{o.origin_kind.label(lang)} {o.label or o.origin_ref}"
                                                  for o in plan.origins)
        st.caption(f"{t('ac.origin')}{colon}" + (inert(origin_text) if origin_text else t("ac.origin.none")))
        if plan.necessity or plan.feasibility or plan.expected_impact:
            e1, e2, e3 = st.columns(3)
            e1.markdown(f"**{t('ac.f.necessity')}**")
            e1.text(plan.necessity or "—")
            e2.markdown(f"**{t('ac.f.feasibility')}**")
            e2.text(plan.feasibility or "—")
            e3.markdown(f"**{t('ac.f.impact')}**")
            e3.text(plan.expected_impact or "—")
    _steps(plan)
    _moves(plan)
    _effect_section(plan)
    _history(plans.plan_history(plan.plan_id, user), PlanStatus)


with tab_plans:
    if auth.can("plan"):
        _new_plan_form(prefill)
    f1, f2, f3, f4 = st.columns([1, 1, 1, 1])
    status = f1.selectbox(t("ac.status"), ["", *[s.value for s in PlanStatus]], key="ac_status",
                          format_func=lambda s: PlanStatus(s).label(lang) if s else t("ac.any"))
    kind = f2.selectbox(t("ac.kind"), ["", *[k.value for k in PlanKind]], key="ac_kind",
                        format_func=lambda k: PlanKind(k).label(lang) if k else t("ac.any"))
    owners = sorted(set(all_plans["owner_dept"]) | set(OWNER_BY_CATEGORY.values())) if len(all_plans) else []
    owner = f3.selectbox(t("ac.owner"), ["", *owners], key="ac_owner", format_func=lambda o: o or t("ac.any"))
    overdue = f4.toggle(t("ac.overdue"), key="ac_overdue", help=t("ac.overdue.help"))
    df = _plan_table(status, kind, owner, overdue, bound, version)
    if df.empty:
        st.info(t("ac.none"))
    else:
        table = _plan_display(status, kind, owner, overdue, bound, version, lang)
        st.caption(t("ac.count", n=len(df)))
        picked = st.dataframe(table, hide_index=True, on_select="rerun", selection_mode="single-row",
                              key="ac_table", height=300)
        download_csv(table, "plans", key="dl_plans")
        sel = picked.selection.rows if picked and picked.selection else []
        # a selected row, else the plan just created, else a link to one (?plan=FA-2025-0007)
        chosen = df.iloc[sel[0]]["plan_id"] if sel else (st.session_state.get("ac_selected")
                                                         or st.query_params.get("plan"))
        if chosen and chosen in set(df["plan_id"]):
            _plan_detail(chosen)
        else:
            st.info(t("ac.pick"))


# == inspections and notices ==================================================================
def _inspection_form() -> None:
    with st.expander(t("ac.i.new"), icon=":material/fact_check:"), st.form("ac_new_inspection"):
        c1, c2, c3, c4 = st.columns([3, 2, 1, 1])
        title = c1.text_input(t("ac.i.title"), max_chars=120)
        dept = c2.text_input(t("ac.i.dept"), value="内控合规部" if zh else "Internal control", max_chars=60)
        on = c3.date_input(t("ac.i.on"), value=today, max_value=today)
        inspector = c4.text_input(t("ac.i.inspector"), max_chars=60)
        text = st.text_area(t("ac.i.findings"), height=100, max_chars=4000,
                            placeholder="0101001｜高峰期开放窗口不足｜高" if zh else "0101001 | Too few windows at peak | high")
        if st.form_submit_button(t("ac.i.save"), type="primary"):
            sev = {"低": "low", "中": "medium", "高": "high", "low": "low", "medium": "medium", "high": "high"}
            findings, bad = [], []
            for n, line in enumerate([x for x in text.splitlines() if x.strip()], 1):
                parts = [x.strip() for x in line.replace("｜", "|").split("|")]
                if len(parts) != 3 or parts[2].lower() not in sev:
                    bad.append(t("ac.i.bad", n=n))
                    continue
                findings.append(NewFinding(parts[0], parts[1], sev[parts[2].lower()]))
            if bad:
                st.error("\n".join(f"- {b}" for b in bad))
                return
            try:
                i = sup.create_inspection(user, title=title, inspecting_dept=dept, inspected_on=on,
                                          scope_branches=sorted({f.branch_id for f in findings}),
                                          inspector=inspector or None, findings=findings)
            except PlanError as exc:
                _show_problems(exc)
                return
            _done(t("ac.i.saved", id=i.inspection_id))


@st.cache_data(show_spinner=False, ttl=600, max_entries=32)
def _open_findings(bound: tuple | None, v: str) -> list[tuple[str, str, str]]:
    return store.query("actions.open_findings", boundary=None if bound is None else list(bound)).rows()


def _issue_form() -> None:
    """Issue a notice for a finding that has none yet."""
    open_findings = _open_findings(bound, version)
    with st.expander(t("ac.i.issue"), icon=":material/assignment_late:"):
        if not open_findings:
            st.caption(t("ac.i.no_open_findings"))
            return
        with st.form("ac_issue"):
            c1, c2, c3 = st.columns([4, 1, 2])
            labels = {f: f"{f} {b} {x}" for f, b, x in open_findings}
            fid = c1.selectbox(t("ac.i.finding"), list(labels), format_func=labels.get)
            deadline = c2.date_input(t("ac.i.deadline"), value=today + timedelta(days=30))
            dept = c3.text_input(t("ac.n.col.dept"), max_chars=60)
            if st.form_submit_button(t("ac.i.issue_btn"), type="primary"):
                try:
                    n = sup.issue_notice(fid, user, deadline=deadline, responsible_dept=dept)
                except PlanError as exc:
                    _show_problems(exc)
                    return
                _done(t("ac.i.issued", id=n.notice_id))


def _notice_detail(notice_id: str) -> None:
    n = sup.get_notice(notice_id, user)
    if n is None:
        return
    st.subheader(f"{t('ac.n.detail')} {n.notice_id}", anchor=False)
    with st.container(border=True):
        st.markdown(f"**{n.branch_id}** · {_label(n.status)} · {t('ac.n.col.round')} {n.round}")
        st.caption(f"{t('ac.n.col.issued')} {fmt_date(n.issued_on, lang)} · {t('ac.n.col.deadline')} "
                   f"{fmt_date(n.deadline, lang)} · {t('ac.n.col.dept')}{'：' if zh else ': '}{n.responsible_dept}")
        if n.measures:
            st.markdown(f"**{t('ac.n.measures')}**")
            st.text(n.measures)
        if n.recheck_note:
            st.text(n.recheck_note)
    from pages._ui.plan_links import create_plan_link

    create_plan_link(origin_kind="finding", origin_ref=n.finding_id, origin_label=f"{n.notice_id} {n.branch_id}",
                     branches=[n.branch_id], owner=n.responsible_dept, kind="process")
    actions = allowed_actions("notice", n.status.value, user)
    if actions:
        with st.form(f"ac_notice_move_{n.notice_id}"):
            c1, c2, c3 = st.columns([3, 1, 1])
            text = c1.text_input(t("ac.n.measures") + " / " + t("ac.move.reason"), max_chars=1000,
                                 key=f"ac_ntext_{n.notice_id}")
            on = c2.date_input(t("ac.move.on"), value=today, max_value=today)
            new_deadline = c3.date_input(t("ac.n.new_deadline"), value=today + timedelta(days=30),
                                         key=f"ac_ndl_{n.notice_id}")
            cols = st.columns(len(actions))
            pressed = None
            for col, a in zip(cols, actions, strict=True):
                if col.form_submit_button(_act(a), key=f"ac_nbtn_{a}"):
                    pressed = a
            if pressed:
                # rectify: the text is the measures taken; a re-check: the text is its finding (a failed
                # one needs it, and a new deadline)
                kw = {"measures": text or None} if pressed == "rectify" else {"reason": text or None}
                if pressed == "recheck_fail":
                    kw["new_deadline"] = new_deadline
                try:
                    sup.move_notice(n.notice_id, pressed, user, on=on, expected_version=n.version, **kw)
                except PlanError as exc:
                    _show_problems(exc)
                    return
                _done(t("ac.moved", a=_act(pressed)))
    _history(sup.notice_history(n.notice_id, user), NoticeStatus)


with tab_notices:
    if auth.can("supervise"):
        _inspection_form()
        _issue_form()
    g1, g2 = st.columns([1, 1])
    nstatus = g1.selectbox(t("ac.n.status"), ["", "issued", "rectified", "rechecked_pass"], key="ac_nstatus",
                           format_func=lambda s: NoticeStatus(s).label(lang) if s else t("ac.any"))
    noverdue = g2.toggle(t("ac.overdue"), key="ac_noverdue")
    nd = _notice_table(nstatus, noverdue, bound, version)
    if nd.empty:
        st.info(t("ac.n.none"))
    else:
        ntable = _notice_display(nstatus, noverdue, bound, version, lang)
        st.caption(t("ac.n.count", n=len(nd)))
        npicked = st.dataframe(ntable, hide_index=True, on_select="rerun", selection_mode="single-row",
                               key="ac_ntable", height=280)
        download_csv(ntable, "rectification_notices", key="dl_notices")
        nsel = npicked.selection.rows if npicked and npicked.selection else []
        nchosen = nd.iloc[nsel[0]]["notice_id"] if nsel else linked_notice
        if nchosen and nchosen in set(nd["notice_id"]):
            _notice_detail(nchosen)
        else:
            st.info(t("ac.n.pick"))
