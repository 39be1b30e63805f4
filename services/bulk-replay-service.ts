/**
 * Bulk replays, for the api: create (update-with-start of the `bulkReplay` workflow, which writes
 * the record and its parents in its first step), read the live counts and the parents, cancel and
 * resume like a replay.
 */
import {
  bulkReplaySummary,
  getBulkReplay,
  listBulkReplayItems,
  markBulkReplayPausedByOperator,
  setBulkReplayPaused,
  setBulkReplayStatus,
  type BulkReplayRecord,
} from '../adapters/bulk-replays.ts';
import { withTransaction } from '../adapters/database.ts';
import { deleteIdempotencyKey } from '../adapters/idempotency-keys.ts';
import { newExecutionId } from '../adapters/ids.ts';
import type { Logger } from '../adapters/logger.ts';
import { findRoute, getPipelineConfig } from '../adapters/pipeline-configs.ts';
import { normaliseFromPath } from '../adapters/storage-paths.ts';
import { failureTypes, isFinished, type BulkReplaySummary } from '../domain/replay.ts';
import { type BulkReplayWorkflowInput, type NewBulkReplay } from '../workflows/bulk-replay.contract.ts';
import {
  BULK_REPLAY_WORKFLOW_TYPE,
  bulkReplayCreatedUpdate,
  bulkReplayWorkflowId,
  cancelSignal,
  pauseSignal,
  resumeSignal,
} from '../workflows/definitions.ts';
import { cancelOpenBulkChildren } from '../services/bulk-replay-cancel.ts';
import { searchAttributes } from '../workflows/search-attributes.ts';
import { bulkReplayUserMetadata } from '../workflows/user-metadata.ts';
import type { ServiceDependencies } from './dependencies.ts';
import { ServiceError } from './errors.ts';
import { checkedWindow, ReplayRequestRefused } from './replay-request.ts';
import { workflowControl } from './workflow-control.ts';
import { startAdmission } from './start-admission.ts';
import { StartUncertain, startWithUpdate } from './workflow-starter.ts';
import { claimIdempotencyKey, findIdempotentExecution, requestHash } from './idempotency.ts';

/** A bulk replay request (the contract's BulkReplayRequest), already schema-valid. */
export type BulkReplayRequest = Pick<
  NewBulkReplay,
  'replay' | 'max_concurrent' | 'pause_after_failed_children'
> & {
  execution_ids?: string[] | null;
  filter?: NewBulkReplay['filter'];
  skip_parents_with_open_replays?: boolean;
};

export interface BulkReplayCall {
  correlationId: string;
  logger: Logger;
  idempotencyKey?: string;
  /** The name of the request's API key (a new bulk replay's requested_by); null without authentication. */
  requestedBy?: string | null;
}

/** Null is left out at every level of the request, as for a replay's Idempotency-Key. */
function withoutNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutNulls);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([, item]) => item !== null)
        .map(([key, item]) => [key, key === 'metadata' ? item : withoutNulls(item)]),
    );
  }
  return value;
}

export type BulkReplayService = ReturnType<typeof createBulkReplayService>;

export function createBulkReplayService(
  deps: Pick<ServiceDependencies, 'pool' | 'temporal' | 'settings' | 'admission'>,
) {
  const { pool, temporal, settings } = deps;
  const admission = deps.admission ?? startAdmission(settings.maxStartsInFlight);
  const control = workflowControl(temporal, settings.dependencyTimeoutMs);

  /** What can be refused for the whole request, before anything starts: the rest is per parent. */
  async function checkSharedFields(replay: BulkReplayRequest['replay']): Promise<void> {
    const fromPath = replay.from_path ?? '';
    const normalised = fromPath === '' ? undefined : normaliseFromPath(fromPath);
    if (normalised && !normalised.ok)
      throw new ServiceError('invalid', 'INVALID_FROM_PATH', `replay.from_path ${normalised.reason}`);
    if (replay.replay_source === 'manual' && !normalised?.path) {
      throw new ReplayRequestRefused(
        422,
        'VALIDATION_ERROR',
        "Field required when replay_source is 'manual'",
        {
          loc: ['body', 'replay', 'from_path'],
          type: 'missing',
        },
      );
    }
    checkedWindow(replay, 'replay.modified_before');
    if (!replay.config_id) return;
    const config = await getPipelineConfig(pool, replay.config_id);
    if (!config)
      throw new ServiceError(
        'not-found',
        'CONFIG_NOT_FOUND',
        `Pipeline config ${replay.config_id} not found`,
      );
    const route = findRoute(config, replay.to_route);
    if (!route) {
      const available = config.routes.map((item) => item.name).join(', ');
      throw new ServiceError(
        'invalid',
        'INVALID_ROUTE',
        `Route '${replay.to_route}' is not a route of config ${config.id} (routes: ${available})`,
      );
    }
    // the target config is every child's: a route without outputs refuses the whole request
    if (replay.select === 'missing_outputs' && !route.output_stage) {
      throw new ServiceError(
        'invalid',
        'NO_OUTPUT_STAGE',
        `select 'missing_outputs' needs the outputs of route '${route.name}', and it has no output_stage in config ${config.id}`,
      );
    }
    if (replay.canary && route.output_stage === null)
      throw new ServiceError(
        'invalid',
        'NO_OUTPUT_STAGE',
        `Route '${route.name}' has no output_stage: a canary has no outputs to wait for`,
      );
  }

  function workflowInput(bulk: NewBulkReplay, resume = false): BulkReplayWorkflowInput {
    return { bulk, settings: settings.bulk, ...(resume ? { resume } : {}) };
  }

  async function find(id: string): Promise<BulkReplayRecord> {
    const record = await getBulkReplay(pool, id);
    if (!record)
      throw new ServiceError('not-found', 'BULK_REPLAY_NOT_FOUND', `Bulk replay '${id}' not found`);
    return record;
  }

  async function summary(id: string): Promise<BulkReplaySummary> {
    const found = await bulkReplaySummary(pool, id);
    if (!found) throw new ServiceError('not-found', 'BULK_REPLAY_NOT_FOUND', `Bulk replay '${id}' not found`);
    return found;
  }

  return {
    /**
     * Starts the bulk replay, or with an Idempotency-Key seen before, answers the one that key
     * started (one key space with replays: a key names one request).
     */
    async create(body: BulkReplayRequest, call: BulkReplayCall): Promise<BulkReplaySummary> {
      await checkSharedFields(body.replay);
      const key = call.idempotencyKey;
      const hash = key ? requestHash('bulk-replays', withoutNulls(body) as object) : undefined;
      if (key) {
        const earlier = await findIdempotentExecution(pool, key, hash!);
        const existing = earlier ? await bulkReplaySummary(pool, earlier) : undefined;
        if (existing) return existing;
      }
      let id = newExecutionId();
      let claimedKey = false;
      if (key) {
        // concurrent requests with one key: one claims it, the others join its workflow by id
        const claim = await claimIdempotencyKey(pool, key, hash!, id);
        id = claim.executionId;
        claimedKey = claim.firstRequest;
      }
      const bulk: NewBulkReplay = {
        id,
        workflow_id: bulkReplayWorkflowId(id),
        replay: body.replay,
        execution_ids: body.execution_ids ?? null,
        filter: body.filter ?? null,
        max_concurrent: body.max_concurrent,
        requested_by: call.requestedBy ?? null,
        ...(body.skip_parents_with_open_replays ? { skip_parents_with_open_replays: true } : {}),
        ...(body.pause_after_failed_children
          ? { pause_after_failed_children: body.pause_after_failed_children }
          : {}),
      };
      let created: BulkReplaySummary | 'already-closed';
      try {
        created = await admission.run(() =>
          startWithUpdate(temporal, {
            noun: 'bulk replay',
            workflowType: BULK_REPLAY_WORKFLOW_TYPE,
            workflowId: bulk.workflow_id,
            taskQueue: settings.taskQueue,
            args: [workflowInput(bulk)],
            update: bulkReplayCreatedUpdate,
            searchAttributes: [
              { key: searchAttributes.BulkReplayId, value: id },
              { key: searchAttributes.ReplayStatus, value: 'running' },
              { key: searchAttributes.ReplaySource, value: body.replay.replay_source },
              { key: searchAttributes.FromStage, value: body.replay.from_stage },
              { key: searchAttributes.ToRoute, value: body.replay.to_route },
            ],
            memo: { correlation_id: call.correlationId },
            userMetadata: bulkReplayUserMetadata(bulk, settings.bulk.replay),
            timeoutMs: settings.dependencyTimeoutMs,
            idempotent: key !== undefined,
            refusals: {
              [failureTypes.tooManyParents]: (message) =>
                new ServiceError('invalid', 'TOO_MANY_PARENTS', message),
            },
          }),
        );
      } catch (error) {
        // a refused request leaves no claim behind, unless its bulk replay exists or may still start
        const uncertain = error instanceof StartUncertain;
        if (claimedKey && !uncertain && !(await getBulkReplay(pool, id).catch(() => undefined))) {
          await deleteIdempotencyKey(pool, key!, id).catch(() => {});
        }
        throw error;
      }
      const summary = created === 'already-closed' ? await bulkReplaySummary(pool, id) : created;
      if (!summary)
        throw new ServiceError(
          'unavailable',
          'SERVICE_UNAVAILABLE',
          `Bulk replay ${id} closed without a record`,
        );
      call.logger.info(
        {
          bulk_replay_id: id,
          total: summary.total,
          reason: summary.reason ?? null,
          requested_by: summary.requested_by ?? null,
        },
        'bulk replay started',
      );
      return summary;
    },

    summary,

    async items(id: string, page: { cursor?: number; limit: number }) {
      await find(id);
      const items = await listBulkReplayItems(pool, id, { afterPosition: page.cursor, limit: page.limit });
      return {
        items: items.map(({ parent_ref, ...item }) => ({ ...item, parent: parent_ref })),
        next_cursor: items.length === page.limit ? items.at(-1)!.position : null,
      };
    },

    /** Pauses the running children and starts no new one until a resume. */
    async pause(id: string, call: BulkReplayCall) {
      const record = await find(id);
      if (isFinished(record.status))
        throw new ServiceError(
          'conflict',
          'BULK_REPLAY_FINISHED',
          `Bulk replay ${id} is already ${record.status}`,
        );
      if (!(await control.isOpen(record.workflow_id)))
        throw new ServiceError(
          'conflict',
          'BULK_REPLAY_NOT_RUNNING',
          `Bulk replay ${id} has no running workflow; resume it first`,
        );
      await control.signal(record.workflow_id, (handle) => handle.signal(pauseSignal));
      // the workflow keeps its pause; Postgres tells the api why (a pause of a paused one keeps its reason)
      await markBulkReplayPausedByOperator(pool, id);
      call.logger.info({ bulk_replay_id: id }, 'bulk replay pause requested');
      return summary(id);
    },

    /** Cancels the children running now and every parent not started yet. */
    async cancel(id: string, call: BulkReplayCall) {
      const record = await find(id);
      if (isFinished(record.status))
        throw new ServiceError(
          'conflict',
          'BULK_REPLAY_FINISHED',
          `Bulk replay ${id} is already ${record.status}`,
        );
      if (await control.isOpen(record.workflow_id)) {
        await control.signal(record.workflow_id, (handle) =>
          handle.signal(cancelSignal, `cancelled through the api (${call.correlationId})`),
        );
      } else {
        // its workflow was closed outside the service: its children (abandoned) are asked one by
        // one, first, so a cancel that fails midway can be asked again
        await temporal.connection.withDeadline(Date.now() + settings.dependencyTimeoutMs, () =>
          cancelOpenBulkChildren(
            { pool, temporal, logger: call.logger },
            id,
            `cancelled through the api with bulk replay ${id} (${call.correlationId})`,
          ),
        );
        await withTransaction(pool, (client) =>
          setBulkReplayStatus(client, id, 'cancelled', 'cancelled through the api'),
        );
      }
      call.logger.info({ bulk_replay_id: id }, 'bulk replay cancel requested');
      return control.settle(
        () => bulkReplaySummary(pool, id),
        (item) => item.status === 'cancelled',
      );
    },

    /**
     * Goes on after an interruption: the bulk replay's own, and that of each running child. A bulk
     * replay whose workflow was closed outside the service gets a new run that takes up its
     * parents from Postgres.
     */
    async resume(id: string, call: BulkReplayCall) {
      const record = await find(id);
      if (isFinished(record.status))
        throw new ServiceError(
          'conflict',
          'BULK_REPLAY_FINISHED',
          `Bulk replay ${id} is already ${record.status}`,
        );
      await setBulkReplayPaused(pool, id, null, null);
      if (await control.isOpen(record.workflow_id)) {
        await control.signal(record.workflow_id, (handle) => handle.signal(resumeSignal));
      } else {
        const bulk: NewBulkReplay = {
          id,
          workflow_id: record.workflow_id,
          replay: record.request.replay,
          execution_ids: null,
          filter: null,
          max_concurrent: record.max_concurrent,
          ...(record.request.pause_after_failed_children
            ? { pause_after_failed_children: record.request.pause_after_failed_children }
            : {}),
        };
        // two resumes of one closed bulk replay: the one whose run starts first wins, the other is a 409
        await control.startClosed(
          () =>
            temporal.workflow.start(BULK_REPLAY_WORKFLOW_TYPE, {
              workflowId: record.workflow_id,
              taskQueue: settings.taskQueue,
              args: [workflowInput(bulk, true)],
              workflowIdConflictPolicy: 'FAIL',
              typedSearchAttributes: [
                { key: searchAttributes.BulkReplayId, value: id },
                { key: searchAttributes.ReplayStatus, value: 'running' },
              ],
              memo: { resumed_by: call.correlationId },
              ...bulkReplayUserMetadata(bulk, settings.bulk.replay),
            }),
          () =>
            new ServiceError(
              'conflict',
              'BULK_REPLAY_NOT_INTERRUPTED',
              `Bulk replay ${id} is being resumed by another request`,
            ),
        );
      }
      call.logger.info({ bulk_replay_id: id }, 'bulk replay resumed');
      return control.settle(
        () => bulkReplaySummary(pool, id),
        (item) => item.status !== 'interrupted',
      );
    },
  };
}
