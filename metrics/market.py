"""Market (市场) KPIs: the loaded indicator levels at each period end — DOMAIN.md §3.4."""

from metrics.model import Agg, Category, Direction, F, Measure, Metric, Unit


def indicator(code: str) -> Measure:
    return Measure(source="market_indicators", agg=Agg.LAST, column="value", where=(F("indicator_code", "==", code),))


MARKET = (
    Metric(id="market.lpr_1y", category=Category.MARKET, name_zh="1年期LPR", name_en="1-year LPR",
           description_zh="期末最近一次1年期贷款市场报价利率。", description_en="Latest 1-year loan prime rate at the period end.",
           numerator=indicator("LPR_1Y"), unit=Unit.PERCENT, direction=Direction.NEUTRAL),
    Metric(id="market.lpr_5y", category=Category.MARKET, name_zh="5年期以上LPR", name_en="5-year+ LPR",
           description_zh="期末最近一次5年期以上贷款市场报价利率。", description_en="Latest 5-year-plus loan prime rate at the period end.",
           numerator=indicator("LPR_5Y"), unit=Unit.PERCENT, direction=Direction.NEUTRAL),
    Metric(id="market.industry_npl_ratio", category=Category.MARKET, name_zh="商业银行不良贷款率（行业）",
           name_en="Industry NPL ratio (commercial banks)",
           description_zh="国家金融监督管理总局公布的商业银行不良贷款率，与本行对比。",
           description_en="Commercial banks' NPL ratio published by the regulator, next to our own.",
           numerator=indicator("NPL_RATIO_CB"), unit=Unit.PERCENT, direction=Direction.DOWN_GOOD),
)
