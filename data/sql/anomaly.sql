-- name: upsert_anomaly
-- Insert a detected anomaly or refresh the one a previous scan found (triage fields kept).
INSERT INTO ops.anomalies (anomaly_id, metric_id, category, scope_kind, scope_value, scope_label, grain, period,
    period_end, observed, expected, lower, upper, denominator, score, severity, direction, tone, detector,
    anomaly_kind, sentence_zh, sentence_en, cause, cause_json, status, first_seen, last_seen, updated_at)
VALUES ($anomaly_id, $metric_id, $category, $scope_kind, $scope_value, $scope_label, $grain, $period, $period_end,
    $observed, $expected, $lower, $upper, $denominator, $score, $severity, $direction, $tone, $detector,
    $anomaly_kind, $sentence_zh, $sentence_en, $cause, $cause_json, 'new', $now, $now, $now)
ON CONFLICT (anomaly_id) DO UPDATE SET observed = excluded.observed, expected = excluded.expected,
    lower = excluded.lower, upper = excluded.upper, denominator = excluded.denominator, score = excluded.score,
    severity = excluded.severity, sentence_zh = excluded.sentence_zh, sentence_en = excluded.sentence_en,
    cause = coalesce(excluded.cause, ops.anomalies.cause), cause_json = coalesce(excluded.cause_json, ops.anomalies.cause_json),
    last_seen = excluded.last_seen;

-- name: upsert_anomalies
-- The same for a whole scan at once, from the registered frame `new_rows` (one statement, not one per row).
INSERT INTO ops.anomalies (anomaly_id, metric_id, category, scope_kind, scope_value, scope_label, grain, period,
    period_end, observed, expected, lower, upper, denominator, score, severity, direction, tone, detector,
    anomaly_kind, sentence_zh, sentence_en, cause, cause_json, status, first_seen, last_seen, updated_at)
SELECT anomaly_id, metric_id, category, scope_kind, scope_value, scope_label, grain, period, period_end,
    observed, expected, lower, upper, denominator, score, severity, direction, tone, detector,
    anomaly_kind, sentence_zh, sentence_en, cause, cause_json, 'new', $now, $now, $now FROM new_rows
ON CONFLICT (anomaly_id) DO UPDATE SET observed = excluded.observed, expected = excluded.expected,
    lower = excluded.lower, upper = excluded.upper, denominator = excluded.denominator, score = excluded.score,
    severity = excluded.severity, sentence_zh = excluded.sentence_zh, sentence_en = excluded.sentence_en,
    cause = coalesce(excluded.cause, ops.anomalies.cause), cause_json = coalesce(excluded.cause_json, ops.anomalies.cause_json),
    last_seen = excluded.last_seen;

-- name: existing_ids
-- Which of the registered frame's anomalies a scan found before.
SELECT anomaly_id FROM ops.anomalies WHERE anomaly_id IN (SELECT anomaly_id FROM new_rows);

-- name: add_detected_history
-- The "detected" history row of every new anomaly in the registered frame `new_ids`.
INSERT INTO ops.anomaly_history SELECT anomaly_id, $now, 'scan', 'detected', NULL, 'new', NULL, NULL FROM new_ids;

-- name: anomaly_exists
-- Whether a scan found this anomaly before.
SELECT count(*) FROM ops.anomalies WHERE anomaly_id = $id;

-- name: get_anomaly
-- One anomaly.
SELECT * FROM ops.anomalies WHERE anomaly_id = $id;

-- name: set_status
-- A triage transition (the caller checked it is allowed).
UPDATE ops.anomalies SET status = $status, owner_dept = coalesce($owner, owner_dept), note = coalesce($note, note),
    updated_at = $now, updated_by = $user WHERE anomaly_id = $id;

-- name: add_history
-- Append to an anomaly's history.
INSERT INTO ops.anomaly_history VALUES ($id, $now, $user, $action, $from_status, $to_status, $owner, $note);

-- name: history
-- An anomaly's history, oldest first.
SELECT * FROM ops.anomaly_history WHERE anomaly_id = $id ORDER BY happened_at, action;

-- name: list_anomalies
-- Anomalies for the list page, most severe and recent first (filters are optional: NULL = any).
-- $branch_ids/$regions: the reader's visible branch- and region-level scopes (NULL: the whole
-- bank), applied before LIMIT/OFFSET so a page of the list is a page of what the reader may see.
-- $severity_order: the severities most severe first (anomaly.base.MOST_SEVERE_FIRST, the one ranking).
SELECT * FROM ops.anomalies
WHERE ($status IS NULL OR status = $status) AND ($severity IS NULL OR severity = $severity)
  AND ($category IS NULL OR category = $category) AND ($scope_kind IS NULL OR scope_kind = $scope_kind)
  AND ($metric IS NULL OR metric_id = $metric) AND ($since IS NULL OR period >= $since)
  AND ($branch_ids::VARCHAR[] IS NULL
       OR (scope_kind = 'branch' AND list_contains($branch_ids::VARCHAR[], scope_value))
       OR (scope_kind = 'region' AND list_contains($regions::VARCHAR[], scope_value)))
ORDER BY list_position($severity_order::VARCHAR[], severity), period DESC, abs(score) DESC, anomaly_id
LIMIT $limit OFFSET $offset;

-- name: count_anomalies
-- How many anomalies list_anomalies would page through (the same filters, no limit).
SELECT count(*) FROM ops.anomalies
WHERE ($status IS NULL OR status = $status) AND ($severity IS NULL OR severity = $severity)
  AND ($category IS NULL OR category = $category) AND ($scope_kind IS NULL OR scope_kind = $scope_kind)
  AND ($metric IS NULL OR metric_id = $metric) AND ($since IS NULL OR period >= $since)
  AND ($branch_ids::VARCHAR[] IS NULL
       OR (scope_kind = 'branch' AND list_contains($branch_ids::VARCHAR[], scope_value))
       OR (scope_kind = 'region' AND list_contains($regions::VARCHAR[], scope_value)));

-- name: chart_flags
-- A KPI's anomalies of one scope in a window, to mark on its chart (false alarms left out).
SELECT period, observed AS value, sentence_zh, sentence_en, status, severity FROM ops.anomalies
WHERE metric_id = $metric AND scope_kind = $scope_kind AND scope_value = $scope_value
  AND period BETWEEN $start AND $end AND status <> 'false_alarm'
ORDER BY period;

-- name: get_controls
-- The noise controls of a KPI and scope (none: defaults apply).
SELECT sensitivity, min_change, min_denominator, false_alarms FROM ops.noise_controls
WHERE metric_id = $metric AND scope_kind = $scope_kind AND scope_value = $scope_value;

-- name: all_controls
-- Every stored noise control (read once per scan).
SELECT metric_id, scope_kind, scope_value, sensitivity, min_change, min_denominator, false_alarms FROM ops.noise_controls;

-- name: put_controls
-- Set the noise controls of a KPI and scope.
INSERT INTO ops.noise_controls VALUES ($metric, $scope_kind, $scope_value, $sensitivity, $min_change,
    $min_denominator, $false_alarms, $now, $user)
ON CONFLICT (metric_id, scope_kind, scope_value) DO UPDATE SET sensitivity = excluded.sensitivity,
    min_change = excluded.min_change, min_denominator = excluded.min_denominator,
    false_alarms = excluded.false_alarms, updated_at = excluded.updated_at, updated_by = excluded.updated_by;

-- name: record_scan
-- Log a finished scan.
INSERT INTO ops.scans VALUES (nextval('ops.scan_seq'), $started, $seconds, $mode, $series, $flags, $new, $trigger);

-- name: kept_scan_values
-- Kept aggregates of one group and level that are valid for the rows as they are now: for each row of
-- the registered frame `fingerprints` (row, key, period + the fingerprint of its rows) that has one.
SELECT f."row", v.vals
FROM fingerprints f JOIN ops.scan_values v ON v.group_key = $group_key AND v.level = $level
    AND v.scope_value = f.key AND v.period = f.period AND v.n_rows = f.n_rows AND v.batch_sum = f.batch_sum
    AND v.batch_max = f.batch_max AND v.members = f.members;

-- name: branch_master_digest
-- A digest of every row of the branch master, part of the fingerprint of kept values that read it (a
-- custom measure such as window capacity joins it): any change to the master makes them stale.
SELECT md5(coalesce(string_agg(b::VARCHAR, chr(31) ORDER BY b::VARCHAR), '')) FROM main.branches b;

-- name: forget_scan_values
-- Drop the kept aggregates a scan is about to replace: those of the registered frame `fresh_values`' group, level and periods.
DELETE FROM ops.scan_values v USING (SELECT DISTINCT group_key, level, period FROM fresh_values) f
WHERE v.group_key = f.group_key AND v.level = f.level AND v.period = f.period;

-- name: prune_scan_values
-- After a scan of the whole catalogue: drop kept values of every group key it did not use (a changed
-- definition or option makes a new key; the old one would otherwise stay forever).
DELETE FROM ops.scan_values WHERE NOT list_contains($keys, group_key);

-- name: keep_scan_values
-- Keep the freshly read aggregates of the registered frame `fresh_values`.
INSERT INTO ops.scan_values SELECT group_key, level, scope_value, period, n_rows, batch_sum, batch_max, members, vals
FROM fresh_values;
