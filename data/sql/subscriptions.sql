-- name: next_id
-- A new subscription id (never reused).
SELECT nextval('ops.subscription_seq');

-- name: insert
-- A new subscription.
INSERT INTO ops.subscriptions VALUES ($id, $user, $scope, $grain, $lang, $send_day, $send_time, $email, $now, $by,
    NULL, NULL);

-- name: get
-- One subscription by id (removed ones too).
SELECT subscription_id, user_name, scope, grain, lang, send_day, send_time, email, created_at, created_by,
       removed_at, removed_by
FROM ops.subscriptions WHERE subscription_id = $id;

-- name: list_active
-- The live subscriptions, of one person ($user) or of everyone ($user NULL), by id.
SELECT subscription_id, user_name, scope, grain, lang, send_day, send_time, email, created_at, created_by,
       removed_at, removed_by
FROM ops.subscriptions WHERE removed_at IS NULL AND ($user IS NULL OR user_name = $user)
ORDER BY subscription_id;

-- name: remove
-- End a subscription (the row stays for the ledger's sake); a second removal changes nothing.
UPDATE ops.subscriptions SET removed_at = $now, removed_by = $by WHERE subscription_id = $id AND removed_at IS NULL;

-- name: claim_new
-- Claim the first delivery of a subscription's period: a row only when none exists (the primary key
-- makes a second claim of the same period return nothing).
INSERT INTO ops.deliveries VALUES ($id, $period_start, $code, 'sending', 1, $now, NULL, NULL, NULL, NULL, NULL, NULL)
ON CONFLICT DO NOTHING
RETURNING attempts;

-- name: claim_retry
-- Claim a failed delivery again, once its backoff has passed and attempts remain.
UPDATE ops.deliveries SET status = 'sending', attempts = attempts + 1, claimed_at = $now
WHERE subscription_id = $id AND period_start = $period_start AND status = 'failed'
  AND next_attempt_at <= $now AND attempts < $max_attempts
RETURNING attempts;

-- name: finish
-- The outcome of the attempt that holds the claim (status 'sending').
UPDATE ops.deliveries SET status = $status, finished_at = $now, next_attempt_at = $next_at, transport = $transport,
    recipient = $recipient, bytes = $bytes, error = $error
WHERE subscription_id = $id AND period_start = $period_start AND status = 'sending';

-- name: get_delivery
-- One ledger row.
SELECT subscription_id, period_start, period_code, status, attempts, claimed_at, finished_at, next_attempt_at,
       transport, recipient, bytes, error
FROM ops.deliveries WHERE subscription_id = $id AND period_start = $period_start;

-- name: recent
-- The latest ledger rows with their subscription, of one person ($user) or of everyone ($user NULL).
SELECT d.subscription_id, s.user_name, s.scope, s.grain, s.lang, d.period_code, d.status, d.attempts,
       d.claimed_at, d.finished_at, d.next_attempt_at, d.transport, d.recipient, d.bytes, d.error
FROM ops.deliveries d JOIN ops.subscriptions s USING (subscription_id)
WHERE $user IS NULL OR s.user_name = $user
ORDER BY coalesce(d.finished_at, d.claimed_at) DESC, d.subscription_id
LIMIT $limit;

-- name: stuck
-- Claims older than $before that never finished: the process stopped between claim and outcome.
-- Never claimed again automatically (the mail may have gone out); reported until an operator decides.
SELECT d.subscription_id, s.user_name, d.period_code, d.attempts, d.claimed_at
FROM ops.deliveries d JOIN ops.subscriptions s USING (subscription_id)
WHERE d.status = 'sending' AND d.claimed_at < $before
ORDER BY d.claimed_at;
