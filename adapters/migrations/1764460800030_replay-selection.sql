-- Up Migration
-- Which objects of the stage a replay publishes, besides from_path: all of them, or those the parent
-- has no output for (`missing_outputs`, matched in output_stage by output_match); and only those last
-- modified within [modified_since, modified_before). The bounds are kept as sent (RFC 3339 text):
-- timestamptz keeps microseconds, and a window is compared to the nanosecond. Existing replays
-- selected everything.
ALTER TABLE executions
  ADD COLUMN IF NOT EXISTS replay_select text NOT NULL DEFAULT 'all'
    CHECK (replay_select IN ('all', 'missing_outputs')),
  ADD COLUMN IF NOT EXISTS modified_since text,
  ADD COLUMN IF NOT EXISTS modified_before text,
  ADD COLUMN IF NOT EXISTS output_stage text,
  ADD COLUMN IF NOT EXISTS output_match text CHECK (output_match IN ('stem', 'exact'));

-- Down Migration
ALTER TABLE executions
  DROP COLUMN IF EXISTS output_match,
  DROP COLUMN IF EXISTS output_stage,
  DROP COLUMN IF EXISTS modified_before,
  DROP COLUMN IF EXISTS modified_since,
  DROP COLUMN IF EXISTS replay_select;
