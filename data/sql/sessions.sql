-- name: insert_session
-- A new sign-in session: the token's hash, its person and account version, its lifetime.
INSERT INTO ops.sessions VALUES ($token_hash, $user, $version, $now, $now, $expires, NULL, NULL);

-- name: get_session
-- What every script run and the cookie exchange check (one primary-key lookup).
SELECT token_hash, user_name, user_version, created_at, last_seen, expires_at, revoked_at, revoked_reason
FROM ops.sessions WHERE token_hash = $token_hash;

-- name: touch_session
-- The session was used now (the idle timeout counts from here).
UPDATE ops.sessions SET last_seen = $now WHERE token_hash = $token_hash AND revoked_at IS NULL;

-- name: follow_version
-- A role or scope change the session has re-read: it now holds the account's new version.
UPDATE ops.sessions SET user_version = $version WHERE token_hash = $token_hash AND revoked_at IS NULL;

-- name: revoke_session
-- End one session (sign-out, a timeout noticed, a refused check); a second end keeps the first reason.
UPDATE ops.sessions SET revoked_at = $now, revoked_reason = $reason
WHERE token_hash = $token_hash AND revoked_at IS NULL;

-- name: revoke_user_sessions
-- End every open session of a person (disabled, password reset, "sign out everywhere").
UPDATE ops.sessions SET revoked_at = $now, revoked_reason = $reason
WHERE user_name = $user AND revoked_at IS NULL;

-- name: count_open_sessions
-- How many unrevoked, unexpired sessions a person has (the admin page, the CLI).
SELECT count(*) FROM ops.sessions WHERE user_name = $user AND revoked_at IS NULL AND expires_at > $now;

-- name: insert_handover
-- A one-time code that hands a new session's token to the browser (stored hashed, the token wrapped).
INSERT INTO ops.session_handover VALUES ($code_hash, $token_hash, $user, $wrapped, $expires, NULL);

-- name: get_handover
-- The code being redeemed (one primary-key lookup).
SELECT code_hash, token_hash, user_name, wrapped, expires_at, used_at FROM ops.session_handover
WHERE code_hash = $code_hash;

-- name: use_handover
-- Spend a code: it works once.
UPDATE ops.session_handover SET used_at = $now WHERE code_hash = $code_hash AND used_at IS NULL;

-- name: purge_handover
-- Forget codes that can no longer be redeemed (spent or past their 60 seconds), now and then.
DELETE FROM ops.session_handover WHERE used_at IS NOT NULL OR expires_at < $now;
