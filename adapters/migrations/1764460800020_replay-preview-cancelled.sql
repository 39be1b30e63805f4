-- Up Migration
-- A preview job cancelled from the Temporal UI or CLI ends `cancelled`, not `running` for ever.
ALTER TABLE replay_previews DROP CONSTRAINT IF EXISTS replay_previews_status_check;
ALTER TABLE replay_previews
  ADD CONSTRAINT replay_previews_status_check CHECK (status IN ('running', 'completed', 'failed', 'cancelled'));

-- Down Migration
UPDATE replay_previews SET status = 'failed', error = COALESCE(error, 'cancelled') WHERE status = 'cancelled';
ALTER TABLE replay_previews DROP CONSTRAINT IF EXISTS replay_previews_status_check;
ALTER TABLE replay_previews
  ADD CONSTRAINT replay_previews_status_check CHECK (status IN ('running', 'completed', 'failed'));
