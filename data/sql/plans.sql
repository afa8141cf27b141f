-- name: next_plan_no
-- The next number of a readable id with this prefix ('FA-2025-' → 7 for FA-2025-0007); also for
-- inspections (JC-) — run inside the writing transaction, under the store's write lock.
SELECT coalesce(max(CAST(split_part(plan_id, '-', 3) AS INTEGER)), 0) + 1 FROM ops.plans
WHERE starts_with(plan_id, $prefix);

-- name: insert_plan
-- A new plan (the caller validated every field and resolved the scope to branch ids).
INSERT INTO ops.plans (plan_id, kind, title, change_text, target_kpis, scope_kind, scope_region, scope_branches,
    effect_start, owner_dept, owner_person, necessity, feasibility, expected_impact, status, proposed_on, created_at,
    created_by, updated_at, updated_by, version)
VALUES ($plan_id, $kind, $title, $change_text, $target_kpis::VARCHAR[], $scope_kind, $scope_region,
    $scope_branches::VARCHAR[], $effect_start, $owner_dept, $owner_person, $necessity, $feasibility, $expected_impact,
    'proposed', $proposed_on, $now, $user, $now, $user, 1);

-- name: update_plan
-- Every editable field of a plan at once (the caller merged the changes into the current row).
UPDATE ops.plans SET kind = $kind, title = $title, change_text = $change_text, target_kpis = $target_kpis::VARCHAR[],
    scope_kind = $scope_kind, scope_region = $scope_region, scope_branches = $scope_branches::VARCHAR[],
    effect_start = $effect_start, owner_dept = $owner_dept, owner_person = $owner_person, necessity = $necessity,
    feasibility = $feasibility, expected_impact = $expected_impact, updated_at = $now, updated_by = $user,
    version = version + 1
WHERE plan_id = $plan_id;

-- name: set_plan_status
-- A move of the transition table (checked by the caller) and the day it happened, in its milestone column.
UPDATE ops.plans SET status = $status,
    evaluated_on = CASE WHEN $milestone = 'evaluated_on' THEN $on ELSE evaluated_on END,
    approved_on = CASE WHEN $milestone = 'approved_on' THEN $on ELSE approved_on END,
    started_on = CASE WHEN $milestone = 'started_on' THEN $on ELSE started_on END,
    done_on = CASE WHEN $milestone = 'done_on' THEN $on ELSE done_on END,
    reviewed_on = CASE WHEN $milestone = 'reviewed_on' THEN $on ELSE reviewed_on END,
    closed_on = CASE WHEN $milestone = 'closed_on' THEN $on ELSE closed_on END,
    updated_at = $now, updated_by = $user, version = version + 1
WHERE plan_id = $plan_id;

-- name: touch_plan
-- A change of a plan's steps or origins: a new version, who and when.
UPDATE ops.plans SET updated_at = $now, updated_by = $user, version = version + 1 WHERE plan_id = $plan_id;

-- name: get_plan
-- One plan (the columns of data.plans.model.Plan, in order).
SELECT plan_id, kind, title, change_text, target_kpis, scope_kind, scope_region, scope_branches, effect_start,
    owner_dept, owner_person, necessity, feasibility, expected_impact, status, proposed_on, evaluated_on, approved_on, started_on,
    done_on, reviewed_on, closed_on, created_at, created_by, updated_at, updated_by, version
FROM ops.plans WHERE plan_id = $plan_id;

-- name: list_plans
-- Plans, newest first; every filter optional (NULL = any). $boundary: the reader's branch ids (NULL: the
-- whole bank) — a plan is listed only when it names branches and all of them lie inside (a bank-wide plan
-- only for the whole bank), applied before LIMIT/OFFSET. $branch: plans covering this branch (bank-wide
-- ones included). $overdue: approved / in progress with an open step past its deadline on $today.
SELECT plan_id, kind, title, change_text, target_kpis, scope_kind, scope_region, scope_branches, effect_start,
    owner_dept, owner_person, necessity, feasibility, expected_impact, status, proposed_on, evaluated_on, approved_on, started_on,
    done_on, reviewed_on, closed_on, created_at, created_by, updated_at, updated_by, version
FROM ops.plans p
WHERE ($status IS NULL OR status = $status) AND ($kind IS NULL OR kind = $kind)
  AND ($owner_dept IS NULL OR owner_dept = $owner_dept)
  AND ($boundary::VARCHAR[] IS NULL
       OR (scope_branches IS NOT NULL AND len(scope_branches) > 0
           AND list_has_all($boundary::VARCHAR[], scope_branches)))
  AND ($branch IS NULL OR scope_branches IS NULL OR list_contains(scope_branches, $branch))
  AND (NOT $overdue OR (status IN ('approved', 'in_progress') AND EXISTS (
       SELECT 1 FROM ops.plan_steps s WHERE s.plan_id = p.plan_id AND s.done_on IS NULL AND s.deadline < $today)))
  AND ($origin_kind IS NULL OR EXISTS (
       SELECT 1 FROM ops.plan_origins o WHERE o.plan_id = p.plan_id AND o.origin_kind = $origin_kind
         AND o.origin_ref = $origin_ref))
ORDER BY created_at DESC, plan_id DESC
LIMIT $limit OFFSET $offset;

-- name: insert_origin
-- One origin of a plan.
INSERT INTO ops.plan_origins VALUES ($plan_id, $origin_kind, $origin_ref, $label);

-- name: plan_origins
-- A plan's origins.
SELECT origin_kind, origin_ref, label FROM ops.plan_origins WHERE plan_id = $plan_id ORDER BY origin_kind, origin_ref;

-- name: insert_step
-- One implementation step.
INSERT INTO ops.plan_steps VALUES ($plan_id, $step_no, $what, $dept, $deadline, NULL, $note);

-- name: next_step_no
-- The next step number of a plan.
SELECT coalesce(max(step_no), 0) + 1 FROM ops.plan_steps WHERE plan_id = $plan_id;

-- name: complete_step
-- A step done on a day (the caller checked it was open).
UPDATE ops.plan_steps SET done_on = $done_on, note = coalesce($note, note) WHERE plan_id = $plan_id AND step_no = $step_no;

-- name: plan_steps
-- A plan's steps in order (the columns of data.plans.model.Step).
SELECT plan_id, step_no, what, dept, deadline, done_on, note FROM ops.plan_steps WHERE plan_id = $plan_id ORDER BY step_no;

-- name: add_plan_history
-- Append to a plan's history.
INSERT INTO ops.plan_history VALUES ($plan_id, $now, $user, $action, $from_status, $to_status, $reason, $detail);

-- name: plan_history
-- A plan's history, oldest first.
SELECT plan_id, happened_at, user_name, action, from_status, to_status, reason, detail_json FROM ops.plan_history
WHERE plan_id = $plan_id ORDER BY happened_at, action;

-- name: anomaly_exists
-- Whether an anomaly id is known (an origin must name a real flag).
SELECT count(*) FROM ops.anomalies WHERE anomaly_id = $ref;

-- name: finding_exists
-- Whether a finding id is known.
SELECT count(*) FROM ops.findings WHERE finding_id = $ref;

-- name: market_event_exists
-- Whether a market event id is loaded.
SELECT count(*) FROM main.market_events WHERE event_id = $ref;

-- name: branch_exists
-- Whether a branch id is in the branch master (a staffing suggestion's origin names one).
SELECT count(*) FROM main.branches WHERE branch_id = $ref;

-- name: regions
-- The regions of the branch master with their branch ids (a region plan covers these).
SELECT region, list(DISTINCT branch_id ORDER BY branch_id) FROM main.branches WHERE region IS NOT NULL GROUP BY region;

-- name: known_branches
-- Which of the given branch ids the branch master knows.
SELECT DISTINCT branch_id FROM main.branches WHERE list_contains($ids::VARCHAR[], branch_id);

-- name: next_inspection_no
-- The next number of an inspection id with this prefix ('JC-2025-').
SELECT coalesce(max(CAST(split_part(inspection_id, '-', 3) AS INTEGER)), 0) + 1 FROM ops.inspections
WHERE starts_with(inspection_id, $prefix);

-- name: insert_inspection
-- A new inspection.
INSERT INTO ops.inspections VALUES ($inspection_id, $title, $inspecting_dept, $inspected_on, $scope_branches::VARCHAR[],
    $inspector, $now, $user);

-- name: insert_finding
-- One finding of an inspection.
INSERT INTO ops.findings VALUES ($finding_id, $inspection_id, $branch_id, $text, $severity);

-- name: get_inspection
-- One inspection (the columns of data.plans.model.Inspection).
SELECT inspection_id, title, inspecting_dept, inspected_on, scope_branches, inspector, created_at, created_by
FROM ops.inspections WHERE inspection_id = $inspection_id;

-- name: list_inspections
-- Inspections, newest first; $boundary as in list_plans (every inspected branch inside it).
SELECT inspection_id, title, inspecting_dept, inspected_on, scope_branches, inspector, created_at, created_by
FROM ops.inspections
WHERE $boundary::VARCHAR[] IS NULL OR list_has_all($boundary::VARCHAR[], scope_branches)
ORDER BY inspected_on DESC, inspection_id DESC LIMIT $limit OFFSET $offset;

-- name: findings_of
-- The findings of an inspection that lie inside $boundary (NULL: all).
SELECT finding_id, inspection_id, branch_id, text, severity FROM ops.findings
WHERE inspection_id = $inspection_id AND ($boundary::VARCHAR[] IS NULL OR list_contains($boundary::VARCHAR[], branch_id))
ORDER BY finding_id;

-- name: get_finding
-- One finding.
SELECT finding_id, inspection_id, branch_id, text, severity FROM ops.findings WHERE finding_id = $finding_id;

-- name: next_notice_no
-- The next number of a notice id with this prefix ('ZG-2025-').
SELECT coalesce(max(CAST(split_part(notice_id, '-', 3) AS INTEGER)), 0) + 1 FROM ops.notices
WHERE starts_with(notice_id, $prefix);

-- name: notices_of_finding
-- How many notices a finding already has (one per finding).
SELECT count(*) FROM ops.notices WHERE finding_id = $finding_id;

-- name: insert_notice
-- A new 整改通知书, round 1, issued.
INSERT INTO ops.notices VALUES ($notice_id, $finding_id, $branch_id, $issued_on, $deadline, $deadline, $responsible_dept,
    $measures, 'issued', 1, NULL, NULL, NULL, $now, $user, $now, $user, 1);

-- name: set_notice
-- A notice move (checked by the caller): the new status and every field it may change.
UPDATE ops.notices SET status = $status, deadline = $deadline, measures = $measures, round = $round,
    rectified_on = $rectified_on, rechecked_on = $rechecked_on, recheck_note = $recheck_note, updated_at = $now,
    updated_by = $user, version = version + 1
WHERE notice_id = $notice_id;

-- name: get_notice
-- One notice (the columns of data.plans.model.Notice, in order).
SELECT notice_id, finding_id, branch_id, issued_on, first_deadline, deadline, responsible_dept, measures, status, round,
    rectified_on, rechecked_on, recheck_note, created_at, created_by, updated_at, updated_by, version
FROM ops.notices WHERE notice_id = $notice_id;

-- name: list_notices
-- Notices, the earliest deadline first; filters optional (NULL = any). $boundary: the reader's branch
-- ids (NULL: the whole bank), applied before LIMIT/OFFSET. $overdue: still issued after the deadline on $today.
SELECT n.notice_id, n.finding_id, n.branch_id, n.issued_on, n.first_deadline, n.deadline, n.responsible_dept,
    n.measures, n.status, n.round, n.rectified_on, n.rechecked_on, n.recheck_note, n.created_at, n.created_by,
    n.updated_at, n.updated_by, n.version
FROM ops.notices n JOIN ops.findings f USING (finding_id)
WHERE ($status IS NULL OR n.status = $status) AND ($branch IS NULL OR n.branch_id = $branch)
  AND ($inspection_id IS NULL OR f.inspection_id = $inspection_id)
  AND ($boundary::VARCHAR[] IS NULL OR list_contains($boundary::VARCHAR[], n.branch_id))
  AND (NOT $overdue OR (n.status = 'issued' AND n.deadline < $today))
ORDER BY n.deadline, n.notice_id
LIMIT $limit OFFSET $offset;

-- name: add_notice_history
-- Append to a notice's history.
INSERT INTO ops.notice_history VALUES ($notice_id, $now, $user, $action, $from_status, $to_status, $reason, $detail);

-- name: notice_history
-- A notice's history, oldest first.
SELECT notice_id, happened_at, user_name, action, from_status, to_status, reason, detail_json FROM ops.notice_history
WHERE notice_id = $notice_id ORDER BY happened_at, action;
