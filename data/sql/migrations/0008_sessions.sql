-- Migration 0008: server-side sign-in sessions (the HttpOnly cookie of local sign-in, issue 15).
-- The browser holds a random 32-byte token; only its SHA-256 is stored here, so a copy of the
-- database does not let anyone sign in. A session row carries its person and the account
-- version it was issued for, its creation (absolute lifetime), last use (idle timeout) and end;
-- a revoked row stays (revoked_at, revoked_reason) for the record. The handover codes are the
-- one-time, 60-second codes the page exchanges for the cookie (data/sessions.py): stored hashed,
-- with the token wrapped under a key only the code's holder can derive.
-- (0006 and 0007 are another change's migrations.)

CREATE TABLE ops.sessions (
    token_hash VARCHAR PRIMARY KEY,   -- hex sha256 of the cookie's token
    user_name VARCHAR NOT NULL,
    user_version BIGINT NOT NULL,     -- ops.users.version when issued (followed on a role/scope change)
    created_at TIMESTAMP NOT NULL,
    last_seen TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,    -- created_at + the absolute lifetime
    revoked_at TIMESTAMP,
    revoked_reason VARCHAR            -- sign_out | user_disable | user_password | signout_all | ...
);

CREATE TABLE ops.session_handover (
    code_hash VARCHAR PRIMARY KEY,    -- hex sha256 of the one-time code
    token_hash VARCHAR NOT NULL,      -- the session it hands over
    user_name VARCHAR NOT NULL,
    wrapped VARCHAR NOT NULL,         -- hex: the token XOR HMAC-SHA256(code, 'bankpulse-handover')
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP
);
