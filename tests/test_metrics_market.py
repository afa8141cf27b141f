"""Market (市场) KPIs: indicator levels at each period end, carried forward until the next release.

Releases: LPR_1Y 2024-12-20 3.10, 2025-05-08 2.95, 2025-05-20 3.00; LPR_5Y 2024-12-20 3.60;
NPL_RATIO_CB 2024-12-31 1.50, 2025-03-31 1.51.
"""

from __future__ import annotations

from datetime import date

import pytest

from data.store import Store
from metrics.compute import series
from metrics.model import Grain

ROWS = [("LPR_1Y", "2024-12-20", 3.10), ("LPR_1Y", "2025-05-08", 2.95), ("LPR_1Y", "2025-05-20", 3.00),
        ("LPR_5Y", "2024-12-20", 3.60), ("NPL_RATIO_CB", "2024-12-31", 1.50), ("NPL_RATIO_CB", "2025-03-31", 1.51)]


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    s = Store(tmp_path_factory.mktemp("market") / "t.duckdb")
    for code, d, v in ROWS:
        s.cursor().execute("INSERT INTO main.market_indicators (indicator_code, date, value, unit, batch_id) "
                           "VALUES (?, ?, ?, '%', 1)", [code, d, v])
    yield s
    s.close()


def _v(store, metric_id, grain, start, end):
    df = series(store, metric_id, grain, start, end)
    return dict(zip(df["period"], df["value"], strict=True))


def test_lpr_1y_level_carried_forward(store):
    got = _v(store, "market.lpr_1y", Grain.MONTH, date(2025, 1, 1), date(2025, 6, 30))
    # Jan–Apr: the 2024-12-20 fixing 3.10 still holds; May: the later of two May fixings (05-20: 3.00); June carried
    assert got == pytest.approx({date(2025, m, 1): v for m, v in
                                 ((1, 3.10), (2, 3.10), (3, 3.10), (4, 3.10), (5, 3.00), (6, 3.00))})
    # before the first release there is no level
    assert _v(store, "market.lpr_1y", Grain.MONTH, date(2024, 10, 1), date(2024, 11, 30)) == {}
    # day grain: 2025-05-08 … 05-19 at 2.95, 05-20 on 3.00
    day = _v(store, "market.lpr_1y", Grain.DAY, date(2025, 5, 7), date(2025, 5, 21))
    assert day[date(2025, 5, 7)] == pytest.approx(3.10)
    assert day[date(2025, 5, 19)] == pytest.approx(2.95)
    assert day[date(2025, 5, 21)] == pytest.approx(3.00)


def test_lpr_5y_and_industry_npl(store):
    assert _v(store, "market.lpr_5y", Grain.QUARTER, date(2025, 1, 1), date(2025, 6, 30)) == pytest.approx(
        {date(2025, 1, 1): 3.60, date(2025, 4, 1): 3.60})
    # industry NPL ratio (already in percent): Q1 2025 = the 2025-03-31 release; January/February carry 2024-12-31
    assert _v(store, "market.industry_npl_ratio", Grain.QUARTER, date(2025, 1, 1), date(2025, 6, 30)) == pytest.approx(
        {date(2025, 1, 1): 1.51, date(2025, 4, 1): 1.51})
    assert _v(store, "market.industry_npl_ratio", Grain.MONTH, date(2025, 1, 1), date(2025, 3, 31)) == pytest.approx(
        {date(2025, 1, 1): 1.50, date(2025, 2, 1): 1.50, date(2025, 3, 1): 1.51})
