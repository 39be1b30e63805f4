import { ApplicationFailure, Context } from '@temporalio/activity';
import type pg from 'pg';
import { isUniqueViolation, withTransaction } from '../adapters/database.ts';
import {
  advanceReplayCursor,
  getExecution,
  insertExecutionIfAbsent,
  markRoutesStarted,
  setExecutionStatus,
  setRoutesStatus,
  setSourceExecution,
  terminalStatuses,
  type ExecutionRecord,
  type ExecutionStatus,
  type NewExecution,
  type ReplaySource,
} from '../adapters/executions.ts';
import { replayMessageId } from '../adapters/ids.ts';
import type { Logger } from '../adapters/logger.ts';
import {
  messagesPublished,
  publishBatchDuration,
  replaysFinished,
  replaysInterrupted,
} from '../adapters/metrics.ts';
import type { ObjectStore, StoredObject } from '../adapters/object-store.ts';
import { getPipelineConfig } from '../adapters/pipeline-configs.ts';
import type { OutgoingMessage } from '../adapters/route-queue.ts';
import type { RouteTransport } from '../adapters/route-transport.ts';
import { selectsKey, stageFolder } from '../adapters/storage-paths.ts';

export interface ReplayActivityDependencies {
  pool: pg.Pool;
  objectStore: ObjectStore;
  routeTransport: RouteTransport;
  logger: Logger;
}

/** Failure types the workflow and the api recognise. */
export const failureTypes = {
  tagTaken: 'TagTaken',
  configNotFound: 'ConfigNotFound',
  executionNotFound: 'ExecutionNotFound',
  notRunning: 'ExecutionNotRunning',
} as const;

/** What a workflow run carries over to the next (continue-as-new) or reloads on resume. */
export interface CarriedState {
  record: ExecutionRecord;
  source: ReplaySourceLocation | null;
  routesStarted: boolean;
  cursor: string | null;
  listed: number;
  published: number;
}

export interface ResolveSourceInput {
  executionId: string;
  parentExecutionId: string;
  replaySource: ReplaySource;
  fromStage: string;
  fromPath: string;
}

export interface ReplaySourceLocation {
  sourceExecutionId: string;
  /** Key prefix to list: the stage folder, narrowed by from_path. */
  listPrefix: string;
  /** The stage folder; keys are selected relative to it. */
  stageFolder: string;
  fromPath: string;
}

export interface ListPageInput {
  executionId: string;
  source: ReplaySourceLocation;
  startAfter: string | null;
  maxKeys: number;
}

/**
 * One page as the workflow sees it. The objects themselves wait in Postgres (replay_pages) for
 * publishBatch: the history carries a count and a key, not a thousand objects twice.
 */
export interface ListedPage {
  /** Objects of the page that from_path selects. */
  count: number;
  /** Full key of the last key listed: the next page's StartAfter and the replay cursor. */
  lastKey: string | null;
  isTruncated: boolean;
}

export interface PublishBatchInput {
  executionId: string;
  /** Where the cursor stood before this page (the page's StartAfter), and where it moves to. */
  expectedCursor: string | null;
  newCursor: string;
}

export interface PublishBatchResult {
  published: number;
  /** True when a previous attempt had committed this page already: nothing was written. */
  alreadyApplied: boolean;
}

export function createReplayActivities({
  pool,
  objectStore,
  routeTransport,
  logger,
}: ReplayActivityDependencies) {
  const log = (executionId: string) => {
    const info = Context.current().info;
    return logger.child({
      execution_id: executionId,
      workflow_id: info.workflowExecution?.workflowId,
      activity: info.activityType,
      attempt: info.attempt,
    });
  };

  return {
    /** Inserts the replay's record (idempotent by id). A taken tag is final: the request is refused. */
    async createExecutionRecord(execution: NewExecution): Promise<ExecutionRecord> {
      try {
        const record = await insertExecutionIfAbsent(pool, execution);
        log(execution.id).info({ status: record.status }, 'execution record ready');
        return record;
      } catch (error) {
        if (isUniqueViolation(error, 'executions_tag_key')) {
          throw ApplicationFailure.nonRetryable(
            `tag '${execution.tag}' is already used by another execution`,
            failureTypes.tagTaken,
          );
        }
        throw error;
      }
    },

    /**
     * Decides whose storage the replay reads. `lineage` walks up the parents to the nearest one
     * that stored outputs of from_stage; `storage` and `manual` read the parent.
     */
    async resolveReplaySource(input: ResolveSourceInput): Promise<ReplaySourceLocation> {
      let sourceExecutionId = input.parentExecutionId;
      if (input.replaySource === 'lineage') {
        let candidate: string | null = input.parentExecutionId;
        const visited = new Set<string>();
        while (candidate && !visited.has(candidate)) {
          visited.add(candidate);
          if (await objectStore.hasAnyObject(stageFolder(objectStore.prefix, candidate, input.fromStage))) {
            sourceExecutionId = candidate;
            break;
          }
          candidate = (await getExecution(pool, candidate))?.parent_execution_id ?? null;
        }
      }
      await setSourceExecution(pool, input.executionId, sourceExecutionId);
      const folder = stageFolder(objectStore.prefix, sourceExecutionId, input.fromStage);
      log(input.executionId).info(
        { source_execution_id: sourceExecutionId, folder },
        'replay source resolved',
      );
      return {
        sourceExecutionId,
        stageFolder: folder,
        listPrefix: folder + input.fromPath,
        fromPath: input.fromPath,
      };
    },

    /** Marks the target config's routes started and makes sure their queues exist. No init message. */
    async startRoutes(input: { executionId: string; configId: string }): Promise<string[]> {
      const config = await getPipelineConfig(pool, input.configId);
      if (!config) {
        throw ApplicationFailure.nonRetryable(
          `pipeline config ${input.configId} no longer exists`,
          failureTypes.configNotFound,
        );
      }
      const routes = config.routes.map((route) => route.name);
      for (const route of routes) await routeTransport.ensureRoute(route);
      await markRoutesStarted(pool, input.executionId, routes);
      log(input.executionId).info({ routes }, 'routes started');
      return routes;
    },

    /** One page of the source folder after a cursor, keeping only the keys from_path selects. */
    async listStoragePage(input: ListPageInput): Promise<ListedPage> {
      // a page may span several S3 listings (S3 returns at most 1,000 keys a call): fewer workflow
      // round trips per object
      const folderLength = input.source.stageFolder.length;
      const objects: StoredObject[] = [];
      let lastKey = input.startAfter;
      let isTruncated = true;
      let listed = 0;
      while (isTruncated && listed < input.maxKeys) {
        const page = await objectStore.listPage(
          input.source.listPrefix,
          lastKey,
          Math.min(1000, input.maxKeys - listed),
        );
        listed += page.objects.length;
        for (const object of page.objects) {
          if (selectsKey(input.source.fromPath, object.key.slice(folderLength))) objects.push(object);
        }
        lastKey = page.lastKey ?? lastKey;
        isTruncated = page.isTruncated;
      }
      if (listed === 0) return { count: 0, lastKey: null, isTruncated: false };
      // idempotent: a retried or re-listed page (after continue-as-new) replaces the stored one
      await pool.query(
        `INSERT INTO replay_pages (execution_id, start_after, objects, last_key) VALUES ($1, $2, $3, $4)
         ON CONFLICT (execution_id, start_after) DO UPDATE SET objects = EXCLUDED.objects, last_key = EXCLUDED.last_key`,
        [input.executionId, input.startAfter ?? '', JSON.stringify(objects), lastKey],
      );
      return { count: objects.length, lastKey, isTruncated };
    },

    /**
     * Publishes one page exactly once: in one transaction, the record is locked, the cursor is
     * compared-and-set, and the messages (deterministic ids) are inserted. A retry after a commit
     * finds the cursor moved and writes nothing.
     */
    async publishBatch(input: PublishBatchInput): Promise<PublishBatchResult> {
      const started = performance.now();
      const result = await withTransaction(pool, async (client) => {
        const locked = await client.query<ExecutionRecord>(
          `SELECT id, config_id, status, parent_execution_id, root_execution_id, replay_source, from_stage, to_route,
                  metadata, replay_cursor, published_count
             FROM executions WHERE id = $1 FOR UPDATE`,
          [input.executionId],
        );
        const record = locked.rows[0];
        if (!record) {
          throw ApplicationFailure.nonRetryable(
            `execution ${input.executionId} not found`,
            failureTypes.executionNotFound,
          );
        }
        if (record.status === 'cancelled' || record.status === 'completed' || record.status === 'failed') {
          throw ApplicationFailure.nonRetryable(
            `execution ${input.executionId} is ${record.status}`,
            failureTypes.notRunning,
          );
        }
        // the page leaves the staging table in the same transaction that publishes it
        const page = await client.query<{ objects: StoredObject[] }>(
          'DELETE FROM replay_pages WHERE execution_id = $1 AND start_after = $2 RETURNING objects',
          [input.executionId, input.expectedCursor ?? ''],
        );
        const objects = page.rows[0]?.objects;
        if (objects === undefined) {
          // published by an earlier attempt whose result was lost: the cursor has moved on
          const current = await getExecution(client, input.executionId);
          if (current?.replay_cursor !== input.expectedCursor) return { published: 0, alreadyApplied: true };
          throw new Error(`page after ${input.expectedCursor ?? 'the start'} is not stored; list it again`);
        }
        const applied = await advanceReplayCursor(client, {
          id: input.executionId,
          expectedCursor: input.expectedCursor,
          newCursor: input.newCursor,
          listed: objects.length,
          published: objects.length,
        });
        if (!applied) throw new Error('replay cursor moved while its page was still stored');
        const route = record.to_route!;
        const messages: OutgoingMessage[] = objects.map((object, index) => {
          const id = replayMessageId(record.id, route, object.key);
          return {
            id,
            route,
            body: {
              message_id: id,
              execution_id: record.id,
              parent_execution_id: record.parent_execution_id,
              root_execution_id: record.root_execution_id,
              config_id: record.config_id,
              route,
              stage: record.from_stage!,
              replay: true,
              replay_source: record.replay_source!,
              object: { bucket: objectStore.bucket, ...object },
              sequence: record.published_count + index,
              metadata: record.metadata,
            },
          };
        });
        await routeTransport.publish(messages, client);
        return { published: messages.length, alreadyApplied: false };
      });
      publishBatchDuration.observe((performance.now() - started) / 1000);
      messagesPublished.inc(result.published);
      log(input.executionId).debug(
        { ...result, ms: Math.round(performance.now() - started), cursor: input.newCursor },
        'batch published',
      );
      return result;
    },

    /**
     * The state a new run needs to go on with a replay whose workflow closed outside our control
     * (terminated, timed out, history lost): the cursor and counters kept in Postgres.
     */
    async loadReplayState(input: { executionId: string }): Promise<CarriedState> {
      const record = await setExecutionStatus(pool, input.executionId, 'running', null);
      if (!record || !record.parent_execution_id || !record.from_stage) {
        throw ApplicationFailure.nonRetryable(
          `execution ${input.executionId} is not a replay`,
          failureTypes.executionNotFound,
        );
      }
      const routes = await pool.query('SELECT 1 FROM execution_routes WHERE execution_id = $1 LIMIT 1', [
        record.id,
      ]);
      const source: ReplaySourceLocation | null = record.source_execution_id
        ? {
            sourceExecutionId: record.source_execution_id,
            stageFolder: stageFolder(objectStore.prefix, record.source_execution_id, record.from_stage),
            listPrefix:
              stageFolder(objectStore.prefix, record.source_execution_id, record.from_stage) +
              (record.from_path ?? ''),
            fromPath: record.from_path ?? '',
          }
        : null;
      log(record.id).info(
        { cursor: record.replay_cursor, published: record.published_count },
        'replay state loaded',
      );
      return {
        record,
        source,
        routesStarted: (routes.rowCount ?? 0) > 0,
        cursor: record.replay_cursor,
        listed: record.published_count,
        published: record.published_count,
      };
    },

    /** Moves the record (and for cancel, its routes) to a status; idempotent. */
    async setExecutionStatus(input: {
      executionId: string;
      status: ExecutionStatus;
      error?: string | null;
    }): Promise<ExecutionRecord> {
      const record = await withTransaction(pool, async (client) => {
        const updated = await setExecutionStatus(
          client,
          input.executionId,
          input.status,
          input.error ?? null,
        );
        if (input.status === 'cancelled' || input.status === 'failed')
          await setRoutesStatus(client, input.executionId, input.status);
        // a finished replay keeps no listed-but-unpublished pages
        if (terminalStatuses.includes(input.status)) {
          await client.query('DELETE FROM replay_pages WHERE execution_id = $1', [input.executionId]);
        }
        return updated;
      });
      if (!record)
        throw ApplicationFailure.nonRetryable(
          `execution ${input.executionId} not found`,
          failureTypes.executionNotFound,
        );
      log(input.executionId).info({ status: input.status, error: input.error }, 'execution status changed');
      if (input.status === 'completed' || input.status === 'failed' || input.status === 'cancelled')
        replaysFinished.inc({ status: input.status });
      if (input.status === 'interrupted') replaysInterrupted.inc();
      return record;
    },
  };
}

export type ReplayActivities = ReturnType<typeof createReplayActivities>;
