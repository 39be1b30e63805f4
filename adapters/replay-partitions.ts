/**
 * The partitions of a large replay (replay_partitions): contiguous key ranges of its source
 * listing, each with its own cursor and counters, published exactly once like a whole replay.
 */
import type { Queryable } from './database.ts';

export interface PartitionRange {
  /** Keys after this one (exclusive); null: from the start of the listing. */
  start_after: string | null;
  /** Keys up to this one (inclusive); null: to the end of the listing. */
  end_at: string | null;
}

export interface ReplayPartition extends PartitionRange {
  execution_id: string;
  partition: number;
  cursor: string | null;
  listed_count: number;
  published_count: number;
  status: 'running' | 'completed' | 'interrupted';
  error: string | null;
}

const COLUMNS =
  'execution_id, partition, start_after, end_at, cursor, listed_count, published_count, status, error';

/**
 * Stores a replay's partitions unless another attempt of the plan did, and returns how many the
 * replay has: the first plan stored is the plan. Two attempts can plan at once (one thought dead
 * while it was still probing a slow store), and their plans may differ; the execution's row lock
 * makes the second wait for the first and keep its plan, so ranges of two plans never mix.
 */
export async function insertPartitionsOnce(
  db: Queryable,
  executionId: string,
  ranges: PartitionRange[],
): Promise<number> {
  await db.query('SELECT 1 FROM executions WHERE id = $1 FOR UPDATE', [executionId]);
  const stored = await db.query<{ count: number }>(
    'SELECT count(*)::int AS count FROM replay_partitions WHERE execution_id = $1',
    [executionId],
  );
  if (stored.rows[0]!.count > 0) return stored.rows[0]!.count;
  await db.query(
    `INSERT INTO replay_partitions (execution_id, partition, start_after, end_at, cursor)
     SELECT $1, range.position - 1, range.bounds->>'start_after', range.bounds->>'end_at', range.bounds->>'start_after'
       FROM jsonb_array_elements($2::jsonb) WITH ORDINALITY AS range (bounds, position)`,
    [executionId, JSON.stringify(ranges)],
  );
  return ranges.length;
}

export async function listPartitions(db: Queryable, executionId: string): Promise<ReplayPartition[]> {
  const result = await db.query<ReplayPartition>(
    `SELECT ${COLUMNS} FROM replay_partitions WHERE execution_id = $1 ORDER BY partition`,
    [executionId],
  );
  return result.rows;
}

export async function getPartition(
  db: Queryable,
  executionId: string,
  partition: number,
): Promise<ReplayPartition | undefined> {
  const result = await db.query<ReplayPartition>(
    `SELECT ${COLUMNS} FROM replay_partitions WHERE execution_id = $1 AND partition = $2`,
    [executionId, partition],
  );
  return result.rows[0];
}

export type PartitionPageCommit =
  | { kind: 'applied'; publishedBefore: number; partition: ReplayPartition }
  | { kind: 'cursor-moved'; cursor: string | null }
  | { kind: 'paused' }
  | { kind: 'not-running'; status: string };

/**
 * A partition page's compare-and-set, as commitReplayPage for a whole replay: the partition's
 * cursor and counters (and, on its last page, its `completed`), only while the replay is running
 * or has another partition interrupted, is not paused, and the cursor stands where the page
 * started. Call inside the transaction that inserts the page's messages.
 */
export async function commitPartitionPage(
  db: Queryable,
  page: {
    executionId: string;
    partition: number;
    expectedCursor: string | null;
    newCursor: string | null;
    listed: number;
    published: number;
    last: boolean;
  },
): Promise<PartitionPageCommit> {
  const result = await db.query<ReplayPartition>(
    `UPDATE replay_partitions p
        SET cursor = $4, listed_count = p.listed_count + $5, published_count = p.published_count + $6,
            status = CASE WHEN $7::boolean THEN 'completed' ELSE p.status END, updated_at = now()
       FROM executions e
      WHERE p.execution_id = $1 AND p.partition = $2 AND e.id = p.execution_id
        AND p.status = 'running' AND e.status IN ('running', 'interrupted') AND NOT e.paused
        AND p.cursor IS NOT DISTINCT FROM $3
      RETURNING ${COLUMNS.split(', ')
        .map((column) => `p.${column}`)
        .join(', ')}`,
    [
      page.executionId,
      page.partition,
      page.expectedCursor,
      page.newCursor,
      page.listed,
      page.published,
      page.last,
    ],
  );
  const row = result.rows[0];
  if (row) return { kind: 'applied', publishedBefore: row.published_count - page.published, partition: row };
  const state = await db.query<{
    status: string;
    paused: boolean;
    partition_status: string;
    cursor: string | null;
  }>(
    `SELECT e.status, e.paused, p.status AS partition_status, p.cursor
       FROM replay_partitions p JOIN executions e ON e.id = p.execution_id
      WHERE p.execution_id = $1 AND p.partition = $2`,
    [page.executionId, page.partition],
  );
  const current = state.rows[0];
  if (!current) return { kind: 'not-running', status: 'gone' };
  if (current.status !== 'running' && current.status !== 'interrupted')
    return { kind: 'not-running', status: current.status };
  if (current.paused) return { kind: 'paused' };
  if (current.partition_status !== 'running')
    return { kind: 'not-running', status: current.partition_status };
  return { kind: 'cursor-moved', cursor: current.cursor };
}

/** Marks a partition interrupted (its step ran out of attempts) or running again; idempotent. */
export async function setPartitionStatus(
  db: Queryable,
  executionId: string,
  partition: number,
  status: 'running' | 'interrupted',
  error: string | null,
): Promise<void> {
  await db.query(
    `UPDATE replay_partitions SET status = $3, error = $4, updated_at = now()
      WHERE execution_id = $1 AND partition = $2 AND status <> 'completed'`,
    [executionId, partition, status, error],
  );
}

/** Counts of the replay's partitions by status, and the messages they published. */
export async function partitionTotals(
  db: Queryable,
  executionId: string,
): Promise<{
  partitions: number;
  completed: number;
  interrupted: number;
  listed: number;
  published: number;
}> {
  const result = await db.query(
    `SELECT count(*)::int AS partitions,
            (count(*) FILTER (WHERE status = 'completed'))::int AS completed,
            (count(*) FILTER (WHERE status = 'interrupted'))::int AS interrupted,
            COALESCE(sum(listed_count), 0)::bigint AS listed,
            COALESCE(sum(published_count), 0)::bigint AS published
       FROM replay_partitions WHERE execution_id = $1`,
    [executionId],
  );
  return result.rows[0];
}

/** A resumed replay resumes every interrupted partition with it. */
export async function resumePartitions(db: Queryable, executionId: string): Promise<void> {
  await db.query(
    `UPDATE replay_partitions SET status = 'running', error = NULL, updated_at = now()
      WHERE execution_id = $1 AND status = 'interrupted'`,
    [executionId],
  );
}
