-- The work-dynamics feed (工作动态, data/feed.py; migration 0014). $boundary is the reader's branch ids
-- (NULL: the whole bank). Who sees an item:
--   notice | meeting (addressed to people): the whole bank, or an audience with a branch inside the
--     boundary — a notice to the bank reaches everyone who sees any branch;
--   plan_approved | anomaly_raised (they carry the figures or plan of their scope): only when every
--     audience branch lies inside the boundary, the rule of plans and anomalies (bank-wide: whole bank).
-- A boundary without branches sees nothing (fail closed).

-- name: insert_item
-- A notice or a meeting record (the caller validated every field and resolved the audience).
INSERT INTO ops.feed_items (kind, title, body, audience_kind, audience_value, audience_branches, author, created_at,
    pinned, meeting_on)
VALUES ($kind, $title, $body, $audience_kind, $audience_value, $audience_branches::VARCHAR[], $author, $now, $pinned,
    $meeting_on)
RETURNING item_id;

-- name: insert_action
-- One decision or follow-up of a meeting record.
INSERT INTO ops.feed_actions VALUES ($item_id, $seq, $action_kind, $text, $owner, $deadline, $plan_id);

-- name: insert_auto_item
-- An automatic item (a plan approved); nothing when the item of this source exists already (idempotent).
INSERT INTO ops.feed_items (kind, title, body, title_en, body_en, audience_kind, audience_value, audience_branches,
    author, created_at, source_ref)
VALUES ($kind, $title, $body, $title_en, $body_en, $audience_kind, $audience_value, $audience_branches::VARCHAR[],
    $author, $now, $source_ref)
ON CONFLICT DO NOTHING
RETURNING item_id;

-- name: insert_anomaly_items
-- An anomaly_raised item for every row of the registered frame `feed_new` (the scan's high-severity flags,
-- titles already written); a region's audience is its branches now; flags with an item are skipped.
INSERT INTO ops.feed_items (kind, title, body, title_en, body_en, audience_kind, audience_value, audience_branches,
    author, created_at, source_ref)
SELECT 'anomaly_raised', n.title, n.body, n.title_en, n.body_en,
       CASE n.scope_kind WHEN 'bank' THEN 'bank' WHEN 'region' THEN 'region' ELSE 'branches' END,
       CASE WHEN n.scope_kind = 'bank' THEN NULL ELSE n.scope_value END,
       CASE n.scope_kind WHEN 'bank' THEN NULL
            WHEN 'region' THEN (SELECT list(DISTINCT b.branch_id ORDER BY b.branch_id) FROM main.branches b
                                WHERE b.region = n.scope_value)
            ELSE [n.scope_value] END,
       'scan', $now, n.anomaly_id
FROM feed_new n
ON CONFLICT DO NOTHING
RETURNING item_id;

-- name: list_items
-- The reader's items, pinned first then newest; every filter optional (NULL = any). $kinds: item kinds;
-- $q: lower-case text found in the title, the body or a decision / follow-up (case-insensitive, not a
-- pattern); $unread: only those $user has not read. read_at: when $user read it (NULL: unread).
SELECT i.item_id, i.kind, i.title, i.body, i.title_en, i.body_en, i.audience_kind, i.audience_value, i.author,
       i.created_at, i.pinned, i.meeting_on, i.source_ref, r.read_at
FROM ops.feed_items i
LEFT JOIN ops.feed_reads r ON r.item_id = i.item_id AND r.user_name = $user
WHERE ($boundary::VARCHAR[] IS NULL OR (len($boundary::VARCHAR[]) > 0 AND (
        (i.kind IN ('notice', 'meeting')
         AND (i.audience_kind = 'bank' OR list_has_any(i.audience_branches, $boundary::VARCHAR[])))
        OR (i.kind NOT IN ('notice', 'meeting') AND i.audience_branches IS NOT NULL AND len(i.audience_branches) > 0
            AND list_has_all($boundary::VARCHAR[], i.audience_branches)))))
  AND ($kinds::VARCHAR[] IS NULL OR list_contains($kinds::VARCHAR[], i.kind))
  AND (NOT $unread OR r.read_at IS NULL)
  AND ($q IS NULL OR contains(lower(i.title), $q) OR contains(lower(coalesce(i.body, '')), $q)
       OR contains(lower(coalesce(i.title_en, '')), $q) OR contains(lower(coalesce(i.body_en, '')), $q)
       OR EXISTS (SELECT 1 FROM ops.feed_actions a WHERE a.item_id = i.item_id AND contains(lower(a.text), $q)))
ORDER BY i.pinned DESC, i.created_at DESC, i.item_id DESC
LIMIT $limit OFFSET $offset;

-- name: unread_count
-- How many of the reader's items $user has not read (the same visibility as list_items).
SELECT count(*) FROM ops.feed_items i
WHERE ($boundary::VARCHAR[] IS NULL OR (len($boundary::VARCHAR[]) > 0 AND (
        (i.kind IN ('notice', 'meeting')
         AND (i.audience_kind = 'bank' OR list_has_any(i.audience_branches, $boundary::VARCHAR[])))
        OR (i.kind NOT IN ('notice', 'meeting') AND i.audience_branches IS NOT NULL AND len(i.audience_branches) > 0
            AND list_has_all($boundary::VARCHAR[], i.audience_branches)))))
  AND NOT EXISTS (SELECT 1 FROM ops.feed_reads r WHERE r.item_id = i.item_id AND r.user_name = $user);

-- name: visible_ids
-- Which of $ids the reader may see (the same visibility as list_items).
SELECT i.item_id FROM ops.feed_items i
WHERE list_contains($ids, i.item_id)
  AND ($boundary::VARCHAR[] IS NULL OR (len($boundary::VARCHAR[]) > 0 AND (
        (i.kind IN ('notice', 'meeting')
         AND (i.audience_kind = 'bank' OR list_has_any(i.audience_branches, $boundary::VARCHAR[])))
        OR (i.kind NOT IN ('notice', 'meeting') AND i.audience_branches IS NOT NULL AND len(i.audience_branches) > 0
            AND list_has_all($boundary::VARCHAR[], i.audience_branches)))));

-- name: item_audience
-- An item's kind and resolved audience (a pin changes what everyone in the audience sees first).
SELECT kind, audience_kind, audience_branches, pinned FROM ops.feed_items WHERE item_id = $item_id;

-- name: item_actions
-- The decisions and follow-ups of the listed meetings, in order. plan_title only when the linked plan
-- lies inside the reader's boundary (the plans rule); plan_visible says so.
SELECT a.item_id, a.seq, a.action_kind, a.text, a.owner, a.deadline, a.plan_id,
       CASE WHEN p.plan_id IS NOT NULL AND ($boundary::VARCHAR[] IS NULL
                 OR (p.scope_branches IS NOT NULL AND len(p.scope_branches) > 0
                     AND list_has_all($boundary::VARCHAR[], p.scope_branches))) THEN p.title END AS plan_title,
       p.plan_id IS NOT NULL AND ($boundary::VARCHAR[] IS NULL
           OR (p.scope_branches IS NOT NULL AND len(p.scope_branches) > 0
               AND list_has_all($boundary::VARCHAR[], p.scope_branches))) AS plan_visible
FROM ops.feed_actions a LEFT JOIN ops.plans p ON p.plan_id = a.plan_id
WHERE list_contains($ids, a.item_id)
ORDER BY a.item_id, a.seq;

-- name: mark_read
-- $user has read $ids (the caller kept only items they may see); a second read keeps the first time.
INSERT INTO ops.feed_reads SELECT $user, unnest($ids::BIGINT[]), $now ON CONFLICT DO NOTHING;

-- name: set_pinned
-- Pin or unpin an item (the caller checked the permission and the audience).
UPDATE ops.feed_items SET pinned = $pinned WHERE item_id = $item_id;

-- name: follow_ups_for_plan
-- The follow-ups of meetings linked to a plan (the plan's page may list them).
SELECT a.item_id, a.seq, a.text, a.owner, a.deadline, i.title, i.meeting_on FROM ops.feed_actions a
JOIN ops.feed_items i ON i.item_id = a.item_id
WHERE a.plan_id = $plan_id AND a.action_kind = 'follow_up' ORDER BY i.meeting_on, a.item_id, a.seq;

-- name: feed_version
-- A cheap fingerprint of the feed: the page's cache key (a post, a pin or a read elsewhere shows next run).
SELECT (SELECT count(*) || '@' || coalesce(CAST(max(item_id) AS VARCHAR), '') || '@'
              || CAST(count(*) FILTER (WHERE pinned) AS VARCHAR) FROM ops.feed_items) || '|'
       || (SELECT count(*) || '@' || coalesce(CAST(max(read_at) AS VARCHAR), '') FROM ops.feed_reads);
