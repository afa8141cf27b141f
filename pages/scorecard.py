"""考核 Scorecard: scores per branch or region and period, their rank and trend, and a drill-down
from a unit's score to every criterion (measured value, target, floor, points, what it was computed
from) and on to the KPI's trend at that unit. Administrators save new versions of the definition.

Numbers come from metrics/scorecard.py (computed bank-wide inside DuckDB for the rank; the rows
shown are the reader's own units only), cached on the period, the unit kind, the boundary, the
data version and a fingerprint of the plans, notices and stored versions.
"""

from datetime import date

import pandas as pd
import streamlit as st

from metrics.catalogue import CATALOGUE
from metrics.compute import series
from metrics.model import Grain
from metrics.periods import label as period_label
from metrics.periods import period_end, period_start, shift
from metrics.scope import Scope
from metrics.scorecard import export_frame as sc_export
from metrics.scorecard import fmt_measure, fmt_score, scorecard
from metrics.scorecard_def import Group, UnitKind, issues_frame
from metrics.scorecard_measures import BUILTINS, BuiltinKind
from pages._ui import auth, cache, charts, urlstate, widgets
from pages._ui.i18n import current_lang, t
from pages._ui.store import data_version, get_store

GRAINS = (Grain.MONTH, Grain.QUARTER, Grain.YEAR)
N_PERIODS = {Grain.MONTH: 24, Grain.QUARTER: 8, Grain.YEAR: 3}
TREND_N = 12

lang = current_lang()
store = get_store()
bound = auth.boundary()
st.title(t("sc.title"), anchor=False)


def _fingerprint() -> str:
    return store.query("scorecard.fingerprint").value()


@st.cache_data(show_spinner=False, ttl=cache.TTL, max_entries=8)
def _last_day(version: int):
    return store.query("reads.data_span").first()[1]


@st.cache_data(show_spinner=False, ttl=cache.TTL, max_entries=64)
def _scorecard(period: date, grain: str, kind: str, bound: tuple | None, version: int, fingerprint: str):
    sc = scorecard(store, period, Grain(grain), UnitKind(kind), boundary=None if bound is None else frozenset(bound))
    return sc


@st.cache_data(show_spinner=False, ttl=cache.TTL, max_entries=128)
def _trend(metric_id: str, grain: str, start: date, end: date, kind: str, unit: str, bound: tuple | None,
           version: int) -> pd.DataFrame:
    scope = Scope(branch_ids=None if bound is None else frozenset(bound),
                  branch=unit if kind == "branch" else None, region=unit if kind == "region" else None)
    return series(store, metric_id, Grain(grain), start, end, (), scope)


last = _last_day(data_version())
if last is None:
    st.info(t("sc.empty"), icon=":material/info:")
    st.stop()

# -- the period and the unit kind (kept in the URL: ?sc_grain=quarter&sc_kind=region&sc_unit=…) ----------
urlstate.seed("sc_grain", urlstate.choice_parser([g.value for g in GRAINS]), Grain.MONTH.value)
urlstate.seed("sc_kind", urlstate.choice_parser([k.value for k in UnitKind]), UnitKind.BRANCH.value)
c1, c2, c3 = st.columns([1.2, 1.4, 1])
grain = Grain(c1.segmented_control(t("sc.grain"), [g.value for g in GRAINS], format_func=lambda g: t(f"grain.{g}"),
                                   key="sc_grain") or Grain.MONTH.value)
newest = period_start(last, grain)
options = [shift(newest, grain, -i) for i in range(N_PERIODS[grain])]
period = c2.selectbox(t("sc.period"), options, format_func=lambda p: period_label(p, grain, lang),
                      key=f"sc_period_{grain.value}")
kind = UnitKind(c3.segmented_control(t("sc.kind"), [k.value for k in UnitKind], format_func=lambda k: t(f"sc.kind.{k}"),
                                     key="sc_kind") or UnitKind.BRANCH.value)
urlstate.publish("sc_grain", grain.value, Grain.MONTH.value)
urlstate.publish("sc_kind", kind.value, UnitKind.BRANCH.value)

bkey = None if bound is None else tuple(sorted(bound))
sc = _scorecard(period, grain.value, kind.value, bkey, data_version(), _fingerprint())
card = sc.definition.units[kind]
version = t("sc.version", v=sc.version_id) if sc.version_id else t("sc.version.seed")
st.caption(t("sc.caption", name=sc.definition.name(lang), version=version, cov=f"{card.min_coverage:g}"))
if bound is not None:
    st.info(t("sc.scoped"), icon=":material/visibility_lock:")
if sc.scores.empty:
    st.info(t("sc.none"), icon=":material/info:")
    st.stop()

# -- ranking -------------------------------------------------------------------------------------
with st.container(border=True):
    st.subheader(t("sc.ranking"), anchor=False)
    s = sc.scores
    table = pd.DataFrame({
        t("sc.col.rank"): [t("sc.rank_of", rank=int(r), of=int(n)) if pd.notna(r) else t("sc.no_score")
                           for r, n in zip(s["rank"], s["ranked"], strict=True)],
        t("sc.col.unit"): s["unit"], t("sc.col.label"): s["label"],
        t("sc.col.score"): [fmt_score(v) for v in s["score"]],
        t("sc.col.delta"): [f"{v:+.1f}" if pd.notna(v) else "—" for v in s["delta"]],
        t("sc.col.prev_rank"): [str(int(v)) if pd.notna(v) else "—" for v in s["prev_rank"]],
        t("sc.col.coverage"): [f"{v:.0f}%" for v in s["coverage"]],
    })
    if kind is UnitKind.BRANCH:
        table.insert(3, t("sc.col.region"), s["region"])
    st.dataframe(table, hide_index=True, width="stretch", key="sc_table")
    widgets.download_csv(sc_export(sc, lang), f"scorecard_{kind.value}_{period.isoformat()}", key="sc_csv",
                         label=t("sc.download"))

# -- drill-down: a unit's score → its criteria → a KPI's trend -----------------------------------------
names = dict(zip(s["unit"], s["label"], strict=True))
units = list(s["unit"])
urlstate.seed("sc_unit", urlstate.choice_parser(units), units[0])
if st.session_state.get("sc_unit") not in units:
    st.session_state["sc_unit"] = units[0]
unit = st.selectbox(t("sc.drill"), units, format_func=lambda u: f"{names.get(u, u)}（{u}）" if names.get(u) != u else u,
                    key="sc_unit")
urlstate.publish("sc_unit", unit, units[0])
row = s[s["unit"] == unit].iloc[0]
detail = sc.unit_detail(unit)


def _basis(r) -> str:
    """What a measured value was computed from, in words."""
    b = BUILTINS.get(r["measure"])
    if pd.isna(r["value"]):
        return ""
    if b is not None and b.kind is BuiltinKind.CHANGE:
        return t("sc.basis.change", cur=fmt_measure(b.of, r["numerator"], lang), base=fmt_measure(b.of, r["base"], lang))
    if b is not None and b.kind is BuiltinKind.SQL:
        return t("sc.basis.events", n=int(r["n"]))
    if b is not None and b.kind is BuiltinKind.EFFECT:
        return t("sc.basis.plans", num=int(r["numerator"]), den=int(r["denominator"]), n=int(r["n"]))
    if pd.notna(r["denominator"]):
        return t("sc.basis.ratio", num=f"{r['numerator']:,.0f}", den=f"{r['denominator']:,.0f}")
    return ""


with st.container(border=True):
    st.subheader(t("sc.detail", name=names.get(unit, unit)), anchor=False)
    m1, m2, m3 = st.columns(3)
    delta = f"{row['delta']:+.1f}" if pd.notna(row["delta"]) else None
    m1.metric(t("sc.metric.score"), fmt_score(row["score"]) if pd.notna(row["score"]) else t("sc.no_score"), delta,
              delta_description=t("sc.delta_label"), border=True)
    m2.metric(t("sc.metric.rank"), t("sc.rank_of", rank=int(row["rank"]), of=int(row["ranked"]))
              if pd.notna(row["rank"]) else t("sc.no_score"), border=True)
    m3.metric(t("sc.metric.coverage"), f"{row['coverage']:.0f}%", border=True)
    dt = pd.DataFrame({
        t("sc.col.group"): [Group(g).label(lang) for g in detail["group"]],
        t("sc.col.criterion"): detail["name_zh"] if lang == "zh" else detail["name_en"],
        t("sc.col.value"): [fmt_measure(m, v, lang) if pd.notna(v) else t("sc.no_data")
                            for m, v in zip(detail["measure"], detail["value"], strict=True)],
        t("sc.col.target"): [fmt_measure(m, v, lang) for m, v in zip(detail["measure"], detail["target"], strict=True)],
        t("sc.col.floor"): [fmt_measure(m, v, lang) for m, v in zip(detail["measure"], detail["floor"], strict=True)],
        t("sc.col.rule"): [t(f"sc.rule.{r}") for r in detail["rule"]],
        t("sc.col.points"): [f"{p:.1f} / {w:g}" if pd.notna(p) else f"— / {w:g}"
                             for p, w in zip(detail["points"], detail["weight"], strict=True)],
        t("sc.col.basis"): [_basis(r) for _, r in detail.iterrows()],
    })
    st.dataframe(dt, hide_index=True, width="stretch", key="sc_detail")

    crit = list(detail["measure"])
    names_m = dict(zip(detail["measure"], detail["name_zh"] if lang == "zh" else detail["name_en"], strict=True))
    picked = st.selectbox(t("sc.kpi"), crit, format_func=lambda m: names_m[m], key="sc_kpi")
    b = BUILTINS.get(picked)
    kpi = b.of if b is not None and b.kind is BuiltinKind.CHANGE else (picked if picked in CATALOGUE else None)
    if b is not None:
        st.caption(t("sc.kpi.builtin", name=b.name(lang), desc=b.description(lang)))
    if kpi is not None:
        metric = CATALOGUE[kpi]
        first = shift(period, grain, -(TREND_N - 1))
        df = _trend(kpi, grain.value, first, period_end(period, grain), kind.value, unit, bkey, data_version())
        if df.empty:
            st.info(t("sc.kpi.none"), icon=":material/info:")
        else:
            fig = charts.line(df, metric, lang, height=300, title=metric.name(lang))
            if b is None:  # the criterion scores the KPI itself: its target and floor on the same axis
                factor, _ = charts.y_scale(metric, df["value"], lang)
                c = next(c for c in card.criteria if c.measure == picked)
                for y, name in ((c.target, t("sc.col.target")), (c.floor, t("sc.col.floor"))):
                    if y is not None:
                        fig.add_hline(y=y * factor, line_dash="dash", line_color="#888888", annotation_text=name)
            st.plotly_chart(fig, key="sc_kpi_chart", config={"displaylogo": False})
            st.caption(t("sc.kpi.caption", unit=names.get(unit, unit), n=TREND_N, kpi=metric.name(lang)))

# -- the definition's versions (administrators) -------------------------------------------------------
if auth.can("scorecard_admin"):
    from metrics.scorecard_def import parse
    from metrics.scorecard_versions import current_text, save

    with st.expander(t("sc.admin"), icon=":material/rule_settings:"):
        st.caption(t("sc.admin.caption"))
        from data.scorecards import ScorecardVersions

        versions = ScorecardVersions(store).versions()
        st.markdown(f"**{t('sc.admin.versions')}**")
        if versions:
            cols = ["version_id", "def_version", "effective_from", "origin", "created_by", "created_at", "note"]
            st.dataframe(pd.DataFrame([{c: getattr(v, c) for c in cols} for v in versions])
                         .rename(columns={c: t(f"sc.col.{c}") for c in cols}), hide_index=True, width="stretch",
                         key="sc_versions")
        else:
            st.caption(t("sc.admin.none"))
        with st.form("sc_form"):
            text = st.text_area(t("sc.admin.text"), current_text(store), height=360, key="sc_text")
            today = date.today()
            months = [shift(today.replace(day=1), Grain.MONTH, i) for i in range(13)]
            start = st.selectbox(t("sc.admin.from"), months, format_func=lambda p: period_label(p, Grain.MONTH, lang),
                                 key="sc_from")
            note = st.text_input(t("sc.admin.note"), key="sc_note")
            a, b_ = st.columns(2)
            check = a.form_submit_button(t("sc.admin.check"), icon=":material/fact_check:")
            submit = b_.form_submit_button(t("sc.admin.save"), type="primary", icon=":material/save:")
        if check or submit:
            if submit:
                v, problems = save(store, auth.current_user(), text, start, note=note or None)
            else:
                v, problems = None, parse(text)[1]
            if problems:
                st.error(t("sc.admin.invalid", n=len(problems)), icon=":material/error:")
                frame = issues_frame(problems, lang)
                st.dataframe(frame.rename(columns={c: t(f"sc.col.{c}") for c in frame.columns}), hide_index=True,
                             width="stretch", key="sc_issues")
            elif v is not None:
                st.success(t("sc.admin.saved", v=v.version_id, start=period_label(start, Grain.MONTH, lang)),
                           icon=":material/check_circle:")
            else:
                st.success(t("sc.admin.valid"), icon=":material/check_circle:")
