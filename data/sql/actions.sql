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
