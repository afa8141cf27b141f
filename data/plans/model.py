"""The closed vocabularies and records of adjustment plans and supervision (DOMAIN.md §1.5).

A plan (业务调整方案) says what changes (`change_text`), which KPIs it means to move
(`target_kpis`, ids of metrics.catalogue), where (`scope_*`: the bank, a region or branches —
always resolved to branch ids so per-branch KPIs and the access boundary can use them), who leads
it and its implementation steps, each with a department and a deadline (时间节点). Supervision
records an inspection (检查), its findings (one branch each) and a 整改通知书 per finding.

Enums carry their labels in 中文 and English (`.zh`, `.en`, `.label(lang)`); values are the
stored strings. Records are frozen pydantic models (`extra="forbid"`) built from the store's
rows; dates are `datetime.date` (ISO in data; `zh_date` formats one as 2025年3月5日 for display).
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict


class _Labelled(StrEnum):
    """A closed vocabulary whose members carry (中文, English) labels in `_LABELS`."""

    @property
    def zh(self) -> str:
        return _LABELS[type(self).__name__][self.value][0]

    @property
    def en(self) -> str:
        return _LABELS[type(self).__name__][self.value][1]

    def label(self, lang: str = "zh") -> str:
        return self.zh if lang == "zh" else self.en


class PlanKind(_Labelled):
    PROCESS = "process"
    PRODUCT_SERVICE = "product_service"
    STAFFING = "staffing"


class PlanStatus(_Labelled):
    PROPOSED = "proposed"
    EVALUATED = "evaluated"
    APPROVED = "approved"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    REVIEWED = "reviewed"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


class NoticeStatus(_Labelled):
    """`rechecked_fail` is never a resting state: a failed re-check reopens the notice (back to
    `issued`, round + 1, a new deadline); it names that outcome in the history and on pages."""

    ISSUED = "issued"
    RECTIFIED = "rectified"
    RECHECKED_PASS = "rechecked_pass"
    RECHECKED_FAIL = "rechecked_fail"


class ScopeKind(_Labelled):
    BANK = "bank"
    REGION = "region"
    BRANCHES = "branches"


class OriginKind(_Labelled):
    ANOMALY = "anomaly"
    TOPIC = "topic"
    MARKET_EVENT = "market_event"
    FINDING = "finding"
    STAFFING_ADVICE = "staffing_advice"  # a suggestion of the counter page's staffing advice (branch:weekday:hours)


class Severity(_Labelled):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


_LABELS: dict[str, dict[str, tuple[str, str]]] = {
    "PlanKind": {"process": ("流程调整", "Process adjustment"),
                 "product_service": ("产品与服务调整", "Product and service adjustment"),
                 "staffing": ("人员配置调整", "Staffing adjustment")},
    "PlanStatus": {"proposed": ("已提出", "Proposed"), "evaluated": ("已评估", "Evaluated"),
                   "approved": ("已批准", "Approved"), "in_progress": ("实施中", "In progress"),
                   "done": ("已完成", "Done"), "reviewed": ("已复盘", "Reviewed"),
                   "rejected": ("已驳回", "Rejected"), "withdrawn": ("已撤回", "Withdrawn")},
    "NoticeStatus": {"issued": ("已下发", "Issued"), "rectified": ("已整改", "Rectified"),
                     "rechecked_pass": ("复查通过", "Re-check passed"),
                     "rechecked_fail": ("复查未通过", "Re-check failed")},
    "ScopeKind": {"bank": ("全行", "Whole bank"), "region": ("区域", "Region"), "branches": ("指定机构", "Branches")},
    "OriginKind": {"anomaly": ("异常", "Anomaly"), "topic": ("专题", "Topic"),
                   "market_event": ("市场事件", "Market event"), "finding": ("检查发现", "Inspection finding"),
                   "staffing_advice": ("窗口配置建议", "Staffing advice")},
    "Severity": {"low": ("一般", "Low"), "medium": ("较重", "Medium"), "high": ("严重", "High")},
}

# Statuses a plan never leaves (no move of the transition table starts there).
FINAL_PLAN_STATUSES = frozenset({PlanStatus.REVIEWED, PlanStatus.REJECTED, PlanStatus.WITHDRAWN})
# While a plan is in one of these its content (title, change, KPIs, scope, evaluation texts) may be edited.
EDITABLE_PLAN_STATUSES = frozenset({PlanStatus.PROPOSED, PlanStatus.EVALUATED})
# Steps may be added in these, and completed in the last two.
STEP_ADD_STATUSES = frozenset({PlanStatus.PROPOSED, PlanStatus.EVALUATED, PlanStatus.APPROVED,
                               PlanStatus.IN_PROGRESS})
STEP_DONE_STATUSES = frozenset({PlanStatus.APPROVED, PlanStatus.IN_PROGRESS})


def zh_date(d: date | None) -> str:
    """`2025年3月5日` — presentation only; data stays ISO."""
    return "" if d is None else f"{d.year}年{d.month}月{d.day}日"


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Origin(_Record):
    """Why a plan exists: an anomaly, a topic, a market event or an inspection finding."""

    origin_kind: OriginKind
    origin_ref: str
    label: str | None = None


class Step(_Record):
    """One implementation step (实施步骤) with its department (责任部门) and deadline (时间节点)."""

    plan_id: str
    step_no: int
    what: str
    dept: str
    deadline: date
    done_on: date | None = None
    note: str | None = None

    def overdue(self, today: date) -> bool:
        return self.done_on is None and self.deadline < today

    def on_time(self) -> bool | None:
        """Done by its deadline (步骤按期完成率); None while open."""
        return None if self.done_on is None else self.done_on <= self.deadline


class Plan(_Record):
    """One adjustment plan as stored (ops.plans); `origins` and `steps` filled by `get_plan`."""

    plan_id: str
    kind: PlanKind
    title: str
    change_text: str
    target_kpis: tuple[str, ...]
    scope_kind: ScopeKind
    scope_region: str | None = None
    scope_branches: tuple[str, ...] | None = None  # None: the whole bank
    effect_start: date | None = None
    owner_dept: str
    owner_person: str | None = None
    necessity: str | None = None
    feasibility: str | None = None
    expected_impact: str | None = None
    status: PlanStatus
    proposed_on: date | None = None  # 提出日期 (migration 0010); every milestone is on or after it
    evaluated_on: date | None = None
    approved_on: date | None = None
    started_on: date | None = None
    done_on: date | None = None
    reviewed_on: date | None = None
    closed_on: date | None = None
    created_at: datetime
    created_by: str
    updated_at: datetime
    updated_by: str
    version: int
    origins: tuple[Origin, ...] = ()
    steps: tuple[Step, ...] = ()


class Inspection(_Record):
    """An inspection (检查) of some branches by a department."""

    inspection_id: str
    title: str
    inspecting_dept: str
    inspected_on: date
    scope_branches: tuple[str, ...]
    inspector: str | None = None
    created_at: datetime
    created_by: str


class Finding(_Record):
    """A problem an inspection found at one branch."""

    finding_id: str
    inspection_id: str
    branch_id: str
    text: str
    severity: Severity


class Notice(_Record):
    """A 整改通知书 as stored (ops.notices): one branch, the current round's deadline."""

    notice_id: str
    finding_id: str
    branch_id: str
    issued_on: date
    first_deadline: date
    deadline: date
    responsible_dept: str
    measures: str | None = None
    status: NoticeStatus
    round: int
    rectified_on: date | None = None
    rechecked_on: date | None = None
    recheck_note: str | None = None
    created_at: datetime
    created_by: str
    updated_at: datetime
    updated_by: str
    version: int

    def overdue(self, today: date) -> bool:
        """逾期未整改: still issued after its deadline."""
        return self.status == NoticeStatus.ISSUED and self.deadline < today


PLAN_FIELDS = tuple(f for f in Plan.model_fields if f not in ("origins", "steps"))
STEP_FIELDS = tuple(Step.model_fields)
NOTICE_FIELDS = tuple(Notice.model_fields)
INSPECTION_FIELDS = tuple(Inspection.model_fields)
FINDING_FIELDS = tuple(Finding.model_fields)
