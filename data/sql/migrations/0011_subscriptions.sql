-- Migration 0011: scheduled briefing delivery (issue 15, item 4) — operational state, schema ops.
-- A subscription says who receives which briefing when: the person (an account of ops.users), the
-- scope (all | region:NAME | branch:ID, inside that person's boundary: checked when it is added and
-- again at every delivery, when the PDF is built with that person's own boundary), the period kind,
-- the language, the delivery day and time, the address. A removed subscription keeps its row
-- (removed_at) so that the ledger's rows keep their meaning.
-- The ledger holds one row per (subscription, period): claimed ('sending') in a transaction before
-- anything is sent, then marked 'sent', 'failed' (retried after a backoff), 'gave_up' (attempts
-- exhausted) or 'refused' (the person may no longer receive it). Its primary key is what makes a
-- delivery happen at most once; the retries are what make it happen at least once.
-- Written only through data/subscriptions.py.

CREATE SEQUENCE ops.subscription_seq START 1;

CREATE TABLE ops.subscriptions (
    subscription_id BIGINT PRIMARY KEY,
    user_name VARCHAR NOT NULL,       -- the recipient (ops.users.user_name); the PDF is built inside their boundary
    scope VARCHAR NOT NULL,           -- all | region:NAME | branch:ID ('all' = the person's whole boundary)
    grain VARCHAR NOT NULL,           -- week | month | quarter
    lang VARCHAR NOT NULL,            -- zh | en
    send_day SMALLINT NOT NULL,       -- week: ISO weekday 1 (Mon) … 7 (Sun); month, quarter: day 1 … 28 of the next period
    send_time TIME NOT NULL,          -- local time of day
    email VARCHAR NOT NULL,
    created_at TIMESTAMP NOT NULL,
    created_by VARCHAR NOT NULL,
    removed_at TIMESTAMP,
    removed_by VARCHAR
);

CREATE TABLE ops.deliveries (
    subscription_id BIGINT NOT NULL,
    period_start DATE NOT NULL,       -- the complete period delivered (its first day)
    period_code VARCHAR NOT NULL,     -- 2025-09 | 2025-W38 | 2025-Q3
    status VARCHAR NOT NULL,          -- sending | sent | failed | gave_up | refused
    attempts INTEGER NOT NULL,        -- claims so far (1 on the first)
    claimed_at TIMESTAMP NOT NULL,    -- the last claim
    finished_at TIMESTAMP,            -- when the last attempt ended
    next_attempt_at TIMESTAMP,        -- a failed row is claimed again from then on
    transport VARCHAR,                -- smtp | folder
    recipient VARCHAR,                -- the address (or the file written)
    bytes BIGINT,                     -- the PDF's size
    error VARCHAR,                    -- why the last attempt failed
    PRIMARY KEY (subscription_id, period_start)
);
