"""The data page (AppTest), the overview page, and the page helpers (plain pytest).

Each test gets its own store in tmp_path through BANKPULSE_DB, set before the app starts.
"""
from __future__ import annotations

import io

import pandas as pd
import pytest
from helpers_app import open_app, reset_caches, use_store
from streamlit.testing.v1 import AppTest

import data.store
from data.exports import sanitize_cell, to_csv_bytes
from data.sources import SOURCES
from metrics.format import fmt_amount, fmt_count, fmt_pct, fmt_pp
from pages._ui.i18n import T, pick, tr
from pages._ui.tables import batches_frame, issues_frame_for, template_frame
from pages._ui.upload import load_upload
from pages._ui.widgets import inert

HEADER = ("网点编号,网点名称,业务日期,票号,业务类型,客户级别,取号时间,叫号时间,开始办理时间,完成时间,"
          "窗口号,柜员号,状态,等待时长(秒),办理时长(秒)")
ROWS = [
    "0101001,人民路网点,2025-01-03,A001,个人存取款,普通,2025-01-03 09:00:00,2025-01-03 09:05:00,"
    "2025-01-03 09:05:30,2025-01-03 09:10:00,1,T01,已办理,300,270",
    "0101001,人民路网点,2025-01-03,A002,个人存取款,普通,2025-01-03 09:01:00,2025-01-03 09:07:00,"
    "2025-01-03 09:07:30,2025-01-03 09:12:00,2,T02,已办理,360,270",
    "0101001,人民路网点,2025-01-03,A003,对公业务,VIP,2025-01-03 09:02:00,2025-01-03 09:09:00,"
    "2025-01-03 09:09:30,2025-01-03 09:15:00,3,T03,已办理,420,330",
]
BAD_ROW = ("0101001,人民路网点,2025-01-03,A004,对公业务,VIP,2025-01-03 09:02:00,2025-01-03 08:00:00,"
           "2025-01-03 09:09:30,2025-01-03 09:15:00,3,T03,已办理,420,330")  # called before its ticket


def tickets_csv(rows=ROWS, encoding="gbk", newline="\n") -> bytes:
    return (newline.join([HEADER, *rows]) + newline).encode(encoding)


@pytest.fixture()
def db(tmp_path, monkeypatch):
    """A fresh store file for this test; caches of settings, stores and Streamlit reset."""
    yield use_store(tmp_path / "bankpulse.duckdb", monkeypatch)
    reset_caches()


@pytest.fixture()
def store(db):
    return data.store.open_store()


def history(at: AppTest) -> pd.DataFrame:
    """The batch history table (the dataframe whose first header is 批次 / Batch)."""
    return next(d.value for d in at.dataframe if list(d.value.columns)[:1] in (["批次"], ["Batch"]))


def data_page(lang: str | None = None) -> AppTest:
    # the language is a code in the URL: ?lang=en / ?lang=zh (pages/_ui/urlstate.py)
    at = open_app(lang=lang, timeout=60)
    assert not at.exception, at.exception
    at.switch_page("pages/data.py").run()
    assert not at.exception, at.exception
    return at


# -- pages (AppTest) ------------------------------------------------------------------------
def test_overview_shows_the_loaded_data(db, store):
    """After an upload the overview reads the store: its freshness line dates the counter data."""
    res = load_upload(store, "t.csv", tickets_csv())
    last = store.cursor().execute("SELECT max(business_date) FROM main.counter_tickets").fetchone()[0]
    at = open_app(timeout=60)
    assert not at.exception and res.status == "loaded"
    assert at.title[0].value == "总览"
    assert any(f"柜台 {last.isoformat()}" in c.value for c in at.caption)


def test_overview_empty_store(db):
    at = open_app(timeout=60)
    assert not at.exception
    assert at.info and "尚未导入" in at.info[0].value


@pytest.mark.parametrize(("lang", "title", "load"), [(None, "数据管理", "导入"), ("zh", "数据管理", "导入"),
                                                     ("en", "Data", "Load")])
def test_data_page_renders_in_both_languages(db, lang, title, load):
    at = data_page(lang)
    assert at.title[0].value == title
    assert at.button(key="data_load").label == load
    assert at.get_by_key("lang").value == (lang or "zh")
    assert at.info  # no batches yet
    sidebar = [c.value for c in at.sidebar.caption]
    assert any(str(db) in c for c in sidebar)
    assert any(("数据版本：0" if (lang or "zh") == "zh" else "Data version: 0") in c for c in sidebar)
    assert len(at.get("download_button")) == len(SOURCES)  # one template per source


def test_language_switch_updates_page_and_url(db):
    at = data_page()
    at.get_by_key("lang").set_value("en").run()
    assert not at.exception
    assert at.title[0].value == "Data"
    assert at.button(key="data_load").label == "Load"


def test_upload_gbk_csv_then_history_and_rollback(db):
    at = data_page()
    at.file_uploader(key="data_files").upload("柜台叫号.csv", tickets_csv())
    at.button(key="data_load").click().run()
    assert not at.exception
    assert any("已导入为批次 1" in s.value for s in at.success)
    # the file's progress bar, full, with the outcome in place of the stage (the name as Markdown-inert text)
    assert [(p.value, p.text) for p in at.progress] == [(100, f"{inert('柜台叫号.csv')}：已导入")]
    facts = at.table[0].value
    assert facts.loc["编码", "value"] == "GBK/GB18030"
    assert facts.loc["导入行数", "value"] == "3"
    hist = history(at)
    assert list(hist.columns) == ["批次", "文件", "数据类型", "导入行数", "更新行数", "隔离行数", "状态", "用户", "时间"]
    assert list(hist["文件"]) == ["柜台叫号.csv"]
    assert list(hist["状态"]) == ["已导入"]

    # the results survive a rerun (e.g. changing another widget)
    at.checkbox(key="data_partial").check().run()
    assert any("已导入为批次 1" in s.value for s in at.success)

    # rollback needs a confirmation
    at.button(key="data_rollback").click().run()
    assert not at.exception
    assert at.warning and "批次 1" in at.warning[0].value
    assert history(at)["状态"].tolist() == ["已导入"]  # nothing done yet
    at.button(key="data_rb_yes").click().run()
    assert not at.exception
    assert any("批次 1 已回滚" in s.value for s in at.success)
    assert history(at)["状态"].tolist() == ["已回滚"]
    assert at.button(key="data_rollback").disabled


def test_rollback_cancel_changes_nothing(db, store):
    load_upload(store, "t.csv", tickets_csv())
    at = data_page("en")
    at.button(key="data_rollback").click().run()
    at.button(key="data_rb_no").click().run()
    assert not at.exception
    assert history(at)["Status"].tolist() == ["Loaded"]
    assert not at.warning


def test_rollback_error_is_shown(db, store):
    first = load_upload(store, "a.csv", tickets_csv())
    load_upload(store, "b.csv", tickets_csv(ROWS[:2] + [ROWS[2].replace("VIP", "普通")]))  # replaces batch 1's rows
    at = data_page()
    at.selectbox(key="data_batch").select(first.batch_id).run()
    at.button(key="data_rollback").click().run()
    at.button(key="data_rb_yes").click().run()
    assert not at.exception
    assert at.error and "请先回滚批次 2" in at.error[0].value
    assert "/" not in at.error[0].value  # only the user's language


def test_rejected_upload_shows_issues_in_english(db):
    at = data_page("en")
    at.file_uploader(key="data_files").upload("bad.csv", tickets_csv(ROWS + [BAD_ROW]))
    at.button(key="data_load").click().run()
    assert not at.exception
    assert at.error and "not loaded" in at.error[0].value
    assert [(p.value, p.text) for p in at.progress] == [(100, f"{inert('bad.csv')}: Rejected")]
    issues = at.dataframe[1].value  # [0] is the column mapping
    assert "Row" in issues.columns and 5 in issues["Row"].tolist()
    assert any("call time is before ticket time" in m for m in issues["Message"])


def test_partial_upload_quarantines(db):
    at = data_page()
    at.file_uploader(key="data_files").upload("bad.csv", tickets_csv(ROWS + [BAD_ROW]))
    at.checkbox(key="data_partial").check()
    at.button(key="data_load").click().run()
    assert not at.exception
    assert at.warning and "1 行有错误已隔离" in at.warning[0].value
    assert history(at)["隔离行数"].tolist() == [1]


def test_load_without_files_warns(db):
    at = data_page()
    at.button(key="data_load").click().run()
    assert not at.exception
    assert at.warning[0].value == "请先选择文件。"


# -- upload helper ---------------------------------------------------------------------------
def test_load_upload_gbk_keeps_name_and_detects(store):
    res = load_upload(store, "排队.csv", tickets_csv(), user="tester")
    assert res.status == "loaded", res.issues
    assert (res.source, res.encoding, res.rows_loaded, res.file_name) == ("counter_tickets", "GBK/GB18030", 3, "排队.csv")
    assert res.mapping["wait_seconds"] == "等待时长(秒)"
    again = load_upload(store, "排队.csv", tickets_csv())
    assert again.status == "already_loaded"


def test_load_upload_too_large_is_rejected_before_parsing(store, monkeypatch):
    monkeypatch.setattr(store, "settings", store.settings.model_copy(update={"upload_max_mb": 1}))
    res = load_upload(store, "big.csv", b"x" * (1024 * 1024 + 1))
    assert res.status == "rejected"
    assert res.issues["code"].tolist() == ["too_large"]
    assert "超过上限 1 MB" in res.message("zh") and "over the 1 MB limit" in res.message("en")


def test_load_upload_crlf_csv(store):
    assert load_upload(store, "crlf.csv", tickets_csv(newline="\r\n")).status == "loaded"


@pytest.mark.parametrize("source", list(SOURCES))
def test_templates_have_chinese_headers_and_reimport(store, source):
    raw = to_csv_bytes(template_frame(source))
    assert raw.startswith(b"\xef\xbb\xbf")
    frame = pd.read_csv(io.BytesIO(raw), encoding="utf-8-sig", dtype=str)
    assert list(frame.columns) == [c.label_zh for c in SOURCES[source].columns]
    res = load_upload(store, f"template_{source}.csv", raw, source=source)
    assert res.status in ("loaded", "partial"), res.issues.to_dict("records")


# -- pure helpers ----------------------------------------------------------------------------
def test_fmt_amount():
    assert fmt_amount(123_000_000) == "1.23亿元"
    assert fmt_amount(45_678_000) == "4,567.80万元"
    assert fmt_amount(980) == "980.00元"
    assert fmt_amount(-250_000_000) == "-2.50亿元"
    assert fmt_amount(123_400_000, "en") == "CNY 123.40m"
    assert fmt_amount(45_700, "en") == "CNY 45.70k"
    assert fmt_amount(2_500_000_000, "en") == "CNY 2.50bn"
    assert fmt_amount(None) == "—" and fmt_amount(float("nan"), "en") == "—"


def test_fmt_count_pct_pp():
    assert fmt_count(1234567) == "1,234,567"
    assert fmt_count(None) == "—"
    assert fmt_pct(0.032) == "3.20%"
    assert fmt_pct(0.5, digits=0) == "50%"
    assert fmt_pp(0.008) == "上升0.80个百分点"
    assert fmt_pp(-0.0125) == "下降1.25个百分点"
    assert fmt_pp(0.0) == "持平"
    assert fmt_pp(0.008, "en") == "+0.80 pp"
    assert fmt_pp(-0.0125, "en") == "-1.25 pp"


def test_csv_export_is_bom_utf8_and_formula_safe():
    df = pd.DataFrame({"a": ["=1+1", "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)", "\tx", "\rx", "正常", "-20", "+3.5"],
                       "n": [1, 2, 3, 4, 5, 6, 7, 8, 9]})
    raw = to_csv_bytes(df)
    assert raw.startswith(b"\xef\xbb\xbf")
    back = pd.read_csv(io.BytesIO(raw), encoding="utf-8-sig", dtype=str, keep_default_na=False)
    assert back["a"].tolist()[:5] == ["'=1+1", "'+cmd|' /C calc'!A0", "'-2+3", "'@SUM(A1)", "'\tx"]
    assert b"'\rx" in raw  # a quoted field holding a CR
    assert back["a"].tolist()[-3:] == ["正常", "-20", "+3.5"]
    assert sanitize_cell(-5) == -5 and sanitize_cell(None) is None


def test_i18n_table_and_pick():
    assert all(isinstance(zh, str) and isinstance(en, str) and zh and en for zh, en in T.values())
    assert tr("nav.data", "zh") == "数据管理" and tr("nav.data", "en") == "Data"
    assert tr("up.files.help", "en", mb=100).startswith("Up to 100 MB")
    assert tr("no.such.key", "zh") == "no.such.key"
    assert pick("没有数据行 / no data rows", "zh") == "没有数据行"
    assert pick("没有数据行 / no data rows", "en") == "no data rows"
    assert pick("plain", "en") == "plain"


def test_history_and_issue_headers_localized(store):
    load_upload(store, "t.csv", tickets_csv())
    from data.batches import list_batches

    en = batches_frame(list_batches(store), "en")
    assert list(en.columns) == ["Batch", "File", "Data type", "Rows loaded", "Rows updated", "Rows quarantined",
                                "Status", "User", "Time"]
    issues = pd.DataFrame([{"file": "f", "sheet": "", "row": 2, "column": "c", "value": "v", "expected": "甲 / A",
                            "severity": "error", "code": "type", "message": "错 / wrong"}])
    zh = issues_frame_for(issues, "zh")
    assert zh.loc[0, "说明"] == "错" and zh.loc[0, "级别"] == "错误"
    both = issues_frame_for(issues, "en", one_language=False)
    assert both.loc[0, "Message"] == "错 / wrong"


def test_preview_shows_rows_and_writes_nothing(db, store):
    """The 预览 button: detected type, mapping and the first rows as they would be loaded; no batch."""
    at = data_page()
    at.file_uploader(key="data_files").upload("柜台叫号.csv", tickets_csv())
    at.button(key="data_preview").click().run()
    assert not at.exception
    assert any("尚未导入" in i.value for i in at.info)
    assert at.dataframe and "ticket_no" in at.dataframe[0].value.columns
    assert store.is_empty() and store.data_version() == 0
