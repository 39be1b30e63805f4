-- Up Migration
CREATE TABLE IF NOT EXISTS pipeline_configs (
  id uuid PRIMARY KEY,
  name text NOT NULL,
  definition jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS executions (
  id uuid PRIMARY KEY,
  config_id uuid NOT NULL REFERENCES pipeline_configs (id),
  status text NOT NULL CHECK (status IN ('running', 'completed', 'failed', 'cancelled', 'interrupted')),
  started_at timestamptz NOT NULL DEFAULT now(),
  completed_at timestamptz,
  parent_execution_id uuid REFERENCES executions (id),
  root_execution_id uuid,
  -- the execution whose storage a replay reads: the parent, or for `lineage` an ancestor
  source_execution_id uuid,
  replay_source text CHECK (replay_source IN ('storage', 'lineage', 'manual')),
  from_stage text,
  to_route text,
  from_path text,
  tag text UNIQUE,
  metadata jsonb NOT NULL DEFAULT '{}'::jsonb,
  workflow_id text,
  listed_count bigint NOT NULL DEFAULT 0,
  published_count bigint NOT NULL DEFAULT 0,
  -- last source key published; the next page lists after it (S3 StartAfter)
  replay_cursor text,
  error text,
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX IF NOT EXISTS executions_parent_idx ON executions (parent_execution_id, id DESC);
CREATE INDEX IF NOT EXISTS executions_root_idx ON executions (root_execution_id, id DESC);
CREATE INDEX IF NOT EXISTS executions_status_idx ON executions (status, id DESC);

CREATE TABLE IF NOT EXISTS execution_routes (
  execution_id uuid NOT NULL REFERENCES executions (id) ON DELETE CASCADE,
  route text NOT NULL,
  status text NOT NULL CHECK (status IN ('running', 'completed', 'failed', 'cancelled', 'interrupted')),
  started_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (execution_id, route)
);

CREATE TABLE IF NOT EXISTS idempotency_keys (
  key text PRIMARY KEY,
  request_hash text NOT NULL,
  execution_id uuid NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- Down Migration
DROP TABLE IF EXISTS idempotency_keys;
DROP TABLE IF EXISTS execution_routes;
DROP TABLE IF EXISTS executions;
DROP TABLE IF EXISTS pipeline_configs;
