-- Up Migration
-- A listed page waits here between listStoragePage and publishBatch (a claim check inside the
-- coordinator), so the workflow's history carries a count and a key instead of the objects.
CREATE TABLE IF NOT EXISTS replay_pages (
  execution_id uuid NOT NULL REFERENCES executions (id) ON DELETE CASCADE,
  -- the cursor the page was listed after ('' for the first page)
  start_after text NOT NULL,
  objects jsonb NOT NULL,
  last_key text,
  listed_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (execution_id, start_after)
);

-- Down Migration
DROP TABLE IF EXISTS replay_pages;
