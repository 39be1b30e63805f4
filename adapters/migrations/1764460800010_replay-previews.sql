-- Up Migration
-- A replay preview that outlived its request: counted by a `previewReplay` workflow, read through
-- GET /api/v1/replay-previews/{id}. A preview answered at once is stored nowhere.
CREATE TABLE IF NOT EXISTS replay_previews (
  id uuid PRIMARY KEY,
  status text NOT NULL CHECK (status IN ('running', 'completed', 'failed')),
  -- the replay request as sent, and what the preview resolved from it (parent, source, route, rate)
  request jsonb NOT NULL,
  plan jsonb NOT NULL,
  -- the counts so far and the listing's cursor: bounded in size whatever the number of objects
  tally jsonb NOT NULL,
  workflow_id text NOT NULL,
  error text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  completed_at timestamptz
);

-- Down Migration
DROP TABLE IF EXISTS replay_previews;
