-- Up Migration
-- Operators pace and pause replays: a replay's own rate limit (the route's is in its config), and
-- whether it is paused (its status stays `running`, as the contract's enum has no paused state).
ALTER TABLE executions ADD COLUMN IF NOT EXISTS max_messages_per_second double precision
  CHECK (max_messages_per_second IS NULL OR max_messages_per_second > 0);
ALTER TABLE executions ADD COLUMN IF NOT EXISTS paused boolean NOT NULL DEFAULT false;

-- Token buckets that pace publishing across every worker: one per route (`route:<name>`) and one
-- per limited replay (`execution:<id>`). Kept in Postgres, so a worker restart neither bursts nor
-- loses pace.
CREATE TABLE IF NOT EXISTS rate_buckets (
  key text PRIMARY KEY,
  rate double precision NOT NULL CHECK (rate > 0),
  -- negative: messages reserved ahead of the rate, which their publishers wait out
  tokens double precision NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT clock_timestamp()
);

-- Down Migration
DROP TABLE IF EXISTS rate_buckets;
ALTER TABLE executions DROP COLUMN IF EXISTS paused;
ALTER TABLE executions DROP COLUMN IF EXISTS max_messages_per_second;
