-- Migration 0012: versions of the scorecard definition (考核方案) and the version each scored period
-- keeps. Written only through data/scorecards.py, each save one transaction with its audit row.
--
-- The repository's metrics/scorecards/default.toml is the seed: while this table is empty the
-- scorecard reads that file; the first version saved from the page stores the file's text as
-- version 1 before its own. A version applies to the periods starting on or after its
-- `effective_from` (never before the current period: an ended period is not re-scored), and
-- saving one pins every ended period to the version it was scored with (ops.scorecard_periods),
-- so an old period keeps its version whatever is saved later.

CREATE TABLE ops.scorecard_versions (
    version_id INTEGER PRIMARY KEY,   -- 1, 2, … in the order saved
    def_version INTEGER NOT NULL,     -- the `version` the TOML text declares
    name_zh VARCHAR NOT NULL,
    name_en VARCHAR NOT NULL,
    definition VARCHAR NOT NULL,      -- the TOML text, exactly as validated (metrics/scorecard_def.py)
    sha256 VARCHAR NOT NULL,          -- of the text
    effective_from DATE NOT NULL,     -- the first day of the first period scored with it
    origin VARCHAR NOT NULL,          -- file (the repository's seed) | form (the page) | cli
    note VARCHAR,                     -- why it changed
    created_at TIMESTAMP NOT NULL,
    created_by VARCHAR NOT NULL
);

-- The version a scored (ended) period was scored with, per grain (month, quarter, year).
CREATE TABLE ops.scorecard_periods (
    grain VARCHAR NOT NULL,
    period_start DATE NOT NULL,
    version_id INTEGER NOT NULL,
    pinned_at TIMESTAMP NOT NULL,
    pinned_by VARCHAR NOT NULL,
    PRIMARY KEY (grain, period_start)
);
