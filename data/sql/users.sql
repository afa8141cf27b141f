-- name: get_user
-- One account by name.
SELECT user_name, display_name, role, region, branches, password_hash, source, disabled, failed_logins,
       locked_until, created_at, created_by, updated_at, updated_by, last_login, version, coalesce(groups, '')
FROM ops.users WHERE user_name = $name;

-- name: list_users
-- Every account, by name.
SELECT user_name, display_name, role, region, branches, password_hash, source, disabled, failed_logins,
       locked_until, created_at, created_by, updated_at, updated_by, last_login, version, coalesce(groups, '')
FROM ops.users ORDER BY user_name;

-- name: user_version
-- What an open session checks on every run (one primary-key lookup): the account's version and
-- whether it is disabled; no row when the account is gone.
SELECT version, disabled FROM ops.users WHERE user_name = $name;

-- name: count_users
-- How many accounts exist (first-run admin creation).
SELECT count(*) FROM ops.users;

-- name: insert_user
-- A new account ($groups: comma-separated group names, '' for none).
INSERT INTO ops.users VALUES ($name, $display, $role, $region, $branches, $hash, $source, false, 0, NULL,
    $now, $by, $now, $by, NULL, 1, $groups);

-- name: update_profile
-- Role, scope, groups and display name of an account (a new version: open sessions re-read it).
UPDATE ops.users SET display_name = $display, role = $role, region = $region, branches = $branches,
    groups = $groups, updated_at = $now, updated_by = $by, version = version + 1 WHERE user_name = $name;

-- name: set_disabled
-- Disable or re-enable an account (a new version).
UPDATE ops.users SET disabled = $disabled, updated_at = $now, updated_by = $by, version = version + 1
WHERE user_name = $name;

-- name: set_password
-- A new password hash; clears failures and any lockout (a new version).
UPDATE ops.users SET password_hash = $hash, failed_logins = 0, locked_until = NULL, updated_at = $now,
    updated_by = $by, version = version + 1 WHERE user_name = $name;

-- name: rehash
-- A stronger hash of the same password (argon2 parameters raised since it was set).
UPDATE ops.users SET password_hash = $hash WHERE user_name = $name;

-- name: login_failed
-- Count a failed sign-in; lock the account when the limit is reached.
UPDATE ops.users SET failed_logins = $failures, locked_until = $locked_until WHERE user_name = $name;

-- name: login_ok
-- A successful sign-in: reset the failure count.
UPDATE ops.users SET failed_logins = 0, locked_until = NULL, last_login = $now WHERE user_name = $name;

-- name: audit_last_hash
-- The hash of the newest audit row (the chain's head).
SELECT row_hash FROM ops.audit_log ORDER BY audit_id DESC LIMIT 1;

-- name: audit_next_id
-- A new audit id.
SELECT nextval('ops.audit_seq');

-- name: audit_insert
-- Append one audit row (the only statement that writes the audit log).
INSERT INTO ops.audit_log VALUES ($id, $at, $user, $role, $channel, $action, $outcome, $target, $scope, $detail,
    $prev_hash, $row_hash);

-- name: audit_search
-- Audit rows, newest first; every filter is optional (NULL = any).
SELECT audit_id, happened_at, user_name, role, channel, action, outcome, target, scope, detail
FROM ops.audit_log
WHERE ($user IS NULL OR user_name = $user) AND ($action IS NULL OR action = $action)
  AND ($outcome IS NULL OR outcome = $outcome)
  AND ($since IS NULL OR happened_at >= $since) AND ($until IS NULL OR happened_at < $until)
  AND ($text IS NULL OR contains(lower(coalesce(target, '') || ' ' || coalesce(detail, '')), lower($text)))
ORDER BY audit_id DESC LIMIT $limit;

-- name: audit_all
-- The whole chain in order (verification).
SELECT audit_id, happened_at, user_name, role, channel, action, outcome, target, scope, detail, prev_hash, row_hash
FROM ops.audit_log ORDER BY audit_id;

-- name: audit_actions
-- The distinct actions recorded (the admin page's filter).
SELECT DISTINCT action FROM ops.audit_log ORDER BY 1;

-- name: branch_master
-- Branch ids with their region and parent (access boundaries are computed from it).
SELECT branch_id, region, parent_id FROM main.branches;
