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


_ZH_AMOUNT = ((1e8, "亿元"), (1e4, "万元"), (1.0, "元"))
_EN_AMOUNT = ((1e9, "bn"), (1e6, "m"), (1e3, "k"), (1.0, ""))


def amount_scale(yuan: float, lang: str = "zh") -> tuple[float, str]:
    """The divisor and unit an amount is written in: 亿元 from 1亿, 万元 from 1万, else 元; English
    bn / m / k (written "CNY 1.23bn")."""
    a = abs(float(yuan))
    for div, unit in _ZH_AMOUNT if lang == "zh" else _EN_AMOUNT:
        if a >= div:
            return div, unit
    return 1.0, "元" if lang == "zh" else ""


def fmt_amount(yuan, lang: str = "zh", digits: int = 2) -> str:
    """An amount in yuan: "1.23亿元" / "4,567.80万元" / "980元" (zh); "CNY 123.40m" (en). Below 1万
    yuan with fen, as ledgers print them."""
    if _missing(yuan):
        return "—"
    v = float(yuan)
    sign = "-" if v < 0 else ""
    div, unit = amount_scale(v, lang)
    if lang == "zh":
        return f"{sign}{abs(v) / div:,.{digits}f}{unit}"
    return f"{sign}CNY {abs(v) / div:,.{digits}f}{unit}"


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


COUNT_WORD = {"feedback": "件", "supervision": "份"}  # the measure word of a count KPI, by category


def fmt_value(metric: Metric, v: float | None, lang: str = "zh") -> str:
    """A KPI value with its unit."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "—"
    d = metric.decimals
    zh = lang == "zh"
    match metric.unit:
        case Unit.COUNT:
            # 笔 for transactions and loans (业务办理笔数, 贷款发放笔数), 件 for complaints and cases,
            # 份 for rectification notices (supervision)
            suffix = COUNT_WORD.get(metric.category.value, "笔") if zh else ""
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


def fmt_card(metric: Metric, v: float | None, lang: str = "zh") -> tuple[str, str]:
    """A headline card's label and value. An amount carries its unit in the label — "贷款余额（亿元）"
    over "2,466.16", "Loan balance (¥bn)" over "246.62" — so that four cards in a row show the
    whole number (a value like "2,466.16亿元" was cut to "2,466.16…" at 1280 px; the short ¥ keeps
    English labels such as "Loans disbursed" whole too); others as fmt_value."""
    name = metric.name(lang)
    if metric.unit is not Unit.YUAN or _missing(v):
        return name, fmt_value(metric, v, lang)
    div, unit = amount_scale(v, lang)
    label = f"{name}（{unit}）" if lang == "zh" else f"{name} (¥{unit})"
    return label, f"{float(v) / div:,.2f}"


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
