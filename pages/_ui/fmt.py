"""Number formatting the way Chinese bank reports write it (plain Python, no Streamlit).

Chinese: amounts in 万元 / 亿元, percentages with two decimals, changes of a rate in
个百分点. English: CNY with k / m / bn, "pp" for percentage points.
"""

from __future__ import annotations

import math

_WAN = 1e4
_YI = 1e8


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
        if a >= _YI:
            return f"{sign}{a / _YI:,.{digits}f}亿元"
        if a >= _WAN:
            return f"{sign}{a / _WAN:,.{digits}f}万元"
        return f"{sign}{a:,.0f}元"
    if a >= 1e9:
        return f"{sign}CNY {a / 1e9:,.{digits}f}bn"
    if a >= 1e6:
        return f"{sign}CNY {a / 1e6:,.{digits}f}m"
    if a >= 1e3:
        return f"{sign}CNY {a / 1e3:,.{digits}f}k"
    return f"{sign}CNY {a:,.0f}"


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
