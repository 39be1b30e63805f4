/**
 * Bulk replays and their parents (bulk_replay_items). A child's status is its own execution
 * record's, so the counts are always those of the records, read live.
 */
import type { BulkReplayFilter, NewBulkReplay } from '../workflows/bulk-replay.contract.ts';
import type { BulkPausedReason, BulkReplaySummary, ExecutionStatus } from '../domain/replay.ts';
import { finishedStatuses } from '../domain/replay.ts';
import type { Queryable } from './database.ts';

/** Parents one bulk replay takes, listed or matched by a filter. */
export const MAX_BULK_REPLAY_PARENTS = 10_000;

export interface BulkReplayRecord {
  id: string;
  status: ExecutionStatus;
  request: Pick<
    NewBulkReplay,
    | 'replay'
    | 'execution_ids'
    | 'filter'
    | 'max_concurrent'
    | 'requested_by'
    | 'skip_parents_with_open_replays'
    | 'pause_after_failed_children'
  >;
  total: number;
  max_concurrent: number;
  workflow_id: string;
  error: string | null;
}

export interface BulkReplayItem {
  position: number;
  parent_ref: string;
  execution_id: string | null;
  /** The child's record status; `pending` before it starts; the outcome of a parent with no child. */
  status: ExecutionStatus | 'pending' | 'skipped';
  error_code: string | null;
  error: string | null;
  /** A skipped parent's open replay into the same route (skip_parents_with_open_replays). */
  open_replay_id: string | null;
}

/** Escapes LIKE's wildcards, so a tag prefix matches literally. */
function likePrefix(prefix: string): string {
  return `${prefix.replace(/[\\%_]/g, (character) => `\\${character}`)}%`;
}

/**
 * Inserts the bulk replay and its parents (as listed, or as the filter matches them now, oldest
 * first). Returns false, having inserted nothing the caller keeps, when the filter matches more than
 * MAX_BULK_REPLAY_PARENTS: call inside a transaction and roll back. Idempotent by id.
 */
export async function insertBulkReplay(db: Queryable, bulk: NewBulkReplay): Promise<boolean> {
  const inserted = await db.query(
    `INSERT INTO bulk_replays (id, status, request, total, max_concurrent, workflow_id)
     VALUES ($1, 'running', $2, 0, $3, $4) ON CONFLICT (id) DO NOTHING`,
    [
      bulk.id,
      JSON.stringify({
        replay: bulk.replay,
        execution_ids: bulk.execution_ids,
        filter: bulk.filter,
        max_concurrent: bulk.max_concurrent,
        // kept only when given, so a bulk replay without them stores what it stored before
        ...(bulk.requested_by != null ? { requested_by: bulk.requested_by } : {}),
        ...(bulk.skip_parents_with_open_replays ? { skip_parents_with_open_replays: true } : {}),
        ...(bulk.pause_after_failed_children
          ? { pause_after_failed_children: bulk.pause_after_failed_children }
          : {}),
      }),
      bulk.max_concurrent,
      bulk.workflow_id,
    ],
  );
  if (inserted.rowCount === 0) return true;
  let total: number;
  if (bulk.execution_ids) {
    const items = await db.query(
      `INSERT INTO bulk_replay_items (bulk_replay_id, position, parent_ref)
       SELECT $1, ordinality - 1, ref FROM unnest($2::text[]) WITH ORDINALITY AS ref`,
      [bulk.id, bulk.execution_ids],
    );
    total = items.rowCount ?? 0;
  } else {
    total = await insertMatchingParents(db, bulk.id, bulk.filter ?? {});
    if (total > MAX_BULK_REPLAY_PARENTS) return false;
  }
  await db.query('UPDATE bulk_replays SET total = $2 WHERE id = $1', [bulk.id, total]);
  return true;
}

async function insertMatchingParents(
  db: Queryable,
  bulkId: string,
  filter: BulkReplayFilter,
): Promise<number> {
  const result = await db.query(
    `INSERT INTO bulk_replay_items (bulk_replay_id, position, parent_ref)
     SELECT $1, row_number() OVER (ORDER BY id) - 1, id::text FROM (
       SELECT id FROM executions
        WHERE ($2::uuid IS NULL OR config_id = $2)
          AND ($3::text IS NULL OR tag LIKE $3)
          AND ($4::text[] IS NULL OR status = ANY ($4))
          AND ($5::timestamptz IS NULL OR started_at >= $5)
          AND ($6::timestamptz IS NULL OR started_at < $6)
        ORDER BY id LIMIT $7) AS matched`,
    [
      bulkId,
      filter.config_id ?? null,
      filter.tag_prefix ? likePrefix(filter.tag_prefix) : null,
      filter.status?.length ? filter.status : null,
      filter.started_after ?? null,
      filter.started_before ?? null,
      MAX_BULK_REPLAY_PARENTS + 1,
    ],
  );
  return result.rowCount ?? 0;
}

export async function getBulkReplay(db: Queryable, id: string): Promise<BulkReplayRecord | undefined> {
  const result = await db.query<BulkReplayRecord>(
    'SELECT id, status, request, total, max_concurrent, workflow_id, error FROM bulk_replays WHERE id = $1',
    [id],
  );
  return result.rows[0];
}

/** The bulk replay with its children counted from their records, as they stand now. */
export async function bulkReplaySummary(db: Queryable, id: string): Promise<BulkReplaySummary | undefined> {
  const result = await db.query<BulkReplaySummary>(
    `SELECT b.id, b.status, b.total, b.paused_reason, b.failed_children,
            count(e.id)::int AS started,
            (count(*) FILTER (WHERE e.status = 'completed'))::int AS completed,
            (count(*) FILTER (WHERE i.outcome = 'failed' OR e.status = 'failed'))::int AS failed,
            (count(*) FILTER (WHERE i.outcome = 'cancelled' OR e.status = 'cancelled'))::int AS cancelled,
            (count(*) FILTER (WHERE i.outcome = 'skipped'))::int AS skipped,
            b.request->'replay'->>'reason' AS reason, b.request->>'requested_by' AS requested_by
       FROM bulk_replays b
       LEFT JOIN bulk_replay_items i ON i.bulk_replay_id = b.id
       LEFT JOIN executions e ON e.id = i.execution_id
      WHERE b.id = $1
      GROUP BY b.id`,
    [id],
  );
  return result.rows[0];
}

/** Parents at or after a position whose child has not started, in order. */
export async function unstartedItems(
  db: Queryable,
  bulkId: string,
  fromPosition: number,
  limit: number,
): Promise<{ position: number; parent_ref: string; execution_id: string | null }[]> {
  const result = await db.query(
    `SELECT i.position, i.parent_ref, i.execution_id::text
       FROM bulk_replay_items i LEFT JOIN executions e ON e.id = i.execution_id
      WHERE i.bulk_replay_id = $1 AND i.position >= $2 AND i.outcome IS NULL AND e.id IS NULL
      ORDER BY i.position LIMIT $3`,
    [bulkId, fromPosition, limit],
  );
  return result.rows;
}

/** Gives a parent the id of its child replay, unless an earlier attempt already did; returns the id kept. */
export async function assignChildExecution(
  db: Queryable,
  bulkId: string,
  position: number,
  executionId: string,
): Promise<string> {
  const result = await db.query<{ execution_id: string }>(
    `UPDATE bulk_replay_items SET execution_id = COALESCE(execution_id, $3)
      WHERE bulk_replay_id = $1 AND position = $2 RETURNING execution_id::text`,
    [bulkId, position, executionId],
  );
  return result.rows[0]!.execution_id;
}

/** A parent refused with the error the replay endpoint would have answered. */
export async function refuseItem(
  db: Queryable,
  bulkId: string,
  position: number,
  errorCode: string,
  error: string,
): Promise<void> {
  await db.query(
    `UPDATE bulk_replay_items SET outcome = 'failed', error_code = $3, error = $4
      WHERE bulk_replay_id = $1 AND position = $2 AND outcome IS NULL`,
    [bulkId, position, errorCode, error],
  );
}

/** A parent skipped because it has an open replay into the bulk replay's route (named by the item). */
export async function skipItem(
  db: Queryable,
  bulkId: string,
  position: number,
  openReplayId: string,
): Promise<void> {
  await db.query(
    `UPDATE bulk_replay_items
        SET outcome = 'skipped', open_replay_id = $3, error_code = 'OPEN_REPLAY', error = $4
      WHERE bulk_replay_id = $1 AND position = $2 AND outcome IS NULL`,
    [
      bulkId,
      position,
      openReplayId,
      `skipped: the parent has the open replay ${openReplayId} into the same route`,
    ],
  );
}

/**
 * The newest replay of a parent into a route that has not finished: running (paused ones too) or
 * interrupted (a resume would take it up, so it is open as well).
 */
export async function findOpenReplay(
  db: Queryable,
  parentId: string,
  toRoute: string,
): Promise<string | undefined> {
  const result = await db.query<{ id: string }>(
    `SELECT id::text FROM executions
      WHERE parent_execution_id = $1 AND to_route = $2 AND status IN ('running', 'interrupted')
      ORDER BY id DESC LIMIT 1`,
    [parentId, toRoute],
  );
  return result.rows[0]?.id;
}

/**
 * Moves a bulk replay to a status (a finished one keeps its own). Cancelled: every parent whose
 * child never started is cancelled with it.
 */
export async function setBulkReplayStatus(
  db: Queryable,
  id: string,
  status: ExecutionStatus,
  error: string | null,
): Promise<void> {
  const final = finishedStatuses.includes(status);
  await db.query(
    `UPDATE bulk_replays
        SET status = $2, error = $3, updated_at = now(),
            completed_at = CASE WHEN $4::boolean THEN COALESCE(completed_at, now()) ELSE NULL END
      WHERE id = $1 AND status NOT IN ('completed', 'failed', 'cancelled')`,
    [id, status, error, final],
  );
  if (status === 'cancelled') {
    await db.query(
      `UPDATE bulk_replay_items i SET outcome = 'cancelled', error = 'bulk replay cancelled'
        WHERE i.bulk_replay_id = $1 AND i.outcome IS NULL
          AND NOT EXISTS (SELECT 1 FROM executions e WHERE e.id = i.execution_id)`,
      [id],
    );
  }
}

/**
 * Why the bulk replay is paused (null: it is not, as far as the api knows) and, when it paused
 * itself for its failed children, how many it had counted. Idempotent.
 */
export async function setBulkReplayPaused(
  db: Queryable,
  id: string,
  reason: BulkPausedReason | null,
  failedChildren: number | null,
): Promise<void> {
  await db.query(
    `UPDATE bulk_replays SET paused_reason = $2, failed_children = $3, updated_at = now()
      WHERE id = $1 AND status NOT IN ('completed', 'failed', 'cancelled')`,
    [id, reason, failedChildren],
  );
}

/** An operator paused the bulk replay (a pause of a paused one keeps its first reason). */
export async function markBulkReplayPausedByOperator(db: Queryable, id: string): Promise<void> {
  await db.query(
    `UPDATE bulk_replays SET paused_reason = COALESCE(paused_reason, 'operator'), updated_at = now()
      WHERE id = $1 AND status NOT IN ('completed', 'failed', 'cancelled')`,
    [id],
  );
}

/** Children of the bulk replay that started and have not finished (running or interrupted). */
export async function unfinishedChildren(db: Queryable, bulkId: string): Promise<number> {
  const result = await db.query<{ count: number }>(
    `SELECT count(*)::int AS count FROM bulk_replay_items i JOIN executions e ON e.id = i.execution_id
      WHERE i.bulk_replay_id = $1 AND e.status IN ('running', 'interrupted')`,
    [bulkId],
  );
  return result.rows[0]!.count;
}

/** The children of the bulk replay that started and have not finished: their ids and workflow ids. */
export async function openChildren(
  db: Queryable,
  bulkId: string,
): Promise<{ execution_id: string; workflow_id: string | null }[]> {
  const result = await db.query<{ execution_id: string; workflow_id: string | null }>(
    `SELECT e.id::text AS execution_id, e.workflow_id FROM bulk_replay_items i JOIN executions e ON e.id = i.execution_id
      WHERE i.bulk_replay_id = $1 AND e.status IN ('running', 'interrupted')
      ORDER BY i.position`,
    [bulkId],
  );
  return result.rows;
}

/** A page of the parents and their children's statuses, by position. */
export async function listBulkReplayItems(
  db: Queryable,
  bulkId: string,
  options: { afterPosition?: number; limit: number },
): Promise<BulkReplayItem[]> {
  const result = await db.query<BulkReplayItem>(
    `SELECT i.position, i.parent_ref, e.id::text AS execution_id,
            COALESCE(i.outcome, e.status, 'pending') AS status, i.error_code, COALESCE(i.error, e.error) AS error,
            i.open_replay_id::text AS open_replay_id
       FROM bulk_replay_items i LEFT JOIN executions e ON e.id = i.execution_id
      WHERE i.bulk_replay_id = $1 AND i.position > $2
      ORDER BY i.position LIMIT $3`,
    [bulkId, options.afterPosition ?? -1, options.limit],
  );
  return result.rows;
}
