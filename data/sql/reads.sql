-- Reads of the analytical tables (schema main) that pages, the briefing and the scan share.
-- KPIs are not here: they are Ibis expressions built from the catalogue (metrics/compiler.py).

-- name: branch_master
-- The branch master, read once for every use: id, display name (the id when it has none), level
-- ('outlet' when not given), region and parent, by id.
SELECT branch_id, coalesce(branch_name, branch_id) AS branch_name, coalesce(level, 'outlet') AS level, region,
    parent_id
FROM main.branches ORDER BY branch_id;

-- name: data_span
-- The first and the last day of data over the daily sources (counter tickets, loan snapshots, feedback).
SELECT min(first_day) AS first_day, max(last_day) AS last_day FROM (
    SELECT min(business_date) AS first_day, max(business_date) AS last_day FROM main.counter_tickets
    UNION ALL SELECT min(snapshot_date), max(snapshot_date) FROM main.loan_snapshot
    UNION ALL SELECT min(CAST(received_at AS DATE)), max(CAST(received_at AS DATE)) FROM main.feedback_records);

-- name: loan_products
-- The loan products that occur, in order (the product filter's options).
SELECT DISTINCT product FROM main.loan_snapshot WHERE product IS NOT NULL ORDER BY 1;

-- name: market_events
-- Market and policy events in a window, newest first (chart annotations and the timeline).
SELECT event_id, event_date, event_type, title, detail, competitor_name, impact_area, source
FROM main.market_events WHERE event_date BETWEEN $start AND $end ORDER BY event_date DESC;

-- name: event_titles
-- Every market event's date and title (the scan's explanations name the events near a flag).
SELECT event_date, title FROM main.market_events;

-- name: branches_with_data
-- Branch ids that hold counter or loan rows (the outlets; a parent 支行 row of the master holds none).
SELECT DISTINCT branch_id FROM main.counter_tickets UNION SELECT DISTINCT branch_id FROM main.loan_snapshot;

-- name: batch_branches
-- The branches a batch touched, in its source's table {table} (a source with a branch_id column).
SELECT DISTINCT branch_id FROM main.{table} WHERE batch_id = $batch_id AND branch_id IS NOT NULL;

-- name: table_exists
-- Whether a table exists (a store whose schema predates it has none).
SELECT count(*) > 0 FROM information_schema.tables WHERE table_schema = $schema AND table_name = $table;
