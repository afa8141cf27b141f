"""Customer feedback work orders (客户意见/投诉工单), one row per record, vectorised.

Volume ~5–15 per outlet-month; the share of 等待时间过长 complaints follows the outlet's measured
waits from the ticket data, so queue problems show up in complaints too. Texts are assembled from
templates per hot topic using the DOMAIN §1.4 keyword seeds.
"""
from __future__ import annotations

import re

import numpy as np
import pandas as pd

HEADER = ["工单号", "受理渠道", "受理时间", "类型", "被投诉网点", "业务类别", "投诉原因", "投诉内容", "责任部门",
          "处理状态", "回复时间", "办结时间", "回访满意度", "推荐意愿"]
CHANNELS = np.array(["柜台意见簿", "客服热线", "网上留言", "手机银行", "12378转办", "来信来访"], dtype=object)
CHANNEL_P = np.array([0.24, 0.36, 0.1, 0.16, 0.1, 0.04])
KINDS = np.array(["投诉", "建议", "咨询", "表扬"], dtype=object)
KIND_P = np.array([0.6, 0.14, 0.18, 0.08])

# hot topic → (JR/T 0169 C cause, business lines, department, weight)
TOPICS = ["等待时间过长", "手续繁琐", "服务态度", "收费", "系统故障", "催收", "信息安全", "营销"]
TOPIC_CAUSE = np.array(["服务设施、设备、业务系统", "管理制度、业务规则与流程", "服务态度及服务质量", "定价收费",
                        "服务设施、设备、业务系统", "债务催收", "消费者信息安全", "营销方式"], dtype=object)
TOPIC_DEPT = np.array(["运营管理部", "运营管理部", "运营管理部", "个人金融部", "信息科技部", "风险管理部",
                       "消费者权益保护部", "个人金融部"], dtype=object)
TOPIC_W = np.array([0.0, 0.2, 0.16, 0.12, 0.12, 0.08, 0.06, 0.1])  # waits weight set per outlet-month
LINES = {0: ["人民币储蓄类"], 1: ["人民币储蓄类", "银行卡类", "贷款类", "支付结算类"], 2: ["人民币储蓄类", "银行卡类", "理财类"],
         3: ["银行卡类", "支付结算类"], 4: ["银行卡类", "支付结算类"], 5: ["贷款类", "银行卡类"], 6: ["个人金融信息类"],
         7: ["理财类", "贷款类"]}
STATUS = np.array(["已受理", "处理中", "已办结", "撤诉"], dtype=object)
SATIS = np.array(["满意", "基本满意", "不满意"], dtype=object)

SLOTS = {
    "day": ["周一", "周五", "上周一", "月中", "节后第一天", "周六", "前天", "昨天", "今天"],
    "period": ["上午", "下午", "中午", "一早"],
    "dur": ["一个多小时", "四十多分钟", "将近两个小时", "半个多小时", "五十分钟", "一个半小时"],
    "nwin": ["两个", "一个", "三个"],
    "people": ["二十多个人", "三十多号人", "前面还有四十多号", "十几个人"],
    "biz": ["办理存款", "开卡", "挂失补卡", "转账汇款", "理财赎回", "密码重置", "对公开户", "社保卡激活", "销户"],
    "doc": ["户口本", "收入证明", "营业执照原件", "结婚证", "公司章程", "居住证明"],
    "trips": ["三趟", "两趟", "四趟"],
    "fee": ["年费", "短信通知费", "小额账户管理费", "跨行转账手续费", "工本费"],
    "amt": ["10元", "30元", "50元", "120元", "200元"],
    "app": ["手机银行", "网银", "ATM", "自助柜员机", "智能柜台"],
    "err": ["闪退", "无法登录", "提示系统繁忙", "宕机", "转账失败但扣了款"],
    "time": ["晚上十点", "半夜", "上班时间", "一天三次"],
    "prod": ["理财产品", "基金", "保险", "信用卡分期", "贵金属"],
}
T = {  # hot topic → templates (lists of literal text / {slot})
    0: [["{day}", "{period}在", "{branch}", "排队等了", "{dur}", "，只开了", "{nwin}", "窗口，叫号特别慢，希望增加窗口。"],
        ["在", "{branch}", "{biz}", "，取号后等候", "{dur}", "才叫到号，", "{people}", "在等，人太多了。"],
        ["{branch}", "窗口少，", "{day}", "去", "{biz}", "等了", "{dur}", "，大堂也没人引导分流。"],
        ["{day}", "{period}到", "{branch}", "，", "{people}", "排队，等候", "{dur}", "还没轮到，只好先走了，过号还得重新取号。"]],
    1: [["在", "{branch}", "{biz}", "要求提供", "{doc}", "，前后跑了几趟", "（", "{trips}", "），手续太繁琐。"],
        ["{biz}", "流程复杂，材料反复补交，", "{branch}", "每次说法不一样，要求简化手续。"],
        ["为了", "{biz}", "在", "{branch}", "跑了", "{trips}", "，每次都说缺", "{doc}", "等证明材料。"]],
    2: [["{branch}", "柜员态度冷淡，", "{biz}", "时问了两句就不耐烦。"],
        ["在", "{branch}", "咨询", "{biz}", "，工作人员互相推诿，没人愿意处理。"],
        ["{day}", "在", "{branch}", "{biz}", "，柜员服务态度差，说话很冲。"]],
    3: [["未经告知被扣收", "{fee}", "{amt}", "，要求退还并说明收费依据。"],
        ["{branch}", "办理", "{biz}", "时收取", "{fee}", "，收费标准没有提前告知。"],
        ["卡里每年扣", "{fee}", "，之前办卡时并未说明年费，要求取消。"]],
    4: [["{app}", "{err}", "，", "{biz}", "办不了，打客服也说系统故障。"],
        ["{day}", "用", "{app}", "转账，", "{err}", "，到", "{branch}", "也说系统升级无法处理。"],
        ["{branch}", "的", "{app}", "经常", "{err}", "，耽误了", "{biz}", "。"]],
    5: [["贷款逾期几天就被", "{time}", "电话催收，还打给家人和同事，属于骚扰。"],
        ["信用卡催收人员", "{time}", "打电话，言语威胁，要求规范催收行为。"],
        ["已经和", "{branch}", "协商还款计划，仍然频繁收到催收短信和电话骚扰。"]],
    6: [["怀疑个人信息泄露，在", "{branch}", "办完", "{biz}", "后就接到大量推销电话。"],
        ["收到陌生人发来的本人账户信息，担心个人信息被泄露，要求调查。"],
        ["{branch}", "把客户资料随意放在柜台上，个人信息安全没有保障。"]],
    7: [["在", "{branch}", "{biz}", "时被推销", "{prod}", "，存在误导销售，没讲清风险。"],
        ["办理贷款被要求捆绑购买", "{prod}", "，属于搭售，要求退还。"],
        ["{branch}", "客户经理以", "保本高收益", "为由推荐", "{prod}", "，实际亏损，涉嫌误导。"]],
}
OTHER_T = {
    "建议": [["建议", "{branch}", "在", "{day}", "{period}", "高峰期多开", "{nwin}", "窗口。"],
             ["建议", "{app}", "增加", "{biz}", "功能，减少到网点排队。"],
             ["建议简化", "{biz}", "所需材料，不要每次都要求", "{doc}", "。"]],
    "咨询": [["咨询", "{biz}", "需要带哪些材料。"], ["咨询", "{prod}", "的起购金额和赎回规则。"],
             ["咨询", "{branch}", "周末是否营业、几点开门。"], ["咨询", "{fee}", "的收费标准。"]],
    "表扬": [["表扬", "{branch}", "柜员耐心细致，帮我很快办好了", "{biz}", "。"],
             ["{branch}", "大堂经理主动引导，", "{biz}", "没怎么排队，服务很好。"]],
}


def _tokens(parts: list[str]) -> list[str]:
    """Split template parts into literal text and `{slot}` tokens."""
    out: list[str] = []
    for part in parts:
        out += [t for t in re.split(r"(\{\w+\})", part) if t]
    return out


def _fill(templates: list[list[str]], sel: np.ndarray, slots: dict[str, np.ndarray], rng: np.random.Generator) -> np.ndarray:
    """Vectorised template filling for the rows `sel`: one loop per template, not per row."""
    out = np.empty(len(sel), dtype=object)
    pick = rng.integers(0, len(templates), len(sel))
    for k, parts in enumerate(templates):
        rows = np.flatnonzero(pick == k)
        if not len(rows):
            continue
        acc = np.full(len(rows), "", dtype=object)
        for tok in _tokens(parts):
            acc = acc + (slots[tok[1:-1]][sel[rows]] if tok.startswith("{") else tok)
        out[rows] = acc
    return out


def _ts(sec: np.ndarray) -> np.ndarray:
    """datetime64[s] → 'YYYY-MM-DD HH:MM:SS' strings."""
    return pd.DatetimeIndex(sec).strftime("%Y-%m-%d %H:%M:%S").to_numpy(dtype=object)


def generate(rng: np.random.Generator, outlets: pd.DataFrame, wait_stats: pd.DataFrame, end: pd.Timestamp) -> pd.DataFrame:
    """All feedback records up to `end` (the demo's last day). `wait_stats`: outlet_idx, month (Period),
    mean_wait_s (per outlet-month). A month cut short by `end` gets its share of the month's records,
    spread over its days up to `end` (whole months: exactly the same draws whatever the last day)."""
    ws = wait_stats.copy()
    overall = ws["mean_wait_s"].mean()
    ws["ratio"] = ws["mean_wait_s"] / overall
    full = ws["month"].dt.days_in_month.to_numpy()
    upto = ((pd.Timestamp(end).normalize() - ws["month"].dt.start_time).dt.days + 1).to_numpy()
    avail = np.clip(upto, 1, full)  # the days of the month with data
    lam = (4.0 + 6.0 * ws["ratio"].clip(0.3, 3.0) ** 1.3) * (avail / full)
    cnt = rng.poisson(lam.to_numpy())
    n = int(cnt.sum())
    rep = np.repeat(np.arange(len(ws)), cnt)
    o = ws["outlet_idx"].to_numpy()[rep]
    ratio = ws["ratio"].to_numpy()[rep]
    month_start = ws["month"].dt.start_time.to_numpy()[rep]
    dim = avail[rep]
    day = (rng.random(n) * dim).astype(int)
    sec = rng.integers(8 * 3600 + 1800, 20 * 3600, n)
    received = month_start + (day * 86400 + sec).astype("timedelta64[s]")
    end_ts = np.datetime64(pd.Timestamp(end) + pd.Timedelta(hours=23, minutes=59, seconds=59))
    received = np.minimum(received.astype("datetime64[s]"), end_ts - np.timedelta64(3600, "s"))

    kind = rng.choice(4, size=n, p=KIND_P)
    w = np.tile(TOPIC_W, (n, 1))
    w[:, 0] = 0.22 * ratio**1.6
    w /= w.sum(axis=1, keepdims=True)
    topic = (rng.random(n)[:, None] > np.cumsum(w, axis=1)).sum(axis=1).clip(0, len(TOPICS) - 1)
    chan = rng.choice(len(CHANNELS), size=n, p=CHANNEL_P)
    chan = np.where((topic == 0) & (rng.random(n) < 0.45), 0, chan)  # wait complaints often in the counter book

    names = outlets["机构名称"].to_numpy(dtype=object)
    slots = {k: np.array(v, dtype=object)[rng.integers(0, len(v), n)] for k, v in SLOTS.items()}
    slots["branch"] = names[o]
    text = np.empty(n, dtype=object)
    for t, templates in T.items():
        sel = np.flatnonzero((kind == 0) & (topic == t))
        text[sel] = _fill(templates, sel, slots, rng)
    for ki, key in ((1, "建议"), (2, "咨询"), (3, "表扬")):
        sel = np.flatnonzero(kind == ki)
        text[sel] = _fill(OTHER_T[key], sel, slots, rng)

    line = np.empty(n, dtype=object)
    for t, opts in LINES.items():
        sel = topic == t
        line[sel] = np.array(opts, dtype=object)[rng.integers(0, len(opts), int(sel.sum()))]
    cause = np.where(kind <= 1, TOPIC_CAUSE[topic], "")
    cause = np.where((kind == 0) & (topic == 0) & (rng.random(n) < 0.3), "服务态度及服务质量", cause)
    dept = np.where(kind == 3, "运营管理部", TOPIC_DEPT[topic])

    # handling: most within 15 days, some up to 30, a few late; recent ones still open
    r = rng.random(n)
    days = np.select([r < 0.72, r < 0.94], [rng.uniform(0.5, 15, n), rng.uniform(15, 30, n)], rng.uniform(30, 60, n))
    days = np.where(kind >= 2, rng.uniform(0.1, 3, n), days)
    closed = received + (days * 86400).astype("timedelta64[s]")
    reply = received + (rng.uniform(0.05, 2.0, n) * 86400).astype("timedelta64[s]")
    withdrawn = (kind == 0) & (rng.random(n) < 0.02)
    is_closed = closed <= end_ts
    status = np.where(is_closed, np.where(withdrawn, 3, 2), np.where(reply <= end_ts, 1, 0))
    p_bad = 0.08 + 0.12 * (days > 15) + 0.1 * (topic == 0) * (kind == 0)
    p_bad = np.where(kind == 3, 0.0, p_bad)
    u = rng.random(n)
    sat = np.where(u < p_bad, 2, np.where(u < p_bad + 0.22, 1, 0))
    nps = np.select([sat == 0, sat == 1], [rng.integers(7, 11, n), rng.integers(5, 9, n)], rng.integers(0, 6, n))
    has_sat = status == 2
    nps_blank = ~has_sat | (rng.random(n) < 0.3)

    received_s = _ts(received)
    ymd = pd.DatetimeIndex(received).strftime("%Y%m%d").to_numpy(dtype=object)
    order = np.lexsort((received.astype(np.int64),))
    df = pd.DataFrame({
        "工单号": "", "受理渠道": CHANNELS[chan], "受理时间": received_s, "类型": KINDS[kind], "被投诉网点": names[o],
        "业务类别": line, "投诉原因": cause, "投诉内容": text, "责任部门": dept, "处理状态": STATUS[status],
        "回复时间": np.where(status >= 1, _ts(reply), ""), "办结时间": np.where(status >= 2, _ts(closed), ""),
        "回访满意度": np.where(has_sat & (~withdrawn), SATIS[sat], ""),
        "推荐意愿": pd.array(np.where(nps_blank, 0, nps), dtype="Int64"),
        "_ymd": ymd, "_topic": np.array(TOPICS, dtype=object)[topic], "_outlet": o,
    }).iloc[order].reset_index(drop=True)
    df.loc[nps_blank[order], "推荐意愿"] = pd.NA
    seq = df.groupby("_ymd").cumcount().to_numpy() + 1
    df["工单号"] = "KF" + df["_ymd"] + pd.Series(seq).map("{:04d}".format)
    return df
