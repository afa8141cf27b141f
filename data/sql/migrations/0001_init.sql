-- Migration 0001: the analytical tables, their replaced-row archives, and the operational state.
-- Analytical tables (schema main) mirror the source declarations in data/sources/ plus lineage
-- columns (batch_id, source_file, source_row). history.<table> keeps every row a later batch
-- replaced, so rolling that batch back restores exactly the earlier state. Operational state
-- (schema ops) is kept apart: at scale it moves to PostgreSQL while analytics move to Spark.

CREATE SCHEMA IF NOT EXISTS history;
CREATE SCHEMA IF NOT EXISTS ops;

-- 机构信息 / Branch master; natural key (branch_id)
CREATE TABLE branches (
    branch_id VARCHAR,
    branch_name VARCHAR,
    level VARCHAR,
    parent_id VARCHAR,
    region VARCHAR,
    open_windows BIGINT,
    opening_minutes DOUBLE,
    batch_id BIGINT NOT NULL,
    source_file VARCHAR,
    source_row BIGINT
);
CREATE TABLE history.branches AS SELECT *, CAST(NULL AS BIGINT) AS replaced_by FROM branches WITH NO DATA;

-- 柜台排队叫号明细 / Counter queue tickets; natural key (branch_id, business_date, ticket_no)
CREATE TABLE counter_tickets (
    branch_id VARCHAR,
    branch_name VARCHAR,
    business_date DATE,
    ticket_no VARCHAR,
    service_type VARCHAR,
    customer_tier VARCHAR,
    ticket_time TIMESTAMP,
    call_time TIMESTAMP,
    service_start_time TIMESTAMP,
    service_end_time TIMESTAMP,
    window_no VARCHAR,
    teller_id VARCHAR,
    teller_name VARCHAR,
    status VARCHAR,
    wait_seconds DOUBLE,
    service_seconds DOUBLE,
    queue_len_at_ticket BIGINT,
    rating VARCHAR,
    batch_id BIGINT NOT NULL,
    source_file VARCHAR,
    source_row BIGINT
);
CREATE TABLE history.counter_tickets AS SELECT *, CAST(NULL AS BIGINT) AS replaced_by FROM counter_tickets WITH NO DATA;

-- 贷款台账快照 / Loan ledger snapshot; natural key (snapshot_date, loan_id)
CREATE TABLE loan_snapshot (
    snapshot_date DATE,
    loan_id VARCHAR,
    contract_id VARCHAR,
    customer_id VARCHAR,
    customer_name VARCHAR,
    branch_id VARCHAR,
    product VARCHAR,
    customer_segment VARCHAR,
    industry VARCHAR,
    disbursement_date DATE,
    maturity_date DATE,
    loan_amount DOUBLE,
    outstanding_balance DOUBLE,
    overdue_principal DOUBLE,
    overdue_interest DOUBLE,
    days_past_due BIGINT,
    risk_class VARCHAR,
    interest_rate_pct DOUBLE,
    pricing_benchmark VARCHAR,
    spread_bp DOUBLE,
    guarantee_type VARCHAR,
    approver_id VARCHAR,
    approval_date DATE,
    loan_officer VARCHAR,
    batch_id BIGINT NOT NULL,
    source_file VARCHAR,
    source_row BIGINT
);
CREATE TABLE history.loan_snapshot AS SELECT *, CAST(NULL AS BIGINT) AS replaced_by FROM loan_snapshot WITH NO DATA;

-- 客户反馈工单 / Customer feedback cases; natural key (feedback_id)
CREATE TABLE feedback_records (
    feedback_id VARCHAR,
    channel VARCHAR,
    received_at TIMESTAMP,
    feedback_kind VARCHAR,
    branch_id VARCHAR,
    branch_name VARCHAR,
    business_line VARCHAR,
    cause_category VARCHAR,
    hot_topic VARCHAR,
    complexity VARCHAR,
    description VARCHAR,
    handler_dept VARCHAR,
    status VARCHAR,
    replied_at TIMESTAMP,
    closed_at TIMESTAMP,
    satisfaction VARCHAR,
    nps_score BIGINT,
    batch_id BIGINT NOT NULL,
    source_file VARCHAR,
    source_row BIGINT
);
CREATE TABLE history.feedback_records AS SELECT *, CAST(NULL AS BIGINT) AS replaced_by FROM feedback_records WITH NO DATA;

-- 市场指标 / Market indicators; natural key (indicator_code, date, region)
CREATE TABLE market_indicators (
    indicator_code VARCHAR,
    indicator_name VARCHAR,
    date DATE,
    frequency VARCHAR,
    value DOUBLE,
    unit VARCHAR,
    region VARCHAR,
    source VARCHAR,
    release_date DATE,
    batch_id BIGINT NOT NULL,
    source_file VARCHAR,
    source_row BIGINT
);
CREATE TABLE history.market_indicators AS SELECT *, CAST(NULL AS BIGINT) AS replaced_by FROM market_indicators WITH NO DATA;

-- 市场与政策事件 / Market and policy events; natural key (event_id)
CREATE TABLE market_events (
    event_id VARCHAR,
    event_date DATE,
    event_type VARCHAR,
    title VARCHAR,
    detail VARCHAR,
    competitor_name VARCHAR,
    impact_area VARCHAR,
    impact_direction VARCHAR,
    source VARCHAR,
    url VARCHAR,
    batch_id BIGINT NOT NULL,
    source_file VARCHAR,
    source_row BIGINT
);
CREATE TABLE history.market_events AS SELECT *, CAST(NULL AS BIGINT) AS replaced_by FROM market_events WITH NO DATA;

CREATE SEQUENCE ops.batch_seq START 1;

-- One row per load: a file (or the sheets of one workbook that hold one source).
CREATE TABLE ops.batches (
    batch_id BIGINT PRIMARY KEY,
    file_name VARCHAR NOT NULL,
    sha256 VARCHAR NOT NULL,
    source VARCHAR NOT NULL,
    sheets VARCHAR,
    encoding VARCHAR,
    rows_in BIGINT NOT NULL,
    rows_loaded BIGINT NOT NULL,
    rows_updated BIGINT NOT NULL,
    rows_rejected BIGINT NOT NULL,
    rows_warned BIGINT NOT NULL,
    status VARCHAR NOT NULL,          -- loaded | partial | rolled_back
    user_name VARCHAR NOT NULL,
    created_at TIMESTAMP NOT NULL,
    min_date DATE,
    max_date DATE,
    rolled_back_at TIMESTAMP,
    rolled_back_by VARCHAR
);

-- Every problem found while loading a batch (errors of quarantined rows, warnings, notes).
CREATE TABLE ops.batch_issues (
    batch_id BIGINT NOT NULL,
    file_name VARCHAR,
    sheet VARCHAR,
    row_no BIGINT,
    column_name VARCHAR,
    value VARCHAR,
    expected VARCHAR,
    severity VARCHAR NOT NULL,
    code VARCHAR NOT NULL,
    message VARCHAR
);

-- Rows rejected by a partial load, kept with their raw cells and reasons.
CREATE TABLE ops.quarantine (
    batch_id BIGINT NOT NULL,
    source VARCHAR NOT NULL,
    file_name VARCHAR,
    sheet VARCHAR,
    row_no BIGINT,
    raw_json VARCHAR,
    reasons VARCHAR
);

-- A counter bumped by every load and rollback: the cache key of the pages.
CREATE TABLE ops.meta (key VARCHAR PRIMARY KEY, value BIGINT NOT NULL);
INSERT INTO ops.meta VALUES ('data_version', 0);
