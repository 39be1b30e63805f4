-- Up Migration
-- A replay's publishing activity now lists and publishes each page itself: listed pages no longer
-- wait in Postgres between two activities.
DROP TABLE IF EXISTS replay_pages;

-- Down Migration
CREATE TABLE IF NOT EXISTS replay_pages (
  execution_id uuid NOT NULL REFERENCES executions (id) ON DELETE CASCADE,
  start_after text NOT NULL,
  objects jsonb NOT NULL,
  last_key text,
  listed_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (execution_id, start_after)
);
