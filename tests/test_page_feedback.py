"""The 客户反馈 / Feedback page (AppTest) on a real store: a copy of the demo store per module.

Also the case-level reads behind it (metrics/feedback_analysis.py) on the same store, and an
XSS/Markdown payload in a complaint description, which must stay literal text.
"""
from __future__ import annotations

import shutil
from datetime import date

import pandas as pd
import pytest
from helpers_app import open_app, reset_caches, use_store
from streamlit.testing.v1 import AppTest

import data.store
from metrics import feedback_analysis as fa
from metrics.scope import Scope

XSS = "<script>alert(1)</script>"
MD = "**bold** [link](http://x)"
XSS_ID = "ZZXSS0001"
MD_ID = "ZZXSS0002"


@pytest.fixture()
def ui_lang(monkeypatch):
    """The language format functions see when AppTest calls them from the test thread.

    AppTest re-applies a widget's `format_func` outside the script run, where Session State
    (and so the `lang` control) cannot be read; the shared sidebar filters format with `t()`,
    which then falls back to Chinese and no longer matches the English options. Returning the
    language the test chose there keeps AppTest consistent; inside a run nothing changes.
    """
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    import pages._ui.i18n as i18n

    chosen = {"lang": "zh"}
    original = i18n.current_lang

    def current_lang() -> str:
        return original() if get_script_run_ctx() is not None else chosen["lang"]

    monkeypatch.setattr(i18n, "current_lang", current_lang)
    return chosen


@pytest.fixture(scope="module")
def feedback_db(demo_db, tmp_path_factory):
    """A copy of the demo store (3 outlets, one year) for the module, the app pointed at it, plus
    two complaints whose descriptions carry an HTML/script and a Markdown payload."""
    mp = pytest.MonkeyPatch()
    db = tmp_path_factory.mktemp("feedback_page") / "bankpulse.duckdb"
    shutil.copy(demo_db, db)
    use_store(db, mp)
    store = data.store.open_store(db)
    cur = store.cursor()
    branch = cur.execute("SELECT min(branch_id) FROM main.feedback_records").fetchone()[0]
    last = cur.execute("SELECT max(received_at) FROM main.feedback_records").fetchone()[0]
    batch = cur.execute("SELECT max(batch_id) FROM main.feedback_records").fetchone()[0]
    for fid, text in ((XSS_ID, XSS), (MD_ID, MD)):
        cur.execute(
            "INSERT INTO main.feedback_records (feedback_id, channel, received_at, feedback_kind, branch_id, "
            "description, status, complexity, batch_id) VALUES ($id, 'online', $at, 'complaint', $b, $d, "
            "'in_progress', 'simple', $batch)", {"id": fid, "at": last, "b": branch, "d": text, "batch": batch})
    cur.execute("UPDATE ops.meta SET value = value + 1 WHERE key = 'data_version'")
    reset_caches()  # the app reads the new rows and data version afresh
    yield data.store.open_store(db)
    reset_caches()
    mp.undo()


def feedback_page(lang: str = "zh") -> AppTest:
    at = open_app(lang="en" if lang == "en" else None)
    assert not at.exception, at.exception
    at.switch_page("pages/feedback.py").run()
    assert not at.exception, at.exception
    return at


def frame_with(at: AppTest, column: str) -> pd.DataFrame:
    return next(d.value for d in at.dataframe if column in d.value.columns)


COLUMNS = {  # a column only that table has (AppTest does not keep the key of a dataframe)
    "zh": {"cases": "业务类别", "open": "剩余天数", "topics": "高频词（次数）", "emerging": "上升倍数"},
    "en": {"cases": "Business line", "open": "Days left", "topics": "Frequent terms (count)", "emerging": "Lift"},
}


def table(at: AppTest, name: str, lang: str = "zh") -> pd.DataFrame:
    return frame_with(at, COLUMNS[lang][name])


def case_table(at: AppTest) -> pd.DataFrame:
    return table(at, "cases")


@pytest.mark.parametrize("lang,title,metric_names,case_id", [
    ("zh", "客户反馈", {"投诉量", "按时办结率", "客户满意度", "超时未办结投诉"}, "工单号"),
    ("en", "Customer feedback", {"Complaints", "On-time closure rate", "Satisfaction (CSAT)", "Open cases past limit"},
     "Case ID"),
])
def test_page_renders_in_both_languages(feedback_db, ui_lang, lang, title, metric_names, case_id):
    ui_lang["lang"] = lang
    at = feedback_page(lang)
    assert at.title[0].value == title
    assert {m.label for m in at.metric} == metric_names
    assert all(m.value not in ("", None) for m in at.metric)
    charts = at.get("plotly_chart")
    assert len(charts) >= 4  # volume, topic trend, CSAT, NPS
    for name in ("cases", "open", "topics", "emerging"):
        assert not table(at, name, lang).empty, name
    downloads = at.get("download_button")
    assert len(downloads) >= 8  # every chart and table
    cases = table(at, "cases", lang)
    assert case_id in cases.columns and len(cases) == 25
    topics = table(at, "topics", lang)
    assert ("等待时间过长" if lang == "zh" else "Long waits") in set(topics.iloc[:, 0])
    days_left = table(at, "open", lang)[COLUMNS[lang]["open"]]
    assert list(days_left) == sorted(days_left)  # most urgent first
    sidebar = " ".join(str(c.value) for c in at.sidebar.caption)
    assert ("数据版本" if lang == "zh" else "Data version") in sidebar


def test_volume_breakdown_switch(feedback_db):
    at = feedback_page()
    at.get_by_key("fb_by").set_value("category").run()
    assert not at.exception
    assert "仅统计投诉" in " ".join(c.value for c in at.caption)
    at.get_by_key("fb_by").set_value("kind").run()
    assert not at.exception


def test_search_filters_the_case_table(feedback_db):
    at = feedback_page()
    before = case_table(at)
    total_before = next(c.value for c in at.caption if c.value.startswith("共 "))
    at.text_input(key="fb_q").set_value("排队").run()
    assert not at.exception
    after = case_table(at)
    assert len(after) and after["内容"].str.contains("排队").all()
    total_after = next(c.value for c in at.caption if c.value.startswith("共 "))
    assert total_after != total_before
    assert set(after["工单号"]) != set(before["工单号"])

    at.multiselect(key="fb_ch").select("hotline").run()
    assert not at.exception
    assert set(case_table(at)["渠道"]) == {"客服热线"}

    at.text_input(key="fb_q").set_value("没有这样的内容xyz").run()
    assert not at.exception
    assert any("没有符合条件的工单" in i.value for i in at.info)


def test_pagination_moves_through_the_results(feedback_db):
    at = feedback_page()
    first = case_table(at)
    at.number_input(key="fb_page").set_value(2).run()
    assert not at.exception
    second = case_table(at)
    assert len(second) == 25 and set(first["工单号"]).isdisjoint(second["工单号"])
    assert any("第 2/" in c.value for c in at.caption)
    at.pills(key="fb_kind").set_value(["praise"]).run()  # a filter change goes back to page 1
    assert not at.exception
    assert at.number_input(key="fb_page").value == 1
    assert set(case_table(at)["类型"]) == {"表扬"}


@pytest.mark.parametrize("payload,case_id", [(XSS, XSS_ID), (MD, MD_ID)])
def test_description_payload_is_literal_text(feedback_db, payload, case_id):
    at = feedback_page()
    at.text_input(key="fb_q").set_value(case_id).run()
    assert not at.exception
    cases = case_table(at)
    assert list(cases["工单号"]) == [case_id]
    assert cases["内容"].iloc[0] == payload  # the raw string, in a dataframe cell
    opened = table(at, "open")  # also listed among the open cases
    assert payload in set(opened["内容"])
    rendered = [e.value for kind in ("markdown", "caption", "text", "info", "warning", "error", "title", "subheader")
                for e in at.get(kind)]
    for text in rendered:
        assert "<script" not in str(text) and "alert(1)" not in str(text)
        assert "[link](http://x)" not in str(text) and "**bold**" not in str(text)
    assert not at.get("html")


def test_open_cases_and_summary_agree_with_the_kpi(feedback_db):
    backend = feedback_db.ibis()
    as_of = feedback_db.cursor().execute("SELECT max(received_at)::DATE FROM main.feedback_records").fetchone()[0]
    summary = fa.open_summary(backend, as_of, Scope())
    cases = fa.open_cases(backend, as_of, Scope(), limit=10_000)
    assert summary.open == len(cases)
    assert summary.overdue == int((cases["days_left"] < 0).sum())
    assert list(cases["days_left"]) == sorted(cases["days_left"])
    assert set(cases["status_flag"]) <= {"overdue", "due_soon", "open"}
    # the KPI (feedback.open_past_limit) counts the same cases at a period end
    from metrics import compute
    from metrics.model import Grain

    card = compute.card(feedback_db, "feedback.open_past_limit", Grain.MONTH, as_of, Scope())
    month_end = date(as_of.year, 12, 31) if as_of.month == 12 else date(as_of.year, as_of.month + 1, 1)
    if as_of.month != 12:
        from datetime import timedelta

        month_end -= timedelta(days=1)
    at_end = fa.open_summary(backend, month_end, Scope())
    assert card.value == at_end.overdue


def test_search_cases_is_scoped_and_literal(feedback_db):
    backend = feedback_db.ibis()
    start, end = date(2025, 1, 1), date(2025, 12, 31)
    _, total = fa.search_cases(backend, start, end, Scope())
    _, none = fa.search_cases(backend, start, end, Scope(branch_ids=frozenset()))
    assert total > 0 and none == 0
    _, wild = fa.search_cases(backend, start, end, Scope(), text="%")  # no LIKE wildcard
    assert wild == 0
    _, quote = fa.search_cases(backend, start, end, Scope(), text="'; DROP TABLE feedback_records; --")
    assert quote == 0
    page1, n = fa.search_cases(backend, start, end, Scope(), limit=10)
    page2, _ = fa.search_cases(backend, start, end, Scope(), limit=10, offset=10)
    assert len(page1) == 10 and set(page1["feedback_id"]).isdisjoint(page2["feedback_id"])
    assert pd.Timestamp(page1["received_at"].iloc[0]) >= pd.Timestamp(page2["received_at"].iloc[0])
    assert isinstance(n, int)
