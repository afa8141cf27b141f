"""Tests of the demo generator on real files (small spec: 3 outlets, 1 year)."""
from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
from helpers_demo import AS_OF

from data.demo import DemoSpec, generate
from data.demo.calendar import day_table
from data.demo.loans import HEADER as LOAN_HEADER
from data.demo.loans import risk_class
from data.demo.tickets import HEADER as TICKET_HEADER

SMALL = DemoSpec(seed=1, branches=3, years=1, as_of=AS_OF)
NPL_CLASSES = {"次级", "可疑", "损失"}
CLASS_IDX = {"正常": 0, "关注": 1, "次级": 2, "可疑": 3, "损失": 4}


@pytest.fixture(scope="module")
def out(tmp_path_factory) -> tuple[Path, list[Path], float]:
    d = tmp_path_factory.mktemp("demo")
    t0 = time.perf_counter()
    paths = generate(SMALL, d)
    return d, paths, time.perf_counter() - t0


def _loans_csv(d: Path) -> pd.DataFrame:
    frames = [pd.read_csv(p, encoding="gbk", dtype=str) for p in sorted(d.glob("loan_snapshot_*.csv"))]
    df = pd.concat(frames, ignore_index=True)
    df["month"] = df["数据日期"].str.replace(r"\D", "", regex=True).str[:6]
    for c in ("贷款余额(万元)", "逾期天数"):
        df[c] = pd.to_numeric(df[c])
    return df


def test_files_exist_and_order(out):
    d, paths, secs = out
    names = [p.name for p in paths]
    assert names[0] == "branches.xlsx"
    assert names[1:4] == ["lpr.csv", "npl_industry.csv", "market_events.csv"]
    assert names[4:16] == [f"counter_tickets_2025-{m:02d}.csv" for m in range(1, 13)]
    assert names[16:27] == [f"loan_snapshot_2025-{m:02d}.csv" for m in range(1, 12)]
    assert names[27:] == ["loan_snapshot_2025-12.xlsx", "feedback_records.xlsx"]
    assert all(p.exists() and p.stat().st_size > 0 for p in paths)
    assert (d / "story.json").exists()
    assert secs < 10  # target < 3 s; generous for slow CI


def test_ticket_encodings_and_header(out):
    d, _, _ = out
    for m in range(1, 13):
        raw = (d / f"counter_tickets_2025-{m:02d}.csv").read_bytes()
        if m % 4 == 0:  # every 4th month is UTF-8 with BOM
            assert raw.startswith(b"\xef\xbb\xbf")
            text = raw.decode("utf-8-sig")
            assert f"2025-{m:02d}-" in text.splitlines()[1].split(",")[2]
        else:
            assert not raw.startswith(b"\xef\xbb\xbf")
            with pytest.raises(UnicodeDecodeError):
                raw.decode("utf-8")
            text = raw.decode("gbk")
            assert "/" in text.splitlines()[1].split(",")[2]
        assert text.splitlines()[0].split(",") == TICKET_HEADER


def test_ticket_consistency(out):
    d, _, _ = out
    df = pd.read_csv(d / "counter_tickets_2025-03.csv", encoding="gbk", dtype={"网点编号": str})
    t0, t1 = pd.to_datetime(df["取号时间"]), pd.to_datetime(df["叫号时间"])
    assert ((t1 - t0).dt.total_seconds().astype(int) == df["等待时长(秒)"]).all()
    assert not df.duplicated(["网点编号", "业务日期", "票号"]).any()
    assert df["网点编号"].str.fullmatch(r"\d{7}").all()
    share = df["状态"].value_counts(normalize=True)
    assert 0.88 < share["已办理"] < 0.97
    ab = df[df["状态"] == "过号"]
    assert ab["开始办理时间"].isna().all() and ab["叫号时间"].notna().all()
    served = df[df["状态"] == "已办理"]
    wait_min = served["等待时长(秒)"] / 60
    assert 4 < wait_min.median() < 16
    assert (pd.to_datetime(served["完成时间"]) >= pd.to_datetime(served["开始办理时间"])).all()


def test_branch_xlsx_layout(out):
    d, _, _ = out
    ws = openpyxl.load_workbook(d / "branches.xlsx")["机构信息"]
    assert ws.cell(1, 1).value == "某某银行营业网点机构表"
    assert all(c.value is None for c in ws[2])
    assert [c.value for c in ws[3]] == ["机构号", "机构名称", "机构层级", "上级机构号", "所属区域", "开放窗口数", "营业时长(分钟)"]
    ids = [ws.cell(r, 1) for r in range(4, ws.max_row + 1)]
    assert ids[0].value == "BR000"
    assert all(c.data_type == "s" for c in ids)
    levels = [ws.cell(r, 3).value for r in range(4, ws.max_row + 1)]
    assert levels.count("网点") == SMALL.branches and levels.count("分行") == 1
    assert "0101001" in [c.value for c in ids]


def test_loan_ids_are_18_digit_strings(out):
    d, _, _ = out
    raw = pd.read_csv(d / "loan_snapshot_2025-01.csv", encoding="gbk", dtype=str)
    assert raw.columns.tolist() == LOAN_HEADER
    assert raw["借据号"].str.fullmatch(r"\d{18}").all()
    assert raw["借据号"].is_unique
    assert raw["数据日期"].iloc[0] == "2025年1月31日"
    feb = pd.read_csv(d / "loan_snapshot_2025-02.csv", encoding="gbk", dtype=str)
    assert feb["数据日期"].iloc[0] == "20250228"
    wb = openpyxl.load_workbook(d / "loan_snapshot_2025-12.xlsx", read_only=True)
    ws = wb["贷款台账"]
    rows = ws.iter_rows(min_row=1, max_row=50)
    title = next(rows)
    assert "贷款台账" in str(title[0].value)
    header = [c.value for c in next(rows)]
    assert header[:2] == ["数据日期", "借据号"] and "贷款余额" in header and "贷款余额(万元)" not in header
    for r in rows:
        assert r[1].data_type == "s" and len(r[1].value) == 18 and r[1].value.isdigit()
    wb.close()


def test_five_class_mostly_consistent(out):
    d, _, _ = out
    df = _loans_csv(d)
    rule = risk_class(df["逾期天数"].to_numpy())
    got = df["五级分类"].map(CLASS_IDX).to_numpy()
    # allowed: current loans on the watch list (正常 → 关注); violations: class better than the rule
    violation = got < rule
    assert 0 < violation.mean() < 0.01
    watch = (rule == 0) & (got == 1)
    assert 0.005 < watch.sum() / (rule == 0).sum() < 0.04
    assert ((got > rule) & (rule > 0)).sum() == 0


def test_credit_levels_plausible(out):
    d, _, _ = out
    df = _loans_csv(d)
    g = df.groupby("month")
    bal = g["贷款余额(万元)"].sum()
    od = df[df["逾期天数"] > 0].groupby("month")["贷款余额(万元)"].sum() / bal
    npl = df[df["五级分类"].isin(NPL_CLASSES)].groupby("month")["贷款余额(万元)"].sum() / bal
    assert 1500 < g.size().mean() < 3000  # ~20,000 × 3/30
    assert 0.005 < od.mean() < 0.06
    assert 0.003 < npl.mean() < 0.04


def test_determinism(tmp_path, out):
    d, _, _ = out
    a = generate(SMALL, tmp_path / "a")
    b = generate(DemoSpec(seed=2, branches=3, years=1, as_of=AS_OF), tmp_path / "b")
    for name in ("counter_tickets_2025-02.csv", "loan_snapshot_2025-06.csv", "counter_tickets_2025-04.csv"):
        assert (tmp_path / "a" / name).read_bytes() == (d / name).read_bytes()
        assert (tmp_path / "b" / name).read_bytes() != (d / name).read_bytes()
    assert [p.name for p in a] == [p.name for p in b]
    assert (tmp_path / "a" / "feedback_records.xlsx").read_bytes() == (d / "feedback_records.xlsx").read_bytes()


def test_holiday_effect(out):
    d, _, _ = out
    frames = []
    for p in sorted(d.glob("counter_tickets_*.csv")):
        raw = p.read_bytes()
        enc = "utf-8-sig" if raw.startswith(b"\xef\xbb\xbf") else "gbk"
        frames.append(pd.read_csv(p, encoding=enc, usecols=["网点编号", "取号时间", "状态"], dtype=str))
    t = pd.concat(frames)
    t["date"] = pd.to_datetime(t["取号时间"]).dt.normalize()
    served = t[t["状态"] == "已办理"].groupby("date").size()
    cal = day_table(SMALL.start, SMALL.as_of).set_index("date")
    per_day = served.reindex(cal.index, fill_value=0)
    work = per_day[cal["day_type"] == "workday"].mean()
    hol = per_day[cal["day_type"] == "holiday_off"].mean()
    weekend = per_day[cal["day_type"] == "weekend"].mean()
    adjusted = per_day[cal["day_type"] == "adjusted_workday"].mean()
    assert hol < 0.5 * work
    assert weekend < 0.6 * work
    assert adjusted > 0.7 * work
    wd = per_day[cal["day_type"] == "workday"].groupby(per_day[cal["day_type"] == "workday"].index.day_of_week).mean()
    assert wd.idxmax() == 0  # Monday busiest


def test_story(out):
    d, _, _ = out
    story = json.loads((d / "story.json").read_text(encoding="utf-8"))
    assert story["approver"] == "王磊" and story["quarter"] == "2025Q1"
    assert story["metric"] == "credit.overdue_rate" and story["cause"] == "internal_approval"
    assert story["branch_id"] == "0101001" and story["affected_loan_ids_count"] > 20
    df = _loans_csv(d)
    appr = pd.to_datetime(df["审批日期"].str.replace("年", "-").str.replace("月", "-").str.replace("日", ""), format="mixed")
    cohort = (df["审批人"] == story["approver"]) & (df["内部机构号"] == story["branch_id"]) & (
        appr.dt.to_period("Q") == pd.Period(story["quarter"]))
    assert df.loc[cohort, "借据号"].nunique() == story["affected_loan_ids_count"]
    late = df["month"] >= "202507"
    od = df["逾期天数"] > 0
    bal = df["贷款余额(万元)"]
    same = df["贷款品种"].isin(df.loc[cohort, "贷款品种"].unique())
    # the planted quantity: monthly roll rate current → overdue (from month 5 on), ~8x the same products elsewhere
    df["cohort"] = cohort
    nxt = df[["借据号", "month", "逾期天数"]].copy()
    ym = nxt["month"].astype(int)
    prev = np.where(ym % 100 == 1, ym - 89, ym - 1)  # 202502 → 202501, 202501 → 202412
    nxt["month"] = pd.Series(prev, index=nxt.index).astype(str)
    j = df[(df["逾期天数"] == 0) & (df["month"] >= "202505")].merge(
        nxt.rename(columns={"逾期天数": "dpd_next"}), on=["借据号", "month"])
    j["roll"] = j["dpd_next"] > 0
    j_same = j["贷款品种"].isin(df.loc[cohort, "贷款品种"].unique())
    roll_cohort, roll_other = j.loc[j["cohort"], "roll"].mean(), j.loc[~j["cohort"] & j_same, "roll"].mean()
    assert roll_cohort > 4 * roll_other
    # stock of overdue loans: count basis (same products) and balance basis (whole book)
    assert od[late & cohort].mean() > 2 * od[late & ~cohort & same].mean()
    rate_cohort = bal[late & cohort & od].sum() / bal[late & cohort].sum()
    rate_other = bal[late & ~cohort & od].sum() / bal[late & ~cohort].sum()
    assert rate_cohort > 1.5 * rate_other
    assert rate_cohort > 0.05


def test_feedback_workbook(out):
    d, _, _ = out
    wb = openpyxl.load_workbook(d / "feedback_records.xlsx", read_only=True)
    assert wb.sheetnames == ["说明", "2025年"]
    ws = wb["2025年"]
    rows = list(ws.values)
    wb.close()
    header = list(rows[0])
    assert header == ["工单号", "受理渠道", "受理时间", "类型", "被投诉网点", "业务类别", "投诉原因", "投诉内容", "责任部门",
                      "处理状态", "回复时间", "办结时间", "回访满意度", "推荐意愿"]
    df = pd.DataFrame(rows[1:], columns=header)
    n_per_outlet_month = len(df) / (SMALL.branches * 12)
    assert 4 < n_per_outlet_month < 20
    assert df["工单号"].is_unique
    assert set(df["类型"]) == {"投诉", "建议", "咨询", "表扬"}
    assert 0.5 < (df["类型"] == "投诉").mean() < 0.7
    assert set(df["处理状态"]) <= {"已受理", "处理中", "已办结", "撤诉"}
    closed = df["处理状态"] == "已办结"
    assert df.loc[~closed, "回访满意度"].isna().all()
    assert df.loc[closed, "回访满意度"].notna().mean() > 0.9
    assert df["投诉内容"].str.len().min() > 8
    assert df.loc[df["类型"] == "投诉", "投诉内容"].str.contains("排队|等了|等候|叫号|窗口少|人太多").mean() > 0.05
    nps = pd.to_numeric(df["推荐意愿"], errors="coerce")
    assert nps.dropna().between(0, 10).all() and nps.isna().any()


def test_market_files(out):
    d, _, _ = out
    lpr = pd.read_csv(d / "lpr.csv", encoding="utf-8")
    assert lpr.columns.tolist() == ["日期", "LPR_1Y利率(%)", "LPR_5Y利率(%)"] and len(lpr) == 72
    raw = (d / "npl_industry.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    npl = pd.read_csv(d / "npl_industry.csv", encoding="gbk")
    assert npl.columns.tolist() == ["指标代码", "指标名称", "日期", "频率", "数值", "单位", "来源"]
    assert (npl["指标代码"] == "NPL_RATIO_CB").all() and npl["数值"].notna().all() and len(npl) == 31
    ev_raw = (d / "market_events.csv").read_bytes()
    assert ev_raw.startswith(b"\xef\xbb\xbf")
    ev = pd.read_csv(d / "market_events.csv", encoding="utf-8-sig")
    assert ev.columns.tolist() == ["编号", "事件日期", "类别", "标题", "内容", "影响领域", "来源"]
    comp = ev[ev["类别"] == "competitor"]
    assert 3 <= len(comp) <= 5 and (comp["来源"] == "演示数据").all()
    assert comp["事件日期"].between(str(SMALL.start), str(SMALL.as_of)).all()
    assert ev["编号"].iloc[0] == "EV001" and ev["编号"].is_unique
