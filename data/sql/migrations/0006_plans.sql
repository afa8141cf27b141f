-- Migration 0006: adjustment plans (业务调整方案) and supervision (检查、问题、整改通知书) — operational
-- state, schema ops; no analytical table is touched. Written only through data/plans/store.py: every
-- accepted change is one transaction with its history row and its audit row (data/audit.py).
-- Dates are ISO DATEs (presentation formats them); VARCHAR[] lists hold ids of declarations
-- (metrics.catalogue KPI ids) or of the branch master (branch ids), checked before the write.
-- The KPIs of DOMAIN.md §1.5 (按期整改率, 复查通过率, 逾期未整改数, 步骤按期完成率, 方案平均落地天数) are
-- computable per branch from these columns alone: every notice carries one branch_id; every plan
-- carries the branch ids it covers and the dates of its milestones (approved_on, done_on).

-- One adjustment plan. plan_id is readable: FA-<year>-<nnnn> (方案), numbered per year of creation.
CREATE TABLE ops.plans (
    plan_id VARCHAR PRIMARY KEY,
    kind VARCHAR NOT NULL,            -- process 流程调整 | product_service 产品与服务调整 | staffing 人员配置调整
    title VARCHAR NOT NULL,
    change_text VARCHAR NOT NULL,     -- what changes (调整内容)
    target_kpis VARCHAR[] NOT NULL,   -- metrics.catalogue ids the plan means to move (at least one)
    scope_kind VARCHAR NOT NULL,      -- bank | region | branches
    scope_region VARCHAR,             -- the region when scope_kind = region
    scope_branches VARCHAR[],         -- the resolved branch ids covered (a region: its branches at creation);
                                      -- NULL for a bank-wide plan (every branch)
    effect_start DATE,                -- from when the change applies (the effect estimate compares around it)
    owner_dept VARCHAR NOT NULL,      -- 牵头部门
    owner_person VARCHAR,             -- 负责人
    necessity VARCHAR,                -- 必要性 (evaluation text; required to evaluate)
    feasibility VARCHAR,              -- 可行性 (evaluation text; required to evaluate)
    expected_impact VARCHAR,          -- 预期影响 (evaluation text; required to evaluate)
    status VARCHAR NOT NULL,          -- proposed | evaluated | approved | in_progress | done | reviewed | rejected | withdrawn
    evaluated_on DATE,                -- the day of the evaluate move
    approved_on DATE,                 -- the day of the approve move (方案平均落地天数 counts from here)
    started_on DATE,                  -- the day of the start move
    done_on DATE,                     -- the day of the complete move
    reviewed_on DATE,                 -- the day of the review move (复盘)
    closed_on DATE,                   -- the day of a reject / withdraw move
    created_at TIMESTAMP NOT NULL,
    created_by VARCHAR NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    updated_by VARCHAR NOT NULL,
    version BIGINT NOT NULL           -- +1 on every change (optimistic concurrency: a stale edit is refused)
);

-- Why a plan exists: one or more origins; queried both ways (a flag → the plans it led to).
CREATE TABLE ops.plan_origins (
    plan_id VARCHAR NOT NULL,
    origin_kind VARCHAR NOT NULL,     -- anomaly | topic | market_event | finding
    origin_ref VARCHAR NOT NULL,      -- ops.anomalies.anomaly_id | a topic key | main.market_events.event_id | ops.findings.finding_id
    label VARCHAR,                    -- a short text shown with the link
    PRIMARY KEY (plan_id, origin_kind, origin_ref)
);

-- The implementation steps (实施步骤), each with a department and a deadline (时间节点).
CREATE TABLE ops.plan_steps (
    plan_id VARCHAR NOT NULL,
    step_no INTEGER NOT NULL,         -- 1, 2, … within the plan
    what VARCHAR NOT NULL,
    dept VARCHAR NOT NULL,            -- 责任部门
    deadline DATE NOT NULL,           -- 时间节点 (步骤按期完成率: done_on <= deadline)
    done_on DATE,                     -- NULL while open
    note VARCHAR,
    PRIMARY KEY (plan_id, step_no)
);

-- Who did what to which plan, and when (append-only; also the creation and every edit).
CREATE TABLE ops.plan_history (
    plan_id VARCHAR NOT NULL,
    happened_at TIMESTAMP NOT NULL,
    user_name VARCHAR NOT NULL,
    action VARCHAR NOT NULL,          -- create | update | add_step | complete_step | evaluate | approve | reject | start | complete | review | withdraw
    from_status VARCHAR,
    to_status VARCHAR,
    reason VARCHAR,
    detail_json VARCHAR               -- what changed (fields from/to, the step), JSON
);

-- An inspection (检查): who inspected which branches, when. inspection_id: JC-<year>-<nnnn>.
CREATE TABLE ops.inspections (
    inspection_id VARCHAR PRIMARY KEY,
    title VARCHAR NOT NULL,
    inspecting_dept VARCHAR NOT NULL, -- 检查部门
    inspected_on DATE NOT NULL,
    scope_branches VARCHAR[] NOT NULL,-- the branches inspected (every finding's branch is one of them)
    inspector VARCHAR,                -- 检查人
    created_at TIMESTAMP NOT NULL,
    created_by VARCHAR NOT NULL
);

-- A problem found (检查发现) at one branch. finding_id: <inspection_id>-<nn>.
CREATE TABLE ops.findings (
    finding_id VARCHAR PRIMARY KEY,
    inspection_id VARCHAR NOT NULL,
    branch_id VARCHAR NOT NULL,
    text VARCHAR NOT NULL,
    severity VARCHAR NOT NULL         -- low | medium | high
);

-- 整改通知书: one per finding and branch. notice_id: ZG-<year>-<nnnn> (整改).
CREATE TABLE ops.notices (
    notice_id VARCHAR PRIMARY KEY,
    finding_id VARCHAR NOT NULL,
    branch_id VARCHAR NOT NULL,       -- the branch that must rectify (per-branch KPIs group by it)
    issued_on DATE NOT NULL,
    first_deadline DATE NOT NULL,     -- the deadline of round 1 (a failed re-check replaces `deadline`)
    deadline DATE NOT NULL,           -- the deadline of the current round (按期整改率: rectified_on <= deadline)
    responsible_dept VARCHAR NOT NULL,-- 责任部门
    measures VARCHAR,                 -- 整改措施 (required to mark it rectified)
    status VARCHAR NOT NULL,          -- issued | rectified | rechecked_pass (a failed re-check returns to issued)
    round INTEGER NOT NULL,           -- 1 + the number of failed re-checks
    rectified_on DATE,                -- the day the current round was reported rectified (NULL while issued)
    rechecked_on DATE,                -- the day of the last re-check
    recheck_note VARCHAR,             -- what the last re-check said
    created_at TIMESTAMP NOT NULL,
    created_by VARCHAR NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    updated_by VARCHAR NOT NULL,
    version BIGINT NOT NULL
);

-- Who did what to which notice, and when (append-only; the old deadline of a failed round is in detail_json).
CREATE TABLE ops.notice_history (
    notice_id VARCHAR NOT NULL,
    happened_at TIMESTAMP NOT NULL,
    user_name VARCHAR NOT NULL,
    action VARCHAR NOT NULL,          -- issue | rectify | recheck_pass | recheck_fail
    from_status VARCHAR,
    to_status VARCHAR,
    reason VARCHAR,
    detail_json VARCHAR
);
