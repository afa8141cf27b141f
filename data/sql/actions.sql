-- Reads of the 调整与整改 page (pages/actions.py) beyond data/plans' own API.

-- name: ops_version
-- A cheap fingerprint of the plans and notices: the page's cache key, so a change made in another
-- session (or by the CLI) shows on the next run without waiting for a cache to expire.
SELECT (SELECT count(*) || '@' || coalesce(CAST(max(updated_at) AS VARCHAR), '') FROM ops.plans) || '|' ||
       (SELECT count(*) || '@' || coalesce(CAST(max(updated_at) AS VARCHAR), '') FROM ops.notices) || '|' ||
       (SELECT CAST(count(*) AS VARCHAR) FROM ops.plan_steps WHERE done_on IS NOT NULL);

-- name: step_summary
-- Per plan of the list: steps, steps done, the next open deadline, whether an open step is past it.
SELECT plan_id, count(*) AS steps, count(done_on) AS done,
       min(deadline) FILTER (WHERE done_on IS NULL) AS next_deadline,
       coalesce(bool_or(done_on IS NULL AND deadline < $today), false) AS late
FROM ops.plan_steps WHERE list_contains($ids, plan_id) GROUP BY plan_id;

-- name: worst_flag
-- The most severe worsening flag of a KPI at one of the given branches, with a short label (the
-- demo links its planted plans to the flag the scan raised; data/demo/plans.py).
SELECT anomaly_id, coalesce(scope_label, scope_value) || ' ' || CAST(period AS VARCHAR) AS label
FROM ops.anomalies
WHERE metric_id = $metric_id AND scope_kind = 'branch' AND list_contains($branches, scope_value) AND tone = 'worse'
ORDER BY CASE severity WHEN 'high' THEN 0 WHEN 'medium' THEN 1 ELSE 2 END, abs(score) DESC NULLS LAST, period
LIMIT 1;

-- name: briefing_plans
-- Plans for the briefing's 调整与整改 section: those whose every branch lies in $ids ($whole: the
-- whole bank, bank-wide plans included), with their milestone days and whether an open step was
-- past its deadline on $as_of.
SELECT p.plan_id, p.title, p.kind, p.status, p.owner_dept, p.proposed_on, p.approved_on, p.done_on,
       p.effect_start, p.target_kpis, p.scope_branches,
       (SELECT min(s.deadline) FROM ops.plan_steps s WHERE s.plan_id = p.plan_id AND s.done_on IS NULL
          AND s.deadline < $as_of) AS late_since
FROM ops.plans p
WHERE ($whole OR (p.scope_branches IS NOT NULL AND len(p.scope_branches) > 0
                  AND list_has_all($ids, p.scope_branches)))
ORDER BY p.plan_id;

-- name: briefing_notices
-- Notices of branches in $ids ($whole: every branch) with the days the section counts.
SELECT n.notice_id, n.branch_id, n.issued_on, n.deadline, n.status, n.round, n.responsible_dept,
       v.first_rectified_on, v.passed_on,
       (SELECT count(*) FROM main.sup_rechecks r WHERE r.recheck_id LIKE n.notice_id || '#%'
          AND r.rechecked_on BETWEEN $start AND $end AND NOT r.passed) AS failed_in_period
FROM ops.notices n JOIN main.sup_notices v ON v.notice_id = n.notice_id
WHERE $whole OR list_contains($ids, n.branch_id)
ORDER BY n.deadline, n.notice_id;

-- name: open_findings
-- Findings without a notice yet, of branches inside $boundary (NULL: every branch): the choices of
-- the page's "issue a notice" form.
SELECT f.finding_id, f.branch_id, f.text FROM ops.findings f
WHERE NOT EXISTS (SELECT 1 FROM ops.notices n WHERE n.finding_id = f.finding_id)
  AND ($boundary::VARCHAR[] IS NULL OR list_contains($boundary::VARCHAR[], f.branch_id))
ORDER BY f.finding_id;

-- name: latest_event_before
-- The most recent market or policy event on or before $day (event_id, title): the event a demo plan answers.
SELECT event_id, title FROM main.market_events WHERE event_date <= $day ORDER BY event_date DESC, event_id LIMIT 1;
