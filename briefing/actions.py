"""The briefing's 调整与整改 section: what was done about what the monitoring found.

For the briefing's period and scope: plans opened, approved and completed; plans with a step
past its deadline; rectification notices issued, rectified, re-checked (passed / failed) and
overdue; the supervision KPIs of the catalogue with their targets; and the measured effect of
the plans completed in the last year (metrics/effect.py, in the KPI's own unit, with its interval
and whether the comparison is credible). Reads go through the named blocks of
data/sql/actions.sql, inside the scope (a plan counts only when all its branches are inside it,
the rule the pages apply); a missing table is an empty section, any other failure a BriefingError.
"""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd

from metrics.catalogue import get_metric
from metrics.format import fmt_value

EFFECT_LOOKBACK_DAYS = 365
MAX_EFFECTS = 4


def _ids(b) -> tuple[bool, list[str]]:
    """(whole bank?, the branch ids of the briefing's scope)."""
    s, br = b.scope, b.branches
    ids = set(br["branch_id"])
    if s.branch_ids is not None:
        ids &= set(s.branch_ids)
    if s.region:
        ids &= set(br.loc[br["region"] == s.region, "branch_id"])
    if s.branch:
        ids &= set(br.loc[(br["branch_id"] == s.branch) | (br["parent_id"] == s.branch), "branch_id"])
    whole = s.branch_ids is None and not s.region and not s.branch
    return whole, sorted(ids)


def _day(v) -> date | None:
    return None if v is None or pd.isna(v) else pd.Timestamp(v).date()


def items(b, section) -> list:
    """The section's items (Paragraph, Subheading, Table of briefing.content)."""
    from briefing.content import Paragraph, Subheading, Table, _guarded

    t, lang = b.t, b.lang
    start, end, as_of = b.req.start, b.req.end, b.as_of
    whole, ids = _ids(b)

    def read_plans():
        return b.store.query("actions.briefing_plans", whole=whole, ids=ids, as_of=as_of).df()

    def read_notices():
        return b.store.query("actions.briefing_notices", whole=whole, ids=ids, start=start, end=end).df()

    plans = _guarded(b.store, "ops", "plans", "调整方案", "the adjustment plans", read_plans, pd.DataFrame)
    notices = _guarded(b.store, "ops", "notices", "整改通知书", "the rectification notices", read_notices,
                       pd.DataFrame)
    out: list = []
    if plans.empty and notices.empty:
        return [Paragraph(t("本期范围内没有调整方案和整改通知书。", "No plans or rectification notices in this scope."),
                          "note")]

    def within(col: str, df: pd.DataFrame) -> pd.Series:
        d = pd.to_datetime(df[col])
        return (d >= pd.Timestamp(start)) & (d < pd.Timestamp(end) + pd.Timedelta(days=1))

    n_open = int(within("proposed_on", plans).sum()) if len(plans) else 0
    n_appr = int(within("approved_on", plans).sum()) if len(plans) else 0
    n_done = int(within("done_on", plans).sum()) if len(plans) else 0
    late = plans[plans["late_since"].notna() & plans["status"].isin(["approved", "in_progress"])] if len(plans) \
        else plans
    n_issued = int(within("issued_on", notices).sum()) if len(notices) else 0
    n_rect = int(within("first_rectified_on", notices).sum()) if len(notices) else 0
    n_pass = int(within("passed_on", notices).sum()) if len(notices) else 0
    n_fail = int(notices["failed_in_period"].sum()) if len(notices) else 0
    overdue_n = notices[(notices["status"] == "issued") & (pd.to_datetime(notices["deadline"]) < pd.Timestamp(as_of))] \
        if len(notices) else notices
    out.append(Paragraph(t(
        f"本期新提出调整方案{n_open}个、批准{n_appr}个、完成{n_done}个；截至{as_of.isoformat()}，"
        f"有{len(late)}个方案存在超过时间节点未完成的步骤。本期下发整改通知书{n_issued}份、报告整改{n_rect}份、"
        f"复查通过{n_pass}份、复查未通过{n_fail}份；逾期未整改{len(overdue_n)}份。",
        f"This period {n_open} plans were proposed, {n_appr} approved and {n_done} completed; on {as_of.isoformat()} "
        f"{len(late)} plans had a step past its deadline. {n_issued} rectification notices were issued, {n_rect} "
        f"reported rectified, {n_pass} passed and {n_fail} failed their re-check; {len(overdue_n)} are overdue."),
        "lead"))

    # the supervision KPIs of the catalogue, as on the cards (the period's value and its target)
    rows, tones = [], []
    for mid in section.metrics:
        m, c = get_metric(mid), b.card(mid)
        cur = c.value if c.period == start else None
        rows.append([m.name(lang), fmt_value(m, cur, lang) if cur is not None else "—",
                     fmt_value(m, m.target, lang) if m.target is not None else "—"])
        ok = None if cur is None or m.target is None else (
            "good" if (cur >= m.target if m.direction.value == "up_good" else cur <= m.target) else "bad")
        tones.append([None, ok, None])
    if rows:
        out.append(Subheading(t("监督整改指标", "Supervision indicators")))
        out.append(Table([t("指标", "Indicator"), t("本期", "This period"), t("目标", "Target")], rows,
                         [3.2, 1.6, 1.6], ["L", "R", "R"], tones))

    limit = section.limit or 10
    if len(late) or len(overdue_n):
        out.append(Subheading(t("逾期事项", "Overdue")))
        rows = [[r["plan_id"], str(r["title"]), str(r["owner_dept"]), _day(r["late_since"]).isoformat(),
                 t(f"{(as_of - _day(r['late_since'])).days}天", f"{(as_of - _day(r['late_since'])).days} d")]
                for _, r in late.head(limit).iterrows()]
        rows += [[r["notice_id"], t(f"{r['branch_id']} 整改通知书（第{r['round']}轮）",
                                    f"{r['branch_id']} notice (round {r['round']})"), str(r["responsible_dept"]),
                  _day(r["deadline"]).isoformat(),
                  t(f"{(as_of - _day(r['deadline'])).days}天", f"{(as_of - _day(r['deadline'])).days} d")]
                 for _, r in overdue_n.head(limit).iterrows()]
        out.append(Table([t("编号", "ID"), t("事项", "Item"), t("责任部门", "Department"), t("时间节点", "Deadline"),
                          t("逾期", "Overdue")], rows, [1.6, 3.4, 1.6, 1.4, 0.9], ["L", "L", "L", "L", "R"],
                         [[None] * 4 + ["bad"] for _ in rows]))

    # measured effects of the plans completed in the last year
    done = plans[plans["status"].isin(["done", "reviewed"]) & plans["effect_start"].notna()
                 & plans["scope_branches"].notna()] if len(plans) else plans
    if len(done):
        done = done[pd.to_datetime(done["done_on"]) >= pd.Timestamp(end - timedelta(days=EFFECT_LOOKBACK_DAYS))]
    if len(done):
        from metrics.effect import EffectRefused, estimate_effect

        rows = []
        for _, r in done.sort_values("done_on", ascending=False).head(MAX_EFFECTS).iterrows():
            mid = list(r["target_kpis"])[0]
            try:
                est = estimate_effect(b.store, mid, frozenset(r["scope_branches"]), _day(r["effect_start"]),
                                      boundary=None if whole else frozenset(ids))
            except EffectRefused as exc:
                rows.append([r["plan_id"], str(r["title"]), get_metric(mid).name(lang), "—",
                             exc.zh if lang == "zh" else exc.en])
                continue
            unit = est.unit_zh if lang == "zh" else est.unit_en
            rows.append([r["plan_id"], str(r["title"]), get_metric(mid).name(lang),
                         f"{est.effect:+.2f} {unit}（{est.ci_low:+.2f}～{est.ci_high:+.2f}）".replace("-", "−")
                         if lang == "zh" else f"{est.effect:+.2f} {unit} ({est.ci_low:+.2f} to {est.ci_high:+.2f})",
                         t("可信", "credible") if est.credible else
                         t("不可信：", "not credible: ") + "；".join(x.zh if lang == "zh" else x.en for x in est.reasons)])
        out.append(Subheading(t("方案效果评估", "Measured effects")))
        out.append(Table([t("编号", "ID"), t("方案", "Plan"), t("指标", "KPI"), t("效果（95%区间）", "Effect (95% CI)"),
                          t("结论", "Verdict")], rows, [1.5, 2.8, 1.6, 2.6, 1.8], ["L", "L", "L", "R", "L"]))
        out.append(Paragraph(t("效果为实施机构与对照机构在生效前后变化之差（双重差分），括号内为95%置信区间。",
                               "Effect: the treated branches' change around the start date minus the comparison "
                               "branches' (difference-in-differences); 95% interval in brackets."), "note"))
    return out
