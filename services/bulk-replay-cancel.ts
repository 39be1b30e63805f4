/**
 * Stops every open child of a bulk replay. Its children are started with ParentClosePolicy.ABANDON
 * (each is an ordinary replay), so when the bulk workflow is closed outside the service (terminated
 * from the UI or CLI) they go on publishing: cancelling the bulk replay must reach each of them,
 * found in Postgres, not through a workflow that no longer runs.
 */
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { openChildren } from '../adapters/bulk-replays.ts';
import { withTransaction } from '../adapters/database.ts';
import { setExecutionStatus, setRoutesStatus } from '../adapters/executions.ts';
import type { Logger } from '../adapters/logger.ts';
import { cancelSignal, replayWorkflowId } from '../workflows/definitions.ts';
import type pg from 'pg';

/** Children asked at once: a bulk replay runs at most its max_concurrent, but interrupted ones count too. */
const CANCELS_IN_FLIGHT = 8;

export interface BulkCancelDependencies {
  pool: pg.Pool;
  temporal: Client;
  logger: Logger;
}

/** Cancels a replay whose workflow is gone: its record and routes, as the replay's own cleanup would. */
async function cancelRecord(db: pg.Pool, executionId: string, reason: string): Promise<void> {
  await withTransaction(db, async (client) => {
    const record = await setExecutionStatus(client, executionId, 'cancelled', reason);
    if (record?.status === 'cancelled') await setRoutesStatus(client, executionId, 'cancelled');
  });
}

/**
 * Sends `cancel` to every child that is running or interrupted (its own workflow then records
 * `cancelled`); a child whose workflow is closed too is cancelled in Postgres here. Answers how
 * many children it asked. Idempotent: a child already cancelled is no longer open.
 */
export async function cancelOpenBulkChildren(
  { pool, temporal, logger }: BulkCancelDependencies,
  bulkReplayId: string,
  reason: string,
): Promise<number> {
  const children = await openChildren(pool, bulkReplayId);
  const pending = [...children];
  const cancelOne = async (child: (typeof children)[number]) => {
    try {
      await temporal.workflow
        .getHandle(child.workflow_id ?? replayWorkflowId(child.execution_id))
        .signal(cancelSignal, reason);
    } catch (error) {
      if (!(error instanceof WorkflowNotFoundError)) throw error;
      await cancelRecord(pool, child.execution_id, reason);
    }
  };
  await Promise.all(
    Array.from({ length: Math.min(CANCELS_IN_FLIGHT, pending.length) }, async () => {
      for (let child = pending.shift(); child; child = pending.shift()) await cancelOne(child);
    }),
  );
  if (children.length > 0)
    logger.info(
      { bulk_replay_id: bulkReplayId, children: children.length },
      'bulk replay children cancelled',
    );
  return children.length;
}
