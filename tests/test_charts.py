"""The chart helpers (pages/_ui/charts.py): one unit per axis, in the reader's language.

A line chart of amounts by region put each line in its own unit (万元 for a small region, 亿元 for a
large one) on one axis, and an English page labelled its axis 亿元. The built figures are inspected.
"""

from __future__ import annotations

import pandas as pd
import pytest

from metrics.catalogue import CATALOGUE
from pages._ui.charts import bar, line

BALANCE = CATALOGUE["credit.balance"]
RATE = CATALOGUE["credit.overdue_rate"]
PERIODS = pd.to_datetime(["2025-10-01", "2025-11-01", "2025-12-01"])


def _by_region() -> pd.DataFrame:
    return pd.DataFrame({"period": list(PERIODS) * 2, "region": ["华东区"] * 3 + ["华西区"] * 3,
                         "value": [3.2e9, 3.3e9, 3.4e9, 5.0e7, 5.5e7, 6.0e7]})


@pytest.mark.parametrize(("lang", "unit", "divisor"), [("zh", "亿元", 1e8), ("en", "CNY bn", 1e9)])
def test_every_line_of_an_amount_chart_in_one_unit_in_the_readers_language(lang, unit, divisor):
    fig = line(_by_region(), BALANCE, lang, color="region")
    assert fig.layout.yaxis.title.text == unit
    lines = {t.name: list(t.y) for t in fig.data if (t.mode or "").startswith("lines")}
    assert lines["华西区"] == pytest.approx([5.0e7 / divisor, 5.5e7 / divisor, 6.0e7 / divisor])
    assert lines["华东区"] == pytest.approx([3.2e9 / divisor, 3.3e9 / divisor, 3.4e9 / divisor])


def test_small_amounts_use_the_smaller_unit_and_rates_percent():
    small = pd.DataFrame({"period": PERIODS, "value": [2.0e6, 2.5e6, 3.0e6]})
    assert line(small, BALANCE, "zh").layout.yaxis.title.text == "万元"
    assert line(small, BALANCE, "en").layout.yaxis.title.text == "CNY m"
    rates = line(pd.DataFrame({"period": PERIODS, "value": [0.031, 0.032, 0.0319]}), RATE, "en")
    assert rates.layout.yaxis.ticksuffix == "%"
    assert list(rates.data[0].y) == pytest.approx([3.1, 3.2, 3.19])


def test_anomaly_markers_sit_on_the_line_in_the_charts_unit():
    df = _by_region().query("region == '华东区'").drop(columns="region")
    flags = pd.DataFrame({"period": [PERIODS[2]], "label": ["偏高 / high"]})
    fig = line(df, BALANCE, "en", flags=flags)
    marker = next(t for t in fig.data if t.mode == "markers" and t.name == "Anomaly")
    assert list(marker.y) == pytest.approx([3.4])


def test_bar_labels_keep_the_formatted_amounts():
    df = _by_region().query("period == @PERIODS[2]")
    fig = bar(df, "region", BALANCE, "en")
    assert sorted(fig.data[0].text) == ["CNY 3.40bn", "CNY 60.00m"]
