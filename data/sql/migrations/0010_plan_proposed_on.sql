-- Migration 0010: the business day a plan was proposed (提出日期). `created_at` is when the record
-- was written; a plan entered after the fact (a meeting's decision typed in the next week, the
-- demo's history) was proposed earlier, and the briefing counts "proposed this period" by this day.
-- Every later milestone (evaluated_on …) is on or after it (data/plans/store.py).

ALTER TABLE ops.plans ADD COLUMN proposed_on DATE;
UPDATE ops.plans SET proposed_on = CAST(created_at AS DATE) WHERE proposed_on IS NULL;
