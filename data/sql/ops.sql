-- name: next_batch_id
-- A new batch id from the sequence (ids are never reused, even after rollbacks).
SELECT nextval('ops.batch_seq');

-- name: active_batch_for
-- The live batch that loaded these exact bytes as this source (re-uploads are no-ops).
SELECT * FROM ops.batches WHERE sha256 = $sha AND source = $source AND status <> 'rolled_back'
ORDER BY batch_id LIMIT 1;

-- name: insert_batch
-- Record a batch; runs inside the load's transaction.
INSERT INTO ops.batches VALUES ($batch_id, $file_name, $sha256, $source, $sheets, $encoding, $rows_in,
    $rows_loaded, $rows_updated, $rows_rejected, $rows_warned, $status, $user_name, $created_at,
    $min_date, $max_date, $rolled_back_at, $rolled_back_by);

-- name: insert_issues_from_frame
-- Keep a batch's issues (the DataFrame `frame` is scanned by DuckDB).
INSERT INTO ops.batch_issues SELECT batch_id, file, sheet, "row", "column", "value", expected, severity, code, message FROM frame;

-- name: bump_data_version
-- Invalidate page caches: any load or rollback changes the data version.
UPDATE ops.meta SET value = value + 1 WHERE key = 'data_version';

-- name: list_batches
-- Batch history, newest first.
SELECT * FROM ops.batches ORDER BY batch_id DESC LIMIT $limit;

-- name: get_batch
-- One batch by id.
SELECT * FROM ops.batches WHERE batch_id = $id;

-- name: mark_rolled_back
-- Flag a batch as rolled back (its rows are already removed by the caller).
UPDATE ops.batches SET status = 'rolled_back', rolled_back_at = $at, rolled_back_by = $user WHERE batch_id = $id;

-- name: batch_issues
-- The issues recorded with a batch.
SELECT * FROM ops.batch_issues WHERE batch_id = $id ORDER BY severity, row_no;

-- name: quarantine_rows
-- The rows a partial load kept aside.
SELECT * FROM ops.quarantine WHERE batch_id = $id ORDER BY sheet, row_no;
