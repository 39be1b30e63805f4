import { cancelOpenBulkChildren, type BulkCancelDependencies } from '../services/bulk-replay-cancel.ts';

/** The activity a cancelled bulk replay runs for children it did not start itself (it needs a Temporal client). */
export function createBulkCancelActivities(deps: BulkCancelDependencies) {
  return {
    /**
     * Stops every open child of the bulk replay (services/bulk-replay-cancel.ts): a run resumed
     * after its workflow was closed outside the service did not start the children an earlier
     * run left running, so its cancellation scope does not reach them. Idempotent.
     */
    async cancelBulkChildren(input: { bulkReplayId: string; reason: string }): Promise<number> {
      return cancelOpenBulkChildren(deps, input.bulkReplayId, input.reason);
    },
  };
}

export type BulkCancelActivities = ReturnType<typeof createBulkCancelActivities>;
