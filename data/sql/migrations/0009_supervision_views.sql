-- Migration 0009: read-only views of the plans and supervision records, one row per branch, for
-- the supervision KPIs of the catalogue (metrics/supervision.py). They are declared as sources of
-- their own (data/sources/supervision.py: VIEWS), so the query layer scopes and windows them like
-- any analytical table; nothing is copied and no analytical table is touched.
--
-- A plan covering several branches appears once per branch (`scope_branches` unnested); a
-- bank-wide plan (scope_branches NULL) once with branch_id NULL, which only whole-bank readers see
-- (the boundary filter keeps listed branch ids). The KPIs over plans count DISTINCT plans or steps,
-- so a two-branch plan is one plan at region and bank level.
--
-- Dates of moves come from the records (approved_on, done_on) or from the `on` day a move wrote
-- into its history row (detail_json), never from the wall-clock time of the click.
-- At scale (operational state in PostgreSQL, analytics on Spark) these views become a nightly copy
-- of the same columns into the analytical store; the declarations stay as they are.

CREATE VIEW main.sup_notices AS
SELECT n.notice_id, n.branch_id, n.issued_on, n.first_deadline, n.deadline, n.status, n.round,
       n.responsible_dept,
       (SELECT min(CAST(json_extract_string(h.detail_json, '$.on') AS DATE)) FROM ops.notice_history h
         WHERE h.notice_id = n.notice_id AND h.action = 'rectify') AS first_rectified_on,
       CASE WHEN n.status IN ('rectified', 'rechecked_pass') THEN n.rectified_on END AS settled_on,
       (SELECT min(CAST(json_extract_string(h.detail_json, '$.on') AS DATE)) FROM ops.notice_history h
         WHERE h.notice_id = n.notice_id AND h.action = 'recheck_pass') AS passed_on
FROM ops.notices n;

CREATE VIEW main.sup_rechecks AS
SELECT h.notice_id || '#' || CAST(row_number() OVER (PARTITION BY h.notice_id ORDER BY h.happened_at) AS VARCHAR)
           AS recheck_id,
       n.branch_id, CAST(json_extract_string(h.detail_json, '$.on') AS DATE) AS rechecked_on,
       h.action = 'recheck_pass' AS passed
FROM ops.notice_history h JOIN ops.notices n ON n.notice_id = h.notice_id
WHERE h.action IN ('recheck_pass', 'recheck_fail');

CREATE VIEW main.sup_steps AS
SELECT s.plan_id || '#' || CAST(s.step_no AS VARCHAR) AS step_key, s.plan_id, s.step_no, b.branch_id,
       p.kind, p.status AS plan_status, s.dept, s.deadline, s.done_on,
       (s.done_on IS NOT NULL AND s.done_on <= s.deadline) AS on_time
FROM ops.plan_steps s JOIN ops.plans p ON p.plan_id = s.plan_id
LEFT JOIN (SELECT plan_id, unnest(scope_branches) AS branch_id FROM ops.plans) b ON b.plan_id = s.plan_id
WHERE p.status NOT IN ('rejected', 'withdrawn');

CREATE VIEW main.sup_plans AS
SELECT p.plan_id, b.branch_id, p.kind, p.status, p.owner_dept, p.approved_on, p.done_on,
       CAST(date_diff('day', p.approved_on, p.done_on) AS DOUBLE) AS delivery_days
FROM ops.plans p
LEFT JOIN (SELECT plan_id, unnest(scope_branches) AS branch_id FROM ops.plans) b ON b.plan_id = p.plan_id;
