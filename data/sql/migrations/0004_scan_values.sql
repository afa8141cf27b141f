-- Migration 0004: per-period values the anomaly scan keeps between scans (a cache: emptying it only
-- makes the next scan slower). Quantiles (wait P50/P90 …) cannot be summed up from branches, so a
-- scan would sort millions of rows per scope level again for every day of history; a kept value is
-- used only while the fingerprint of the rows it came from is unchanged (row count, sum and max of
-- their batch ids, and which branches they belong to), so it is always the value a fresh read gives.

CREATE TABLE ops.scan_values (
    measure_key VARCHAR NOT NULL,   -- hash of the compiled aggregate (definition, filters, options), not of the window
    level VARCHAR NOT NULL,         -- bank | region | branch
    scope_value VARCHAR NOT NULL,   -- '' for the bank, the region name, the branch id
    period DATE NOT NULL,
    n_rows BIGINT NOT NULL,         -- fingerprint of the rows the value was computed from
    batch_sum BIGINT NOT NULL,
    batch_max BIGINT NOT NULL,
    members BIGINT NOT NULL,        -- Σ crc32 of the branch ids (a region's membership)
    value DOUBLE
);
