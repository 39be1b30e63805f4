-- Up Migration
-- A replay's canary (its first messages, then a wait for their outputs) and why a paused replay is
-- paused: `operator` (the pause endpoint, a bulk replay's pause) or `canary` (it paused itself).
-- NULL while not paused; a row paused before this column existed reads as `operator`.
ALTER TABLE executions ADD COLUMN IF NOT EXISTS paused_reason text
  CHECK (paused_reason IS NULL OR paused_reason IN ('operator', 'canary'));
-- The request's canary and what it counted (domain/replay-canary.ts CanaryState); NULL: none.
ALTER TABLE executions ADD COLUMN IF NOT EXISTS canary jsonb;

-- Why a bulk replay is paused: `operator` (its pause endpoint) or `failed_children` (it paused itself
-- once pause_after_failed_children children had failed or been interrupted, counted in
-- failed_children). NULL while not paused, or paused from outside the api.
ALTER TABLE bulk_replays ADD COLUMN IF NOT EXISTS paused_reason text
  CHECK (paused_reason IS NULL OR paused_reason IN ('operator', 'failed_children'));
ALTER TABLE bulk_replays ADD COLUMN IF NOT EXISTS failed_children integer;

-- Down Migration
ALTER TABLE bulk_replays DROP COLUMN IF EXISTS failed_children;
ALTER TABLE bulk_replays DROP COLUMN IF EXISTS paused_reason;
ALTER TABLE executions DROP COLUMN IF EXISTS canary;
ALTER TABLE executions DROP COLUMN IF EXISTS paused_reason;
