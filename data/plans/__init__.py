"""Adjustment plans (业务调整方案) and supervision (检查、整改通知书): the operational model.

Plain Python (no Streamlit), on the ops schema of migration 0006:

- `model`: the closed vocabularies with 中文/English labels (PlanKind, PlanStatus, NoticeStatus, …)
  and the frozen records (Plan, Step, Origin, Inspection, Finding, Notice);
- `transitions`: the declared table (entity, status, action) → (to status, permission) and
  `allowed_actions(entity, status, principal)` — the buttons a page may show;
- `checks`: errors are data (`Problem`, `PlanError` with every problem of a refused write);
- `scope`: the branch master and access-boundary rules every write and read applies;
- `store.PlanStore`: plans — create, edit, steps, origins, moves, scoped reads, history;
- `supervision.SupervisionStore`: inspections, findings, notices and their re-checks;
- `frames`: records as DataFrames / JSON-ready dicts (CLI, exports, pages).

Every accepted write is one transaction with its history row and its audit row; every refused
write changes nothing. See docs/plans.md.
"""

from data.plans.checks import PlanError, Problem, ProblemCode
from data.plans.model import NoticeStatus, OriginKind, PlanKind, PlanStatus, ScopeKind, Severity
from data.plans.store import NewStep, PlanStore
from data.plans.supervision import NewFinding, SupervisionStore
from data.plans.transitions import TRANSITIONS, allowed_actions

__all__ = ["TRANSITIONS", "NewFinding", "NewStep", "NoticeStatus", "OriginKind", "PlanError", "PlanKind",
           "PlanStatus", "PlanStore", "Problem", "ProblemCode", "ScopeKind", "Severity", "SupervisionStore",
           "allowed_actions"]
