"""Orchestrates the demo: writes every export file plus story.json and returns paths in load order.

Load order: branches.xlsx, lpr.csv, npl_industry.csv, market_events.csv, counter_tickets_*.csv,
loan_snapshot_*.csv (+ the last month as .xlsx), feedback_records.xlsx.

Everything ends on `spec.as_of`: the last ticket day, the last loan snapshot (数据日期 = as_of in the
last month, month ends before it) and the last feedback record; story.json records the as-of date,
which calendar source decided the range's days (data/demo/calendar.py) and the last real date of
each market series (data/demo/market.py).
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from . import effects as fx
from . import feedback as fb
from . import loans as ln
from . import market as mk
from . import tickets as tk
from .branches import STORY_APPROVER, build_branches, outlets, staff
from .calendar import coverage, day_table
from .spec import DemoSpec
from .writers import created_at, new_workbook, write_csv, write_notes_sheet, write_sheet

BRANCH_HEADER = ["机构号", "机构名称", "机构层级", "上级机构号", "所属区域", "开放窗口数", "营业时长(分钟)"]


def _write_branches(spec: DemoSpec, br: pd.DataFrame, out: Path) -> Path:
    path = out / "branches.xlsx"
    wb = new_workbook(path, created_at(spec.as_of))
    write_sheet(wb, "机构信息", br[BRANCH_HEADER], title="某某银行营业网点机构表", blank_rows=1,
                text_cols=("机构号", "上级机构号"))
    wb.close()
    return path


def _write_market(spec: DemoSpec, out: Path) -> list[Path]:
    return [write_csv(mk.lpr_frame(spec), out / "lpr.csv", "utf-8"),
            write_csv(mk.npl_frame(spec), out / "npl_industry.csv", "gbk"),
            write_csv(mk.events_frame(spec), out / "market_events.csv", "utf-8-sig")]


def _write_tickets(spec: DemoSpec, outs: pd.DataFrame, out: Path) -> tuple[list[Path], pd.DataFrame, float | None]:
    days_all = day_table(spec.start, spec.as_of)
    origin = pd.Timestamp(spec.drift_origin)
    seqs = spec.seed_seq("tickets").spawn(len(spec.months))
    paths, stats, treated_days = [], [], []
    treated = fx.staffing_outlets(outs)
    for i, (y, m) in enumerate(spec.months):
        days = days_all[(days_all["date"].dt.year == y) & (days_all["date"].dt.month == m)].reset_index(drop=True)
        utf8 = i % 4 == 3  # every 4th month came from a machine that saves "CSV UTF-8" (BOM)
        staffing = fx.staffing_multiplier(spec, outs, days)
        mt = tk.generate_month(np.random.default_rng(seqs[i]), outs, days, gbk_style=not utf8, drift_origin=origin,
                               staffing=staffing)
        paths.append(write_csv(mt.frame, out / f"counter_tickets_{y:04d}-{m:02d}.csv", "utf-8-sig" if utf8 else "gbk"))
        s = mt.stats
        if staffing is not None:
            treated_days.append(s[s["outlet_idx"].isin(treated)])
        stats.append(pd.DataFrame({"outlet_idx": np.arange(len(outs)), "month": pd.Period(f"{y}-{m:02d}", "M"),
                                   "wait_sum": np.bincount(s["outlet_idx"], s["wait_sum"], len(outs)),
                                   "n_called": np.bincount(s["outlet_idx"], s["n_called"], len(outs))}))
    ws = pd.concat(stats, ignore_index=True)
    ws["mean_wait_s"] = ws["wait_sum"] / ws["n_called"].clip(lower=1)
    truth = fx.staffing_truth(spec, outs, pd.concat(treated_days, ignore_index=True)) if treated_days else None
    return paths, ws, truth


def _write_loans(spec: DemoSpec, outs: pd.DataFrame, st: dict, out: Path) -> tuple[list[Path], dict]:
    paths: list[Path] = []
    story_ids: set[str] = set()
    last = spec.months[-1]
    book = None
    for i, ((y, m), snap, book_) in enumerate(ln.simulate(spec, outs, st)):
        book = book_
        story_ids.update(snap.loc[snap["_story"], "借据号"].tolist())
        if (y, m) == last:
            path = out / f"loan_snapshot_{y:04d}-{m:02d}.xlsx"
            wb = new_workbook(path, created_at(spec.as_of))
            write_sheet(wb, "贷款台账", ln.xlsx_frame(snap), title=f"贷款台账（数据日期：{y}年{m}月{snap['数据日期'].iloc[0].day}日，金额单位：元）",
                        text_cols=("借据号", "合同号", "客户号", "内部机构号"),
                        date_cols=("数据日期", "发放日期", "到期日期", "审批日期"),
                        num_formats={"贷款金额": "#,##0.00", "贷款余额": "#,##0.00", "逾期本金": "#,##0.00"})
            wb.close()
        else:
            path = write_csv(ln.csv_frame(snap, chinese_dates=(i % 2 == 0)),
                             out / f"loan_snapshot_{y:04d}-{m:02d}.csv", "gbk")
        paths.append(path)
    story = {"approver": STORY_APPROVER, "branch_id": str(book.out_ids[book.story_outlet]),
             "branch_name": str(outs["机构名称"].iloc[book.story_outlet]), "quarter": spec.story_quarter,
             "metric": "credit.overdue_rate", "cause": "internal_approval",
             "affected_loan_ids_count": len(story_ids)}
    post = [f"{y:04d}-{m:02d}" for y, m in spec.months if book.fix_start is not None
            and np.datetime64(f"{y:04d}-{m:02d}-01") >= book.fix_start]
    story["_process"] = (book.fix_outlets, fx.process_truth(book.declined, book.fix_outlets, post) if post else None)
    return paths, story


def _write_feedback(spec: DemoSpec, outs: pd.DataFrame, ws: pd.DataFrame, out: Path) -> Path:
    df = fb.generate(spec.rng("feedback"), outs, ws, pd.Timestamp(spec.as_of))
    path = out / "feedback_records.xlsx"
    wb = new_workbook(path, created_at(spec.as_of))
    write_notes_sheet(wb, "说明", [
        "客户意见及投诉工单登记表（按年度分表）",
        "说明：1. 每个年度一个工作表；2. 投诉原因按 JR/T 0169-2018 投诉原因分类填写；",
        "3. 回访满意度仅对已办结工单填写；推荐意愿为0–10分，客户未回答的留空。",
        "4. 时间格式：YYYY-MM-DD HH:MM:SS。本文件为演示数据。",
    ])
    years = df["受理时间"].str[:4]
    for y in range(spec.start.year, spec.as_of.year + 1):
        write_sheet(wb, f"{y}年", df.loc[years == str(y), fb.HEADER].reset_index(drop=True))
    wb.close()
    return path


def generate(spec: DemoSpec, out_dir: str | Path) -> list[Path]:
    """Write all demo export files into `out_dir`; return their paths in load order (story.json excluded)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    br = build_branches(spec)
    outs = outlets(br)
    st = staff(spec, br)
    paths = [_write_branches(spec, br, out)]
    paths += _write_market(spec, out)
    ticket_paths, ws, staffing_true = _write_tickets(spec, outs, out)
    loan_paths, story = _write_loans(spec, outs, st, out)
    fb_path = _write_feedback(spec, outs, ws, out)
    fix_outlets, process_true = story.pop("_process")
    planted = fx.build(spec, outs, staffing_true=staffing_true, process_outlets=fix_outlets,
                       process_true=process_true, approver=STORY_APPROVER)
    if planted:  # the changes planted for effect evaluation (data/demo/effects.py), with their true effects
        story["effects"] = [e.to_json() for e in planted]
    story["as_of"] = spec.as_of.isoformat()
    story["calendar"] = coverage(spec.start, spec.as_of)  # days per source: official / package / weekday
    story["market_last_real"] = mk.last_real(spec)
    (out / "story.json").write_text(json.dumps(story, ensure_ascii=False, indent=2), encoding="utf-8")
    return paths + ticket_paths + loan_paths + [fb_path]
