import { ApplicationFailure, Context } from '@temporalio/activity';
import { withTransaction } from '../adapters/database.ts';
import {
  assignChildExecution,
  bulkReplaySummary,
  insertBulkReplay,
  MAX_BULK_REPLAY_PARENTS,
  findOpenReplay,
  refuseItem,
  skipItem,
  setBulkReplayPaused,
  setBulkReplayStatus,
  unfinishedChildren,
  unstartedItems,
  getBulkReplay,
} from '../adapters/bulk-replays.ts';
import { newExecutionId } from '../adapters/ids.ts';
import { prepareReplay, replayRequestLookups, ReplayRequestRefused } from '../services/replay-request.ts';
import {
  failureTypes,
  type BulkPausedReason,
  type BulkReplaySummary,
  type ExecutionStatus,
} from '../domain/replay.ts';
import {
  type NewBulkReplay,
  type PrepareChildrenInput,
  type PreparedChildren,
} from '../workflows/bulk-replay.contract.ts';
import { replayWorkflowId } from '../workflows/definitions.ts';
import type { ReplayActivityDependencies } from './dependencies.ts';

class TooManyParents extends Error {}

/** How often a resumed bulk replay looks at the children an earlier run left running. */
const CHILDREN_POLL_MS = 2000;

export function createBulkReplayActivities({ pool, logger }: ReplayActivityDependencies) {
  async function summaryOf(id: string): Promise<BulkReplaySummary> {
    const summary = await bulkReplaySummary(pool, id);
    if (!summary) {
      throw ApplicationFailure.nonRetryable(`bulk replay ${id} not found`, failureTypes.executionNotFound);
    }
    return summary;
  }

  return {
    /**
     * The bulk replay's record and its parents, in one transaction (a local activity in the first
     * workflow task). A filter matching more than the limit refuses the request and writes nothing.
     */
    async createBulkReplay(bulk: NewBulkReplay): Promise<BulkReplaySummary> {
      try {
        await withTransaction(pool, async (client) => {
          // thrown to roll the parents back
          if (!(await insertBulkReplay(client, bulk))) throw new TooManyParents();
        });
      } catch (error) {
        if (!(error instanceof TooManyParents)) throw error;
        throw ApplicationFailure.nonRetryable(
          `the filter matches more than ${MAX_BULK_REPLAY_PARENTS} executions; narrow it or list execution_ids`,
          failureTypes.tooManyParents,
        );
      }
      const summary = await summaryOf(bulk.id);
      logger.info({ bulk_replay_id: bulk.id, total: summary.total }, 'bulk replay created');
      return summary;
    },

    /**
     * Checks the next parents whose child has not started, as the replay endpoint would: each valid
     * one gets its child's execution id (kept, so a retried attempt gives the same ones); a bad one
     * is marked failed with the endpoint's error, and the others go on.
     */
    async prepareBulkChildren(input: PrepareChildrenInput): Promise<PreparedChildren> {
      const bulk = await getBulkReplay(pool, input.bulkReplayId);
      if (!bulk) {
        throw ApplicationFailure.nonRetryable(
          `bulk replay ${input.bulkReplayId} not found`,
          failureTypes.executionNotFound,
        );
      }
      const items = await unstartedItems(pool, bulk.id, input.fromPosition, input.limit);
      const lookups = replayRequestLookups(pool);
      const children: PreparedChildren['children'] = [];
      for (const item of items) {
        try {
          const { parent, execution, config, route } = await prepareReplay(
            lookups,
            item.parent_ref,
            bulk.request.replay,
          );
          if (bulk.request.skip_parents_with_open_replays) {
            const open = await findOpenReplay(pool, parent.id, execution.to_route);
            if (open) {
              await skipItem(pool, bulk.id, item.position, open);
              logger.info(
                { bulk_replay_id: bulk.id, position: item.position, parent: parent.id, open_replay_id: open },
                'bulk replay parent skipped: it has an open replay into the route',
              );
              continue;
            }
          }
          const id = await assignChildExecution(
            pool,
            bulk.id,
            item.position,
            item.execution_id ?? newExecutionId(),
          );
          children.push({
            position: item.position,
            replay: {
              id,
              ...execution,
              requested_by: bulk.request.requested_by ?? null,
              workflow_id: replayWorkflowId(id),
            },
            described: {
              parent_ref: parent.tag ?? parent.id,
              config: { id: config.id, name: config.name },
              route,
            },
          });
        } catch (error) {
          if (!(error instanceof ReplayRequestRefused)) throw error;
          await refuseItem(pool, bulk.id, item.position, error.errorCode, error.detail);
          logger.info(
            {
              bulk_replay_id: bulk.id,
              position: item.position,
              parent: item.parent_ref,
              error_code: error.errorCode,
            },
            'bulk replay parent refused',
          );
        }
      }
      const nextPosition = items.length > 0 ? items.at(-1)!.position + 1 : bulk.total;
      return { children, nextPosition, done: items.length < input.limit };
    },

    /** A child whose replay was refused after its parent was checked (its record never created). */
    async refuseBulkChild(input: {
      bulkReplayId: string;
      position: number;
      errorCode: string;
      error: string;
    }): Promise<void> {
      await refuseItem(pool, input.bulkReplayId, input.position, input.errorCode, input.error);
    },

    /** Moves the bulk replay to a status (a cancel also cancels the parents whose child never started). */
    async setBulkReplayStatus(input: {
      bulkReplayId: string;
      status: ExecutionStatus;
      error?: string | null;
    }): Promise<BulkReplaySummary> {
      await withTransaction(pool, (client) =>
        setBulkReplayStatus(client, input.bulkReplayId, input.status, input.error ?? null),
      );
      logger.info({ bulk_replay_id: input.bulkReplayId, status: input.status }, 'bulk replay status changed');
      return summaryOf(input.bulkReplayId);
    },

    /** Says why the bulk replay is paused (null: it is not), for the api. Idempotent. */
    async setBulkReplayPaused(input: {
      bulkReplayId: string;
      reason: BulkPausedReason | null;
      failedChildren: number | null;
    }): Promise<void> {
      await setBulkReplayPaused(pool, input.bulkReplayId, input.reason, input.failedChildren);
      logger.info(
        {
          bulk_replay_id: input.bulkReplayId,
          paused_reason: input.reason,
          failed_children: input.failedChildren,
        },
        'bulk replay pause changed',
      );
    },

    /** The state a new run of a bulk replay needs when its workflow closed outside our control. */
    async loadBulkReplay(input: { bulkReplayId: string }): Promise<BulkReplaySummary> {
      await setBulkReplayStatus(pool, input.bulkReplayId, 'running', null);
      return summaryOf(input.bulkReplayId);
    },

    /**
     * Waits (heartbeating) until no child an earlier run started is still running or interrupted:
     * a resumed bulk replay finishes only when all of its children have.
     */
    async awaitStartedChildren(input: { bulkReplayId: string }): Promise<void> {
      const context = Context.current();
      while ((await unfinishedChildren(pool, input.bulkReplayId)) > 0) {
        context.heartbeat();
        await context.sleep(CHILDREN_POLL_MS);
      }
    },
  };
}
