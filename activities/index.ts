import { createBulkReplayActivities } from './bulk-replay.ts';
import type { ReplayActivityDependencies } from './dependencies.ts';
import { createPartitionActivities } from './plan-partitions.ts';
import { createPublishActivities } from './publish-pages.ts';
import { createCanaryActivities } from './replay-canary.ts';
import { createPreviewActivities } from './replay-preview.ts';
import { createStatusActivities } from './replay-status.ts';
import { createStartActivities } from './start-replay.ts';

export type { ReplayActivityDependencies } from './dependencies.ts';
export { createBulkCancelActivities, type BulkCancelActivities } from './bulk-cancel.ts';
export { createReconcileActivities, reconcileClosedReplays } from './reconcile.ts';
export type * from './reconcile.ts';

/** Every activity of a replay and of a bulk replay, by name, as the worker registers them. */
export function createReplayActivities(deps: ReplayActivityDependencies) {
  return {
    ...createStartActivities(deps),
    ...createPublishActivities(deps),
    ...createStatusActivities(deps),
    ...createBulkReplayActivities(deps),
    ...createPartitionActivities(deps),
    ...createPreviewActivities(deps),
    ...createCanaryActivities(deps),
  };
}

export type ReplayActivities = ReturnType<typeof createReplayActivities>;
