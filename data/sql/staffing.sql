-- Reads of the staffing advice (metrics/staffing.py, docs/staffing.md): the counter queue per branch ×
-- weekday × hour, aggregated in DuckDB; only one row per cell (a few thousand at 200 outlets) leaves it.

-- name: cells
-- Counter tickets of $start … $end per branch × ISO weekday (1 = Monday) × hour of the ticket (hours with
-- at least one ticket), inside the
-- reader's boundary ($boundary: branch ids, NULL = whole bank) and filters ($region; $branch: the branch
-- or its outlets). days: the branch's open days of that weekday (days with any ticket); arrivals_per_hour
-- = tickets ÷ days; aht_min: mean service of the cell's served tickets, the branch's mean when the cell
-- has fewer than $min_served; windows_open: distinct windows serving in the hour (a served ticket's window
-- counts in every hour its service touches) averaged over the open days, NULL when the branch records no
-- window numbers; measured_sl: called tickets called within $within_s seconds ÷ called tickets.
-- Branch columns: abandoned (过号) tickets and the waits of all called tickets, in minutes, from which
-- the caller estimates the patience (Σ waits ÷ abandoned, docs/staffing.md §3).
WITH t AS (
    SELECT c.branch_id, c.business_date, isodow(c.business_date) AS weekday, c.ticket_time, c.call_time,
        coalesce(c.service_start_time, c.call_time) AS began, c.service_end_time, c.window_no, c.status,
        c.wait_seconds, c.service_seconds
    FROM main.counter_tickets c
    WHERE c.business_date BETWEEN $start AND $end
      AND ($boundary::VARCHAR[] IS NULL OR list_contains($boundary::VARCHAR[], c.branch_id))
      AND ($region::VARCHAR IS NULL
           OR c.branch_id IN (SELECT branch_id FROM main.branches WHERE region = $region::VARCHAR))
      AND ($branch::VARCHAR IS NULL OR c.branch_id = $branch::VARCHAR
           OR c.branch_id IN (SELECT branch_id FROM main.branches WHERE parent_id = $branch::VARCHAR))
),
days AS (
    SELECT branch_id, weekday, count(DISTINCT business_date) AS days FROM t GROUP BY branch_id, weekday
),
branch AS (
    SELECT branch_id,
        avg(service_seconds) FILTER (WHERE status = 'served') / 60.0 AS aht_min,
        count(*) FILTER (WHERE status = 'abandoned') AS abandoned,
        sum(wait_seconds) FILTER (WHERE call_time IS NOT NULL) / 60.0 AS wait_min_total,
        count(window_no) > 0 AS has_windows
    FROM t GROUP BY branch_id
),
arrivals AS (
    SELECT branch_id, weekday, hour(ticket_time) AS hour, count(*) AS tickets,
        count(service_seconds) FILTER (WHERE status = 'served') AS served,
        avg(service_seconds) FILTER (WHERE status = 'served') / 60.0 AS cell_aht_min,
        count(*) FILTER (WHERE call_time IS NOT NULL) AS called,
        count(*) FILTER (WHERE call_time IS NOT NULL AND wait_seconds <= $within_s) AS called_in_time,
        count(*) FILTER (WHERE status = 'abandoned') AS cell_abandoned
    FROM t GROUP BY branch_id, weekday, hour(ticket_time)
),
busy AS (
    SELECT DISTINCT branch_id, business_date, weekday, window_no, h AS hour
    FROM (SELECT branch_id, business_date, weekday, window_no,
              unnest(range(hour(began), hour(service_end_time) + 1)) AS h
          FROM t
          WHERE status = 'served' AND window_no IS NOT NULL AND began IS NOT NULL AND service_end_time IS NOT NULL
            AND CAST(began AS DATE) = CAST(service_end_time AS DATE))
),
windows AS (
    SELECT branch_id, weekday, hour, count(*) AS window_hours FROM busy GROUP BY branch_id, weekday, hour
),
cells AS (  -- hours with arrivals only: windows still serving after the last ticket clear a backlog, not demand
    SELECT a.*, coalesce(w.window_hours, 0) AS window_hours
    FROM arrivals a LEFT JOIN windows w USING (branch_id, weekday, hour)
)
SELECT c.branch_id, c.weekday, c.hour, d.days, c.tickets, c.tickets / d.days AS arrivals_per_hour, c.served,
    CASE WHEN c.served >= $min_served THEN c.cell_aht_min ELSE b.aht_min END AS aht_min,
    CASE WHEN b.has_windows THEN c.window_hours / d.days END AS windows_open,
    c.called, CASE WHEN c.called > 0 THEN c.called_in_time / c.called END AS measured_sl,
    c.cell_abandoned, b.abandoned AS branch_abandoned, b.wait_min_total AS branch_wait_min
FROM cells c JOIN days d USING (branch_id, weekday) JOIN branch b USING (branch_id)
ORDER BY c.branch_id, c.weekday, c.hour;

-- name: last_day
-- The last business day with counter tickets inside the boundary and filters (as in `cells`); NULL: none.
SELECT max(c.business_date) FROM main.counter_tickets c
WHERE ($boundary::VARCHAR[] IS NULL OR list_contains($boundary::VARCHAR[], c.branch_id))
  AND ($region::VARCHAR IS NULL
       OR c.branch_id IN (SELECT branch_id FROM main.branches WHERE region = $region::VARCHAR))
  AND ($branch::VARCHAR IS NULL OR c.branch_id = $branch::VARCHAR
       OR c.branch_id IN (SELECT branch_id FROM main.branches WHERE parent_id = $branch::VARCHAR));
