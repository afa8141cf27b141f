"""Trend charts drawn straight into the PDF with fpdf2's vector primitives.

No image, no browser, no matplotlib run: lines, dots and text are PDF drawing operators, so the
charts print sharp at any size, their labels are selectable text in the embedded CJK font, and
a chart costs a few milliseconds. Colours stay readable in greyscale: the series is a solid dark
line, the target a dashed line, anomalies are larger red dots with a white ring, events are
numbered dotted verticals.
"""

from __future__ import annotations

import math

from briefing.content import Chart

INK = (33, 37, 41)
MUTED = (108, 117, 125)
GRID = (222, 226, 230)
SERIES = (31, 78, 121)
TARGET = (191, 110, 0)
ANOMALY = (192, 32, 38)
EVENT = (120, 120, 120)


def nice_ticks(lo: float, hi: float, n: int = 4) -> list[float]:
    """About `n` round tick values covering [lo, hi] (1-2-2.5-5 steps)."""
    if hi - lo < 1e-12:
        pad = abs(hi) * 0.1 or 1.0
        lo, hi = lo - pad, hi + pad
    raw = (hi - lo) / n
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    first = math.floor(lo / step) * step
    ticks, v = [], first
    while v <= hi + step * 0.5:
        ticks.append(round(v, 10))
        v += step
        if len(ticks) > 12:
            break
    return ticks


def tick_text(v: float, ticks: list[float]) -> str:
    """A tick label with as few decimals as the step needs (at most 3)."""
    step = abs(ticks[1] - ticks[0]) if len(ticks) > 1 else 1.0
    decimals = next((d for d in range(4) if abs(step * 10 ** d - round(step * 10 ** d)) < 1e-6), 3)
    return f"{v:,.{decimals}f}"


def draw(pdf, chart: Chart, x: float, y: float, w: float, h: float, family: str, lang: str) -> None:
    """One chart in the box (x, y, w, h) in mm."""
    # title and the current value
    pdf.set_text_color(*INK)
    pdf.set_font(family, "B", 8.5)
    pdf.text(x, y + 3.6, chart.title)
    pdf.set_font(family, "", 7.5)
    last = ("本期 " if lang == "zh" else "Now ") + chart.last_text
    pdf.text(x + w - pdf.get_string_width(last), y + 3.6, last)
    if chart.unit:
        pdf.set_text_color(*MUTED)
        pdf.set_font(family, "", 6)
        pdf.text(x, y + 8.2, chart.unit)

    left, right, top, bottom = 13.0, 2.0, 10.0, 6.5
    px, py, pw, ph = x + left, y + top, w - left - right, h - top - bottom
    vals = [v for v in chart.values if v is not None]
    pdf.set_line_width(0.15)
    if not vals:
        pdf.set_draw_color(*GRID)
        pdf.rect(px, py, pw, ph)
        pdf.set_font(family, "", 7)
        pdf.set_text_color(*MUTED)
        msg = "暂无数据" if lang == "zh" else "no data"
        pdf.text(px + pw / 2 - pdf.get_string_width(msg) / 2, py + ph / 2, msg)
        return
    lo, hi = min(vals), max(vals)
    if chart.target is not None:
        lo, hi = min(lo, chart.target), max(hi, chart.target)
    ticks = nice_ticks(lo, hi)
    t0, t1 = ticks[0], ticks[-1]
    span = (t1 - t0) or 1.0
    n = len(chart.values)
    X = lambda i: px + (pw * (i + 0.5) / n)  # noqa: E731
    Y = lambda v: py + ph - (v - t0) / span * ph  # noqa: E731

    # grid and y labels
    pdf.set_font(family, "", 6)
    for tv in ticks:
        yy = Y(tv)
        pdf.set_draw_color(*GRID)
        pdf.line(px, yy, px + pw, yy)
        pdf.set_text_color(*MUTED)
        s = tick_text(tv, ticks)
        pdf.text(px - 1.2 - pdf.get_string_width(s), yy + 1.0, s)
    # x labels: every other one when crowded
    every = 1 if n <= 8 else 2
    for i, lab in enumerate(chart.x_labels):
        if (n - 1 - i) % every:
            continue
        pdf.text(X(i) - pdf.get_string_width(lab) / 2, py + ph + 3.6, lab)

    # events: numbered dotted verticals
    seen = set()
    for i, num in chart.events:
        pdf.set_draw_color(*EVENT)
        pdf.set_dash_pattern(dash=0.6, gap=0.6)
        pdf.line(X(i), py, X(i), py + ph)
        pdf.set_dash_pattern()
        lab = str(num)
        off = 2.3 * sum(1 for j in seen if j == i)
        seen.add(i)
        pdf.set_text_color(*EVENT)
        pdf.set_font(family, "", 6)
        pdf.text(X(i) + 0.4 + off, py + 2.2, lab)

    # target
    if chart.target is not None:
        pdf.set_draw_color(*TARGET)
        pdf.set_line_width(0.3)
        pdf.set_dash_pattern(dash=1.4, gap=0.9)
        pdf.line(px, Y(chart.target), px + pw, Y(chart.target))
        pdf.set_dash_pattern()
        pdf.set_text_color(*TARGET)
        pdf.set_font(family, "", 5.8)
        lab = "目标" if lang == "zh" else "target"
        pdf.text(px + pw - pdf.get_string_width(lab) - 0.5, Y(chart.target) - 0.8, lab)

    # the series: a polyline per unbroken run
    pdf.set_draw_color(*SERIES)
    pdf.set_line_width(0.45)
    run: list[tuple[float, float]] = []
    for i, v in enumerate([*chart.values, None]):
        if v is None:
            if len(run) > 1:
                pdf.polyline(run)
            run = []
        else:
            run.append((X(i), Y(v)))
    pdf.set_fill_color(*SERIES)
    for i, v in enumerate(chart.values):
        if v is not None:
            pdf.circle(X(i), Y(v), 0.45, style="F")
    # anomalies
    pdf.set_draw_color(255, 255, 255)
    pdf.set_fill_color(*ANOMALY)
    pdf.set_line_width(0.25)
    for i in chart.marks:
        if 0 <= i < n and chart.values[i] is not None:
            pdf.circle(X(i), Y(chart.values[i]), 1.05, style="DF")
    # frame (x axis)
    pdf.set_draw_color(*MUTED)
    pdf.set_line_width(0.2)
    pdf.line(px, py + ph, px + pw, py + ph)
    pdf.set_text_color(*INK)
