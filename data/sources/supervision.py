"""Views of the plans and supervision records (migration 0009) that the supervision KPIs read.

They are declared like the analytical sources so the query layer (metrics/tables.py) scopes them
by branch and places their rows in periods the same way, but they are not uploads: they live in
`VIEWS`, not in `SOURCES` (which the ingest, the upload page and the templates walk). Their rows
come from data/plans (PlanStore, SupervisionStore); the SQL is in
data/sql/migrations/0009_supervision_views.sql.
"""

from data.sources.model import ColType, Column, Source


def _c(name: str, type_: ColType, zh: str, en: str) -> Column:
    return Column(name=name, type=type_, label_zh=zh, label_en=en)


SUP_NOTICES = Source(
    name="sup_notices", label_zh="整改通知书", label_en="Rectification notices",
    description_zh="每份整改通知书一行：所属网点、下发日期、首轮与当前整改期限、首次报告整改日期、复查通过日期。",
    description_en="One row per rectification notice: branch, issue date, first and current deadline, "
    "first reported rectification, re-check pass date.",
    columns=(
        _c("notice_id", ColType.ID, "通知书编号", "Notice"), _c("branch_id", ColType.ID, "网点编号", "Branch"),
        _c("issued_on", ColType.DATE, "下发日期", "Issued on"),
        _c("first_deadline", ColType.DATE, "首轮整改期限", "First deadline"),
        _c("deadline", ColType.DATE, "当前整改期限", "Current deadline"),
        _c("status", ColType.STR, "状态", "Status"), _c("round", ColType.INT, "整改轮次", "Round"),
        _c("responsible_dept", ColType.STR, "责任部门", "Responsible department"),
        _c("first_rectified_on", ColType.DATE, "首次报告整改日期", "First reported rectified"),
        _c("settled_on", ColType.DATE, "本轮整改日期", "Rectified (current round)"),
        _c("passed_on", ColType.DATE, "复查通过日期", "Re-check passed on"),
    ),
    key=("notice_id",), time_column="first_deadline",
)

SUP_RECHECKS = Source(
    name="sup_rechecks", label_zh="整改复查", label_en="Re-checks",
    description_zh="每次复查一行：网点、复查日期、是否通过（一份通知书可复查多次）。",
    description_en="One row per re-check: branch, date, passed or not (a notice may be re-checked more than once).",
    columns=(
        _c("recheck_id", ColType.ID, "复查编号", "Re-check"), _c("branch_id", ColType.ID, "网点编号", "Branch"),
        _c("rechecked_on", ColType.DATE, "复查日期", "Re-checked on"),
        Column(name="passed", type=ColType.ENUM, label_zh="是否通过", label_en="Passed",
               values={"true": ("通过",), "false": ("未通过",)}),
    ),
    key=("recheck_id",), time_column="rechecked_on",
)

SUP_STEPS = Source(
    name="sup_steps", label_zh="方案实施步骤", label_en="Plan steps",
    description_zh="调整方案的每个实施步骤按所涉网点各一行（全行方案网点为空）；已驳回、已撤回方案不计。",
    description_en="Each step of an adjustment plan, once per branch the plan covers (none for a bank-wide "
    "plan); rejected and withdrawn plans are left out.",
    columns=(
        _c("step_key", ColType.ID, "步骤", "Step"), _c("plan_id", ColType.ID, "方案编号", "Plan"),
        _c("step_no", ColType.INT, "步骤序号", "Step no."), _c("branch_id", ColType.ID, "网点编号", "Branch"),
        _c("kind", ColType.STR, "方案类型", "Plan kind"), _c("plan_status", ColType.STR, "方案状态", "Plan status"),
        _c("dept", ColType.STR, "责任部门", "Department"), _c("deadline", ColType.DATE, "时间节点", "Deadline"),
        _c("done_on", ColType.DATE, "完成日期", "Done on"),
        Column(name="on_time", type=ColType.ENUM, label_zh="按期完成", label_en="On time",
               values={"true": ("是",), "false": ("否",)}),
    ),
    key=("step_key", "branch_id"), time_column="deadline",
)

SUP_PLANS = Source(
    name="sup_plans", label_zh="调整方案", label_en="Adjustment plans",
    description_zh="每个调整方案按所涉网点各一行（全行方案网点为空）：类型、状态、批准与完成日期、落地天数。",
    description_en="Each adjustment plan, once per branch it covers (none for a bank-wide plan): kind, status, "
    "approval and completion dates, days to deliver.",
    columns=(
        _c("plan_id", ColType.ID, "方案编号", "Plan"), _c("branch_id", ColType.ID, "网点编号", "Branch"),
        _c("kind", ColType.STR, "方案类型", "Plan kind"), _c("status", ColType.STR, "状态", "Status"),
        _c("owner_dept", ColType.STR, "牵头部门", "Owner department"),
        _c("approved_on", ColType.DATE, "批准日期", "Approved on"), _c("done_on", ColType.DATE, "完成日期", "Done on"),
        _c("delivery_days", ColType.NUMBER, "落地天数", "Days to deliver"),
    ),
    key=("plan_id", "branch_id"), time_column="done_on",
)

VIEWS: dict[str, Source] = {s.name: s for s in (SUP_NOTICES, SUP_RECHECKS, SUP_STEPS, SUP_PLANS)}
