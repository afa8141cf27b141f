"""The anomaly list filters by the person's scope before it limits, and pages past 1,000 rows
(issue 12, item 4 — no silent loss).

A store holds 1,200 high-severity flags of another region's branch, all newer than the 30
low-severity flags of the viewer's own outlet: a list cut at 1,000 before the scope filter would
show the viewer nothing. People and the demo store: tests/conftest.py.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from conftest import PASSWORD
from helpers_app import open_app
from streamlit.testing.v1 import AppTest

from anomaly.store import AnomalyStore, anomaly_id

MINE = "0101001"  # vw's outlet (城东支行营业部, 华东区)
OTHER = "0201001"  # 高新支行营业部, 华南区
N_OTHER, N_MINE = 1200, 30


def _row(branch: str, label: str, day: date, severity: str) -> dict:
    aid = anomaly_id("counter.tickets_served", "branch", branch, "day", day, "spike")
    return {"anomaly_id": aid, "metric_id": "counter.tickets_served", "category": "counter", "scope_kind": "branch",
            "scope_value": branch, "scope_label": label, "grain": "day", "period": day, "period_end": day,
            "observed": 10.0, "expected": 5.0, "lower": 3.0, "upper": 7.0, "denominator": None, "score": 4.0,
            "severity": severity, "direction": "up", "tone": "neutral", "detector": "test", "anomaly_kind": "spike",
            "sentence_zh": "x", "sentence_en": "x", "cause": None, "cause_json": None}


@pytest.fixture()
def flagged(secure_store):
    start = date(2024, 1, 1)
    rows = [_row(OTHER, "高新支行营业部", start + timedelta(days=400 + i), "high") for i in range(N_OTHER)]
    rows += [_row(MINE, "城东支行营业部", start + timedelta(days=i), "low") for i in range(N_MINE)]
    with secure_store.transaction() as cur:
        AnomalyStore(secure_store).upsert_many(cur, rows, datetime.now())
    return secure_store


def _count(store, where: str) -> int:
    return store.cursor().execute(f"SELECT count(*) FROM ops.anomalies WHERE {where}").fetchone()[0]


def sign_in(name: str) -> AppTest:
    at = open_app(timeout=180)
    at.text_input(key="auth_user").set_value(name)
    at.text_input(key="auth_password").set_value(PASSWORD)
    at.form_submit_button[0].click().run()
    assert not at.exception, at.exception
    at.switch_page("pages/anomalies.py").run()
    assert not at.exception, at.exception
    return at


def test_store_list_filters_before_the_limit(flagged):
    astore = AnomalyStore(flagged)
    mine = frozenset({MINE})
    assert len(astore.list(limit=1000).query("scope_value == @MINE")) == 0  # the cut-off this fixes
    got = astore.list(limit=1000, boundary=mine)
    assert len(got) == _count(flagged, f"scope_kind = 'branch' AND scope_value = '{MINE}'") == N_MINE
    assert set(got["scope_value"]) == {MINE}
    assert astore.count(boundary=mine) == N_MINE
    assert astore.count() == _count(flagged, "TRUE")
    # pages of the whole list are disjoint and cover it
    total = astore.count()
    seen = [astore.list(limit=500, offset=o)["anomaly_id"] for o in range(0, total, 500)]
    ids = [i for s in seen for i in s]
    assert len(ids) == len(set(ids)) == total


def test_scoped_viewer_sees_all_of_their_flags(flagged):
    at = sign_in("vw")
    assert at.session_state["_filters"].scope.branch_ids == frozenset({MINE})
    want = _count(flagged, f"scope_kind = 'branch' AND scope_value = '{MINE}'")
    assert want == N_MINE
    table = at.dataframe[0].value
    assert len(table) == want
    assert set(table["范围"]) == {"城东支行营业部"}
    assert f"共 {want} 条，第 1/1 页" in [c.value for c in at.caption]
    assert not at.number_input  # a single page: no page control


def test_admin_pages_through_more_than_1000(flagged):
    total = _count(flagged, "TRUE")
    assert total > 1000
    at = sign_in("adm")
    assert len(at.dataframe[0].value) == 1000
    assert f"共 {total} 条，第 1/2 页" in [c.value for c in at.caption]
    at.number_input(key="an_page").set_value(2).run()
    assert not at.exception, at.exception
    assert len(at.dataframe[0].value) == total - 1000
    assert f"共 {total} 条，第 2/2 页" in [c.value for c in at.caption]
    # the last page holds the oldest, least severe rows: the viewer's own outlet among them
    assert "城东支行营业部" in set(at.dataframe[0].value["范围"])
    # a filter with fewer pages starts again at page 1
    at.get_by_key("an_sev").set_value("low").run()
    assert not at.exception, at.exception
    n_low = _count(flagged, "severity = 'low'")
    assert len(at.dataframe[0].value) == n_low
    assert f"共 {n_low} 条，第 1/1 页" in [c.value for c in at.caption]


def test_list_is_most_severe_first(flagged):
    """The list's order comes from the one severity ranking (anomaly.base.Severity), bound into the SQL."""
    from anomaly.base import SEV_RANK

    astore = AnomalyStore(flagged)
    with flagged.transaction() as cur:
        astore.upsert_many(cur, [_row(MINE, "城东支行营业部", date(2023, 6, 1), "medium")], datetime.now())
    got = list(astore.list(limit=2000)["severity"])
    assert set(got) == {"high", "medium", "low"}
    assert got == sorted(got, key=lambda s: -SEV_RANK[s])
