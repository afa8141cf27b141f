-- Migration 0003: user accounts and the audit trail (operational state, schema ops).
-- Passwords are stored only as argon2id hashes (data/users.py). The audit log is append-only:
-- the code has no UPDATE or DELETE for it, and every row carries the SHA-256 of the previous
-- row's hash and its own content (a hash chain), so an edit or a deletion made behind the
-- application's back is detected by `bankpulse audit verify`.

CREATE TABLE ops.users (
    user_name VARCHAR PRIMARY KEY,
    display_name VARCHAR,
    role VARCHAR NOT NULL,            -- viewer | analyst | manager | admin
    region VARCHAR,                   -- a manager's region (or a region-wide viewer/analyst)
    branches VARCHAR,                 -- comma-separated branch ids ('' or NULL: none)
    password_hash VARCHAR,            -- argon2id; NULL for single sign-on accounts
    source VARCHAR NOT NULL,          -- local | oidc
    disabled BOOLEAN NOT NULL,
    failed_logins INTEGER NOT NULL,
    locked_until TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    created_by VARCHAR,
    updated_at TIMESTAMP,
    updated_by VARCHAR,
    last_login TIMESTAMP
);

CREATE SEQUENCE ops.audit_seq START 1;

CREATE TABLE ops.audit_log (
    audit_id BIGINT PRIMARY KEY,
    happened_at TIMESTAMP NOT NULL,
    user_name VARCHAR NOT NULL,
    role VARCHAR,
    channel VARCHAR NOT NULL,         -- web | cli
    action VARCHAR NOT NULL,          -- sign_in | sign_in_failed | sign_out | upload | rollback | triage | export ...
    outcome VARCHAR NOT NULL,         -- ok | denied | failed
    target VARCHAR,
    scope VARCHAR,
    detail VARCHAR,                   -- JSON
    prev_hash VARCHAR NOT NULL,
    row_hash VARCHAR NOT NULL
);
