-- name: versions
-- Every stored version of the scorecard definition, oldest first (the columns of data.scorecards.Version).
SELECT version_id, def_version, name_zh, name_en, definition, sha256, effective_from, origin, note, created_at,
    created_by
FROM ops.scorecard_versions ORDER BY version_id;

-- name: next_version_id
-- The id the next saved version gets (run inside the writing transaction, under the write lock).
SELECT coalesce(max(version_id), 0) + 1 FROM ops.scorecard_versions;

-- name: insert_version
-- A new version (the caller validated the text: metrics/scorecard_def.py).
INSERT INTO ops.scorecard_versions (version_id, def_version, name_zh, name_en, definition, sha256, effective_from,
    origin, note, created_at, created_by)
VALUES ($version_id, $def_version, $name_zh, $name_en, $definition, $sha256, $effective_from, $origin, $note, $now,
    $user);

-- name: pins
-- The version each pinned (scored, ended) period keeps: grain, period_start, version_id.
SELECT grain, period_start, version_id FROM ops.scorecard_periods ORDER BY grain, period_start;

-- name: insert_pin
-- Pin one ended period to the version it was scored with (never replaced: the key refuses a second pin).
INSERT INTO ops.scorecard_periods (grain, period_start, version_id, pinned_at, pinned_by)
VALUES ($grain, $period_start, $version_id, $now, $user);

-- name: market_response
-- Market response speed per unit and period: for each market event and unit ({unit}: branch_id or region),
-- the first approval among the plans that name the event as origin and cover one of the unit's branches (a
-- bank-wide plan, scope_branches NULL, covers every branch); days from the event to that approval (0 when
-- approved before the event's date), placed in the period ($grain: month | quarter | year) of the approval
-- when it falls in [$start, $end]. value = mean days, n = events answered. Every unit of the bank: the
-- caller applies the reader's boundary to the result.
WITH approved AS (
    SELECT o.origin_ref AS event_id, p.approved_on, p.scope_branches
    FROM ops.plan_origins o JOIN ops.plans p ON p.plan_id = o.plan_id
    WHERE o.origin_kind = 'market_event' AND p.approved_on IS NOT NULL
), firsts AS (
    SELECT a.event_id, b.{unit} AS unit, min(a.approved_on) AS first_approved
    FROM approved a JOIN main.branches b
      ON a.scope_branches IS NULL OR list_contains(a.scope_branches, b.branch_id)
    WHERE b.{unit} IS NOT NULL
    GROUP BY a.event_id, b.{unit}
)
SELECT CAST(date_trunc($grain, f.first_approved) AS DATE) AS period, f.unit,
    avg(greatest(date_diff('day', e.event_date, f.first_approved), 0))::DOUBLE AS value,
    count(*) AS n
FROM firsts f JOIN main.market_events e ON e.event_id = f.event_id
WHERE f.first_approved BETWEEN $start AND $end
GROUP BY ALL ORDER BY period, unit;

-- name: completed_plans
-- The plans a measured-effect criterion looks at, per unit ({unit}: branch_id or region): completed
-- (done or reviewed) on a day in [$start, $end], with an effect start and target KPIs; the branch ids they
-- cover (NULL: bank-wide) and the first target KPI. One row per plan and unit it covers.
SELECT DISTINCT p.plan_id, b.{unit} AS unit, p.done_on, p.effect_start, p.target_kpis[1] AS metric_id,
    p.scope_branches
FROM ops.plans p JOIN main.branches b
  ON p.scope_branches IS NULL OR list_contains(p.scope_branches, b.branch_id)
WHERE p.status IN ('done', 'reviewed') AND p.done_on BETWEEN $start AND $end AND p.effect_start IS NOT NULL
  AND len(p.target_kpis) > 0 AND b.{unit} IS NOT NULL
ORDER BY p.plan_id, unit;

-- name: units
-- The units scored of a kind ({unit}: branch_id or region) with a label: outlets (网点) of the branch
-- master for branch_id, the regions of the master for region.
SELECT DISTINCT b.{unit} AS unit,
    CASE WHEN $kind = 'branch' THEN coalesce(b.branch_name, b.branch_id) ELSE b.region END AS label,
    CASE WHEN $kind = 'branch' THEN b.region END AS region
FROM main.branches b
WHERE b.{unit} IS NOT NULL AND ($kind <> 'branch' OR coalesce(b.level, 'outlet') = 'outlet')
ORDER BY unit;

-- name: fingerprint
-- A cheap fingerprint of what a scorecard reads besides the analytical data: plans, their origins and
-- steps, notices and their history, the stored versions and pins — the page's cache key.
SELECT (SELECT count(*) || '@' || coalesce(CAST(max(updated_at) AS VARCHAR), '') FROM ops.plans) || '|' ||
       (SELECT CAST(count(*) AS VARCHAR) FROM ops.plan_origins) || '|' ||
       (SELECT CAST(count(*) AS VARCHAR) FROM ops.plan_steps WHERE done_on IS NOT NULL) || '|' ||
       (SELECT CAST(count(*) AS VARCHAR) FROM ops.notice_history) || '|' ||
       (SELECT CAST(count(*) AS VARCHAR) FROM ops.scorecard_versions) || '|' ||
       (SELECT CAST(count(*) AS VARCHAR) FROM ops.scorecard_periods);
