"""Numbers the way a Chinese bank writes them — and the English equivalents.

Amounts: 万元 / 亿元 (English: CNY 10k / CNY 100m); rates: % with changes in 个百分点
(percentage points), never "percent of a percent"; LPR-style percent levels: changes in 基点.
"""

from __future__ import annotations

import math

from metrics.model import Metric, Unit


def _num(v: float, decimals: int) -> str:
    return f"{v:,.{decimals}f}"


def _missing(x) -> bool:
    try:
        return x is None or math.isnan(float(x))
    except (TypeError, ValueError):
        return True


def fmt_amount(yuan, lang: str = "zh", digits: int = 2) -> str:
    """An amount in yuan: "1.23亿元" / "4,567.80万元" / "980元" (zh); "CNY 123.40m" (en)."""
    if _missing(yuan):
        return "—"
    v = float(yuan)
    sign = "-" if v < 0 else ""
    a = abs(v)
    if lang == "zh":
        if a >= 1e8:
            return f"{sign}{a / 1e8:,.{digits}f}亿元"
        if a >= 1e4:
            return f"{sign}{a / 1e4:,.{digits}f}万元"
        return f"{sign}{a:,.{digits}f}元"  # below 1万: yuan with fen, as ledgers print them
    if a >= 1e9:
        return f"{sign}CNY {a / 1e9:,.{digits}f}bn"
    if a >= 1e6:
        return f"{sign}CNY {a / 1e6:,.{digits}f}m"
    if a >= 1e3:
        return f"{sign}CNY {a / 1e3:,.{digits}f}k"
    return f"{sign}CNY {a:,.{digits}f}"


def fmt_count(n, lang: str = "zh") -> str:
    """A count with thousands separators ("12,345"); "—" when missing."""
    if _missing(n):
        return "—"
    return f"{int(round(float(n))):,}"


def fmt_pct(fraction, digits: int = 2) -> str:
    """A fraction as a percentage: 0.032 -> "3.20%"."""
    if _missing(fraction):
        return "—"
    return f"{float(fraction) * 100:.{digits}f}%"


def fmt_pp(delta_fraction, lang: str = "zh", digits: int = 2) -> str:
    """A change of a rate, in percentage points: 0.008 -> "上升0.80个百分点" / "+0.80 pp"."""
    if _missing(delta_fraction):
        return "—"
    pp = float(delta_fraction) * 100
    if round(pp, digits) == 0:
        return "持平" if lang == "zh" else f"{0:.{digits}f} pp"
    if lang == "zh":
        return f"{'上升' if pp > 0 else '下降'}{abs(pp):.{digits}f}个百分点"
    return f"{pp:+.{digits}f} pp"


def fmt_value(metric: Metric, v: float | None, lang: str = "zh") -> str:
    """A KPI value with its unit."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "—"
    d = metric.decimals
    zh = lang == "zh"
    match metric.unit:
        case Unit.COUNT:
            # 笔 for transactions and loans (业务办理笔数, 贷款发放笔数), 件 for complaints and cases
            suffix = ("件" if metric.category.value == "feedback" else "笔") if zh else ""
            return f"{_num(v, 0)}{suffix}"
        case Unit.MINUTES:
            return f"{_num(v, d)}{'分钟' if zh else ' min'}"
        case Unit.DAYS:
            return f"{_num(v, d)}{'天' if zh else ' days'}"
        case Unit.YUAN:
            return fmt_amount(v, lang)
        case Unit.RATE:
            return f"{_num(v * 100, d)}%"
        case Unit.PERCENT:
            return f"{_num(v, d)}%"
        case Unit.SCORE:
            return f"{_num(v, d)}{'分' if zh else ''}"
        case Unit.PER_10K:
            return f"{_num(v, d)}{'件/万笔' if zh else ' per 10k'}"


def fmt_change(metric: Metric, delta: float | None, lang: str = "zh", *, verb: bool = True) -> str:
    """环比/同比 change: rates in 个百分点, percent levels in 基点, others in %."""
    if delta is None or (isinstance(delta, float) and math.isnan(delta)):
        return "—"
    zh = lang == "zh"
    # a change that rounds to zero at the shown precision reads as flat, never as "+0.00个百分点"
    shown = {Unit.RATE: round(abs(delta) * 100, 2), Unit.PERCENT: round(abs(delta) * 100),
             Unit.SCORE: round(abs(delta), 1)}.get(metric.unit, round(abs(delta) * 100, 1))
    if shown == 0:
        return "持平" if zh else "unchanged"
    up = delta > 0
    if metric.unit is Unit.RATE:
        mag = f"{abs(delta) * 100:,.2f}"
        return (f"{'上升' if up else '下降'}{mag}个百分点" if verb else f"{'+' if up else '−'}{mag}个百分点") if zh \
            else f"{'+' if up else '−'}{mag} pp"
    if metric.unit is Unit.PERCENT:
        bp = f"{abs(delta) * 100:,.0f}"
        return (f"{'上升' if up else '下降'}{bp}个基点" if zh else f"{'+' if up else '−'}{bp} bp")
    if metric.unit is Unit.SCORE:
        mag = f"{abs(delta):,.1f}"
        return (f"{'上升' if up else '下降'}{mag}分" if zh else f"{'+' if up else '−'}{mag} points")
    mag = f"{abs(delta) * 100:,.1f}%"
    return (f"{'增长' if up else '下降'}{mag}" if verb else f"{'+' if up else '−'}{mag}") if zh \
        else f"{'+' if up else '−'}{mag}"
