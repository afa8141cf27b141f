"""The declared table of status moves for plans and 整改通知书, and who may make them.

`TRANSITIONS[(entity, from_status, action)] = Move(to_status, permission)` is the whole truth:
`data.plans.store` refuses every (status, action) the table does not list and every principal
whose permissions (`Principal.can`: role or group) lack the move's permission; the page shows
only the buttons `allowed_actions` returns; tests/test_plans_transitions.py walks the table.

Plan:      proposed → evaluated → approved → in_progress → done → reviewed
           proposed | evaluated → rejected (a manager says no)
           proposed | evaluated | approved | in_progress → withdrawn
Notice:    issued → rectified → rechecked_pass
           rectified → issued again on a failed re-check (round + 1, a new deadline)

Permissions (data/users.PERMISSIONS): `plan` (analyst and above) proposes, evaluates, starts and
completes a plan and withdraws it before approval, and reports a notice rectified (the inspected
branch's people); `approve` (manager and above) approves, rejects, reviews (复盘) and withdraws an
approved plan; `supervise` (admin, or the `supervision` group) re-checks a notice.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from data.plans.model import NoticeStatus, PlanStatus


class Entity(StrEnum):
    PLAN = "plan"
    NOTICE = "notice"


class PlanAction(StrEnum):
    EVALUATE = "evaluate"
    APPROVE = "approve"
    REJECT = "reject"
    START = "start"
    COMPLETE = "complete"
    REVIEW = "review"
    WITHDRAW = "withdraw"


class NoticeAction(StrEnum):
    RECTIFY = "rectify"
    RECHECK_PASS = "recheck_pass"
    RECHECK_FAIL = "recheck_fail"


ACTION_LABELS: dict[str, tuple[str, str]] = {
    "evaluate": ("评估", "Evaluate"), "approve": ("批准", "Approve"), "reject": ("驳回", "Reject"),
    "start": ("开始实施", "Start"), "complete": ("完成", "Complete"), "review": ("复盘", "Review"),
    "withdraw": ("撤回", "Withdraw"), "rectify": ("报告已整改", "Report rectified"),
    "recheck_pass": ("复查通过", "Re-check: pass"), "recheck_fail": ("复查未通过", "Re-check: fail"),
}


@dataclass(frozen=True)
class Move:
    to_status: str
    permission: str


P, N = Entity.PLAN, Entity.NOTICE
PS, NS, PA, NA = PlanStatus, NoticeStatus, PlanAction, NoticeAction

TRANSITIONS: dict[tuple[Entity, str, str], Move] = {
    (P, PS.PROPOSED, PA.EVALUATE): Move(PS.EVALUATED, "plan"),
    (P, PS.PROPOSED, PA.REJECT): Move(PS.REJECTED, "approve"),
    (P, PS.PROPOSED, PA.WITHDRAW): Move(PS.WITHDRAWN, "plan"),
    (P, PS.EVALUATED, PA.APPROVE): Move(PS.APPROVED, "approve"),
    (P, PS.EVALUATED, PA.REJECT): Move(PS.REJECTED, "approve"),
    (P, PS.EVALUATED, PA.WITHDRAW): Move(PS.WITHDRAWN, "plan"),
    (P, PS.APPROVED, PA.START): Move(PS.IN_PROGRESS, "plan"),
    (P, PS.APPROVED, PA.WITHDRAW): Move(PS.WITHDRAWN, "approve"),
    (P, PS.IN_PROGRESS, PA.COMPLETE): Move(PS.DONE, "plan"),
    (P, PS.IN_PROGRESS, PA.WITHDRAW): Move(PS.WITHDRAWN, "approve"),
    (P, PS.DONE, PA.REVIEW): Move(PS.REVIEWED, "approve"),
    (N, NS.ISSUED, NA.RECTIFY): Move(NS.RECTIFIED, "plan"),
    (N, NS.RECTIFIED, NA.RECHECK_PASS): Move(NS.RECHECKED_PASS, "supervise"),
    (N, NS.RECTIFIED, NA.RECHECK_FAIL): Move(NS.ISSUED, "supervise"),
}

# Moves whose history row must say why (a reason is required).
NEEDS_REASON = frozenset({PA.REJECT, PA.WITHDRAW, NA.RECHECK_FAIL})

STATUSES: dict[Entity, tuple[str, ...]] = {P: tuple(PlanStatus), N: tuple(NoticeStatus)}
ACTIONS: dict[Entity, tuple[str, ...]] = {P: tuple(PlanAction), N: tuple(NoticeAction)}


def move_for(entity: Entity | str, status: str, action: str) -> Move | None:
    """The table's move for (entity, status, action); None when the table does not allow it."""
    return TRANSITIONS.get((Entity(entity), str(status), str(action)))


def allowed_actions(entity: Entity | str, status: str, principal) -> list[str]:
    """The actions `principal` may take on a record in `status` (the buttons a page shows), in the
    table's order. Scope is not checked here: a record outside the boundary is never shown."""
    e = Entity(entity)
    return [a for (ent, st, a), m in TRANSITIONS.items() if ent == e and st == str(status)
            and principal.can(m.permission)]


def permissions() -> frozenset[str]:
    """Every permission the table names (each must be one of data/users.PERMISSIONS)."""
    return frozenset(m.permission for m in TRANSITIONS.values())
