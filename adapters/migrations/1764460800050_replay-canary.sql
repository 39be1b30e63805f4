-- Up Migration
-- A replay's canary (its first messages, then a wait for their outputs) and why a paused replay is
-- paused: `operator` (the pause endpoint, a bulk replay's pause) or `canary` (it paused itself).
-- NULL while not paused; a row paused before this column existed reads as `operator`.
ALTER TABLE executions ADD COLUMN IF NOT EXISTS paused_reason text
  CHECK (paused_reason IS NULL OR paused_reason IN ('operator', 'canary'));
-- The request's canary and what it counted (domain/replay-canary.ts CanaryState); NULL: none.
ALTER TABLE executions ADD COLUMN IF NOT EXISTS canary jsonb;

-- Down Migration
ALTER TABLE executions DROP COLUMN IF EXISTS canary;
ALTER TABLE executions DROP COLUMN IF EXISTS paused_reason;
