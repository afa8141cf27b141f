"""The overview page (AppTest) on a real demo store: cards, summary, events, freshness, in zh and en.

The demo store (3 outlets × 1 year, loaded through the real ingest) is built once per test session
and copied for every test; BANKPULSE_DB points the app at the copy before the app starts.
"""
from __future__ import annotations

from datetime import date

import pytest
from helpers_app import open_app
from streamlit.testing.v1 import AppTest

import data.store
from metrics import compute, summary
from metrics.catalogue import HEADLINE_IDS, get_metric
from metrics.format import fmt_card, fmt_value
from metrics.model import Grain, Unit
from metrics.scope import Scope


def overview(lang: str) -> AppTest:
    """The overview in `lang`. English is chosen with the language control after a first Chinese run:
    AppTest evaluates the sidebar selectboxes' format functions outside a script run, where `t()`
    falls back to Chinese, so a run that starts from an English page cannot be rerun."""
    at = open_app()
    if lang == "en":
        at.get_by_key("lang").set_value("en").run()
    return at


def last_date(store) -> date:
    """The sidebar's default end: the latest business date of tickets, loans and feedback."""
    f = summary.freshness(store)
    return max(d for k, d in f.items() if k in ("counter_tickets", "loan_snapshot", "feedback_records") and d)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_overview_renders(app_db, lang):
    at = overview(lang)
    assert not at.exception, at.exception
    assert at.title[0].value == ("总览" if lang == "zh" else "Overview")
    assert len(at.metric) == len(HEADLINE_IDS) == 11
    # KPI table and event table downloads
    assert len(at.get("download_button")) >= 2
    subheaders = [h.value for h in at.subheader]
    assert ("本期要点" if lang == "zh" else "Highlights") in subheaders
    assert ("最新市场与政策事件" if lang == "zh" else "Latest market and policy events") in subheaders
    captions = " ".join(c.value for c in at.caption)
    assert ("数据截至" if lang == "zh" else "Data up to") in captions


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_cards_equal_compute(app_db, lang):
    """Each card shows the value `metrics.compute.card` (and so `bankpulse metric`) gives for the period."""
    at = overview(lang)
    assert not at.exception
    store = data.store.open_store(app_db)
    as_of = last_date(store)
    shown = {m.label: m.value for m in at.metric}
    for mid in HEADLINE_IDS:
        metric = get_metric(mid)
        card = compute.card(store, metric, Grain.MONTH, as_of, Scope())
        label, value = fmt_card(metric, card.value, lang)
        assert shown[label] == value, mid
        if metric.unit is Unit.YUAN:  # the card's number in its unit is the formatted amount
            assert fmt_value(metric, card.value, lang).replace(",", "").startswith(
                ("CNY " if lang == "en" else "") + value.replace(",", "")), mid


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_summary_matches_module(app_db, lang):
    at = overview(lang)
    store = data.store.open_store(app_db)
    # the overview shows the briefing's executive summary for its filters (issue 5)
    from briefing.content import executive_summary

    expected = executive_summary(store, last_date(store), Grain.MONTH, Scope(), lang)
    assert 3 <= len(expected) <= 6
    shown = next(m.value for m in at.markdown if m.value.startswith("- "))
    assert shown == "\n".join(f"- {s}" for s in expected)


def test_events_table(app_db):
    at = overview("zh")
    store = data.store.open_store(app_db)
    n = store.cursor().execute("SELECT count(*) FROM main.market_events WHERE event_date BETWEEN $s AND $e",
                               {"s": date(last_date(store).year - 1, last_date(store).month, 1),
                                "e": last_date(store)}).fetchone()[0]
    if n == 0:
        assert any("没有市场或政策事件" in c.value for c in at.caption)
    else:
        table = at.dataframe[0].value
        assert list(table.columns) == ["日期", "类别", "标题"]
        assert len(table) == min(n, 8)
        assert list(table["日期"]) == sorted(table["日期"], reverse=True)
