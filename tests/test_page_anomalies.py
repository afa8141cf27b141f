"""The 异常预警 Anomalies page (AppTest) on a real scanned demo store, in Chinese and English.

The store (3 outlets × 1 year through the real ingest, then a full scan) is built once per session
and copied for every test; BANKPULSE_DB points the app at the copy before the app starts.
Selecting a dataframe row cannot be done in AppTest, so the details/triage part is covered by
tests/test_browser_anomalies.py (and the triage rules by tests/test_anomaly_scan.py).
"""
from __future__ import annotations

import pytest
from helpers_app import open_app
from streamlit.testing.v1 import AppTest

import data.store
from anomaly.store import AnomalyStore

PAGE = "pages/anomalies.py"


def anomalies_page(lang: str) -> AppTest:
    at = open_app(timeout=180)
    if lang == "en":
        at.get_by_key("lang").set_value("en").run()
    at.switch_page(PAGE).run()
    return at


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_page_lists_the_stored_anomalies(scanned_app_db, lang):
    at = anomalies_page(lang)
    assert not at.exception, at.exception
    assert at.title[0].value == ("异常预警" if lang == "zh" else "Anomalies")
    n = len(AnomalyStore(data.store.open_store(scanned_app_db)).list())
    assert n > 0
    captions = [c.value for c in at.caption]
    assert (f"共 {n} 条，第 1/1 页" if lang == "zh" else f"{n} flags, page 1 of 1") in captions
    table = at.dataframe[0].value
    assert len(table) == n
    assert ("指标" if lang == "zh" else "KPI") in table.columns
    # nothing selected yet: the page asks for a selection
    assert any(("选择一条异常" if lang == "zh" else "Select an anomaly") in i.value for i in at.info)


@pytest.mark.parametrize("lang", ["zh"])
def test_filters_narrow_the_list(scanned_app_db, lang):
    """Each filter on a fresh page. Chinese only: AppTest formats a selectbox's current value outside
    a script run, where `t()` falls back to Chinese, so it cannot set a selectbox on an English page
    (the English filters are exercised in the browser test)."""
    store = data.store.open_store(scanned_app_db)
    astore = AnomalyStore(store)
    for key, value, kw in (("an_scope", "branch", {"scope_kind": "branch"}), ("an_cat", "counter", {"category": "counter"}),
                           ("an_sev", "medium", {"severity": "medium"})):
        at = anomalies_page(lang)
        at.get_by_key(key).set_value(value).run()
        assert not at.exception, at.exception
        want = len(astore.list(**kw))
        if want:
            assert len(at.dataframe[0].value) == want, key
        else:
            assert at.info
    # a triage change made elsewhere shows up under the status filter
    aid = astore.list()["anomaly_id"].iloc[0]
    astore.transition(aid, "acknowledged", "测试")
    at = anomalies_page(lang)
    at.get_by_key("an_status").set_value("acknowledged").run()
    assert not at.exception
    assert len(at.dataframe[0].value) == 1
    label = "已确认" if lang == "zh" else "Acknowledged"
    assert list(at.dataframe[0].value[("状态" if lang == "zh" else "Status")]) == [label]


@pytest.mark.parametrize(("lang", "text", "done"), [("zh", "全量异常扫描：完成", "扫描完成")])
def test_scan_now_shows_its_progress_and_result(scanned_app_db, lang, text, done):
    """立即扫描 runs the full scan with a progress bar (its stages while it runs, the outcome at the
    end) and says what it found; the scan is recorded. Chinese only, as `test_filters_narrow_the_list`:
    a click reruns with the filters' selectboxes, which AppTest formats in Chinese on an English
    page (the bar's English text is the data page's, tests/test_app_data_page.py)."""
    store = data.store.open_store(scanned_app_db)
    scans = store.cursor().execute("SELECT count(*) FROM ops.scans WHERE trigger LIKE 'web:%'").fetchone()[0]
    at = anomalies_page(lang)
    at.button(key="an_rescan").click().run()
    assert not at.exception, at.exception
    assert [(p.value, p.text) for p in at.progress] == [(100, text)]
    assert any(s.value.startswith(done) for s in at.success)
    store = data.store.open_store(scanned_app_db)
    assert store.cursor().execute("SELECT count(*) FROM ops.scans WHERE trigger LIKE 'web:%'").fetchone()[0] == scans + 1
