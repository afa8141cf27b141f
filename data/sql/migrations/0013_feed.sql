-- Migration 0013: the work-dynamics feed (工作动态) — operational state, schema ops. Written only through
-- data/feed.py (notices, meeting records, reads, pins) and its two hooks: a plan's approval
-- (data/plans/store.py) and a high-severity flag of the scan (anomaly/store.py), each in the writer's
-- own transaction with an audit row. Bodies are stored verbatim (pages show them as inert text).
-- The runner applies versions in order and skips any at or below the store's current version: a
-- later migration takes the next free number.

CREATE SEQUENCE ops.feed_item_seq START 1;

-- One item of the feed. The audience says who it is for: the whole bank, a region (its branches at the
-- time of writing) or branches; audience_branches holds the resolved ids (NULL for the bank).
CREATE TABLE ops.feed_items (
    item_id BIGINT PRIMARY KEY DEFAULT nextval('ops.feed_item_seq'),
    kind VARCHAR NOT NULL,            -- notice | meeting | plan_approved | anomaly_raised
    title VARCHAR NOT NULL,
    body VARCHAR,                     -- verbatim text (never rendered as Markdown or HTML)
    title_en VARCHAR,                 -- automatic items: the English title and body (NULL: one text for both
    body_en VARCHAR,                  -- languages, as a person wrote it)
    audience_kind VARCHAR NOT NULL,   -- bank | region | branches
    audience_value VARCHAR,           -- the region, or the branch ids comma-separated
    audience_branches VARCHAR[],      -- resolved branch ids; NULL: the whole bank
    author VARCHAR NOT NULL,          -- a user name, or 'scan' / the approver for automatic items
    created_at TIMESTAMP NOT NULL,
    pinned BOOLEAN NOT NULL DEFAULT false,
    meeting_on DATE,                  -- a meeting record's day (NULL for other kinds)
    source_ref VARCHAR,               -- plan_approved: the plan id; anomaly_raised: the anomaly id; else NULL
    UNIQUE (kind, source_ref)         -- an automatic item is written once per plan / flag (NULLs never collide)
);

-- A meeting record's decisions (决定事项) and follow-up items (跟进事项: an owner and a deadline), in order.
CREATE TABLE ops.feed_actions (
    item_id BIGINT NOT NULL,
    seq INTEGER NOT NULL,             -- 1, 2, … within the meeting
    action_kind VARCHAR NOT NULL,     -- decision | follow_up
    text VARCHAR NOT NULL,
    owner VARCHAR,                    -- follow_up: who carries it out (required)
    deadline DATE,                    -- follow_up: by when (required)
    plan_id VARCHAR,                  -- optional link to ops.plans (checked to exist within the writer's scope)
    PRIMARY KEY (item_id, seq)
);

-- Who has read which item, and when (unread = visible and no row here).
CREATE TABLE ops.feed_reads (
    user_name VARCHAR NOT NULL,
    item_id BIGINT NOT NULL,
    read_at TIMESTAMP NOT NULL,
    PRIMARY KEY (user_name, item_id)
);
