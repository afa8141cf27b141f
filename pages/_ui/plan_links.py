"""“Create a plan” from a finding: the link every origin page draws, and its reading on the plans page.

An anomaly (pages/anomalies.py), a complaint hot topic (pages/feedback.py), a market event
(pages/market.py), an inspection finding (pages/actions.py) and a staffing suggestion (the counter
page) each offer one click that opens the 调整与整改 page with a new-plan form filled in: the origin,
the KPI, the scope, a suggested owner department (and, for a suggestion, the kind and the change). The prefill travels in the URL (`?new=1&origin_kind=…`), so the link can also be sent
to a colleague; the plans page reads only the keys below and checks every value again when the plan
is submitted (data/plans validates kind, KPI, branches and origin), so a hand-edited URL can fill a
form but not write anything.
"""

from __future__ import annotations

import streamlit as st

from pages._ui.i18n import current_lang, t

PAGE = "pages/actions.py"
KEYS = ("new", "origin_kind", "origin_ref", "origin_label", "kpi", "branches", "region", "owner", "title", "kind",
        "change")
MAX_LEN = 200

# Which department usually owns a change, by the KPI's category and by the cause the scan found
# (DOMAIN.md §1.5: 运营管理部 for counter work, 授信审批部/风险管理部 for credit, 消费者权益保护部 for complaints).
OWNER_BY_CATEGORY = {"counter": "运营管理部", "credit": "风险管理部", "feedback": "消费者权益保护部",
                     "market": "计划财务部", "supervision": "内控合规部"}
# A market or policy event: the KPI a response would target and the department that owns it.
KPI_BY_IMPACT = {"credit_pricing": "credit.disbursed_amount", "credit_risk": "credit.overdue_rate",
                 "liquidity": "credit.balance", "counter": "counter.wait_avg_min", "complaints": "feedback.complaints"}
OWNER_BY_IMPACT = {"credit_pricing": "计划财务部", "credit_risk": "风险管理部", "liquidity": "计划财务部",
                   "counter": "运营管理部", "complaints": "消费者权益保护部"}
OWNER_BY_CAUSE = {"internal_approval": "授信审批部", "customer_segment": "公司业务部", "market": "计划财务部"}


def suggested_owner(category: str | None, cause: str | None = None) -> str:
    """The department a new plan is suggested for (the person may change it)."""
    return OWNER_BY_CAUSE.get(cause or "") or OWNER_BY_CATEGORY.get(category or "", "")


def prefill_params(*, origin_kind: str, origin_ref: str, origin_label: str = "", kpi: str | None = None,
                   branches: list[str] | tuple[str, ...] = (), region: str | None = None, owner: str = "",
                   title: str = "", kind: str = "process", change: str = "") -> dict[str, str]:
    """The query parameters of the new-plan link (values cut to a sane length)."""
    raw = {"new": "1", "origin_kind": origin_kind, "origin_ref": origin_ref, "origin_label": origin_label,
           "kpi": kpi or "", "branches": ",".join(branches), "region": region or "", "owner": owner,
           "title": title, "kind": kind, "change": change}
    return {k: str(v)[:MAX_LEN] for k, v in raw.items() if v}


def read_prefill(params) -> dict[str, str] | None:
    """The prefill in `params` (st.query_params or a dict) when it asks for a new plan, else None."""
    if str(params.get("new", "")) != "1":
        return None
    return {k: str(params.get(k, ""))[:MAX_LEN] for k in KEYS if k != "new"}


def create_plan_link(**prefill) -> None:
    """The one-click link to a pre-filled new plan (drawn only for people who may propose plans)."""
    from pages._ui import auth

    if not auth.can("plan"):
        return
    st.page_link(PAGE, label=t("pl.create"), icon=":material/add_task:", query_params=prefill_params(**prefill))


def show_plans_for(origin_kind: str, origin_ref: str) -> None:
    """A caption naming the plans this finding already led to (inside the person's boundary)."""
    found = plans_for(origin_kind, origin_ref)
    if found:
        st.caption(t("pl.led_to", ids="、".join(f"{p.plan_id}（{p.status.label('zh')}）" for p in found)
                     if current_lang() == "zh" else ", ".join(f"{p.plan_id} ({p.status.label('en')})" for p in found)))


def plans_for(origin_kind: str, origin_ref: str) -> list:
    """The plans a finding led to, inside the signed-in person's boundary (the flag shows them)."""
    from data.plans import PlanStore
    from pages._ui import auth
    from pages._ui.store import get_store

    who = auth.current_user()
    if who is None:
        return []
    return PlanStore(get_store()).plans_for_origin(origin_kind, origin_ref, who)
