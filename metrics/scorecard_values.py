"""The measured values a scorecard scores: per measure, unit and period, computed inside DuckDB.

`measured(store, measures, kind, grain, periods)` returns one row per (measure, period, unit):
value, numerator, denominator, n (what it was computed from) and, for a change, the base (the
previous period's value). Every catalogue KPI a definition names — and the KPIs behind its change
measures — is compiled by metrics/compiler.py broken down by the unit kind's dimension over one
window covering the periods asked (plus one more for the changes) and the expressions are run as
ONE union query; only the aggregated rows reach pandas. Market response speed is the named block
`scorecard.market_response`; measured effects read `scorecard.completed_plans` and the effect
estimate of metrics/effect.py for each plan (a handful; cached per plan, KPI, window and data version),
in a second thread while the KPI query runs.

Every unit of the bank is computed (a rank needs them all); the caller applies the reader's boundary.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta

import ibis
import pandas as pd

from metrics.catalogue import get_metric
from metrics.compiler import Window, compile_metric
from metrics.model import Direction, Grain
from metrics.periods import period_end, shift
from metrics.scorecard_def import UnitKind
from metrics.scorecard_measures import BUILTINS, EFFECT_LOOKBACK_DAYS, EFFECT_WINDOW_DAYS, BuiltinKind

COLUMNS = ["measure", "period", "unit", "value", "numerator", "denominator", "n", "base"]
_DIM = {UnitKind.BRANCH: "branch", UnitKind.REGION: "region"}
_COL = {UnitKind.BRANCH: "branch_id", UnitKind.REGION: "region"}


def _kpi_union(store, kpis: list[str], kind: UnitKind, grain: Grain, window: Window):
    dim = _DIM[kind]
    parts = []
    for mid in kpis:
        e = compile_metric(store.ibis(), get_metric(mid), grain, window, (dim,))
        cols = e.columns
        parts.append(e.select(
            kpi=ibis.literal(mid), period=e.period.cast("date"), unit=e[dim].cast("string"),
            value=e.value.cast("float64"),
            numerator=(e.numerator if "numerator" in cols else ibis.null()).cast("float64"),
            denominator=(e.denominator if "denominator" in cols else ibis.null()).cast("float64")))
    return ibis.union(*parts) if len(parts) > 1 else parts[0]


def _kpis(store, kpis: list[str], kind: UnitKind, grain: Grain, window: Window) -> pd.DataFrame:
    if not kpis:
        return pd.DataFrame(columns=["kpi", "period", "unit", "value", "numerator", "denominator"])
    df = _kpi_union(store, kpis, kind, grain, window).execute()
    df["period"] = pd.to_datetime(df["period"]).dt.date
    return df[df["unit"].notna()]


def _market_response(store, kind: UnitKind, grain: Grain, first: date, last: date) -> pd.DataFrame:
    df = store.query("scorecard.market_response", grain=grain.value, start=first, end=last) \
        .render(unit=_COL[kind]).df()
    df["period"] = pd.to_datetime(df["period"]).dt.date
    return df.assign(numerator=None, denominator=None, base=None)


_EFFECTS: dict[tuple, bool | None] = {}  # (db, data version, KPI, treated, start, end) → verdict


def _effect(store, version: int, metric_id: str, treated: frozenset[str], start: date, end: date) -> bool | None:
    """Whether a plan's measured effect is favourable (credible, significant, in the good direction);
    None when it cannot be estimated. Cached on plain values, the data version among them."""
    from metrics.effect import EffectRefused, estimate_effect

    key = (str(store.path), version, metric_id, treated, start, end)
    if key in _EFFECTS:
        return _EFFECTS[key]
    metric = get_metric(metric_id)
    verdict = None
    if metric.direction is not Direction.NEUTRAL:
        try:
            est = estimate_effect(store, metric_id, treated, start, end=end)
        except (EffectRefused, ValueError):
            est = None
        if est is not None:
            good = est.effect > 0 if metric.direction is Direction.UP_GOOD else est.effect < 0
            verdict = bool(est.credible and est.significant and good)
    if len(_EFFECTS) > 2048:
        _EFFECTS.clear()
    _EFFECTS[key] = verdict
    return verdict


def _plan_effects(store, kind: UnitKind, grain: Grain, wanted: list[date]) -> pd.DataFrame:
    ends = {p: period_end(p, grain) for p in wanted}
    lo = min(ends.values()) - timedelta(days=EFFECT_LOOKBACK_DAYS - 1)
    plans = store.query("scorecard.completed_plans", start=lo, end=max(ends.values())).render(unit=_COL[kind]).df()
    if plans.empty:
        return pd.DataFrame(columns=COLUMNS)
    version = store.data_version()
    master = None
    rows = []
    for p, end in ends.items():
        done = pd.to_datetime(plans["done_on"]).dt.date
        closes = pd.to_datetime(plans["effect_start"]).dt.date + timedelta(days=EFFECT_WINDOW_DAYS)
        # a plan counts once its measurement window has closed, for a year after its completion
        sel = plans[(done > end - timedelta(days=EFFECT_LOOKBACK_DAYS)) & (done <= end) & (closes <= end)]
        verdict = {}
        for r in sel.drop_duplicates("plan_id").itertuples():
            start = pd.Timestamp(r.effect_start).date()
            treated = r.scope_branches
            if treated is None or len(treated) == 0:
                if master is None:
                    master = store.query("scorecard.units", kind="branch").render(unit="branch_id").df()
                treated = master["unit"].tolist()
            verdict[r.plan_id] = _effect(store, version, r.metric_id, frozenset(treated), start,
                                         start + timedelta(days=EFFECT_WINDOW_DAYS))
        sel = sel.assign(ok=sel["plan_id"].map(verdict))
        for unit, g in sel.groupby("unit"):
            judged = g[g["ok"].notna()]
            good = int(judged["ok"].astype(bool).sum())
            rows.append({"period": p, "unit": unit, "value": good / len(judged) if len(judged) else None,
                         "numerator": float(good), "denominator": float(len(judged)), "n": len(g), "base": None})
    return pd.DataFrame(rows)


def measured(store, measures: list[str], kind: UnitKind, grain: Grain, wanted: list[date]) -> pd.DataFrame:
    """The value of each measure for every unit of `kind` in each period of `wanted` (period starts)."""
    first, last = min(wanted), period_end(max(wanted), grain)
    builtins = {m: BUILTINS[m] for m in measures if m in BUILTINS}
    kpis = sorted({m for m in measures if m not in builtins} |
                  {b.of for b in builtins.values() if b.kind is BuiltinKind.CHANGE})
    needs_base = any(b.kind is BuiltinKind.CHANGE for b in builtins.values())
    window = Window(shift(first, grain, -1) if needs_base else first, last)
    effects = None
    with ThreadPoolExecutor(1) as pool:
        # the effect estimates (a DuckDB read and an OLS per completed plan) run beside the KPI union
        # query: each thread reads through its own cursor (Store.ibis is per thread)
        if any(b.kind is BuiltinKind.EFFECT for b in builtins.values()):
            effects = pool.submit(_plan_effects, store, kind, grain, wanted)
        k = _kpis(store, kpis, kind, grain, window)
        effect_rows = effects.result() if effects is not None else None
    out = []
    for m in measures:
        b = builtins.get(m)
        if b is None:
            df = k[(k["kpi"] == m) & k["period"].isin(wanted)].assign(n=None, base=None)
        elif b.kind is BuiltinKind.CHANGE:
            cur = k[k["kpi"] == b.of]
            prev = cur.assign(period=[shift(p, grain, 1) for p in cur["period"]])[["period", "unit", "value"]]
            df = cur[cur["period"].isin(wanted)].merge(prev.rename(columns={"value": "base"}), on=["period", "unit"],
                                                       how="left")
            df = df.assign(numerator=df["value"], denominator=None, n=None, value=df["value"] - df["base"])
        elif b.kind is BuiltinKind.SQL:
            df = _market_response(store, kind, grain, first, last)
        else:
            df = effect_rows
        if not df.empty:
            out.append(df.assign(measure=m)[COLUMNS])
    if not out:
        return pd.DataFrame(columns=COLUMNS)
    res = pd.concat(out, ignore_index=True)
    return res[res["value"].notna()].reset_index(drop=True)
