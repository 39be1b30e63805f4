-- Up Migration
-- Who asked for a replay and why: the api key's name (never the request body's) and the request's reason.
ALTER TABLE executions ADD COLUMN IF NOT EXISTS reason text;
ALTER TABLE executions ADD COLUMN IF NOT EXISTS requested_by text;

-- A bulk replay's parent may be skipped because it already has an open replay into the same route
-- (skip_parents_with_open_replays); the item names that replay.
ALTER TABLE bulk_replay_items ADD COLUMN IF NOT EXISTS open_replay_id uuid;
ALTER TABLE bulk_replay_items DROP CONSTRAINT IF EXISTS bulk_replay_items_outcome_check;
ALTER TABLE bulk_replay_items
  ADD CONSTRAINT bulk_replay_items_outcome_check CHECK (outcome IN ('failed', 'cancelled', 'skipped'));

-- Down Migration
UPDATE bulk_replay_items SET outcome = 'cancelled', error = COALESCE(error, 'skipped') WHERE outcome = 'skipped';
ALTER TABLE bulk_replay_items DROP CONSTRAINT IF EXISTS bulk_replay_items_outcome_check;
ALTER TABLE bulk_replay_items
  ADD CONSTRAINT bulk_replay_items_outcome_check CHECK (outcome IN ('failed', 'cancelled'));
ALTER TABLE bulk_replay_items DROP COLUMN IF EXISTS open_replay_id;
ALTER TABLE executions DROP COLUMN IF EXISTS requested_by;
ALTER TABLE executions DROP COLUMN IF EXISTS reason;
