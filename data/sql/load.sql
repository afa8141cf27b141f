-- name: archive_replaced
-- Copy the rows an upload is about to replace (same natural key) into history.<table>, tagged
-- with the replacing batch, so that rolling that batch back can restore them exactly.
INSERT INTO history.{table}
SELECT t.*, $batch AS replaced_by FROM main.{table} t SEMI JOIN {valid} v USING ({keys});

-- name: delete_replaced
-- Remove the replaced rows from the live table (after archiving them).
DELETE FROM main.{table} WHERE rowid IN (SELECT t.rowid FROM main.{table} t SEMI JOIN {valid} v USING ({keys}));

-- name: insert_rows
-- Append the upload's valid rows with their lineage (batch, file, Excel row number).
INSERT INTO main.{table} BY NAME
SELECT {columns}, $batch AS batch_id, $file AS source_file, row_no AS source_row FROM {valid};

-- name: add_unknown_branches
-- Branch ids referenced by the upload but missing from the branch master are added with their
-- id as their name (a warning tells the user); a later branch-master upload names them.
INSERT INTO main.branches (branch_id, branch_name, level, batch_id, source_file, source_row)
SELECT {ref}, {ref}, 'outlet', $batch, $file, min(row_no) FROM {valid} v
WHERE {ref} IS NOT NULL AND NOT EXISTS (SELECT 1 FROM main.branches b WHERE b.branch_id = v.{ref})
GROUP BY {ref};

-- name: date_range
-- The span of business time an upload covers (for the batch list and incremental scans).
SELECT min(CAST({time} AS DATE)), max(CAST({time} AS DATE)) FROM {valid};

-- name: rollback_blockers
-- Later, still-live batches that replaced rows of this batch: they must be rolled back first.
SELECT DISTINCT h.replaced_by FROM history.{table} h JOIN ops.batches b ON b.batch_id = h.replaced_by
WHERE h.batch_id = $batch AND b.status <> 'rolled_back';

-- name: rollback_delete
-- Remove the batch's rows from the live table.
DELETE FROM main.{table} WHERE batch_id = $batch;

-- name: rollback_restore
-- Put back the rows the batch had replaced, exactly as they were.
INSERT INTO main.{table} SELECT * EXCLUDE (replaced_by) FROM history.{table} WHERE replaced_by = $batch;

-- name: rollback_forget
-- The restored rows are live again: drop them from the archive.
DELETE FROM history.{table} WHERE replaced_by = $batch;

-- name: branch_names_in_upload
-- Values of a branch-id column that are no known branch id but exactly one known branch name:
-- (name, id, rows), the most frequent first (the message lists the first few).
SELECT p.{ref}, min(b.branch_id), count(*) FROM {parsed} p JOIN main.branches b ON b.branch_name = p.{ref}
WHERE NOT EXISTS (SELECT 1 FROM main.branches x WHERE x.branch_id = p.{ref})
GROUP BY p.{ref} HAVING count(DISTINCT b.branch_id) = 1
ORDER BY count(*) DESC, p.{ref};

-- name: resolve_branch_names
-- Replace those names by their ids in the staged upload.
UPDATE {parsed} SET {ref} = m.bid FROM (
    SELECT b.branch_name AS bname, min(b.branch_id) AS bid FROM main.branches b
    GROUP BY b.branch_name HAVING count(DISTINCT b.branch_id) = 1) m
WHERE {parsed}.{ref} = m.bname AND NOT EXISTS (SELECT 1 FROM main.branches x WHERE x.branch_id = {parsed}.{ref});
