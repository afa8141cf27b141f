"""Cached reads for pages: plain, hashable arguments plus the data version as the key.

Every function aggregates inside DuckDB (through the metric catalogue, a named block of
`data/sql/` run by `Store.query`, or the anomaly store) and returns a small frame; a load or
rollback bumps the data version and so refreshes every page.
"""

from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st

from metrics import compute
from metrics.model import Grain
from metrics.options import DEFAULT_OPTIONS
from metrics.scope import Scope
from pages._ui.filters import Filters
from pages._ui.store import data_version, get_store

TTL = 3600


def _scope(region, branch, product, branch_ids) -> Scope:
    return Scope(branch_ids=None if branch_ids is None else frozenset(branch_ids), region=region,
                 branch=branch, product=product)


@st.cache_data(show_spinner=False, ttl=TTL, max_entries=512)
def _series(metric_id: str, grain: str, start: date, end: date, by: tuple, region, branch, product, branch_ids,
            options: tuple, version: int) -> pd.DataFrame:
    df = compute.series(get_store(), metric_id, Grain(grain), start, end, by,
                        _scope(region, branch, product, branch_ids), dict(options))
    return compute.with_comparisons(df, compute.get_metric(metric_id), Grain(grain), by)


def series(metric_id: str, f: Filters, by: tuple[str, ...] = (), *, grain: Grain | None = None,
           start: date | None = None, options: dict | None = None) -> pd.DataFrame:
    """A KPI over the filtered window with 环比/同比 columns (period, by…, value, prev_value, …)."""
    g = grain or f.grain
    opts = tuple(sorted({**DEFAULT_OPTIONS, **(options or {})}.items()))
    s = f.scope
    lookback = compute.same_period_last_year(compute.period_start(start or f.start, g), g)
    df = _series(metric_id, g.value, lookback, f.end, tuple(by), s.region, s.branch, s.product,
                 None if s.branch_ids is None else tuple(sorted(s.branch_ids)), opts, data_version())
    first = compute.period_start(start or f.start, g)
    return df[df["period"] >= first].reset_index(drop=True)


@st.cache_data(show_spinner=False, ttl=TTL, max_entries=256)
def _card(metric_id: str, grain: str, as_of: date, region, branch, product, branch_ids, options: tuple,
          version: int) -> compute.Card:
    return compute.card(get_store(), metric_id, Grain(grain), as_of, _scope(region, branch, product, branch_ids),
                        dict(options))


def card(metric_id: str, f: Filters, options: dict | None = None) -> compute.Card:
    opts = tuple(sorted({**DEFAULT_OPTIONS, **(options or {})}.items()))
    s = f.scope
    return _card(metric_id, f.grain.value, f.end, s.region, s.branch, s.product,
                 None if s.branch_ids is None else tuple(sorted(s.branch_ids)), opts, data_version())


@st.cache_data(show_spinner=False, ttl=TTL, max_entries=32)
def _events(start: date, end: date, version: int) -> pd.DataFrame:
    return get_store().query("reads.market_events", start=start, end=end).df()


def events(start: date, end: date) -> pd.DataFrame:
    """Market and policy events in a window (for chart annotations and the timeline)."""
    return _events(start, end, data_version())


@st.cache_data(show_spinner=False, ttl=TTL, max_entries=256)
def _flags(metric_id: str, scope_kind: str, scope_value: str, start: date, end: date, version: int) -> pd.DataFrame:
    from anomaly.store import AnomalyStore

    return AnomalyStore(get_store()).chart_flags(metric_id, scope_kind, scope_value, start, end)


def flags(metric_id: str, f: Filters, lang: str) -> pd.DataFrame:
    """Anomalies of a KPI for the filtered scope (bank, region or branch), to mark on its chart."""
    s = f.scope
    if s.branch:
        kind, value = "branch", s.branch
    elif s.region:
        kind, value = "region", s.region
    else:
        kind, value = "bank", ""
    df = _flags(metric_id, kind, value, f.start, f.end, data_version())
    if s.branch_ids is not None and not df.empty:  # a bank or region flag outside the person's boundary
        from pages._ui import auth

        if auth.visible(pd.DataFrame({"scope_kind": [kind], "scope_value": [value]})).empty:
            df = df.iloc[0:0]
    if df.empty:
        return df.assign(label=[])
    df = df.assign(label=df["sentence_zh" if lang == "zh" else "sentence_en"])
    # scans run at each KPI's own grain (daily for the counter); a chart at another grain marks
    # the period that contains the flag, at the chart's own value (see charts.line)
    df["period"] = [compute.period_start(pd.Timestamp(p).date(), f.grain) for p in df["period"]]
    return df
