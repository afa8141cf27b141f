"""One sentence per anomaly, in Chinese and English, from its numbers (no free text)."""

from __future__ import annotations

from datetime import date

from metrics.format import fmt_value
from metrics.model import Grain, Metric, Unit
from metrics.periods import label

KIND_LABELS = {
    "spike": ("突变", "a spike"),
    "level_shift": ("水平跃迁", "a level shift"),
    "drift": ("持续漂移", "a drift"),
    "variance": ("波动加剧", "a variance change"),
    "rate_jump": ("比率跳升", "a rate jump"),
}
SUSTAINED = ("level_shift", "drift", "variance")
CAUSE_LABELS = {
    "internal_approval": ("内部审批", "internal approval"),
    "customer_segment": ("客户结构", "customer segment"),
    "market": ("市场因素", "the market"),
    "unknown": ("原因待查", "cause unclear"),
}


def _gap(metric: Metric, observed: float, expected: float, lang: str) -> str:
    """How far from the expectation: '0.80个百分点' / '0.80 pp' for rates, '25.3%' otherwise."""
    d = observed - expected
    if metric.unit is Unit.RATE:
        return f"{abs(d) * 100:.2f}个百分点" if lang == "zh" else f"{abs(d) * 100:.2f} pp"
    if metric.unit is Unit.PERCENT:
        return f"{abs(d) * 100:.0f}个基点" if lang == "zh" else f"{abs(d) * 100:.0f} bp"
    if metric.unit is Unit.SCORE:
        return f"{abs(d):.1f}分" if lang == "zh" else f"{abs(d):.1f} points"
    if not expected:
        return ""
    return f"{abs(d) / abs(expected) * 100:.1f}%"


def sentence(metric: Metric, grain: Grain, period: date, scope_label: str, observed: float, expected: float,
             lower: float, upper: float, kind: str, lang: str) -> str:
    """'2025年9月全行逾期贷款率为3.20%，高于预期2.40%（正常范围2.10%–2.70%），上升0.80个百分点；类型：水平跃迁。'"""
    when = label(period, grain, lang)
    obs, exp = fmt_value(metric, observed, lang), fmt_value(metric, expected, lang)
    lo, hi = fmt_value(metric, lower, lang), fmt_value(metric, upper, lang)
    above = observed >= expected
    gap = _gap(metric, observed, expected, lang)
    k_zh, k_en = KIND_LABELS.get(kind, (kind, kind))
    if kind in SUSTAINED:  # a sustained change: single days may stay inside the daily range
        if lang == "zh":
            return (f"自{when}起，{scope_label}{metric.name_zh}持续{'高于' if above else '低于'}预期"
                    f"（当期{obs}，预期{exp}）；类型：{k_zh}。")
        return (f"{metric.name_en} for {scope_label} has been {'above' if above else 'below'} expectations since "
                f"{when} ({obs} then, expected {exp}); detected as {k_en}.")
    if lang == "zh":
        rel = "高于" if above else "低于"
        return (f"{when}{scope_label}{metric.name_zh}为{obs}，{rel}预期{exp}（正常范围{lo}–{hi}）"
                + (f"，{'偏高' if above else '偏低'}{gap}" if gap else "") + f"；类型：{k_zh}。")
    rel = "above" if above else "below"
    diff_en = f", {gap} {'higher' if above else 'lower'}" if gap else ""
    return (f"{metric.name_en} for {scope_label} in {when} was {obs}, {rel} the expected {exp} "
            f"(normal range {lo}–{hi}){diff_en}; detected as {k_en}.")
