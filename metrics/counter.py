"""Counter (柜台业务) KPIs — DOMAIN.md §1.2."""

from metrics.model import Agg, Category, Direction, F, Grain, Measure, Metric, Unit

_T = "counter_tickets"
SERVED = F("status", "==", "served")
CALLED = F("call_time", "not null")
_DIMS = ("branch", "region", "sub_branch", "service_type", "customer_tier")


def _m(**kw) -> Measure:
    return Measure(source=_T, **kw)


COUNTER = (
    Metric(id="counter.tickets_served", category=Category.COUNTER, name_zh="业务办理笔数", name_en="Tickets served",
           description_zh="期内办理完成的排队票号数（状态为已办理）。", description_en="Queue tickets served in the period.",
           numerator=_m(agg=Agg.COUNT, where=(SERVED,)), unit=Unit.COUNT, direction=Direction.NEUTRAL,
           default_grain=Grain.DAY, dimensions=_DIMS, headline=True, decimals=0),
    Metric(id="counter.tickets_issued", category=Category.COUNTER, name_zh="取号笔数", name_en="Tickets issued",
           description_zh="期内取号总数（含过号、退办）。", description_en="All tickets issued, abandoned and cancelled included.",
           numerator=_m(agg=Agg.COUNT), unit=Unit.COUNT, direction=Direction.NEUTRAL, default_grain=Grain.DAY,
           dimensions=_DIMS, decimals=0),
    Metric(id="counter.wait_avg_min", category=Category.COUNTER, name_zh="平均等候时间", name_en="Average wait",
           description_zh="已叫号票号从取号到叫号的平均时长（分钟）。", description_en="Mean minutes from ticket to call, over called tickets.",
           numerator=_m(agg=Agg.MEAN, column="wait_min", where=(CALLED,)), unit=Unit.MINUTES,
           direction=Direction.DOWN_GOOD, default_grain=Grain.DAY, dimensions=_DIMS, headline=True, target=15.0, decimals=1),
    Metric(id="counter.wait_p50_min", category=Category.COUNTER, name_zh="等候时间中位数", name_en="Median wait",
           description_zh="已叫号票号等候时间的中位数（P50，分钟）。", description_en="Median (P50) wait of called tickets, minutes.",
           numerator=_m(agg=Agg.QUANTILE, q=0.5, column="wait_min", where=(CALLED,)), unit=Unit.MINUTES,
           direction=Direction.DOWN_GOOD, default_grain=Grain.DAY, dimensions=_DIMS, decimals=1),
    Metric(id="counter.wait_p90_min", category=Category.COUNTER, name_zh="等候时间P90", name_en="P90 wait",
           description_zh="已叫号票号等候时间的90分位数（分钟）：十位客户中最慢的一位等了多久。",
           description_en="90th percentile wait of called tickets, minutes: how long the slowest one in ten waited.",
           numerator=_m(agg=Agg.QUANTILE, q=0.9, column="wait_min", where=(CALLED,)), unit=Unit.MINUTES,
           direction=Direction.DOWN_GOOD, default_grain=Grain.DAY, dimensions=_DIMS, headline=True, target=30.0, decimals=1),
    Metric(id="counter.overtime_wait_rate", category=Category.COUNTER, name_zh="超时等候率", name_en="Over-threshold wait rate",
           description_zh="等候时间超过阈值（默认30分钟，可配置）的已叫号票号占比。",
           description_en="Share of called tickets that waited longer than the threshold (default 30 minutes).",
           numerator=_m(agg=Agg.COUNT, where=(CALLED, F("wait_seconds", ">", param="wait_threshold_min", scale=60))),
           denominator=_m(agg=Agg.COUNT, where=(CALLED,)), unit=Unit.RATE, direction=Direction.DOWN_GOOD,
           default_grain=Grain.DAY, dimensions=_DIMS, headline=True, target=0.05),
    Metric(id="counter.service_avg_min", category=Category.COUNTER, name_zh="平均办理时长", name_en="Average service time",
           description_zh="已办理票号从叫号（或开始办理）到办结的平均时长（分钟）。",
           description_en="Mean minutes from call (or service start) to service end, over served tickets.",
           numerator=_m(agg=Agg.MEAN, column="service_min", where=(SERVED,)), unit=Unit.MINUTES,
           direction=Direction.DOWN_GOOD, default_grain=Grain.DAY, dimensions=_DIMS, decimals=1),
    Metric(id="counter.abandonment_rate", category=Category.COUNTER, name_zh="弃号率", name_en="Abandonment rate",
           description_zh="过号/空号票号占取号总数的比例。", description_en="Abandoned (called, no-show) tickets over tickets issued.",
           numerator=_m(agg=Agg.COUNT, where=(F("status", "==", "abandoned"),)), denominator=_m(agg=Agg.COUNT),
           unit=Unit.RATE, direction=Direction.DOWN_GOOD, default_grain=Grain.DAY, dimensions=_DIMS),
    Metric(id="counter.window_utilisation", category=Category.COUNTER, name_zh="窗口利用率", name_en="Window utilisation",
           description_zh="办理时长合计 ÷（开放窗口数 × 营业分钟数），按有业务的网点日计算。",
           description_en="Total service time over open windows × opening minutes, on branch-days with business.",
           numerator=_m(agg=Agg.SUM, column="service_seconds", where=(SERVED,)),
           denominator=_m(agg=Agg.CUSTOM, custom="window_capacity_seconds", sums_over_branches=True),
           unit=Unit.RATE,
           direction=Direction.NEUTRAL, default_grain=Grain.DAY, dimensions=("branch", "region", "sub_branch")),
)
