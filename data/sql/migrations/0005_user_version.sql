-- Migration 0005: a version counter on each account. Every change to role, scope (region,
-- branches), the disabled flag or the password adds one (data/sql/users.sql). An open web session
-- keeps the version it signed in with and compares it on each script run with the row's — one
-- lookup by the primary key — re-reading the person's role and scope when it differs, and ending
-- the session when the account is disabled or gone (pages/_ui/auth.py).

ALTER TABLE ops.users ADD COLUMN version BIGINT DEFAULT 1;
