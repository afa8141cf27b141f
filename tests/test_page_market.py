"""The 市场 / Market page (AppTest) on a real store with hand-made market files loaded through
the real ingest; adding an event from the form (a new batch, +1 row) and a rejected submission."""
from __future__ import annotations

import time
from datetime import date

import pytest
from helpers_app import open_app, reset_caches, use_store
from streamlit.testing.v1 import AppTest

import data.store
from data.events import add_event, event_csv
from data.ingest import ingest_file

TIMINGS: dict[str, float] = {}
LPR_CSV = "日期,LPR1Y,LPR5Y\n2024-10-21,3.10,3.60\n2025-05-20,3.00,3.50\n2025-06-20,3.00,3.50\n"
NPL_CSV = ("指标代码,指标名称,日期,数值,单位,频率\nNPL_RATIO_CB,商业银行不良贷款率,2025-03-31,1.51,%,季\n"
           "NPL_RATIO_CB,商业银行不良贷款率,2025-06-30,1.49,%,季\nSHIBOR_3M,SHIBOR 3个月,2025-06-30,1.62,%,日\n")
EVENTS_CSV = ("事件日期,类别,标题,内容,影响领域,影响方向\n2025-05-20,政策利率,LPR报价下调,1年期LPR下调10个基点,信贷定价,利好\n"
              "2025-05-07,货币政策,降准0.5个百分点,释放长期流动性约1万亿元,流动性,利好\n")


@pytest.fixture()
def db(tmp_path, monkeypatch):
    """An empty store with the hand-made market files loaded, the app pointed at it."""
    path = use_store(tmp_path / "bankpulse.duckdb", monkeypatch)
    store = data.store.open_store(path)
    for name, text in (("lpr.csv", LPR_CSV), ("npl.csv", NPL_CSV), ("events.csv", EVENTS_CSV)):
        (tmp_path / name).write_text(text, encoding="utf-8")
        res = ingest_file(store, tmp_path / name)
        assert res.status == "loaded", (name, res.issues)
    yield store
    reset_caches()


def market_page(lang: str = "zh") -> AppTest:
    at = open_app(lang="en" if lang == "en" else None, timeout=60)
    assert not at.exception, at.exception
    t0 = time.monotonic()
    at.switch_page("pages/market.py").run()
    TIMINGS.setdefault(f"page run ({lang})", time.monotonic() - t0)
    print(f"market page run ({lang}): {time.monotonic() - t0:.1f}s")
    assert not at.exception, at.exception
    return at


def counts(store) -> tuple[int, int]:
    cur = store.cursor()
    return (cur.execute("SELECT count(*) FROM main.market_events").fetchone()[0],
            cur.execute("SELECT count(*) FROM ops.batches").fetchone()[0])


def events_table(at: AppTest):
    return next(d.value for d in at.dataframe if {"标题", "Title"} & set(d.value.columns))


@pytest.mark.parametrize("lang,title,type_label", [("zh", "市场", "政策利率"), ("en", "Market", "Policy rate")])
def test_market_page_renders(db, lang, title, type_label):
    at = market_page(lang)
    assert at.title[0].value == title
    assert len(at.get("plotly_chart")) >= 4  # LPR, NPL vs ours, other indicators, timeline
    ev = events_table(at)
    assert len(ev) == 2 and type_label in set(ev.iloc[:, 1])
    assert len(at.get("download_button")) >= 5
    assert at.multiselect(key="mk_pick").value == ["SHIBOR_3M"]  # the other loaded indicator
    at.multiselect(key="mk_ev_types").set_value(["monetary_policy"]).run()
    assert not at.exception and len(events_table(at)) == 1


def test_add_event_from_the_form(db):
    before_rows, before_batches = counts(db)
    at = market_page("zh")
    at.date_input(key="mk_f_date").set_value(date(2025, 6, 18))
    at.selectbox(key="mk_f_type").set_value("competitor")
    at.text_input(key="mk_f_title").set_value("某同业下调消费贷利率")
    at.text_input(key="mk_f_competitor").set_value("某银行")
    at.selectbox(key="mk_f_direction").set_value("-")
    at.form_submit_button[0].click().run()
    assert not at.exception, at.exception
    assert at.success and "某同业下调消费贷利率" in at.success[0].value
    rows, batches = counts(db)
    assert (rows, batches) == (before_rows + 1, before_batches + 1)
    row = db.cursor().execute("SELECT event_type, impact_direction, competitor_name FROM main.market_events "
                              "WHERE title = '某同业下调消费贷利率'").fetchone()
    assert row == ("competitor", "-", "某银行")
    batch = db.cursor().execute("SELECT source, user_name, status FROM ops.batches ORDER BY batch_id DESC LIMIT 1").fetchone()
    assert batch == ("market_events", "test", "loaded")  # the signed-in person (BANKPULSE_AUTH=none: "test")
    ev = events_table(at)  # the page shows it on this very run (the callback ran first)
    assert "某同业下调消费贷利率" in set(ev["标题"])
    assert at.text_input(key="mk_f_title").value == ""  # cleared after a successful save


@pytest.mark.parametrize("lang,needle", [("zh", "标题"), ("en", "required value is empty")])
def test_empty_title_is_rejected(db, lang, needle):
    before = counts(db)
    at = market_page(lang)
    at.text_input(key="mk_f_title").set_value("   ")
    at.form_submit_button[0].click().run()
    assert not at.exception, at.exception
    assert at.error and needle in at.error[0].value
    assert not at.success
    assert counts(db) == before


def test_add_event_helper_writes_declared_headers(db):
    text = event_csv({"event_date": date(2025, 1, 2), "event_type": "regulation", "title": "a, \"b\"",
                      "impact_direction": "-"})
    header, row = text.splitlines()
    assert header.split(",")[:3] == ["事件日期", "类别", "标题"]
    assert "监管政策" in row and "利空" in row and '"a, ""b"""' in row
    res = add_event(db, {"event_date": None, "title": "x"})
    assert res.status == "rejected"
    with pytest.raises(ValueError):
        event_csv({"nope": 1})


def test_print_timings(db):
    print("\nAppTest timings (s):", {k: round(v, 2) for k, v in TIMINGS.items()})
