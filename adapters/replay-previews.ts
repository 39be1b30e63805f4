/** Replay previews that continue as jobs (replay_previews): their plan, counts so far and status. */
import type { PreviewPlan, PreviewStatus, PreviewTally } from '../services/replay-preview.ts';
import type { Queryable } from './database.ts';

export interface ReplayPreviewRecord {
  id: string;
  status: PreviewStatus;
  request: Record<string, unknown>;
  plan: PreviewPlan;
  tally: PreviewTally;
  workflow_id: string;
  error: string | null;
  created_at: string;
  completed_at: string | null;
}

const COLUMNS = 'id, status, request, plan, tally, workflow_id, error, created_at, completed_at';

type Row = Omit<ReplayPreviewRecord, 'created_at' | 'completed_at'> & {
  created_at: Date;
  completed_at: Date | null;
};

const toRecord = (row: Row): ReplayPreviewRecord => ({
  ...row,
  created_at: row.created_at.toISOString(),
  completed_at: row.completed_at?.toISOString() ?? null,
});

export async function insertReplayPreview(
  db: Queryable,
  preview: {
    id: string;
    workflow_id: string;
    request: object;
    plan: PreviewPlan;
    tally: PreviewTally;
  },
): Promise<ReplayPreviewRecord> {
  const result = await db.query<Row>(
    `INSERT INTO replay_previews (id, status, request, plan, tally, workflow_id)
     VALUES ($1, 'running', $2, $3, $4, $5) RETURNING ${COLUMNS}`,
    [
      preview.id,
      JSON.stringify(preview.request),
      JSON.stringify(preview.plan),
      JSON.stringify(preview.tally),
      preview.workflow_id,
    ],
  );
  return toRecord(result.rows[0]!);
}

export async function getReplayPreview(db: Queryable, id: string): Promise<ReplayPreviewRecord | undefined> {
  const result = await db.query<Row>(`SELECT ${COLUMNS} FROM replay_previews WHERE id = $1`, [id]);
  return result.rows[0] ? toRecord(result.rows[0]) : undefined;
}

/** Stores the counts so far; a finished tally completes the preview. Only while it is running. */
export async function saveReplayPreviewTally(
  db: Queryable,
  id: string,
  tally: PreviewTally,
): Promise<boolean> {
  const result = await db.query(
    `UPDATE replay_previews
        SET tally = $2, updated_at = now(),
            status = CASE WHEN $3 THEN 'completed' ELSE status END,
            completed_at = CASE WHEN $3 THEN now() ELSE completed_at END
      WHERE id = $1 AND status = 'running'`,
    [id, JSON.stringify(tally), tally.done],
  );
  return (result.rowCount ?? 0) > 0;
}

export async function failReplayPreview(db: Queryable, id: string, error: string): Promise<void> {
  await db.query(
    `UPDATE replay_previews SET status = 'failed', error = $2, updated_at = now(), completed_at = now()
      WHERE id = $1 AND status = 'running'`,
    [id, error],
  );
}

/** A preview whose job was cancelled (Temporal UI or CLI): it counts no more. */
export async function cancelReplayPreview(db: Queryable, id: string): Promise<void> {
  await db.query(
    `UPDATE replay_previews SET status = 'cancelled', updated_at = now(), completed_at = now()
      WHERE id = $1 AND status = 'running'`,
    [id],
  );
}

/** A preview whose job could not be started: the request failed, and leaves nothing behind. */
export async function deleteReplayPreview(db: Queryable, id: string): Promise<void> {
  await db.query('DELETE FROM replay_previews WHERE id = $1', [id]);
}
