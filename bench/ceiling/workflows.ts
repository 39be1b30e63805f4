/**
 * The bare ceiling's workflow: the same shape as a 10-object replay with none of its work. Update-
 * with-start answered after a local activity in the first workflow task, then one activity on a
 * second task queue, then completion. What the Temporal server and an SDK worker cost per start on
 * this machine, measured beside the replay in the same run (bench/capacity.ts).
 */
import {
  condition,
  defineUpdate,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
} from '@temporalio/workflow';
import type { CeilingActivities } from './activities.ts';

export const ceilingStartedUpdate = defineUpdate<string>('started');

export async function ceilingProbe(activityTaskQueue: string): Promise<void> {
  const { probeStart } = proxyLocalActivities<CeilingActivities>({ startToCloseTimeout: '10s' });
  const { probeWork } = proxyActivities<CeilingActivities>({
    startToCloseTimeout: '30s',
    taskQueue: activityTaskQueue,
  });
  let started: string | undefined = undefined;
  setHandler(ceilingStartedUpdate, async () => {
    await condition(() => started !== undefined);
    return started!;
  });
  started = await probeStart();
  await probeWork();
}
