"""Customer feedback (客户反馈) KPIs — DOMAIN.md §1.3. Cohort rates are over complaints
*received* in the period (withdrawn ones excluded)."""

from metrics.model import Agg, Category, Direction, F, Measure, Metric, Unit

_F = "feedback_records"
COMPLAINT = F("feedback_kind", "==", "complaint")
LIVE = F("status", "!=", "withdrawn")
_DIMS = ("branch", "region", "sub_branch", "channel", "category", "business_line")
COMPLAINTS = Measure(source=_F, agg=Agg.COUNT, where=(COMPLAINT,))
COHORT = Measure(source=_F, agg=Agg.COUNT, where=(COMPLAINT, LIVE))


def _m(**kw) -> Measure:
    return Measure(source=_F, **kw)


FEEDBACK = (
    Metric(id="feedback.complaints", category=Category.FEEDBACK, name_zh="投诉量", name_en="Complaints",
           description_zh="期内受理的投诉件数（不含建议、咨询、表扬）。",
           description_en="Complaints received in the period (suggestions, inquiries and praise excluded).",
           numerator=COMPLAINTS, unit=Unit.COUNT, direction=Direction.DOWN_GOOD, dimensions=_DIMS, headline=True,
           decimals=0),
    Metric(id="feedback.volume", category=Category.FEEDBACK, name_zh="客户反馈量", name_en="Feedback volume",
           description_zh="各渠道受理的全部反馈（投诉、建议、咨询、表扬）。",
           description_en="All feedback received from every channel.",
           numerator=_m(agg=Agg.COUNT), unit=Unit.COUNT, direction=Direction.NEUTRAL, dimensions=(*_DIMS, "kind"),
           decimals=0),
    Metric(id="feedback.complaints_per_10k", category=Category.FEEDBACK, name_zh="万笔业务投诉量",
           name_en="Complaints per 10,000 transactions",
           description_zh="投诉件数 ÷ 柜台办理笔数 × 10,000。", description_en="Complaints per 10,000 served counter tickets.",
           numerator=COMPLAINTS, denominator=Measure(source="counter_tickets", agg=Agg.COUNT, where=(F("status", "==", "served"),)),
           multiplier=10_000, unit=Unit.PER_10K, direction=Direction.DOWN_GOOD, dimensions=("branch", "region", "sub_branch")),
    Metric(id="feedback.closure_rate", category=Category.FEEDBACK, name_zh="投诉办结率", name_en="Closure rate",
           description_zh="期内受理的投诉中已办结的比例。", description_en="Share of the period's complaints that are closed.",
           numerator=_m(agg=Agg.COUNT, where=(COMPLAINT, LIVE, F("status", "==", "closed"))), denominator=COHORT,
           unit=Unit.RATE, direction=Direction.UP_GOOD, dimensions=_DIMS),
    Metric(id="feedback.on_time_closure_rate", category=Category.FEEDBACK, name_zh="按时办结率", name_en="On-time closure rate",
           description_zh="期内受理、已办结或已过处理时限的投诉中，在时限内办结的比例（简单15天、复杂30天、特别复杂60天，可配置）；"
                          "尚在时限内的未结投诉不计入。",
           description_en="Of the period's complaints that are closed or past their limit, the share closed within it "
                          "(15/30/60 days, configurable); open cases still within their limit are not counted yet.",
           numerator=_m(agg=Agg.COUNT, where=(COMPLAINT, LIVE, F("on_time", "==", True))),
           denominator=_m(agg=Agg.COUNT, where=(COMPLAINT, LIVE, F("matured", "==", True))),
           unit=Unit.RATE, direction=Direction.UP_GOOD, dimensions=_DIMS, headline=True, target=0.95),
    Metric(id="feedback.handling_days_avg", category=Category.FEEDBACK, name_zh="平均处理时长", name_en="Average handling time",
           description_zh="已办结投诉从受理到办结的平均天数。", description_en="Mean days from receipt to closure of closed complaints.",
           numerator=_m(agg=Agg.MEAN, column="handling_days", where=(COMPLAINT, F("status", "==", "closed"))),
           unit=Unit.DAYS, direction=Direction.DOWN_GOOD, dimensions=_DIMS, decimals=1),
    Metric(id="feedback.first_reply_days_avg", category=Category.FEEDBACK, name_zh="首次答复平均时长",
           name_en="Time to first reply",
           description_zh="已答复投诉从受理到首次答复客户的平均天数（未答复的不计入）。",
           description_en="Mean days from receipt to the first reply to the customer, over replied complaints.",
           numerator=_m(agg=Agg.MEAN, column="first_reply_days", where=(COMPLAINT, F("replied_at", "not null"))),
           unit=Unit.DAYS, direction=Direction.DOWN_GOOD, dimensions=_DIMS, decimals=1),
    Metric(id="feedback.satisfaction_rate", category=Category.FEEDBACK, name_zh="客户满意度", name_en="Satisfaction (CSAT)",
           description_zh="（满意 + 基本满意）÷ 回访数。", description_en="(Satisfied + basically satisfied) over follow-ups.",
           numerator=_m(agg=Agg.COUNT, where=(F("satisfaction", "in", ("satisfied", "basically_satisfied")),)),
           denominator=_m(agg=Agg.COUNT, where=(F("satisfaction", "not null"),)), unit=Unit.RATE,
           direction=Direction.UP_GOOD, dimensions=_DIMS, headline=True, target=0.9),
    Metric(id="feedback.nps", category=Category.FEEDBACK, name_zh="净推荐值 NPS", name_en="Net promoter score",
           description_zh="推荐者（9–10分）占比 − 贬损者（0–6分）占比，取值 −100 至 100。",
           description_en="% promoters (9–10) − % detractors (0–6), from −100 to 100.",
           numerator=_m(agg=Agg.SUM, column="nps_class", where=(F("nps_score", "not null"),)),
           denominator=_m(agg=Agg.COUNT, where=(F("nps_score", "not null"),)), multiplier=100, unit=Unit.SCORE,
           direction=Direction.UP_GOOD, dimensions=_DIMS, decimals=1),
    Metric(id="feedback.open_past_limit", category=Category.FEEDBACK, name_zh="超时未办结投诉", name_en="Open cases past limit",
           description_zh="期末仍未办结且已超过处理时限的投诉件数。",
           description_en="Complaints still open at the period end and already past their handling limit.",
           numerator=_m(agg=Agg.CUSTOM, custom="open_past_limit"), unit=Unit.COUNT, direction=Direction.DOWN_GOOD,
           dimensions=_DIMS, target=0.0, decimals=0),
)
