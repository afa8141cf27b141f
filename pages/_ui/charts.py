"""Plotly charts with the things every BankPulse time series carries: market/policy event
annotations, anomaly markers, Chinese number formats, print-friendly colours."""

from __future__ import annotations

import html

import pandas as pd
import plotly.graph_objects as go

from metrics.format import fmt_value
from metrics.model import Metric, Unit

PALETTE = ["#1f4e79", "#c0392b", "#2e8b57", "#d68910", "#6c3483", "#148f77", "#7f8c8d", "#b03a2e", "#2874a6", "#af601a"]
EVENT_COLOUR = "#7f8c8d"


def y_scale(metric: Metric, values: pd.Series, lang: str) -> tuple[float, str]:
    """The factor every plotted value of a chart is multiplied by and the axis unit, chosen once
    per chart from all its values (every line, bar and marker on one axis in one unit): rates in
    %, amounts in 万元/亿元 — in English CNY m / CNY bn."""
    if metric.unit is Unit.RATE:
        return 100.0, "%"
    if metric.unit is Unit.YUAN:
        big = values.abs().max() if len(values) else 0
        if lang == "zh":
            return (1e-8, "亿元") if big >= 1e8 else (1e-4, "万元")
        return (1e-9, "CNY bn") if big >= 1e9 else (1e-6, "CNY m")
    return 1.0, ""


def line(df: pd.DataFrame, metric: Metric, lang: str, *, color: str | None = None, events: pd.DataFrame | None = None,
         flags: pd.DataFrame | None = None, height: int = 340, title: str | None = None) -> go.Figure:
    """A KPI over time (one line per `color` value), with event lines and anomaly markers."""
    fig = go.Figure()
    factor, suffix = y_scale(metric, df["value"] if len(df) else pd.Series(dtype=float), lang)
    groups = [(None, df)] if color is None else list(df.groupby(color, sort=True))
    for i, (name, g) in enumerate(groups):
        g = g.sort_values("period")
        y = g["value"] * factor
        text = [fmt_value(metric, v, lang) for v in g["value"]]
        fig.add_trace(go.Scatter(
            x=pd.to_datetime(g["period"]), y=y, mode="lines+markers" if len(g) < 40 else "lines",
            name=html.escape(str(name)) if name is not None else metric.name(lang), line={"color": PALETTE[i % len(PALETTE)], "width": 2},
            marker={"size": 5}, text=text, hovertemplate="%{x|%Y-%m-%d}<br>%{text}<extra>%{fullData.name}</extra>"))
    if flags is not None and not flags.empty and color is None and not df.empty:
        # the marker sits on the plotted line: the chart's value for the period holding the flag
        at = df[["period", "value"]].drop_duplicates("period")
        flags = flags.drop(columns=["value"], errors="ignore").merge(at, on="period", how="inner")
        flags = flags.groupby("period", as_index=False).agg(value=("value", "first"), label=("label", "; ".join))
        y = flags["value"] * factor
        fig.add_trace(go.Scatter(x=pd.to_datetime(flags["period"]), y=y, mode="markers", name="异常" if lang == "zh" else "Anomaly",
                                 marker={"color": "#c0392b", "size": 12, "symbol": "circle-open", "line": {"width": 2}},
                                 hovertext=[html.escape(str(x)) for x in flags["label"]], hoverinfo="text+x"))
    add_events(fig, events, lang)
    fig.update_layout(height=height, margin={"l": 10, "r": 10, "t": 36 if title else 10, "b": 10},
                      title=title, legend={"orientation": "h", "y": -0.18}, hovermode="x unified",
                      yaxis={"ticksuffix": suffix if suffix == "%" else "", "title": suffix if suffix != "%" else None,
                             "rangemode": "tozero" if metric.unit in (Unit.COUNT, Unit.YUAN) else "normal"},
                      plot_bgcolor="white", font={"family": "Noto Sans CJK SC, Microsoft YaHei, sans-serif"})
    fig.update_xaxes(showgrid=False)
    fig.update_yaxes(gridcolor="#eeeeee")
    return fig


def add_events(fig: go.Figure, events: pd.DataFrame | None, lang: str) -> None:
    """Dotted vertical lines at market/policy events, their titles on hover (max 12, latest)."""
    if events is None or events.empty:
        return
    ev = events.sort_values("event_date").tail(12)
    xs = pd.to_datetime(ev["event_date"])
    for x in xs:
        fig.add_vline(x=x, line={"color": EVENT_COLOUR, "dash": "dot", "width": 1})
    fig.add_trace(go.Scatter(x=xs, y=[1.0] * len(ev), yaxis="y2", mode="markers",
                             marker={"symbol": "triangle-down", "size": 9, "color": EVENT_COLOUR},
                             name="市场事件" if lang == "zh" else "Market events",
                             # titles are user text: Plotly renders some HTML in hover labels
                             hovertext=[f"{d:%Y-%m-%d} {html.escape(str(t))}" for d, t in zip(xs, ev["title"], strict=True)],
                             hoverinfo="text"))
    fig.update_layout(yaxis2={"overlaying": "y", "range": [0, 1.05], "visible": False, "fixedrange": True})


def bar(df: pd.DataFrame, x: str, metric: Metric, lang: str, *, horizontal: bool = True, height: int = 360) -> go.Figure:
    """A ranking / breakdown bar chart of one KPI."""
    d = df.sort_values("value", ascending=horizontal)
    factor, _ = y_scale(metric, d["value"], lang)
    y = d["value"] * factor
    text = [fmt_value(metric, v, lang) for v in d["value"]]
    trace = go.Bar(y=d[x].astype(str).map(html.escape), x=y, orientation="h", text=text, textposition="auto",
                   marker_color=PALETTE[0]) if horizontal else \
        go.Bar(x=d[x].astype(str).map(html.escape), y=y, text=text, textposition="auto", marker_color=PALETTE[0])
    fig = go.Figure(trace)
    fig.update_layout(height=height, margin={"l": 10, "r": 10, "t": 10, "b": 10}, plot_bgcolor="white",
                      font={"family": "Noto Sans CJK SC, Microsoft YaHei, sans-serif"})
    return fig


def heatmap(z: pd.DataFrame, lang: str, *, colorscale: str = "Blues", suffix: str = "", height: int = 320) -> go.Figure:
    """A weekday × hour (or any two-way) heatmap of a pivoted frame."""
    fig = go.Figure(go.Heatmap(z=z.to_numpy(), x=[str(c) for c in z.columns], y=[str(i) for i in z.index],
                               colorscale=colorscale, hovertemplate="%{y} %{x}: %{z:.1f}" + suffix + "<extra></extra>"))
    fig.update_layout(height=height, margin={"l": 10, "r": 10, "t": 10, "b": 10},
                      font={"family": "Noto Sans CJK SC, Microsoft YaHei, sans-serif"})
    return fig
