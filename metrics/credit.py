"""Credit (信贷) KPIs — DOMAIN.md §1.1. Balances are stocks: evaluated on the period's last
snapshot, never summed across dates; disbursements are flows, each loan counted once."""

from metrics.columns import NPL_CLASSES
from metrics.model import Agg, Category, Direction, F, Measure, Metric, Unit

_L = "loan_snapshot"
_DIMS = ("branch", "region", "sub_branch", "product", "segment", "industry", "approver", "loan_officer", "guarantee",
         "cohort")
BALANCE = Measure(source=_L, agg=Agg.SUM, column="outstanding_balance", stock=True)
NPL = F("risk_class", "in", NPL_CLASSES)


def _stock(column: str = "outstanding_balance", *where) -> Measure:
    return Measure(source=_L, agg=Agg.SUM, column=column, stock=True, where=tuple(where))


_FLOW = dict(source=_L, time="disbursement_date", distinct_loans=True)

CREDIT = (
    Metric(id="credit.disbursed_amount", category=Category.CREDIT, name_zh="贷款发放额", name_en="Loans disbursed",
           description_zh="发放日期在期内的借据金额合计（流量，每笔借据只计一次）。",
           description_en="Amount of loans whose disbursement date falls in the period (a flow; each loan once).",
           numerator=Measure(agg=Agg.SUM, column="loan_amount", **_FLOW), unit=Unit.YUAN, direction=Direction.UP_GOOD,
           dimensions=_DIMS, headline=True),
    Metric(id="credit.disbursed_count", category=Category.CREDIT, name_zh="贷款发放笔数", name_en="Loans disbursed (count)",
           description_zh="发放日期在期内的借据笔数。", description_en="Number of loans disbursed in the period.",
           numerator=Measure(agg=Agg.COUNT, **_FLOW), unit=Unit.COUNT, direction=Direction.UP_GOOD, dimensions=_DIMS,
           decimals=0),
    Metric(id="credit.balance", category=Category.CREDIT, name_zh="贷款余额", name_en="Loan balance",
           description_zh="期末数据日期的贷款余额合计（存量，不跨日期相加）。",
           description_en="Outstanding balance at the period's last snapshot (a stock, never summed over dates).",
           numerator=BALANCE, unit=Unit.YUAN, direction=Direction.UP_GOOD, dimensions=_DIMS, headline=True),
    Metric(id="credit.overdue_rate", category=Category.CREDIT, name_zh="逾期贷款率", name_en="Overdue loan ratio",
           description_zh="逾期贷款余额 ÷ 各项贷款余额。口径可选：有逾期借据的全部余额（默认），或仅逾期本金。",
           description_en="Overdue loans over total loans; basis: whole balance of loans with any overdue (default) "
                          "or the overdue principal only.",
           numerator={"loan": _stock("outstanding_balance", F("days_past_due", ">", 0)),
                      "amount": _stock("overdue_principal")},
           option="overdue_basis", denominator=BALANCE, unit=Unit.RATE, direction=Direction.DOWN_GOOD,
           dimensions=_DIMS, headline=True, target=0.02),
    Metric(id="credit.overdue90_rate", category=Category.CREDIT, name_zh="逾期90天以上贷款率", name_en="90+ days overdue ratio",
           description_zh="逾期90天以上贷款余额 ÷ 各项贷款余额。", description_en="Balance more than 90 days past due over total loans.",
           numerator=_stock("outstanding_balance", F("days_past_due", ">", 90)), denominator=BALANCE, unit=Unit.RATE,
           direction=Direction.DOWN_GOOD, dimensions=_DIMS),
    Metric(id="credit.npl_ratio", category=Category.CREDIT, name_zh="不良贷款率", name_en="NPL ratio",
           description_zh="（次级类+可疑类+损失类贷款）÷ 各项贷款，均为期末余额。",
           description_en="(Substandard + doubtful + loss) over total loans, balances at the period end.",
           numerator=_stock("outstanding_balance", NPL), denominator=BALANCE, unit=Unit.RATE,
           direction=Direction.DOWN_GOOD, dimensions=_DIMS, headline=True, target=0.015),
    Metric(id="credit.special_mention_share", category=Category.CREDIT, name_zh="关注类贷款占比", name_en="Special-mention share",
           description_zh="关注类贷款余额 ÷ 各项贷款余额（不良的先行指标）。",
           description_en="Special-mention balance over total loans (a leading indicator of NPLs).",
           numerator=_stock("outstanding_balance", F("risk_class", "==", "special_mention")), denominator=BALANCE,
           unit=Unit.RATE, direction=Direction.DOWN_GOOD, dimensions=_DIMS),
    Metric(id="credit.sm_migration_rate", category=Category.CREDIT, name_zh="关注类贷款迁徙率", name_en="Special-mention migration rate",
           description_zh="期初关注类贷款向下迁徙（次级及以下）金额 ÷（期初关注类余额 − 期间减少金额）。",
           description_en="Opening special-mention loans that moved to substandard or worse, over the opening "
                          "special-mention balance less its reduction in the period.",
           numerator=Measure(source=_L, agg=Agg.CUSTOM, custom="sm_migration_down"),
           denominator=Measure(source=_L, agg=Agg.CUSTOM, custom="sm_migration_base"), unit=Unit.RATE,
           direction=Direction.DOWN_GOOD, dimensions=("branch", "region", "sub_branch", "product", "segment")),
    Metric(id="credit.overdue90_to_npl", category=Category.CREDIT, name_zh="逾期90天以上贷款与不良贷款比例",
           name_en="90+ overdue to NPL ratio",
           description_zh="逾期90天以上贷款余额 ÷ 不良贷款余额；超过100%说明有逾期90天以上贷款未划入不良。",
           description_en="90+ days overdue balance over NPL balance; above 100 % means 90+ loans are not classified NPL.",
           numerator=_stock("outstanding_balance", F("days_past_due", ">", 90)),
           denominator=_stock("outstanding_balance", NPL), unit=Unit.RATE, direction=Direction.DOWN_GOOD,
           dimensions=_DIMS, target=1.0),
    Metric(id="credit.five_class_violations", category=Category.CREDIT, name_zh="五级分类违规笔数",
           name_en="Risk-class rule violations",
           description_zh="期末快照中五级分类与逾期天数不符的借据数（逾期却为正常、逾期90天以上未入不良等）。",
           description_en="Loans at the period end whose risk class contradicts days past due (2023 rules).",
           numerator=Measure(source=_L, agg=Agg.COUNT, stock=True, where=(F("five_class_violation", "==", True),)),
           unit=Unit.COUNT, direction=Direction.DOWN_GOOD, dimensions=_DIMS, target=0.0, decimals=0),
)
