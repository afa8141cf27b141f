"""End-to-end ingest of real export files, per source: encodings, workbooks, headers, units,
wide market tables, long IDs, totals, domain checks, error collection, atomicity, re-uploads.

Every test writes real CSV/XLSX bytes, calls `ingest_file` on a fresh DuckDB file and reads
the tables back.
"""

from __future__ import annotations

import json

import pytest
from helpers_ingest import (
    SAMPLES,
    count,
    issues_of,
    n_batches,
    sample_csv,
    store_state,
    table_rows,
    write_csv,
    write_xlsx,
)

from data.ingest import ingest_file
from data.ops import OPS
from data.sources import SOURCES
from data.store import Store


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "x.duckdb")
    yield s
    s.close()


def load_branches(store, tmp_path):
    r = ingest_file(store, sample_csv(tmp_path / "branches_master.csv", "branches"))
    assert r.status == "loaded", r.issues
    return r


def errors(result):
    return issues_of(result, severity="error")


# -- encodings -------------------------------------------------------------------------------

ENCODINGS = [("utf-8", "UTF-8"), ("utf-8-sig", "UTF-8 (BOM)"), ("gbk", "GBK/GB18030")]


@pytest.mark.parametrize("source", list(SAMPLES))
def test_utf8_bom_and_gbk_load_identically(tmp_path, source):
    contents = {}
    for enc, label in ENCODINGS:
        d = tmp_path / enc
        d.mkdir()
        s = Store(d / "x.duckdb")
        try:
            r = ingest_file(s, sample_csv(d / "export.csv", source, enc))
            assert r.status == "loaded", (enc, r.issues)
            assert r.source == source
            assert r.encoding == label
            assert r.rows_loaded == len(SAMPLES[source][1])
            contents[enc] = {t: table_rows(s, t) for t in SOURCES}
        finally:
            s.close()
    assert contents["utf-8"] == contents["utf-8-sig"] == contents["gbk"]
    assert contents["utf-8"][source], "rows were loaded"


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_line_endings_do_not_matter(store, tmp_path, newline):
    header, rows = SAMPLES["counter_tickets"]
    r = ingest_file(store, write_csv(tmp_path / "t.csv", [header, *rows], "gbk", newline))
    assert r.status == "loaded", r.issues
    assert r.rows_loaded == len(rows)
    assert count(store, "counter_tickets") == len(rows)


def test_mixed_encoding_is_rejected(store, tmp_path):
    header, rows = SAMPLES["counter_tickets"]
    head = "\n".join(",".join(r) for r in [header, rows[0]]) + "\n"
    tail = "\n".join(",".join(r) for r in rows[1:]) + "\n"
    p = tmp_path / "mixed.csv"
    p.write_bytes(head.encode("utf-8") + tail.encode("gbk"))
    before = store_state(store)
    r = ingest_file(store, p)
    assert r.status == "rejected"
    assert set(errors(r)["code"]) == {"encoding"}
    assert store_state(store) == before


def test_bytes_neither_utf8_nor_gbk_are_rejected(store, tmp_path):
    header, rows = SAMPLES["loan_snapshot"]
    good = ("\n".join(",".join(r) for r in [header, *rows]) + "\n").encode("gbk")
    p = tmp_path / "broken_gbk.csv"
    p.write_bytes(good + b"\xff\xff\xff,1\n")
    r = ingest_file(store, p)
    assert r.status == "rejected"
    err = errors(r)
    assert list(err["code"]) == ["encoding"]
    assert "GBK" in err["message"].iloc[0]


# -- workbooks ------------------------------------------------------------------------------

def test_xlsx_title_rows_several_sheets_and_notes_sheet(store, tmp_path):
    header, rows = SAMPLES["counter_tickets"]
    jan = [["人民路网点排队叫号明细"], ["导出时间：2025-02-01", None, "单位：笔"], header, *rows[:2]]
    feb = [header, rows[2]]
    p = write_xlsx(tmp_path / "tickets.xlsx", {
        "说明": [["本表为排队机导出数据"], ["字段说明：票号为当日取号号码"]],
        "1月": jan,
        "2月": feb,
    })
    r = ingest_file(store, p)
    assert r.status == "loaded", r.issues
    assert r.encoding == "xlsx"
    assert r.sheets == ["1月", "2月"]
    assert r.rows_loaded == 3
    notes = issues_of(r, severity="info")
    assert notes["message"].str.contains("说明").any()
    got = store.cursor().execute(
        "SELECT ticket_no, branch_id, source_row FROM counter_tickets ORDER BY source_row, ticket_no").fetchall()
    # 1月: header on Excel row 3, data on rows 4 and 5; 2月: header row 1, data row 2
    assert sorted(got) == sorted([("A001", "0101001", 4), ("A002", "0101001", 5), ("A001", "0101002", 2)])


def test_xlsx_error_rows_are_excel_rows_with_sheet(store, tmp_path):
    header, rows = SAMPLES["loan_snapshot"]
    bad = list(rows[1])
    bad[8] = "很多"  # 贷款余额
    p = write_xlsx(tmp_path / "loans.xlsx", {"台账": [["贷款台账"], [], header, rows[0], bad]})
    r = ingest_file(store, p)
    assert r.status == "rejected"
    err = errors(r)
    assert len(err) == 1
    e = err.iloc[0]
    assert (e["sheet"], int(e["row"]), e["column"], e["value"], e["code"]) == ("台账", 5, "贷款余额", "很多", "type")


def test_xlsx_with_an_unreadable_sheet_is_rejected_whole(store, tmp_path):
    """A sheet calamine cannot parse is an error naming file and sheet; the readable sheets do not load."""
    import zipfile

    header, rows = SAMPLES["counter_tickets"]
    good = write_xlsx(tmp_path / "good.xlsx", {"说明": [["本表为排队机导出数据"]], "1月": [header, *rows[:2]],
                                               "2月": [header, rows[2]]})
    with zipfile.ZipFile(good) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    sheet3 = "xl/worksheets/sheet3.xml"  # 2月: cut off mid-tag, as a truncated copy leaves it
    parts[sheet3] = parts[sheet3][: len(parts[sheet3]) // 2]
    bad = tmp_path / "tickets.xlsx"
    with zipfile.ZipFile(bad, "w", zipfile.ZIP_DEFLATED) as z:
        for n, b in parts.items():
            z.writestr(n, b)
    load_branches(store, tmp_path)
    before, batches = store_state(store), n_batches(store)
    r = ingest_file(store, bad)
    assert r.status == "rejected" and r.batch_id is None
    err = errors(r)
    assert list(err["code"]) == ["unreadable"]
    e = err.iloc[0]
    assert e["file"] == "tickets.xlsx" and e["sheet"] == "2月" and e["expected"]
    assert "“2月”" in e["message"] and "sheet '2月' cannot be read" in e["message"]
    assert "expected a readable worksheet" in e["message"]
    assert store_state(store) == before and n_batches(store) == batches
    assert count(store, "counter_tickets") == 0
    # the same workbook intact loads both data sheets and still only notes the 说明 sheet
    r = ingest_file(store, good)
    assert r.status == "loaded", r.issues
    assert r.sheets == ["1月", "2月"] and r.rows_loaded == 3
    assert errors(r).empty


def test_xlsx_typed_cells_are_read_like_an_export(store, tmp_path):
    """Excel-typed dates, integral floats and numbers load like their text spelling."""
    import datetime as dt

    header = ["数据日期", "借据号", "内部机构号", "贷款金额", "贷款余额", "逾期天数", "五级分类"]
    p = write_xlsx(tmp_path / "typed.xlsx", {"Sheet1": [
        header, [dt.datetime(2025, 1, 31), "622500202301150001", "0101001", 500000, 420000.5, 0.0, "正常"]]})
    r = ingest_file(store, p)
    assert r.status == "loaded", r.issues
    row = store.cursor().execute(
        "SELECT snapshot_date, loan_id, loan_amount, outstanding_balance, days_past_due FROM loan_snapshot").fetchone()
    assert row == (dt.date(2025, 1, 31), "622500202301150001", 500000.0, 420000.5, 0)


# -- header aliases ---------------------------------------------------------------------------

ALIAS_HEADERS = {
    "branches": [
        ["网点代码", "网点名称", "层级", "上级机构", "区域", "窗口数"],
        ["ＯｒｇＮｏ", "支行名称", "机构级别", "所属支行号", "地区", "柜台数"],
        [" 机构 编号 ", "机构简称", " 机构类型", "上级机构编号 ", "片区", "营业窗口数"],
    ],
    "counter_tickets": [
        ["网点号", "网点", "交易日期", "排队号", "业务种类", "打印时间", "呼叫时间", "结束时间", "服务窗口号", "柜员编号", "办理状态"],
        ["ＢａｎｋＮｏ", "支行名称", "统计日期", "ＢｉｌｌＮｏ", "队列", "领号时间", "叫号时间", "办结时间", "柜台号", "EmployNo", "备注"],
        ["机构 号", "机构名称", "日 期", "取号 号码", "业务名称", "到达时间", "呼叫时间", "办理完成时间", "窗口", "操作员", "状态"],
    ],
    "loan_snapshot": [
        ["统计日期", "借据编号", "客户编号", "经办机构", "贷款产品", "放款日期", "到期日", "发放金额", "余额", "欠款天数", "风险分类"],
        ["报表日期", "贷款借据编号", "借款人客户号", "网点编号", "产品名称", "贷款发放日期", "原始到期日期", "借据金额", "本金余额", "逾期天数", "贷款五级形态"],
        ["截止日期 ", " 贷款账号", "客户号", "机构编号", "业务品种", "起息日", "到期日期", "合同金额", "剩余本金", "欠款天数", "五级形态"],
    ],
    "feedback_records": [
        ["投诉编号", "投诉渠道", "投诉时间", "性质", "涉及机构", "投诉业务类型", "问题描述", "办理状态", "结案时间", "推荐度"],
        ["受理编号", "来源", "登记时间", "反馈类型", "责任机构", "产品类型", "留言内容", "工单状态", "处理完成时间", "ＮＰＳ"],
        ["工单 编号", "渠道", "来电时间", "工单类型", "涉及网点", "业务类别", "诉求", "状态", "办结时间", "推荐意愿"],
    ],
    "market_indicators": [
        ["代码", "指标", "统计期", "数据频率", "值", "unit"],
        ["indicator", "Indicator name", "期末日期", "Frequency", "指标值", "单位"],
        ["ＩＮＤＩＣＡＴＯＲ_ＣＯＤＥ", "指标名称", "TRADE_DATE", "频率", "今值", "Unit"],
    ],
    "market_events": [
        ["事件编号", "日期", "类型", "事件", "摘要", "影响范围", "方向"],
        ["Event ID", "发布日期", "事件类型", "事件标题", "详情", "影响领域", "影响方向"],
        ["编 号", "事件日期", "类别", "title_zh", "事件内容", "影响范围", "方向"],
    ],
}


@pytest.mark.parametrize(("source", "variant"), [(s, i) for s in ALIAS_HEADERS for i in range(3)])
def test_header_aliases_load_like_the_canonical_header(tmp_path, source, variant):
    header, rows = SAMPLES[source]
    alias = ALIAS_HEADERS[source][variant]
    assert len(alias) == len(header)
    results = {}
    for name, hdr in (("canonical", header), ("alias", alias)):
        d = tmp_path / name
        d.mkdir()
        s = Store(d / "x.duckdb")
        try:
            r = ingest_file(s, write_csv(d / "f.csv", [hdr, *rows], "gbk"))
            assert r.status == "loaded", (hdr, r.issues)
            assert r.source == source
            assert not len(issues_of(r, code="ignored_column")), r.issues
            results[name] = (table_rows(s, source), r.mapping)
        finally:
            s.close()
    assert results["alias"][0] == results["canonical"][0]
    # the mapping reports each header as it was written
    assert set(results["alias"][1].values()) == set(alias)


def test_unknown_header_is_ignored_with_info(store, tmp_path):
    header, rows = SAMPLES["market_events"]
    p = write_csv(tmp_path / "e.csv", [[*header, "备用字段"], *[[*r, "x"] for r in rows]])
    r = ingest_file(store, p)
    assert r.status == "loaded"
    ign = issues_of(r, code="ignored_column")
    assert list(ign["column"]) == ["备用字段"] and set(ign["severity"]) == {"info"}


def test_duplicate_header_is_an_error(store, tmp_path):
    header, rows = SAMPLES["market_events"]
    p = write_csv(tmp_path / "e.csv", [[*header, "事件标题"], *[[*r, "x"] for r in rows]])
    r = ingest_file(store, p)
    assert r.status == "rejected"
    assert list(errors(r)["code"]) == ["duplicate_column"]


def test_missing_required_column_is_an_error(store, tmp_path):
    header, rows = SAMPLES["loan_snapshot"]
    keep = [i for i, h in enumerate(header) if h != "五级分类"]
    p = write_csv(tmp_path / "l.csv", [[header[i] for i in keep], *[[r[i] for i in keep] for r in rows]])
    before = store_state(store)
    r = ingest_file(store, p)
    assert r.status == "rejected"
    err = errors(r)
    assert list(err["code"]) == ["missing_column"] and list(err["column"]) == ["五级分类"]
    assert store_state(store) == before


# -- units ------------------------------------------------------------------------------------

@pytest.mark.parametrize(("header", "raw", "column", "expected"), [
    ("贷款余额(万元)", "42", "outstanding_balance", 420_000.0),
    ("贷款余额（万元）", "42.5", "outstanding_balance", 425_000.0),
    ("贷款余额(亿元)", "0.5", "outstanding_balance", 50_000_000.0),
    ("贷款余额(元)", "420000", "outstanding_balance", 420_000.0),
    ("贷款金额(千元)", "500", "loan_amount", 500_000.0),
    ("贷款余额", "1,234.56", "outstanding_balance", 1234.56),
])
def test_money_unit_suffix_scales_values(store, tmp_path, header, raw, column, expected):
    hdr = ["数据日期", "借据号", "内部机构号", header, "五级分类"]
    r = ingest_file(store, write_csv(tmp_path / "l.csv", [hdr, ["2025-01-31", "L1", "0101001", raw, "正常"]]))
    assert r.status == "loaded", r.issues
    got = store.cursor().execute(f"SELECT {column} FROM loan_snapshot").fetchone()[0]
    assert got == pytest.approx(expected)


@pytest.mark.parametrize(("header", "raw", "expected"), [
    ("等待时间(分钟)", "10", 600.0),
    ("等待时间（分钟）", "1.5", 90.0),
    ("等待时长(秒)", "692", 692.0),
    ("等候时间(小时)", "0.5", 1800.0),
    ("等候时长", "45", 45.0),
])
def test_duration_unit_suffix_scales_values(store, tmp_path, header, raw, expected):
    hdr = ["网点编号", "业务日期", "票号", "取号时间", header]
    r = ingest_file(store, write_csv(tmp_path / "t.csv", [hdr, ["0101001", "2025-01-03", "A001", "2025-01-03 09:00:00", raw]]))
    assert r.status == "loaded", r.issues
    assert store.cursor().execute("SELECT wait_seconds FROM counter_tickets").fetchone()[0] == pytest.approx(expected)


def test_wait_is_recomputed_from_times_when_both_present(store, tmp_path):
    hdr = ["网点编号", "业务日期", "票号", "取号时间", "叫号时间", "等待时间(分钟)"]
    r = ingest_file(store, write_csv(tmp_path / "t.csv", [
        hdr, ["0101001", "2025-01-03", "A001", "2025-01-03 09:00:00", "2025-01-03 09:12:00", "10"]]))
    assert r.status == "loaded", r.issues
    assert store.cursor().execute("SELECT wait_seconds FROM counter_tickets").fetchone()[0] == 720.0


def test_unit_that_cannot_convert_is_an_error(store, tmp_path):
    hdr = ["数据日期", "借据号", "内部机构号", "贷款余额(分钟)", "五级分类"]
    r = ingest_file(store, write_csv(tmp_path / "l.csv", [hdr, ["2025-01-31", "L1", "0101001", "1", "正常"]]))
    assert r.status == "rejected"
    err = errors(r)
    assert list(err["code"]) == ["unit_mismatch"] and list(err["column"]) == ["贷款余额(分钟)"]


# -- wide market files ------------------------------------------------------------------------

@pytest.mark.parametrize("header", [
    ["日期", "LPR_1Y利率(%)", "LPR_5Y利率(%)"],
    ["TRADE_DATE", "LPR1Y", "LPR5Y"],
    ["报价日期", "1年期LPR(%)", "5年期以上LPR(%)"],
])
def test_wide_lpr_file_is_melted(store, tmp_path, header):
    rows = [["2025-05-20", "3.00", "3.50"], ["2025/4/21", "3.10", "3.60"], ["2025-03-20", "3.10", "--"]]
    r = ingest_file(store, write_csv(tmp_path / "lpr.csv", [header, *rows], "gbk"))
    assert r.status == "loaded", r.issues
    assert r.source == "market_indicators"
    assert r.rows_loaded == 5
    got = store.cursor().execute(
        "SELECT indicator_code, CAST(date AS VARCHAR), value, unit, region, source_row FROM market_indicators "
        "ORDER BY indicator_code, date").fetchall()
    assert got == [
        ("LPR_1Y", "2025-03-20", 3.10, "%", "全国", 4),
        ("LPR_1Y", "2025-04-21", 3.10, "%", "全国", 3),
        ("LPR_1Y", "2025-05-20", 3.00, "%", "全国", 2),
        ("LPR_5Y", "2025-04-21", 3.60, "%", "全国", 3),
        ("LPR_5Y", "2025-05-20", 3.50, "%", "全国", 2),
    ]


def test_wide_shibor_file_is_melted(store, tmp_path):
    header = ["日期", "O/N", "1W", "2W", "1M", "3M", "6M", "9M", "1Y"]
    r = ingest_file(store, write_csv(tmp_path / "shibor.csv", [header, ["2025-01-03", "1.2", "1.5", "1.6", "1.7",
                                                                         "1.8", "1.85", "1.9", "1.95"]]))
    assert r.status == "loaded", r.issues
    codes = [c for (c,) in store.cursor().execute("SELECT indicator_code FROM market_indicators ORDER BY 1").fetchall()]
    assert codes == sorted(["SHIBOR_ON", "SHIBOR_1W", "SHIBOR_2W", "SHIBOR_1M", "SHIBOR_3M", "SHIBOR_6M",
                            "SHIBOR_9M", "SHIBOR_1Y"])


def test_wide_file_bad_value_names_the_header_and_row(store, tmp_path):
    header = ["日期", "LPR_1Y利率(%)", "LPR_5Y利率(%)"]
    r = ingest_file(store, write_csv(tmp_path / "lpr.csv", [header, ["2025-05-20", "3.00", "3.50"],
                                                           ["2025-04-21", "abc", "3.60"]]))
    assert r.status == "rejected"
    err = errors(r)
    assert len(err) == 1
    assert (int(err.iloc[0]["row"]), err.iloc[0]["value"], err.iloc[0]["code"]) == (3, "abc", "type")


# -- long ids ---------------------------------------------------------------------------------

LONG_IDS = ["622500202301150001", "000500202301150003", "110101199001011234"]


def test_long_ids_stay_strings_in_csv(store, tmp_path):
    hdr = ["数据日期", "借据号", "客户号", "内部机构号", "贷款余额", "五级分类"]
    rows = [["2025-01-31", lid, f"'{lid}", "\t0101001", "1", "正常"] for lid in LONG_IDS]
    r = ingest_file(store, write_csv(tmp_path / "l.csv", [hdr, *rows]))
    assert r.status == "loaded", r.issues
    got = store.cursor().execute("SELECT loan_id, customer_id, branch_id FROM loan_snapshot ORDER BY loan_id").fetchall()
    assert got == sorted((lid, lid, "0101001") for lid in LONG_IDS)


def test_long_ids_stay_strings_in_xlsx_text_cells(store, tmp_path):
    hdr = ["数据日期", "借据号", "内部机构号", "贷款余额", "五级分类"]
    rows = [["2025-01-31", lid, "0101001", 1, "正常"] for lid in LONG_IDS]
    r = ingest_file(store, write_xlsx(tmp_path / "l.xlsx", {"Sheet1": [hdr, *rows]}))
    assert r.status == "loaded", r.issues
    got = [x for (x,) in store.cursor().execute("SELECT loan_id FROM loan_snapshot ORDER BY 1").fetchall()]
    assert got == sorted(LONG_IDS)


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_scientific_id_is_an_error_naming_row_and_column(store, tmp_path, kind):
    hdr = ["数据日期", "贷款借据编号", "内部机构号", "贷款余额", "五级分类"]
    rows = [["2025-01-31", "622500202301150001", "0101001", "1", "正常"],
            ["2025-01-31", "1.23E+18", "0101001", "1", "正常"]]
    if kind == "csv":
        p = write_csv(tmp_path / "l.csv", [hdr, *rows])
    else:  # a numeric cell: Excel already stored the 18-digit id as a float
        rows[1][1] = 1.23e18
        p = write_xlsx(tmp_path / "l.xlsx", {"Sheet1": [hdr, *rows]})
    r = ingest_file(store, p)
    assert r.status == "rejected"
    err = errors(r)
    assert list(err["code"]) == ["id_scientific"]
    e = err.iloc[0]
    assert int(e["row"]) == 3 and e["column"] == "贷款借据编号"
    assert "E+18" in e["value"].upper()


# -- totals, detection ------------------------------------------------------------------------

@pytest.mark.parametrize("source", ["counter_tickets", "loan_snapshot", "branches"])
def test_trailing_total_row_is_skipped_with_info(store, tmp_path, source):
    header, rows = SAMPLES[source]
    total = ["合计"] + [""] * (len(header) - 1)
    total[-1] = str(len(rows))
    r = ingest_file(store, write_csv(tmp_path / "f.csv", [header, *rows, total]))
    assert r.status == "loaded", r.issues
    assert r.rows_loaded == len(rows)
    info = issues_of(r, code="total_row")
    assert list(info["severity"]) == ["info"] and [int(x) for x in info["row"]] == [len(rows) + 2]
    assert count(store, source) == len(rows)
    assert not errors(r).shape[0]


@pytest.mark.parametrize("source", list(SAMPLES))
def test_source_is_detected_from_headers(store, tmp_path, source):
    r = ingest_file(store, sample_csv(tmp_path / "export.csv", source))
    assert (r.status, r.source) == ("loaded", source)


def test_ambiguous_header_needs_a_source_override(store, tmp_path):
    rows = [["机构号", "机构名称"], ["0101001", "人民路网点"]]
    r = ingest_file(store, write_csv(tmp_path / "b.csv", rows))
    assert r.status == "rejected"
    assert list(errors(r)["code"]) == ["ambiguous_source"]
    r = ingest_file(store, write_csv(tmp_path / "b.csv", rows), source="branches")
    assert (r.status, r.source) == ("loaded", "branches")
    assert table_rows(store, "branches", exclude=("batch_id", "source_file"))[0][:3] == ("0101001", "人民路网点", "outlet")


def test_override_wins_over_detection(store, tmp_path):
    # 日期 + 标题 + 类别 reads as market events when told so
    rows = [["日期", "标题", "类别"], ["2025-05-20", "LPR报价下调", "政策利率"]]
    r = ingest_file(store, write_csv(tmp_path / "e.csv", rows), source="market_events")
    assert (r.status, r.source) == ("loaded", "market_events"), r.issues
    assert count(store, "market_events") == 1


def test_unknown_source_name_is_rejected(store, tmp_path):
    r = ingest_file(store, sample_csv(tmp_path / "b.csv", "branches"), source="nope")
    assert r.status == "rejected" and list(errors(r)["code"]) == ["unknown_source"]


def test_unrecognisable_header_is_rejected(store, tmp_path):
    r = ingest_file(store, write_csv(tmp_path / "x.csv", [["foo", "bar", "baz"], ["1", "2", "3"]]))
    assert r.status == "rejected" and len(errors(r)) == 1


# -- domain checks ----------------------------------------------------------------------------

@pytest.mark.parametrize(("dpd", "klass", "codes"), [
    ("0", "正常", set()),
    ("5", "正常", {"five_class_overdue_normal"}),
    ("5", "关注", set()),
    ("100", "关注", {"five_class_90"}),
    ("100", "次级类", set()),
    ("300", "次级", {"five_class_270"}),
    ("300", "Doubtful", set()),
    ("400", "可疑", {"five_class_360"}),
    ("400", "5", set()),
    ("400", "正常", {"five_class_overdue_normal", "five_class_90", "five_class_270", "five_class_360"}),
])
def test_five_class_inconsistent_with_dpd_warns_and_loads(store, tmp_path, dpd, klass, codes):
    load_branches(store, tmp_path)
    hdr = ["数据日期", "借据号", "内部机构号", "贷款余额", "逾期天数", "五级分类"]
    r = ingest_file(store, write_csv(tmp_path / "l.csv", [hdr, ["2025-01-31", "L1", "0101001", "100", dpd, klass]]))
    assert r.status == "loaded", r.issues
    checks = issues_of(r, code="check")
    assert set(checks["expected"]) == codes
    assert set(checks["severity"]) <= {"warning"}
    assert set(checks["row"].astype(int)) <= {2}
    assert r.rows_warned == (1 if codes else 0)
    assert count(store, "loan_snapshot") == 1


def test_call_before_ticket_is_an_error(store, tmp_path):
    header, rows = SAMPLES["counter_tickets"]
    bad = list(rows[1])
    bad[6] = "2025-01-03 08:59:00"  # 叫号时间 before 取号时间 09:05
    before = store_state(store)
    r = ingest_file(store, write_csv(tmp_path / "t.csv", [header, rows[0], bad, rows[2]]))
    assert r.status == "rejected"
    chk = errors(r)[errors(r)["code"] == "check"]
    assert len(chk) == 1
    e = chk.iloc[0]
    assert (int(e["row"]), e["column"], e["expected"]) == (3, "叫号时间,取号时间", "call_before_ticket")
    assert store_state(store) == before


def test_feedback_closed_before_received_is_an_error(store, tmp_path):
    header, rows = SAMPLES["feedback_records"]
    bad = list(rows[0])
    bad[8] = "2025-01-02 00:00:00"
    r = ingest_file(store, write_csv(tmp_path / "f.csv", [header, bad, *rows[1:]]))
    assert r.status == "rejected"
    assert list(errors(r)["expected"]) == ["closed_before_received"]


def test_unknown_branch_warns_and_is_added_to_the_master(store, tmp_path):
    header, rows = SAMPLES["counter_tickets"]
    r = ingest_file(store, write_csv(tmp_path / "t.csv", [header, *rows]))
    assert r.status == "loaded"
    warn = issues_of(r, code="unknown_branch")
    assert set(warn["severity"]) == {"warning"}
    assert sorted(warn["value"]) == ["0101001", "0101002"]
    assert sorted(int(x) for x in warn["row"]) == [2, 4]  # first row each id appears on
    assert set(warn["column"]) == {"网点编号"}
    got = store.cursor().execute("SELECT branch_id, branch_name, level FROM branches ORDER BY 1").fetchall()
    assert got == [("0101001", "0101001", "outlet"), ("0101002", "0101002", "outlet")]


def test_known_branch_gives_no_warning(store, tmp_path):
    load_branches(store, tmp_path)
    r = ingest_file(store, sample_csv(tmp_path / "t.csv", "counter_tickets"))
    assert r.status == "loaded"
    assert issues_of(r, code="unknown_branch").empty
    assert count(store, "branches") == 3


# -- every error collected; reject vs partial -------------------------------------------------

def three_bad_loans(tmp_path):
    hdr = ["统计日期", "借据编号", "内部机构号", "贷款余额(万元)", "逾期天数", "风险分类"]
    rows = [
        ["2025-01-31", "L1", "0101001", "42", "0", "正常"],
        ["2025-13-45", "L2", "0101001", "42", "0", "正常"],      # row 3: bad date
        ["2025-01-31", "L3", "0101001", "四十二", "0", "正常"],   # row 4: bad number
        ["2025-01-31", "L4", "0101001", "42", "0", "正常"],
        ["2025-01-31", "L5", "0101001", "42", "0", "很好"],      # row 6: bad class
        ["2025-01-31", "L6", "0101001", "42", "0", "关注"],
    ]
    return write_csv(tmp_path / "loans.csv", [hdr, *rows], "gbk")


def test_every_error_is_collected_with_excel_row_and_header(store, tmp_path):
    r = ingest_file(store, three_bad_loans(tmp_path))
    assert r.status == "rejected"
    got = sorted((int(e.row), e.column, e.value, e.code) for e in errors(r).itertuples())
    assert got == [(3, "统计日期", "2025-13-45", "type"), (4, "贷款余额(万元)", "四十二", "type"),
                   (6, "风险分类", "很好", "enum")]
    assert r.rows_rejected == 3
    assert set(errors(r)["file"]) == {"loans.csv"}


def test_rejected_file_changes_nothing(store, tmp_path):
    load_branches(store, tmp_path)
    first = ingest_file(store, sample_csv(tmp_path / "loans_ok.csv", "loan_snapshot"))
    assert first.status == "loaded"
    before, batches = store_state(store), n_batches(store)
    r = ingest_file(store, three_bad_loans(tmp_path))
    assert r.status == "rejected" and r.batch_id is None
    assert store_state(store) == before
    assert n_batches(store) == batches


def test_allow_partial_loads_valid_rows_and_quarantines_the_rest(store, tmp_path):
    r = ingest_file(store, three_bad_loans(tmp_path), allow_partial=True, user="tester")
    assert r.status == "partial"
    assert (r.rows_in, r.rows_loaded, r.rows_rejected) == (6, 3, 3)
    loans = store.cursor().execute(
        "SELECT loan_id, outstanding_balance, source_row FROM loan_snapshot ORDER BY loan_id").fetchall()
    assert loans == [("L1", 420_000.0, 2), ("L4", 420_000.0, 5), ("L6", 420_000.0, 7)]
    q = OPS.quarantine(store.cursor(), r.batch_id)
    assert sorted(q["row_no"]) == [3, 4, 6]
    assert set(q["source"]) == {"loan_snapshot"}
    reasons = dict(zip(q["row_no"], q["reasons"], strict=True))
    assert "无法识别的值" in reasons[3] and "无法识别的值" in reasons[4] and "不在取值范围内" in reasons[6]
    raw = {int(n): json.loads(j) for n, j in zip(q["row_no"], q["raw_json"], strict=True)}
    assert raw[3]["snapshot_date"] == "2025-13-45"
    assert raw[4]["outstanding_balance"] == "四十二"
    assert raw[6]["risk_class"] == "很好"
    batch = OPS.get_batch(store.cursor(), r.batch_id)
    assert (batch.status, batch.rows_loaded, batch.rows_rejected, batch.user_name) == ("partial", 3, 3, "tester")
    issues = OPS.batch_issues(store.cursor(), r.batch_id)
    assert (issues["severity"] == "error").sum() == 3


def test_allow_partial_with_only_bad_rows_loads_nothing(store, tmp_path):
    hdr = ["数据日期", "借据号", "内部机构号", "贷款余额", "五级分类"]
    p = write_csv(tmp_path / "l.csv", [hdr, ["2025-01-31", "L1", "0101001", "x", "正常"]])
    r = ingest_file(store, p, allow_partial=True)
    assert r.status in ("partial", "rejected")
    assert count(store, "loan_snapshot") == 0


def test_duplicate_key_inside_upload_names_the_first_row(store, tmp_path):
    header, rows = SAMPLES["market_events"]
    r = ingest_file(store, write_csv(tmp_path / "e.csv", [header, *rows, rows[0]]))
    assert r.status == "rejected"
    err = errors(r)
    assert list(err["code"]) == ["duplicate_key"] and int(err.iloc[0]["row"]) == 5
    assert "2" in err.iloc[0]["message"]


# -- re-uploads -------------------------------------------------------------------------------

@pytest.mark.parametrize("source", list(SAMPLES))
def test_duplicate_upload_is_already_loaded(store, tmp_path, source):
    p = sample_csv(tmp_path / "export.csv", source)
    first = ingest_file(store, p)
    assert first.status == "loaded"
    before = store_state(store)
    again = ingest_file(store, p)
    assert (again.status, again.batch_id, again.rows_loaded) == ("already_loaded", first.batch_id, 0)
    assert store_state(store) == before
    # the same bytes under another name are the same upload
    renamed = ingest_file(store, p, file_name="copy of export.csv")
    assert renamed.status == "already_loaded"
    assert store_state(store) == before


def test_reupload_of_changed_rows_replaces_them(store, tmp_path):
    header, rows = SAMPLES["loan_snapshot"]
    first = ingest_file(store, write_csv(tmp_path / "jan.csv", [header, *rows]))
    assert first.status == "loaded"
    changed = [list(r) for r in rows[:2]]
    changed[0][8], changed[1][8] = "410000", "240000"
    new_row = ["2025-01-31", "622500202301150009", "C9", "0101001", "个人消费贷款", "2024-12-01", "2026-12-01",
               "10000", "9000", "0", "正常"]
    second = ingest_file(store, write_csv(tmp_path / "jan_fix.csv", [header, *changed, new_row]))
    assert second.status == "loaded"
    assert (second.rows_loaded, second.rows_updated) == (3, 2)
    got = dict(store.cursor().execute("SELECT loan_id, outstanding_balance FROM loan_snapshot").fetchall())
    assert got == {"622500202301150001": 410000.0, "622500202301150002": 240000.0,
                   "000500202301150003": 800000.0, "622500202301150009": 9000.0}
    lineage = dict(store.cursor().execute("SELECT loan_id, batch_id FROM loan_snapshot").fetchall())
    assert lineage["000500202301150003"] == first.batch_id
    assert lineage["622500202301150001"] == second.batch_id
    assert count(store, "history.loan_snapshot") == 2


def test_file_level_issues_have_no_row(store, tmp_path):
    p = tmp_path / "empty.csv"
    p.write_bytes(b"")
    r = ingest_file(store, p)
    assert r.status == "rejected"
    assert list(r.issues.columns) == ["file", "sheet", "row", "column", "value", "expected", "severity", "code",
                                      "message"]
    assert list(r.issues["code"]) == ["empty_file"] and r.issues["row"].isna().all()


def test_header_only_file_is_rejected(store, tmp_path):
    header, _ = SAMPLES["counter_tickets"]
    r = ingest_file(store, write_csv(tmp_path / "h.csv", [header]))
    assert r.status == "rejected"
    assert "empty_file" in set(errors(r)["code"])


def test_multiline_quoted_text_cell_loads(store, tmp_path):
    header, rows = SAMPLES["feedback_records"]
    multi = list(rows[0])
    multi[6] = '排队等了一个多小时，\n窗口只开了两个，"很不满意"'
    for newline in ("\n", "\r\n"):
        s_path = tmp_path / f"fb{len(newline)}.csv"
        r = ingest_file(store, write_csv(s_path, [header, multi, *rows[1:]], "utf-8-sig", newline))
        assert r.status in ("loaded", "already_loaded"), r.issues
    got = store.cursor().execute("SELECT description FROM feedback_records WHERE feedback_id = 'TS202501030001'").fetchone()[0]
    assert "窗口只开了两个" in got and '"很不满意"' in got


def test_dry_run_previews_without_writing(tmp_path):
    """The data page's preview: detected source, mapping and the first typed rows — nothing written."""
    from data.ingest import ingest_file
    from data.store import Store

    store = Store(tmp_path / "p.duckdb")
    f = tmp_path / "t.csv"
    f.write_bytes(("网点编号,业务日期,票号,取号时间,叫号时间,状态\n"
                   "0101001,2025/1/3,A001,2025-01-03 09:00:00,2025-01-03 09:12:00,已办理\n"
                   "0101001,2025年1月3日,A002,2025-01-03 09:01:00,xx,已办理\n").encode("gbk"))
    before = store.data_version()
    res = ingest_file(store, f, dry_run=True)
    assert res.status == "preview" and res.source == "counter_tickets" and res.encoding == "GBK/GB18030"
    assert res.mapping["ticket_no"] == "票号"
    assert list(res.preview["ticket_no"]) == ["A001", "A002"]
    assert res.preview["wait_seconds"].iloc[0] == 720
    assert res.rows_rejected == 1 and (res.issues["code"] == "type").any()
    assert store.data_version() == before and store.is_empty()
    assert store.cursor().execute("SELECT count(*) FROM main.counter_tickets").fetchone()[0] == 0
