"""Market files: LPR (wide), commercial-bank NPL ratio (long indicator table) and dated market events.

Real figures come from the bundled public reference CSVs, at their real dates, never moved: a demo
that ends on `as_of` holds the real quotations, ratios and events dated up to `as_of` (nothing after
its last day), and where the reference stops earlier (LPR after 2025-07-21, the NPL ratio after
2025Q4) the files stop there too — no figure is extrapolated or relabelled to a later date. The loan
generator prices loans disbursed after the last quotation at it (loans.lpr_table), which is an
assumption about the demo bank's own, generated rates, not a market figure. `last_real(spec)` gives
the last real date of each series for the note `bankpulse demo` prints.

A handful of competitor events are made up, placed at seeded days of the demo's range, and labelled
`演示数据` in 来源 so nobody mistakes them for facts.
"""
from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from .spec import DemoSpec

REF = Path(__file__).parent.parent / "reference"
LPR_HEADER = ["日期", "LPR_1Y利率(%)", "LPR_5Y利率(%)"]
NPL_HEADER = ["指标代码", "指标名称", "日期", "频率", "数值", "单位", "来源"]
EVENT_HEADER = ["编号", "事件日期", "类别", "标题", "内容", "影响领域", "来源"]

COMPETITOR_EVENTS = [
    ("某股份行下调消费贷利率至3%以下", "同业机构推出年化利率2.98%起的线上消费贷产品，限时优惠。", "credit_pricing"),
    ("某国有大行推出房贷“接力贷”并下调存量房贷利率", "同业机构对符合条件的存量首套房贷利率批量调整。", "credit_pricing"),
    ("某城商行上调三年期大额存单利率", "同业机构三年期大额存单挂牌利率上调10个基点，吸引存款分流。", "liquidity"),
    ("某股份行网点推行“零等候”预约取号服务", "同业机构在本地网点推广手机银行预约取号，宣传平均等候不超过10分钟。", "counter"),
    ("某农商行推出小微企业无还本续贷产品", "同业机构推出“随借随还”小微经营贷，审批时间缩短至1个工作日。", "credit_risk"),
]


def _upto(df: pd.DataFrame, col: str, as_of: date) -> pd.DataFrame:
    """The rows dated on or before `as_of` (ISO date strings compare as dates)."""
    return df[df[col] <= as_of.isoformat()].reset_index(drop=True)


def lpr_frame(spec: DemoSpec) -> pd.DataFrame:
    df = _upto(pd.read_csv(REF / "lpr_history_2019_2025.csv", dtype={"lpr_1y_pct": str, "lpr_5y_plus_pct": str}),
               "date", spec.as_of)
    return pd.DataFrame({"日期": df["date"], "LPR_1Y利率(%)": df["lpr_1y_pct"], "LPR_5Y利率(%)": df["lpr_5y_plus_pct"]})


def npl_frame(spec: DemoSpec) -> pd.DataFrame:
    df = pd.read_csv(REF / "cn_commercial_banks_npl_quarterly.csv", dtype=str)
    df = df[df["npl_ratio_status"] != "missing"]
    df = _upto(df[df["npl_ratio_pct"].notna() & (df["npl_ratio_pct"] != "")], "period_end", spec.as_of)
    return pd.DataFrame({"指标代码": "NPL_RATIO_CB", "指标名称": "商业银行不良贷款率", "日期": df["period_end"],
                         "频率": "Q", "数值": df["npl_ratio_pct"], "单位": "%",
                         "来源": "国家金融监督管理总局(原银保监会)季度监管指标"}).reset_index(drop=True)


def events_frame(spec: DemoSpec) -> pd.DataFrame:
    ref = _upto(pd.read_csv(REF / "market_events_reference.csv", dtype=str), "event_date", spec.as_of)
    rows = pd.DataFrame({"事件日期": ref["event_date"], "类别": ref["event_type"], "标题": ref["title_zh"],
                         "内容": ref["detail"], "影响领域": ref["impact_area"], "来源": ref["source"]})
    rng = spec.rng("market")
    k = int(rng.integers(3, 6))
    days = pd.date_range(spec.start, spec.as_of, freq="D")
    picks = np.sort(rng.choice(len(days), size=k, replace=False))
    comp = pd.DataFrame({"事件日期": days[picks].strftime("%Y-%m-%d"), "类别": "competitor",
                         "标题": [COMPETITOR_EVENTS[i][0] for i in range(k)],
                         "内容": [COMPETITOR_EVENTS[i][1] for i in range(k)],
                         "影响领域": [COMPETITOR_EVENTS[i][2] for i in range(k)], "来源": "演示数据"})
    out = pd.concat([rows, comp], ignore_index=True).sort_values("事件日期", kind="stable").reset_index(drop=True)
    out.insert(0, "编号", [f"EV{i + 1:03d}" for i in range(len(out))])
    return out


def last_real(spec: DemoSpec) -> dict[str, str | None]:
    """The last real date each market file of the demo holds (None: the file is empty)."""
    lpr, npl = lpr_frame(spec), npl_frame(spec)
    return {"lpr": lpr["日期"].iloc[-1] if len(lpr) else None, "npl_ratio": npl["日期"].iloc[-1] if len(npl) else None}
