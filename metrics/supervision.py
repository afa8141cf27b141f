"""Supervision (监督整改) KPIs — DOMAIN.md §1.5: how rectification notices and adjustment plans are
carried out. They read the views of migration 0009 (data/sources/supervision.py) over the records
of data/plans, so the pages, the briefing, the scan and the scorecard treat them like every KPI.

Rates over plans and steps count each plan or step once (COUNT DISTINCT): a plan covering several
branches is one plan at region and bank level. A notice or step is counted once it is *due*
(its deadline on or before the query's as-of day), so a month whose deadlines are still ahead
shows no rate rather than 0 %.
"""

from metrics.model import Agg, Category, Direction, F, Measure, Metric, Unit

_DIMS = ("branch", "region", "sub_branch")


def _m(source: str, **kw) -> Measure:
    return Measure(source=source, **kw)


SUPERVISION = (
    Metric(id="supervision.rectified_on_time_rate", category=Category.SUPERVISION, name_zh="按期整改率",
           name_en="Rectified on time",
           description_zh="首轮整改期限在期内且已到期的整改通知书中，在首轮期限内报告整改的占比（复查结果另见复查通过率）。",
           description_en="Of the notices whose first deadline fell in the period and has passed, the share reported "
           "rectified by that deadline (the re-check result is the re-check pass rate).",
           numerator=_m("sup_notices", agg=Agg.COUNT, where=(F("due", "==", True), F("rectified_in_time", "==", True))),
           denominator=_m("sup_notices", agg=Agg.COUNT, where=(F("due", "==", True),)),
           unit=Unit.RATE, direction=Direction.UP_GOOD, dimensions=_DIMS, target=0.95),
    Metric(id="supervision.recheck_pass_rate", category=Category.SUPERVISION, name_zh="复查通过率",
           name_en="Re-check pass rate",
           description_zh="期内复查中通过的占比（一份通知书复查未通过后再次复查，每次复查各计一次）。",
           description_en="Share of the period's re-checks that passed (each re-check of a notice counts once).",
           numerator=_m("sup_rechecks", agg=Agg.COUNT, where=(F("passed", "==", True),)),
           denominator=_m("sup_rechecks", agg=Agg.COUNT), unit=Unit.RATE, direction=Direction.UP_GOOD,
           dimensions=_DIMS, target=0.9),
    Metric(id="supervision.overdue_open_notices", category=Category.SUPERVISION, name_zh="逾期未整改数",
           name_en="Overdue open notices",
           description_zh="期末已过整改期限、本轮仍未报告整改的整改通知书份数。",
           description_en="Notices past their deadline at the period end whose current round was not yet reported "
           "rectified.",
           numerator=_m("sup_notices", agg=Agg.CUSTOM, custom="notices_overdue_open", sums_over_branches=True),
           unit=Unit.COUNT, direction=Direction.DOWN_GOOD, dimensions=_DIMS, target=0.0, decimals=0),
    Metric(id="supervision.steps_on_time_rate", category=Category.SUPERVISION, name_zh="步骤按期完成率",
           name_en="Plan steps on time",
           description_zh="时间节点在期内且已到期（或已完成）的方案步骤中，在时间节点前完成的占比；已驳回、已撤回方案不计。",
           description_en="Of the plan steps due in the period (deadline passed, or done), the share done by their "
           "deadline; rejected and withdrawn plans left out.",
           numerator=_m("sup_steps", agg=Agg.COUNT_DISTINCT, column="step_key",
                        where=(F("due", "==", True), F("on_time", "==", True))),
           denominator=_m("sup_steps", agg=Agg.COUNT_DISTINCT, column="step_key", where=(F("due", "==", True),)),
           unit=Unit.RATE, direction=Direction.UP_GOOD, dimensions=_DIMS, target=0.9),
    Metric(id="supervision.plan_delivery_days", category=Category.SUPERVISION, name_zh="方案平均落地天数",
           name_en="Days to deliver a plan",
           description_zh="期内完成的调整方案从批准到完成的平均天数，每个方案计一次。",
           description_en="Mean days from approval to completion over the plans completed in the period, each "
           "plan once.",
           numerator=_m("sup_plans", agg=Agg.CUSTOM, custom="plan_delivery_days"),
           unit=Unit.DAYS, direction=Direction.DOWN_GOOD, dimensions=_DIMS, decimals=1),
)
