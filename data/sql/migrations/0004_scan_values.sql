-- Migration 0004: per-period aggregates the anomaly scan keeps between scans (a cache: emptying it
-- only makes the next scan slower). A scan needs every KPI's whole history; re-reading it means
-- aggregating millions of rows again — quantiles (wait P50/P90) sorted once per scope level — for
-- days whose rows did not change. A kept row is used only while the fingerprint of the rows it was
-- computed from is unchanged (row count, sum and max of their batch ids, and which branches they
-- belong to), so it always holds what a fresh read gives.

CREATE TABLE ops.scan_values (
    group_key VARCHAR NOT NULL,     -- hash of the compiled aggregates (definitions, filters, options), not of the window
    level VARCHAR NOT NULL,         -- bank | region | branch
    scope_value VARCHAR NOT NULL,   -- '' for the bank, the region name, the branch id
    period DATE NOT NULL,
    n_rows BIGINT NOT NULL,         -- fingerprint of the rows the values were computed from
    batch_sum BIGINT NOT NULL,
    batch_max BIGINT NOT NULL,
    members BIGINT NOT NULL,        -- Σ crc32 of the branch ids (a region's membership)
    vals DOUBLE[] NOT NULL          -- the aggregates, in the order the group key was compiled in
);
