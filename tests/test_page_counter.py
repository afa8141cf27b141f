"""The counter page (AppTest) on the real demo store, in zh and en; the DuckDB analyses (plain pytest)."""
from __future__ import annotations

from datetime import date

import pytest
from helpers_app import open_app
from streamlit.testing.v1 import AppTest

import data.store
from metrics import compute, counter_analysis
from metrics.model import Grain
from metrics.scope import Scope


def counter_page(lang: str) -> AppTest:
    """The counter page in `lang` (English through the language control; see test_page_overview.overview)."""
    at = open_app("pages/counter.py")
    if lang == "en":
        at.get_by_key("lang").set_value("en").run()
    return at


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_counter_renders(app_db, lang):
    at = counter_page(lang)
    assert not at.exception, at.exception
    assert at.title[0].value == ("柜台业务" if lang == "zh" else "Counter")
    # volume, wait histogram, wait trend, 2 heatmaps, 2 service-type bars
    assert len(at.get("plotly_chart")) == 7
    assert len(at.dataframe) == 1  # the branch ranking
    assert len(at.get("download_button")) == 6  # one per chart / table block
    subheaders = [h.value for h in at.subheader]
    assert ("等候时间分布" if lang == "zh" else "Wait-time distribution") in subheaders
    assert any(s.startswith("网点排名" if lang == "zh" else "Branch ranking") for s in subheaders)


def test_ranking_matches_catalogue(app_db):
    """The ranking shows, per outlet, the catalogue KPIs of the last period."""
    at = counter_page("zh")
    store = data.store.open_store(app_db)
    table = at.dataframe[0].value
    assert len(table) == 3  # three demo outlets
    hi = compute.data_span(store, "counter_tickets")[1]
    period = compute.period_start(hi, Grain.MONTH)
    served = compute.series(store, "counter.tickets_served", Grain.MONTH, period, hi, ("branch",), Scope())
    p90 = compute.series(store, "counter.wait_p90_min", Grain.MONTH, period, hi, ("branch",), Scope())
    by_id = table.set_index("branch")
    for _, r in served.iterrows():
        assert by_id.loc[r["branch"], "served"] == r["value"]
    for _, r in p90.iterrows():
        assert by_id.loc[r["branch"], "wait_p90"] == pytest.approx(r["value"])
    assert list(table["served"]) == sorted(table["served"], reverse=True)


def test_histogram_and_heatmap(app_db):
    store = data.store.open_store(app_db)
    start, end = date(2025, 1, 1), date(2025, 12, 31)
    hist = counter_analysis.wait_histogram(store, start, end)
    assert list(hist["bucket"]) == list(range(0, 65, 5))
    called = store.cursor().execute(
        "SELECT count(*) FROM counter_tickets WHERE call_time IS NOT NULL AND wait_seconds IS NOT NULL "
        "AND business_date BETWEEN $s AND $e", {"s": start, "e": end}).fetchone()[0]
    assert hist["tickets"].sum() == called
    assert hist["share"].sum() == pytest.approx(1.0)
    over = store.cursor().execute(
        "SELECT count(*) FROM counter_tickets WHERE call_time IS NOT NULL AND wait_seconds >= 3600 "
        "AND business_date BETWEEN $s AND $e", {"s": start, "e": end}).fetchone()[0]
    assert hist.iloc[-1]["tickets"] == over

    hm = counter_analysis.heatmap(store, start, end)
    assert set(hm["weekday"]) <= set(range(1, 8))
    issued = store.cursor().execute("SELECT count(*) FROM counter_tickets WHERE business_date BETWEEN $s AND $e",
                                    {"s": start, "e": end}).fetchone()[0]
    assert hm["tickets"].sum() == issued
    assert (hm["arrivals_per_day"] * hm["days"]).round(6).tolist() == hm["tickets"].astype(float).tolist()


def test_scope_applies(app_db):
    """A branch filter narrows the DuckDB analyses (access scope goes through compiler.scoped)."""
    store = data.store.open_store(app_db)
    start, end = date(2025, 1, 1), date(2025, 12, 31)
    one = store.cursor().execute("SELECT min(branch_id) FROM counter_tickets").fetchone()[0]
    all_ = counter_analysis.wait_histogram(store, start, end)["tickets"].sum()
    mine = counter_analysis.wait_histogram(store, start, end, Scope(branch=one))["tickets"].sum()
    none = counter_analysis.wait_histogram(store, start, end, Scope(branch_ids=frozenset()))["tickets"].sum()
    assert 0 < mine < all_ and none == 0
