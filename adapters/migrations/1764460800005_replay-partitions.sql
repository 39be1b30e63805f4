-- Up Migration
-- A large replay split into partitions: contiguous key ranges of its source listing, each published
-- by a child workflow with its own cursor and counters (exactly-once per partition, as per replay).
CREATE TABLE IF NOT EXISTS replay_partitions (
  execution_id uuid NOT NULL REFERENCES executions (id) ON DELETE CASCADE,
  partition integer NOT NULL,
  -- the range: keys after start_after (exclusive; null: from the replay's cursor when planned) up to
  -- end_at (inclusive; null: to the end of the listing)
  start_after text,
  end_at text,
  -- last key published in this partition; the next page lists after it
  cursor text,
  listed_count bigint NOT NULL DEFAULT 0,
  published_count bigint NOT NULL DEFAULT 0,
  status text NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'completed', 'interrupted')),
  error text,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (execution_id, partition)
);

-- Down Migration
DROP TABLE IF EXISTS replay_partitions;
