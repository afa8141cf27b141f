"""Comparisons (环比 / 同比 / target), Chinese number formats and calendar periods."""

from __future__ import annotations

import math
from datetime import date

import pandas as pd
import pytest

from data.store import Store
from metrics.catalogue import get_metric
from metrics.compute import card, change, series, status, tone, with_comparisons
from metrics.format import fmt_amount, fmt_change, fmt_value
from metrics.model import Grain
from metrics.periods import (
    label,
    parse_period,
    period_end,
    period_start,
    periods,
    same_period_last_year,
    shift,
)

NPL = get_metric("credit.npl_ratio")
SERVED = get_metric("counter.tickets_served")


def _df(values: dict, by: dict | None = None) -> pd.DataFrame:
    df = pd.DataFrame({"period": list(values), "value": list(values.values())})
    for k, v in (by or {}).items():
        df[k] = v
    return df


def _row(df, p, **keys):
    sel = df["period"] == p
    for k, v in keys.items():
        sel &= df[k] == v
    assert sel.sum() == 1
    return df[sel].iloc[0]


# -- 环比 / 同比 ------------------------------------------------------------------------------------

def test_month_prev_and_yoy_across_a_leap_year():
    df = _df({date(2024, 1, 1): 0.020, date(2024, 2, 1): 0.024, date(2025, 1, 1): 0.030, date(2025, 2, 1): 0.032})
    out = with_comparisons(df, NPL, Grain.MONTH)
    feb = _row(out, date(2025, 2, 1))
    assert feb["prev_value"] == pytest.approx(0.030)  # 环比: 2025-01
    assert feb["yoy_value"] == pytest.approx(0.024)  # 同比: 2024-02 (29 days) ↔ 2025-02 (28 days)
    # a rate's change is a difference (percentage points as a fraction): 0.032 − 0.024 = 0.008
    assert feb["delta_yoy"] == pytest.approx(0.008)
    assert feb["delta_prev"] == pytest.approx(0.002)
    assert feb["target"] == NPL.target == 0.015
    assert fmt_change(NPL, feb["delta_yoy"]) == "上升0.80个百分点"
    assert fmt_change(NPL, feb["delta_yoy"], "en") == "+0.80 pp"
    assert fmt_change(NPL, feb["delta_yoy"], verb=False) == "+0.80个百分点"
    assert fmt_change(NPL, -0.008) == "下降0.80个百分点"
    assert fmt_change(NPL, -0.008, "en") == "−0.80 pp"
    # the first month has neither comparison
    jan24 = _row(out, date(2024, 1, 1))
    assert pd.isna(jan24["prev_value"]) and pd.isna(jan24["yoy_value"])
    assert jan24["delta_prev"] is None or pd.isna(jan24["delta_prev"])


def test_day_yoy_of_29_february_is_28_february():
    assert same_period_last_year(date(2024, 2, 29), Grain.DAY) == date(2023, 2, 28)
    assert same_period_last_year(date(2025, 2, 28), Grain.DAY) == date(2024, 2, 28)
    df = _df({date(2023, 2, 28): 100, date(2024, 2, 28): 120, date(2024, 2, 29): 150})
    out = with_comparisons(df, SERVED, Grain.DAY)
    leap = _row(out, date(2024, 2, 29))
    assert leap["prev_value"] == 120 and leap["yoy_value"] == 100
    # a count's change is relative: 150 / 120 − 1 = +25 %; 150 / 100 − 1 = +50 %
    assert leap["delta_prev"] == pytest.approx(0.25)
    assert leap["delta_yoy"] == pytest.approx(0.5)
    assert fmt_change(SERVED, leap["delta_yoy"]) == "增长50.0%"
    assert fmt_change(SERVED, leap["delta_yoy"], "en") == "+50.0%"
    assert fmt_change(SERVED, -0.125) == "下降12.5%"


def test_week_yoy_keeps_the_iso_week_number():
    # 2025-W01 starts 2024-12-30; its 同比 is 2024-W01 (starting 2024-01-01), its 环比 2024-W52 (2024-12-23)
    assert same_period_last_year(date(2024, 12, 30), Grain.WEEK) == date(2024, 1, 1)
    # week 53 of 2020 has no twin in 2019 (52 weeks): week 52 of 2019
    assert same_period_last_year(date(2020, 12, 28), Grain.WEEK) == date(2019, 12, 23)
    df = _df({date(2024, 1, 1): 80, date(2024, 12, 23): 90, date(2024, 12, 30): 100})
    w = _row(with_comparisons(df, SERVED, Grain.WEEK), date(2024, 12, 30))
    assert (w["prev_value"], w["yoy_value"]) == (90, 80)
    assert w["delta_yoy"] == pytest.approx(0.25)


def test_quarter_and_year_comparisons():
    df = _df({date(2024, 7, 1): 10, date(2025, 4, 1): 12, date(2025, 7, 1): 15})
    q = _row(with_comparisons(df, SERVED, Grain.QUARTER), date(2025, 7, 1))
    assert (q["prev_value"], q["yoy_value"]) == (12, 10)
    y = _row(with_comparisons(_df({date(2024, 1, 1): 4, date(2025, 1, 1): 5}), SERVED, Grain.YEAR), date(2025, 1, 1))
    assert (y["prev_value"], y["yoy_value"]) == (4, 4)
    assert y["delta_yoy"] == pytest.approx(0.25)


def test_comparisons_per_breakdown_value():
    df = pd.concat([
        _df({date(2025, 1, 1): 10, date(2025, 2, 1): 20}, {"branch": "B1"}),
        _df({date(2025, 1, 1): 40, date(2025, 2, 1): 30}, {"branch": "B2"}),
    ], ignore_index=True)
    out = with_comparisons(df, SERVED, Grain.MONTH, ("branch",))
    assert _row(out, date(2025, 2, 1), branch="B1")["delta_prev"] == pytest.approx(1.0)  # 20 / 10 − 1
    assert _row(out, date(2025, 2, 1), branch="B2")["delta_prev"] == pytest.approx(-0.25)  # 30 / 40 − 1


def test_empty_series_keeps_the_comparison_columns():
    out = with_comparisons(pd.DataFrame({"period": [], "value": []}), NPL, Grain.MONTH)
    assert {"prev_value", "yoy_value", "delta_prev", "delta_yoy", "target"} <= set(out.columns)
    assert out.empty


def test_change_status_tone():
    assert change(NPL, 0.032, 0.024) == pytest.approx(0.008)
    assert change(SERVED, 110, 100) == pytest.approx(0.10)
    assert change(SERVED, 5, 0) is None  # no relative change from zero
    assert change(SERVED, None, 3) is None and change(SERVED, 3, float("nan")) is None
    lpr = get_metric("market.lpr_1y")
    assert change(lpr, 3.10, 3.45) == pytest.approx(-0.35)  # percent levels: a difference
    assert fmt_change(lpr, -0.35) == "下降35个基点"
    assert fmt_change(lpr, -0.35, "en") == "−35 bp"
    nps = get_metric("feedback.nps")
    assert change(nps, 20, 10) == pytest.approx(10)
    assert fmt_change(nps, 10.0) == "上升10.0分" and fmt_change(nps, 10.0, "en") == "+10.0 points"
    assert fmt_change(NPL, 0.0) == "持平" and fmt_change(NPL, 0.0, "en") == "unchanged"
    assert fmt_change(NPL, None) == "—"
    # NPL target 1.5 %, lower is better
    assert status(NPL, 0.012) == "good" and status(NPL, 0.02) == "bad"
    assert status(get_metric("feedback.satisfaction_rate"), 0.95) == "good"
    assert status(SERVED, 100) == "none"  # no target
    assert tone(NPL, 0.008) == "bad" and tone(NPL, -0.008) == "good"
    assert tone(get_metric("credit.balance"), 0.1) == "good"
    assert tone(SERVED, 0.5) == "flat"  # neutral direction


def test_series_comparisons_and_card_on_a_store(tmp_path):
    # served tickets: 2023-02-28 ×1, 2024-02-28 ×2, 2024-02-29 ×3, 2025-01-15 ×4, 2025-02-28 ×6
    s = Store(tmp_path / "t.duckdb")
    cur = s.cursor()
    n = 0
    for d, k in (("2023-02-28", 1), ("2024-02-28", 2), ("2024-02-29", 3), ("2025-01-15", 4), ("2025-02-28", 6)):
        for _ in range(k):
            n += 1
            cur.execute("INSERT INTO main.counter_tickets (branch_id, business_date, ticket_no, ticket_time, status, "
                        "batch_id) VALUES ('B1', ?, ?, ?, 'served', 1)", [d, f"T{n}", f"{d} 09:00:00"])
    day = with_comparisons(series(s, SERVED, Grain.DAY, date(2023, 1, 1), date(2025, 2, 28)), SERVED, Grain.DAY)
    leap = _row(day, date(2024, 2, 29))
    assert (leap["value"], leap["prev_value"], leap["yoy_value"]) == (3, 2, 1)
    month = with_comparisons(series(s, SERVED, Grain.MONTH, date(2023, 1, 1), date(2025, 2, 28)), SERVED, Grain.MONTH)
    feb = _row(month, date(2025, 2, 1))
    # 2025-02: 6; 环比 2025-01: 4 (+50 %); 同比 2024-02: 2 + 3 = 5 (+20 %)
    assert (feb["value"], feb["prev_value"], feb["yoy_value"]) == (6, 4, 5)
    assert feb["delta_prev"] == pytest.approx(0.5) and feb["delta_yoy"] == pytest.approx(0.2)
    c = card(s, "counter.tickets_served", Grain.MONTH)
    assert c.period == date(2025, 2, 1) and c.value == 6 and c.prev_value == 4 and c.yoy_value == 5
    assert c.delta_yoy == pytest.approx(0.2)
    assert c.spark_periods[-1] == date(2025, 2, 1)
    s.close()


# -- number formats ---------------------------------------------------------------------------------

def test_fmt_amount_zh_and_en():
    assert fmt_amount(1.23e8) == "1.23亿元"
    assert fmt_amount(45_678_900) == "4,567.89万元"
    assert fmt_amount(850) == "850.00元"
    assert fmt_amount(-1.5e8) == "-1.50亿元"
    assert fmt_amount(1.23e8, "en") == "CNY 123.00m"
    assert fmt_amount(45_678_900, "en") == "CNY 45.68m"
    assert fmt_amount(2.5e9, "en") == "CNY 2.50bn"
    assert fmt_amount(45_678, "en") == "CNY 45.68k"
    assert fmt_amount(850, "en") == "CNY 850.00"
    assert fmt_amount(None) == "—" and fmt_amount(math.nan, "en") == "—"


def test_amount_cards_carry_the_unit_in_the_label():
    """Four cards in a row have room for "2,466.16" but not "2,466.16亿元" (cut at 1280 px)."""
    from metrics.catalogue import get_metric
    from metrics.format import fmt_card

    balance, rate = get_metric("credit.balance"), get_metric("credit.overdue_rate")
    assert fmt_card(balance, 2.46616e11, "zh") == ("贷款余额（亿元）", "2,466.16")
    assert fmt_card(balance, 2.46616e11, "en") == ("Loan balance (¥bn)", "246.62")
    assert fmt_card(balance, 5.5e7, "zh") == ("贷款余额（万元）", "5,500.00")
    assert fmt_card(balance, 5.5e7, "en") == ("Loan balance (¥m)", "55.00")
    assert fmt_card(balance, 850, "en") == ("Loan balance (¥)", "850.00")
    assert fmt_card(balance, -1.5e8, "zh") == ("贷款余额（亿元）", "-1.50")
    assert fmt_card(balance, None, "zh") == ("贷款余额", "—")  # no number: no unit to show
    assert fmt_card(rate, 0.0306, "en") == (rate.name("en"), fmt_value(rate, 0.0306, "en"))


@pytest.mark.parametrize(("metric_id", "value", "zh", "en"), [
    ("counter.tickets_served", 1234, "1,234笔", "1,234"),
    ("credit.disbursed_count", 12, "12笔", "12"),  # 贷款发放笔数: loans are counted in 笔
    ("feedback.complaints", 12, "12件", "12"),  # complaints in 件
    ("counter.wait_avg_min", 12.34, "12.3分钟", "12.3 min"),
    ("feedback.handling_days_avg", 17.666, "17.7天", "17.7 days"),
    ("credit.balance", 1.23e8, "1.23亿元", "CNY 123.00m"),
    ("credit.npl_ratio", 0.0149, "1.49%", "1.49%"),
    ("market.lpr_1y", 3.45, "3.45%", "3.45%"),
    ("feedback.nps", 20, "20.0分", "20.0"),
    ("feedback.complaints_per_10k", 1.234, "1.23件/万笔", "1.23 per 10k"),
])
def test_fmt_value_per_unit(metric_id, value, zh, en):
    m = get_metric(metric_id)
    assert fmt_value(m, value) == zh
    assert fmt_value(m, value, "en") == en


def test_fmt_value_missing():
    assert fmt_value(NPL, None) == "—" and fmt_value(NPL, math.nan) == "—"


# -- periods ----------------------------------------------------------------------------------------

@pytest.mark.parametrize(("start", "grain", "zh", "en"), [
    (date(2025, 9, 3), Grain.DAY, "2025年9月3日", "2025-09-03"),
    (date(2025, 9, 15), Grain.WEEK, "2025年第38周", "2025-W38"),
    (date(2024, 12, 30), Grain.WEEK, "2025年第1周", "2025-W01"),  # the ISO year of the week
    (date(2025, 9, 1), Grain.MONTH, "2025年9月", "Sep 2025"),
    (date(2025, 7, 1), Grain.QUARTER, "2025年第3季度", "2025 Q3"),
    (date(2025, 1, 1), Grain.YEAR, "2025年", "2025"),
])
def test_period_labels(start, grain, zh, en):
    assert label(start, grain, "zh") == zh
    assert label(start, grain, "en") == en
    assert label(pd.Timestamp(start), grain, "zh") == zh


@pytest.mark.parametrize(("text", "expected"), [
    ("2025-09", (date(2025, 9, 1), Grain.MONTH)),
    ("2025-W38", (date(2025, 9, 15), Grain.WEEK)),
    ("2025-w01", (date(2024, 12, 30), Grain.WEEK)),
    ("2025-Q3", (date(2025, 7, 1), Grain.QUARTER)),
    ("2025", (date(2025, 1, 1), Grain.YEAR)),
    ("2025-09-03", (date(2025, 9, 3), Grain.DAY)),
])
def test_parse_period(text, expected):
    assert parse_period(text) == expected
    start, grain = expected
    if grain in (Grain.DAY, Grain.WEEK, Grain.YEAR):  # the English label reads back
        assert parse_period(label(start, grain, "en")) == expected


def test_period_arithmetic():
    assert period_start(date(2025, 1, 5), Grain.WEEK) == date(2024, 12, 30)  # Sunday → Monday before
    assert period_start(date(2025, 8, 20), Grain.QUARTER) == date(2025, 7, 1)
    assert period_end(date(2024, 2, 1), Grain.MONTH) == date(2024, 2, 29)
    assert period_end(date(2024, 12, 30), Grain.WEEK) == date(2025, 1, 5)
    assert shift(date(2025, 1, 1), Grain.MONTH, -1) == date(2024, 12, 1)
    assert shift(date(2025, 1, 1), Grain.QUARTER, -1) == date(2024, 10, 1)
    assert periods(date(2024, 12, 31), date(2025, 1, 6), Grain.WEEK) == [date(2024, 12, 30), date(2025, 1, 6)]
