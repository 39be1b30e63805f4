import {
  finishedStatuses,
  type ExecutionStatus,
  type ExecutionSummary,
  type ReplaySource,
} from '../domain/replay.ts';
import { SELECT_EVERYTHING, type ReplaySelect, type ReplaySelection } from '../domain/replay-selection.ts';
import type { OutputMatchRule } from '../domain/output-correspondence.ts';
import type { CanaryState, PausedReason } from '../domain/replay-canary.ts';
import { type NewReplay, type StartedReplay } from '../workflows/replay-execution.contract.ts';
import type { Queryable } from './database.ts';
import { isUuid } from './ids.ts';

export interface ExecutionRecord {
  id: string;
  config_id: string;
  status: ExecutionStatus;
  started_at: string;
  completed_at: string | null;
  parent_execution_id: string | null;
  root_execution_id: string;
  source_execution_id: string | null;
  replay_source: ReplaySource | null;
  from_stage: string | null;
  to_route: string | null;
  from_path: string | null;
  tag: string | null;
  metadata: Record<string, unknown>;
  workflow_id: string | null;
  listed_count: number;
  published_count: number;
  replay_cursor: string | null;
  error: string | null;
  /** The replay's own rate limit (its route's is in its config); null: none. */
  max_messages_per_second: number | null;
  /** A paused replay stays `running` (the contract's enum) and publishes nothing until resumed. */
  paused: boolean;
  /** Its selection (domain/replay-selection.ts); 'all' and nulls for everything else. */
  replay_select: ReplaySelect;
  modified_since: string | null;
  modified_before: string | null;
  output_stage: string | null;
  output_match: OutputMatchRule | null;
  /** Why the replay was asked for (its request's `reason`); null: not said, or not a replay. */
  reason: string | null;
  /** The name of the api key that asked for it; null: the api ran without authentication. */
  requested_by: string | null;
  /** Why it is paused (null while not paused; a pause older than the column: null too). */
  paused_reason: PausedReason | null;
  /** The replay's canary and what it counted; null: none. */
  canary: CanaryState | null;
}

export interface NewExecution {
  id: string;
  config_id: string;
  parent_execution_id: string | null;
  root_execution_id: string;
  replay_source: ReplaySource | null;
  from_stage: string | null;
  to_route: string | null;
  from_path: string | null;
  tag: string | null;
  metadata: Record<string, unknown>;
  workflow_id: string | null;
}

/** A partitioned replay's counters are its record's (its first page) plus its partitions'. */
const partitionSum = (column: string) =>
  `(${column} + COALESCE((SELECT sum(p.${column}) FROM replay_partitions p WHERE p.execution_id = executions.id), 0))::bigint AS ${column}`;

const columnsWith = (counters: string) => `id, config_id, status, started_at, completed_at,
  parent_execution_id, root_execution_id, source_execution_id, replay_source, from_stage, to_route,
  from_path, tag, metadata, workflow_id, ${counters}, replay_cursor, error, max_messages_per_second, paused,
  replay_select, modified_since, modified_before, output_stage, output_match, reason, requested_by, paused_reason,
  canary`;

const COLUMNS = columnsWith(`${partitionSum('listed_count')}, ${partitionSum('published_count')}`);
/** A record's own columns: enough for a record that has no partitions (yet). */
const OWN_COLUMNS = columnsWith('listed_count, published_count');

type ExecutionRow = Omit<ExecutionRecord, 'started_at' | 'completed_at'> & {
  started_at: Date;
  completed_at: Date | null;
};

function toRecord(row: ExecutionRow): ExecutionRecord {
  return {
    ...row,
    started_at: row.started_at.toISOString(),
    completed_at: row.completed_at ? row.completed_at.toISOString() : null,
  };
}

/** Inserts the record unless one with this id exists; returns the stored record either way. */
export async function insertExecutionIfAbsent(
  db: Queryable,
  execution: NewExecution,
): Promise<ExecutionRecord> {
  await db.query(
    `INSERT INTO executions (id, config_id, status, parent_execution_id, root_execution_id, replay_source,
       from_stage, to_route, from_path, tag, metadata, workflow_id)
     VALUES ($1, $2, 'running', $3, $4, $5, $6, $7, $8, $9, $10, $11)
     ON CONFLICT (id) DO NOTHING`,
    [
      execution.id,
      execution.config_id,
      execution.parent_execution_id,
      execution.root_execution_id,
      execution.replay_source,
      execution.from_stage,
      execution.to_route,
      execution.from_path,
      execution.tag,
      JSON.stringify(execution.metadata),
      execution.workflow_id,
    ],
  );
  const stored = await getExecution(db, execution.id);
  if (!stored) throw new Error(`execution ${execution.id} vanished after insert`);
  return stored;
}

/**
 * A replay's first step in one transaction: its record (idempotent by id) and its routes marked
 * started. Returns the stored record, which a retried step finds as the first attempt left it.
 */
export async function insertReplayWithRoutes(
  db: Queryable,
  replay: NewReplay,
  routes: string[],
  sourceExecutionId: string | null,
): Promise<ExecutionRecord & { created: boolean }> {
  // replays started before selections existed (a workflow input without one) select everything
  const selection = replay.selection ?? SELECT_EVERYTHING;
  // one statement, so one round trip: the record and its routes commit together or not at all
  const inserted = await db.query<ExecutionRow>(
    `WITH inserted AS (
       INSERT INTO executions (id, config_id, status, parent_execution_id, root_execution_id, replay_source,
         from_stage, to_route, from_path, tag, metadata, workflow_id, source_execution_id, max_messages_per_second,
         replay_select, modified_since, modified_before, output_stage, output_match, reason, requested_by, canary)
       VALUES ($1, $2, 'running', $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $15, $16, $17, $18, $19, $20, $21, $22)
       ON CONFLICT (id) DO NOTHING
       RETURNING *),
     started AS (
       INSERT INTO execution_routes (execution_id, route, status)
       SELECT inserted.id, route, 'running' FROM inserted, unnest($14::text[]) AS route
       ON CONFLICT (execution_id, route) DO NOTHING)
     SELECT ${OWN_COLUMNS} FROM inserted`,
    [
      replay.id,
      replay.config_id,
      replay.parent_execution_id,
      replay.root_execution_id,
      replay.replay_source,
      replay.from_stage,
      replay.to_route,
      replay.from_path,
      replay.tag,
      JSON.stringify(replay.metadata),
      replay.workflow_id,
      sourceExecutionId,
      replay.max_messages_per_second ?? null,
      routes,
      selection.select,
      selection.modified_since,
      selection.modified_before,
      selection.output_stage,
      selection.output_match,
      replay.reason ?? null,
      replay.requested_by ?? null,
      replay.canary ? JSON.stringify(initialCanaryState(replay.canary)) : null,
    ],
  );
  if (inserted.rows[0]) return { ...toRecord(inserted.rows[0]), created: true };
  // a retried start: the first attempt stored it
  const stored = await getExecution(db, replay.id);
  if (!stored) throw new Error(`execution ${replay.id} vanished after insert`);
  return { ...stored, created: false };
}

/** The contract's ExecutionResponse fields of a record (and only those). */
export function executionSummary(record: ExecutionSummary): ExecutionSummary {
  return {
    id: record.id,
    config_id: record.config_id,
    status: record.status,
    started_at: record.started_at,
    completed_at: record.completed_at,
    parent_execution_id: record.parent_execution_id,
    replay_source: record.replay_source,
    tag: record.tag,
  };
}

/** A record's selection, as the api shows it and the publishing activity applies it. */
export function selectionOf(record: ExecutionRecord): ReplaySelection {
  return {
    select: record.replay_select,
    modified_since: record.modified_since,
    modified_before: record.modified_before,
    output_stage: record.output_stage,
    output_match: record.output_match,
  };
}

/** Where a replay stands, as a workflow run takes it over. */
export function replayStateOf(record: ExecutionRecord): StartedReplay {
  return {
    summary: executionSummary(record),
    sourceExecutionId: record.source_execution_id,
    cursor: record.replay_cursor,
    listed: record.listed_count,
    published: record.published_count,
    paused: record.paused,
    maxMessagesPerSecond: record.max_messages_per_second,
    pausedReason: record.paused ? (record.paused_reason ?? 'operator') : null,
    canaryDone: record.canary === null || !['publishing', 'watching'].includes(record.canary.outcome),
  };
}

export async function getExecution(db: Queryable, id: string): Promise<ExecutionRecord | undefined> {
  const result = await db.query<ExecutionRow>(`SELECT ${COLUMNS} FROM executions WHERE id = $1`, [id]);
  return result.rows[0] ? toRecord(result.rows[0]) : undefined;
}

/** Looks an execution up by UUID, else by tag (a tag may itself look like a UUID). */
export async function findExecutionByIdOrTag(
  db: Queryable,
  idOrTag: string,
): Promise<ExecutionRecord | undefined> {
  if (isUuid(idOrTag)) {
    const byId = await getExecution(db, idOrTag.toLowerCase());
    if (byId) return byId;
  }
  const result = await db.query<ExecutionRow>(`SELECT ${COLUMNS} FROM executions WHERE tag = $1`, [idOrTag]);
  return result.rows[0] ? toRecord(result.rows[0]) : undefined;
}

export async function isTagTaken(db: Queryable, tag: string): Promise<boolean> {
  const result = await db.query('SELECT 1 FROM executions WHERE tag = $1', [tag]);
  return (result.rowCount ?? 0) > 0;
}

export interface ExecutionFilter {
  parent_execution_id?: string;
  status?: ExecutionStatus;
  tag?: string;
  /** Return executions older than this id (ids are UUID v7, so id order is start order). */
  before_id?: string;
  limit: number;
}

export async function listExecutions(db: Queryable, filter: ExecutionFilter): Promise<ExecutionRecord[]> {
  const conditions: string[] = [];
  const values: unknown[] = [];
  const add = (sql: string, value: unknown) => {
    values.push(value);
    conditions.push(sql.replace('?', `$${values.length}`));
  };
  if (filter.parent_execution_id) add('parent_execution_id = ?', filter.parent_execution_id);
  if (filter.status) add('status = ?', filter.status);
  if (filter.tag) add('tag = ?', filter.tag);
  if (filter.before_id) add('id < ?', filter.before_id);
  values.push(filter.limit);
  const where = conditions.length ? `WHERE ${conditions.join(' AND ')}` : '';
  const result = await db.query<ExecutionRow>(
    `SELECT ${COLUMNS} FROM executions ${where} ORDER BY id DESC LIMIT $${values.length}`,
    values,
  );
  return result.rows.map(toRecord);
}

export async function setSourceExecution(
  db: Queryable,
  id: string,
  sourceExecutionId: string | null,
): Promise<void> {
  await db.query('UPDATE executions SET source_execution_id = $2, updated_at = now() WHERE id = $1', [
    id,
    sourceExecutionId,
  ]);
}

/** What happened to a page's compare-and-set of the replay cursor (commitReplayPage). */
export type PageCommit =
  | { kind: 'applied'; publishedBefore: number; record: ExecutionRecord }
  /** Another attempt of the step moved the cursor first: this one must not publish. */
  | { kind: 'cursor-moved'; cursor: string | null }
  /** The record is no longer `running` (cancelled, finished, interrupted by the reconciler). */
  | { kind: 'not-running'; status: ExecutionStatus }
  /** An operator paused the replay: nothing more is published until it is resumed. */
  | { kind: 'paused' }
  | { kind: 'not-found' };

/**
 * The first half of a page's exactly-once transaction: compare-and-set of the replay cursor, the
 * counters, and on the last page the `completed` status, in one statement that also locks the
 * row until the caller commits the page's messages. Call inside a transaction.
 */
export async function commitReplayPage(
  db: Queryable,
  page: {
    id: string;
    expectedCursor: string | null;
    newCursor: string | null;
    listed: number;
    published: number;
    last: boolean;
  },
): Promise<PageCommit> {
  const result = await db.query<ExecutionRow>(
    `UPDATE executions
        SET replay_cursor = $3, listed_count = listed_count + $4, published_count = published_count + $5,
            status = CASE WHEN $6::boolean THEN 'completed' ELSE status END,
            completed_at = CASE WHEN $6::boolean THEN now() ELSE completed_at END,
            updated_at = now()
      WHERE id = $1 AND status = 'running' AND NOT paused AND replay_cursor IS NOT DISTINCT FROM $2
      RETURNING ${COLUMNS}`,
    [page.id, page.expectedCursor, page.newCursor, page.listed, page.published, page.last],
  );
  const row = result.rows[0];
  if (row)
    return { kind: 'applied', publishedBefore: row.published_count - page.published, record: toRecord(row) };
  const current = await getExecution(db, page.id);
  if (!current) return { kind: 'not-found' };
  if (current.status !== 'running') return { kind: 'not-running', status: current.status };
  if (current.paused) return { kind: 'paused' };
  return { kind: 'cursor-moved', cursor: current.replay_cursor };
}

/**
 * Pauses (for `reason`, by default an operator's) or resumes a replay while it has not finished;
 * returns the record as it stands. A pause of a paused replay keeps its first reason.
 */
export async function setReplayPaused(
  db: Queryable,
  id: string,
  paused: boolean,
  reason: PausedReason = 'operator',
): Promise<ExecutionRecord | undefined> {
  const result = await db.query<ExecutionRow>(
    `UPDATE executions
        SET paused = $2,
            paused_reason = CASE WHEN NOT $2 THEN NULL WHEN paused THEN COALESCE(paused_reason, $3) ELSE $3 END,
            updated_at = now()
      WHERE id = $1 AND status NOT IN ('completed', 'failed', 'cancelled') RETURNING ${COLUMNS}`,
    [id, paused, reason],
  );
  return result.rows[0] ? toRecord(result.rows[0]) : getExecution(db, id);
}

/** Writes what a replay's canary has counted so far (idempotent: the latest count wins). */
export async function setCanaryState(
  db: Queryable,
  id: string,
  state: Pick<CanaryState, 'outcome' | 'published' | 'outputs_found'>,
): Promise<void> {
  await db.query(
    `UPDATE executions SET canary = canary || $2::jsonb, updated_at = now()
      WHERE id = $1 AND canary IS NOT NULL`,
    [id, JSON.stringify(state)],
  );
}

/** A canary as a new replay's record starts it. */
function initialCanaryState(canary: NonNullable<NewReplay['canary']>): CanaryState {
  return { ...canary, outcome: 'publishing', published: 0, outputs_found: 0 };
}

/** Sets (or, null, lifts) a replay's own rate limit while it has not finished; returns the record. */
export function setReplayRate(
  db: Queryable,
  id: string,
  maxMessagesPerSecond: number | null,
): Promise<ExecutionRecord | undefined> {
  return setUnfinishedControl(db, id, 'max_messages_per_second', maxMessagesPerSecond);
}

// A finished replay's controls are history: the update only touches unfinished records.
async function setUnfinishedControl(
  db: Queryable,
  id: string,
  column: 'max_messages_per_second',
  value: number | null,
): Promise<ExecutionRecord | undefined> {
  const result = await db.query<ExecutionRow>(
    `UPDATE executions SET ${column} = $2, updated_at = now()
      WHERE id = $1 AND status NOT IN ('completed', 'failed', 'cancelled') RETURNING ${COLUMNS}`,
    [id, value],
  );
  return result.rows[0] ? toRecord(result.rows[0]) : getExecution(db, id);
}

/** Whether the replay is paused, and its own rate limit, as they stand: read before each page. */
export async function replayControls(
  db: Queryable,
  id: string,
): Promise<{ paused: boolean; max_messages_per_second: number | null } | undefined> {
  const result = await db.query<{ paused: boolean; max_messages_per_second: number | null }>(
    'SELECT paused, max_messages_per_second FROM executions WHERE id = $1',
    [id],
  );
  return result.rows[0];
}

/**
 * Moves a record to a status (idempotent); completed_at is set for terminal ones. A terminal status
 * is final: a late or duplicate run can never turn a completed replay into a failed one. With
 * `onlyFrom`, only a record in one of those statuses moves (a compare-and-set against a writer that
 * got there first). Returns the record as it stands afterwards.
 */
export async function setExecutionStatus(
  db: Queryable,
  id: string,
  status: ExecutionStatus,
  error: string | null = null,
  options: { onlyFrom?: readonly ExecutionStatus[] } = {},
): Promise<(ExecutionRecord & { changedFrom?: ExecutionStatus }) | undefined> {
  const final = finishedStatuses.includes(status);
  // the status before, locked: the caller learns whether this very statement changed it
  const result = await db.query<ExecutionRow & { previous_status: ExecutionStatus }>(
    `WITH previous AS (SELECT status AS previous_status FROM executions WHERE id = $1 FOR UPDATE)
     UPDATE executions
        SET status = $2, error = $3, updated_at = now(),
            completed_at = CASE WHEN $4::boolean THEN COALESCE(completed_at, now()) ELSE NULL END
       FROM previous
      WHERE id = $1 AND status NOT IN ('completed', 'failed', 'cancelled')
        AND ($5::text[] IS NULL OR status = ANY($5::text[]))
      RETURNING ${COLUMNS}, previous_status`,
    [id, status, error, final, options.onlyFrom ?? null],
  );
  const [row] = result.rows;
  if (row) {
    const { previous_status: previous, ...updated } = row;
    const record = toRecord(updated);
    return previous === status ? record : { ...record, changedFrom: previous };
  }
  return getExecution(db, id);
}

/**
 * Replays still `running` whose record has not changed for idleSeconds, oldest first: the reconciler
 * asks Temporal whether their workflow is still open.
 */
export async function listIdleRunningReplays(
  db: Queryable,
  idleSeconds: number,
  limit = 500,
): Promise<{ id: string; workflow_id: string }[]> {
  const result = await db.query<{ id: string; workflow_id: string }>(
    `SELECT id, workflow_id FROM executions
      WHERE status = 'running' AND workflow_id IS NOT NULL AND updated_at < now() - make_interval(secs => $1)
      ORDER BY id LIMIT $2`,
    [idleSeconds, limit],
  );
  return result.rows;
}

export async function markRoutesStarted(db: Queryable, executionId: string, routes: string[]): Promise<void> {
  await db.query(
    `INSERT INTO execution_routes (execution_id, route, status)
     SELECT $1, route, 'running' FROM unnest($2::text[]) AS route
     ON CONFLICT (execution_id, route) DO NOTHING`,
    [executionId, routes],
  );
}

export async function setRoutesStatus(
  db: Queryable,
  executionId: string,
  status: ExecutionStatus,
): Promise<void> {
  await db.query('UPDATE execution_routes SET status = $2 WHERE execution_id = $1', [executionId, status]);
}
