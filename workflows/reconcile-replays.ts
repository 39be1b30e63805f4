import { proxyActivities } from '@temporalio/workflow';
import type { ReconcileActivities } from '../activities/index.ts';

const { reconcileClosedReplays } = proxyActivities<ReconcileActivities>({
  startToCloseTimeout: '5m',
  retry: { maximumAttempts: 3 },
});

/** Run by the `replay-reconciler` schedule: marks replays whose workflow closed behind our back. */
export async function reconcileReplays(): Promise<{ interrupted: string[] }> {
  return { interrupted: await reconcileClosedReplays() };
}
