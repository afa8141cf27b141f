"""Small page building blocks shared by every monitoring page: KPI cards and CSV downloads."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from data.exports import to_csv_bytes
from metrics import compute
from metrics.catalogue import get_metric
from metrics.format import fmt_card, fmt_change, fmt_value
from metrics.periods import label as period_label
from pages._ui import auth
from pages._ui.filters import Filters
from pages._ui.i18n import current_lang


def inert(text) -> str:
    """User-supplied text (a file name, a title) for a Markdown sink (markdown, alerts, captions,
    progress text): every Markdown and HTML character escaped, so it shows literally."""
    return "".join("\\" + c if c in "\\`*_{}[]()<>#+-.!|~$:=" else c for c in str(text))


def download_csv(df: pd.DataFrame, name: str, *, key: str, label: str | None = None) -> None:
    """A download button for a table or a chart's data: UTF-8 with BOM, formula-safe cells.

    Every click is recorded in the audit trail (who, which export, how many rows, the filters and
    the person's scope); the frame itself was computed inside that scope by the query layer.
    """
    lang = current_lang()
    st.download_button(label or ("下载CSV" if lang == "zh" else "Download CSV"), to_csv_bytes(df),
                       file_name=f"{name}.csv", mime="text/csv", key=key, icon=":material/download:",
                       on_click=_audit_export, args=(f"{name}.csv", len(df), auth.filters_text()))


def _audit_export(file_name: str, rows: int, filters: str) -> None:
    auth.record("export", target=file_name, detail={"rows": rows, "filters": filters})


def kpi_card(card: compute.Card, f: Filters) -> None:
    """One headline KPI: value, 环比 (pp for rates), sparkline, colour by direction; target status in the help."""
    lang = current_lang()
    metric = get_metric(card.metric_id)
    tone = compute.tone(metric, card.delta_prev)
    delta = fmt_change(metric, card.delta_prev, lang, verb=False) if card.delta_prev is not None else None
    if delta:  # st.metric reads the arrow from an ASCII sign
        delta = delta.replace("−", "-")
    # st.metric colours by the sign; "inverse" when a fall is good news, "off" when neutral
    colour = "off" if tone == "flat" else ("normal" if (card.delta_prev or 0) > 0 and tone == "good"
                                           or (card.delta_prev or 0) < 0 and tone == "bad" else "inverse")
    when = period_label(card.period, f.grain, lang) if card.period else ""
    target = ""
    if card.target is not None:
        ok = {"good": "✓", "bad": "✗"}.get(card.status, "")
        target = (f"目标 {fmt_value(metric, card.target, lang)} {ok}" if lang == "zh"
                  else f"target {fmt_value(metric, card.target, lang)} {ok}")
    yoy = fmt_change(metric, card.delta_yoy, lang, verb=False) if card.delta_yoy is not None else "—"
    if delta in ("持平", "unchanged"):
        colour = "off"  # a change that rounds to zero: grey, no arrow
    label, value = fmt_card(metric, card.value, lang)
    st.metric(label, value, delta, delta_color=colour,
              delta_description="环比" if lang == "zh" else "vs prev.",
              help=(f"{when} · " if when else "") + f"{metric.description(lang)}\n\n{'同比' if lang == 'zh' else 'YoY'}: {yoy}"
              + (f" · {target}" if target else ""),
              chart_data=[v for v in card.spark if v is not None] or None, chart_type="line", border=True,
              height="stretch", delta_arrow="off" if delta in ("持平", "unchanged") else "auto")
