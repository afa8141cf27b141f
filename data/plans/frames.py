"""Plans and notices as tables: one place that turns records into DataFrames and JSON-ready
dicts (ISO dates, lists joined for CSV) — the CLI's list / show / export use it, pages may too.
Display formats (2025年3月5日, labels) are the page's business, not this module's.
"""

from __future__ import annotations

from datetime import date, datetime

import pandas as pd

from data.plans.model import PLAN_FIELDS, Notice, Plan

PLAN_COLUMNS = [*PLAN_FIELDS, "origins", "steps_total", "steps_done"]
STEP_COLUMNS = ["plan_id", "step_no", "what", "dept", "deadline", "done_on", "note"]


def _plain(v):
    if isinstance(v, datetime):
        return v.isoformat(sep=" ", timespec="seconds")
    if isinstance(v, date):
        return v.isoformat()
    if isinstance(v, tuple | list):
        return [_plain(x) for x in v]
    return getattr(v, "value", v)


def plan_dict(plan: Plan, *, full: bool = False) -> dict:
    """A plan as plain values; `full` adds its origins and steps as lists of dicts."""
    d = {f: _plain(getattr(plan, f)) for f in PLAN_FIELDS}
    if full:
        d["origins"] = [{k: _plain(v) for k, v in o.model_dump().items()} for o in plan.origins]
        d["steps"] = [{k: _plain(v) for k, v in s.model_dump().items()} for s in plan.steps]
    return d


def plans_frame(plans: list[Plan]) -> pd.DataFrame:
    """One row per plan; lists joined with commas (CSV), origins as kind:ref."""
    rows = []
    for p in plans:
        d = plan_dict(p)
        for k in ("target_kpis", "scope_branches"):
            d[k] = ",".join(d[k]) if d[k] else ""
        d["origins"] = ",".join(f"{o.origin_kind.value}:{o.origin_ref}" for o in p.origins)
        d["steps_total"] = len(p.steps)
        d["steps_done"] = sum(s.done_on is not None for s in p.steps)
        rows.append(d)
    return pd.DataFrame(rows, columns=PLAN_COLUMNS)


def export_frame(plans: list[Plan]) -> pd.DataFrame:
    """One row per step, with every column of its plan (`step_*` columns); a plan without steps
    still has one row (empty step columns), so no plan is missing from an export."""
    base = plans_frame(plans)
    rows = []
    for p, (_, row) in zip(plans, base.iterrows(), strict=True):
        steps = [{f"step_{k}": _plain(v) for k, v in s.model_dump().items() if k != "plan_id"} for s in p.steps]
        for st in steps or [{}]:
            rows.append({**row.to_dict(), **st})
    step_cols = [f"step_{c}" for c in STEP_COLUMNS if c != "plan_id"]
    return pd.DataFrame(rows, columns=[*PLAN_COLUMNS, *step_cols])


def notice_dict(n: Notice) -> dict:
    return {k: _plain(v) for k, v in n.model_dump().items()}


def notices_frame(notices: list[Notice]) -> pd.DataFrame:
    return pd.DataFrame([notice_dict(n) for n in notices], columns=list(Notice.model_fields))
