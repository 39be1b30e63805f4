-- Up Migration
-- A bulk replay: one request that replays many parents, each as an ordinary replay execution.
CREATE TABLE IF NOT EXISTS bulk_replays (
  id uuid PRIMARY KEY,
  status text NOT NULL CHECK (status IN ('running', 'completed', 'failed', 'cancelled', 'interrupted')),
  -- the replay fields every child shares, the selection (execution_ids or filter) and max_concurrent
  request jsonb NOT NULL,
  total integer NOT NULL,
  max_concurrent integer NOT NULL,
  workflow_id text NOT NULL,
  error text,
  created_at timestamptz NOT NULL DEFAULT now(),
  completed_at timestamptz,
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- One parent of a bulk replay. Its child's progress is the child's own execution record
-- (execution_id); `outcome` records only what happened without one: a refused parent, or a
-- cancel before the child started.
CREATE TABLE IF NOT EXISTS bulk_replay_items (
  bulk_replay_id uuid NOT NULL REFERENCES bulk_replays (id) ON DELETE CASCADE,
  position integer NOT NULL,
  -- the parent as given (a UUID or a tag), or the id a filter matched
  parent_ref text NOT NULL,
  -- chosen when the parent is checked, before its child starts
  execution_id uuid,
  outcome text CHECK (outcome IN ('failed', 'cancelled')),
  error_code text,
  error text,
  PRIMARY KEY (bulk_replay_id, position)
);

CREATE INDEX IF NOT EXISTS bulk_replay_items_execution_idx ON bulk_replay_items (execution_id);

-- Down Migration
DROP TABLE IF EXISTS bulk_replay_items;
DROP TABLE IF EXISTS bulk_replays;
