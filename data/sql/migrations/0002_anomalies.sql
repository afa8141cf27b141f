-- Migration 0002: the anomaly store and triage (operational state, schema ops).
-- anomaly_id is a stable hash of (metric, scope, grain, period, kind of anomaly): a re-scan
-- updates the row it found before and never adds a duplicate; triage fields survive re-scans.

CREATE TABLE ops.anomalies (
    anomaly_id VARCHAR PRIMARY KEY,
    metric_id VARCHAR NOT NULL,
    category VARCHAR NOT NULL,
    scope_kind VARCHAR NOT NULL,      -- bank | region | branch
    scope_value VARCHAR NOT NULL,     -- '' for the bank, the region name, the branch id
    scope_label VARCHAR,
    grain VARCHAR NOT NULL,
    period DATE NOT NULL,
    period_end DATE,
    observed DOUBLE,
    expected DOUBLE,
    lower DOUBLE,
    upper DOUBLE,
    denominator DOUBLE,
    score DOUBLE,
    severity VARCHAR NOT NULL,        -- low | medium | high
    direction VARCHAR NOT NULL,       -- up | down
    tone VARCHAR NOT NULL,            -- worse | better | neutral (from the KPI's direction)
    detector VARCHAR NOT NULL,
    anomaly_kind VARCHAR NOT NULL,    -- spike | level_shift | drift | variance | rate_jump
    sentence_zh VARCHAR,
    sentence_en VARCHAR,
    cause VARCHAR,                    -- internal_approval | customer_segment | market | unknown
    cause_json VARCHAR,               -- contributors and evidence
    status VARCHAR NOT NULL,          -- new | acknowledged | explained | false_alarm | resolved
    owner_dept VARCHAR,
    note VARCHAR,
    first_seen TIMESTAMP NOT NULL,
    last_seen TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    updated_by VARCHAR
);

-- Who did what to which anomaly, and when (append-only).
CREATE TABLE ops.anomaly_history (
    anomaly_id VARCHAR NOT NULL,
    happened_at TIMESTAMP NOT NULL,
    user_name VARCHAR NOT NULL,
    action VARCHAR NOT NULL,          -- detected | status | owner | note
    from_status VARCHAR,
    to_status VARCHAR,
    owner_dept VARCHAR,
    note VARCHAR
);

-- Noise controls per KPI and scope; a false alarm raises `sensitivity` (a threshold multiplier).
CREATE TABLE ops.noise_controls (
    metric_id VARCHAR NOT NULL,
    scope_kind VARCHAR NOT NULL,
    scope_value VARCHAR NOT NULL,
    sensitivity DOUBLE NOT NULL,
    min_change DOUBLE,
    min_denominator DOUBLE,
    false_alarms INTEGER NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    updated_by VARCHAR,
    PRIMARY KEY (metric_id, scope_kind, scope_value)
);

-- One row per scan: what was scanned and how long it took.
CREATE TABLE ops.scans (
    scan_id BIGINT PRIMARY KEY,
    started_at TIMESTAMP NOT NULL,
    seconds DOUBLE,
    mode VARCHAR NOT NULL,            -- full | incremental
    series INTEGER,
    flags INTEGER,
    new_anomalies INTEGER,
    trigger VARCHAR
);
CREATE SEQUENCE ops.scan_seq START 1;
