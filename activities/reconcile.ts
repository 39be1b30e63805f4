import type { Client } from '@temporalio/client';
import type pg from 'pg';
import { listIdleRunningReplays, setExecutionStatus } from '../adapters/executions.ts';
import type { Logger } from '../adapters/logger.ts';
import { countStatusChange } from '../adapters/metrics.ts';

export interface ReconcileDependencies {
  pool: pg.Pool;
  temporal: Client;
  logger: Logger;
}

/** Records younger than this are left alone: their workflow may be starting. */
const GRACE_SECONDS = 30;

/**
 * Finds replays still `running` in Postgres whose workflow has closed without saying so (terminated
 * from the UI or CLI, timed out, history lost) and marks them `interrupted`, so an operator sees
 * them and `resume` can start a new run from the cursor kept in Postgres. Returns the ids marked.
 */
export async function reconcileClosedReplays(
  { pool, temporal, logger }: ReconcileDependencies,
  options: { graceSeconds?: number } = {},
): Promise<string[]> {
  const candidates = await listIdleRunningReplays(pool, options.graceSeconds ?? GRACE_SECONDS);
  const marked: string[] = [];
  for (const { id, workflow_id: workflowId } of candidates) {
    let closedAs: string;
    try {
      const description = await temporal.workflow.getHandle(workflowId).describe();
      if (description.status.name === 'RUNNING') continue;
      closedAs = description.status.name.toLowerCase();
    } catch (error) {
      if ((error as Error).name !== 'WorkflowNotFoundError') throw error;
      closedAs = 'not found';
    }
    const reason = `workflow ${workflowId} ${closedAs === 'not found' ? 'was not found' : `ended as ${closedAs}`} outside the service; resume to continue from the cursor`;
    // only from `running`: a workflow that moved the record meanwhile (resumed, finished) wins
    const record = await setExecutionStatus(pool, id, 'interrupted', reason, { onlyFrom: ['running'] });
    countStatusChange(record);
    if (record?.status === 'interrupted' && record.error === reason) {
      marked.push(id);
      logger.warn(
        { execution_id: id, workflow_id: workflowId, closed_as: closedAs },
        'replay marked interrupted',
      );
    }
  }
  return marked;
}

export function createReconcileActivities(deps: ReconcileDependencies) {
  return {
    async reconcileClosedReplays(): Promise<string[]> {
      return reconcileClosedReplays(deps);
    },
  };
}

export type ReconcileActivities = ReturnType<typeof createReconcileActivities>;
