"""Built-in scorecard measures: what a scorecard criterion can score beyond the catalogue's KPIs.

Declared once here (`BUILTINS`), read by the definition's validation (metrics/scorecard_def.py),
the scoring (metrics/scorecard.py), docs/scorecard.md and the tests. Three kinds:

- `change`: a catalogue KPI's change against the previous period (Δ CSAT, Δ complaints per 10,000
  counter tickets, Δ on-time closure rate) — the same KPI query, one period earlier; a rate's
  change is a fraction (0.02 = 2 个百分点), in the direction of the KPI it changes.
- `sql`: a named block of data/sql/scorecard.sql (market response speed: days from a market event
  to the first approved plan that names it as its origin and covers the unit).
- `effect`: the measured effects of the unit's completed plans (metrics/effect.py,
  difference-in-differences against comparison branches): the share whose effect on their first
  target KPI is credible and significant in the good direction.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from metrics.model import Direction, Unit


class BuiltinKind(StrEnum):
    CHANGE = "change"
    SQL = "sql"
    EFFECT = "effect"


class Builtin(BaseModel):
    """One built-in measure: names, unit and direction like a KPI's, and how it is computed."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    kind: BuiltinKind
    name_zh: str
    name_en: str
    description_zh: str
    description_en: str
    unit: Unit
    direction: Direction
    of: str | None = None  # change: the catalogue KPI whose change it is
    block: str | None = None  # sql: the named block (namespace.block)
    decimals: int = 2

    def name(self, lang: str) -> str:
        return self.name_zh if lang == "zh" else self.name_en

    def description(self, lang: str) -> str:
        return self.description_zh if lang == "zh" else self.description_en


# how long after a plan's effect start its effect is measured (a fixed window, so an old plan's
# measured effect does not drift as later data arrive, and one estimate serves every later period)
EFFECT_WINDOW_DAYS = 182
# the plans a period's measured-effect criterion looks back over: completed in this many days up to its end
EFFECT_LOOKBACK_DAYS = 365

BUILTINS: dict[str, Builtin] = {b.id: b for b in (
    Builtin(id="scorecard.market_response_days", kind=BuiltinKind.SQL, block="scorecard.market_response",
            name_zh="市场响应速度", name_en="Market response speed",
            description_zh="市场或政策事件发生到首个以其为来源、覆盖本机构的调整方案获批的平均天数（按获批日期计入期间）；"
                           "期内没有获批响应的机构本项无数据。",
            description_en="Mean days from a market or policy event to the approval of the first plan that names it as "
                           "its origin and covers the unit (placed in the period of the approval); a unit without an "
                           "approved response in the period has no value.",
            unit=Unit.DAYS, direction=Direction.DOWN_GOOD, decimals=1),
    Builtin(id="scorecard.csat_change", kind=BuiltinKind.CHANGE, of="feedback.satisfaction_rate",
            name_zh="客户满意度提升", name_en="CSAT improvement",
            description_zh="客户满意度较上期的变化（个百分点）。",
            description_en="Change of CSAT against the previous period (percentage points).",
            unit=Unit.RATE, direction=Direction.UP_GOOD),
    Builtin(id="scorecard.complaints_per_10k_change", kind=BuiltinKind.CHANGE, of="feedback.complaints_per_10k",
            name_zh="万笔业务投诉量变化", name_en="Change in complaints per 10,000 tickets",
            description_zh="万笔业务投诉量较上期的变化（件/万笔），下降为好。",
            description_en="Change of complaints per 10,000 served counter tickets against the previous period; "
                           "a fall is good.",
            unit=Unit.PER_10K, direction=Direction.DOWN_GOOD),
    Builtin(id="scorecard.on_time_closure_change", kind=BuiltinKind.CHANGE, of="feedback.on_time_closure_rate",
            name_zh="按时办结率变化", name_en="Change in on-time closure",
            description_zh="投诉按时办结率较上期的变化（个百分点）。",
            description_en="Change of the on-time closure rate of complaints against the previous period "
                           "(percentage points).",
            unit=Unit.RATE, direction=Direction.UP_GOOD),
    Builtin(id="scorecard.plan_effect_rate", kind=BuiltinKind.EFFECT,
            name_zh="方案效果达成率", name_en="Plans with a measured effect",
            description_zh=f"截至期末{EFFECT_LOOKBACK_DAYS}天内完成、覆盖本机构、实施满{EFFECT_WINDOW_DAYS}天的调整方案中，"
                           f"实施后{EFFECT_WINDOW_DAYS}天内对首个目标指标的效果评估可信、显著且方向向好的占比；无法评估的方案不计入。",
            description_en=f"Of the plans covering the unit, completed in the {EFFECT_LOOKBACK_DAYS} days to the period "
                           f"end whose effect started at least {EFFECT_WINDOW_DAYS} days before it, the share whose "
                           f"effect on their first target KPI over those {EFFECT_WINDOW_DAYS} days is credible and "
                           "significant in the good direction; plans that cannot be estimated are left out.",
            unit=Unit.RATE, direction=Direction.UP_GOOD),
)}


def get_builtin(measure_id: str) -> Builtin | None:
    return BUILTINS.get(measure_id)
