/**
 * The reconciler runs as a Temporal Schedule (visible and pausable in the UI), one per task queue.
 * A worker with RECONCILER_SCHEDULE=true creates it, or brings its interval up to date when
 * RECONCILE_INTERVAL_SECONDS changed since; pausing and other changes made by operators are kept.
 */
import { ScheduleAlreadyRunning, ScheduleOverlapPolicy, type Client } from '@temporalio/client';
import type { AppConfig } from './config.ts';

export function reconcilerScheduleId(taskQueue: string): string {
  return `replay-reconciler-${taskQueue}`;
}

export async function ensureReconcilerSchedule(
  temporal: Client,
  config: Pick<AppConfig, 'TEMPORAL_TASK_QUEUE' | 'RECONCILE_INTERVAL_SECONDS'>,
): Promise<'created' | 'updated' | 'unchanged'> {
  const scheduleId = reconcilerScheduleId(config.TEMPORAL_TASK_QUEUE);
  const spec = { intervals: [{ every: `${config.RECONCILE_INTERVAL_SECONDS}s` }] };
  try {
    await temporal.schedule.create({
      scheduleId,
      spec,
      action: {
        type: 'startWorkflow',
        workflowType: 'reconcileReplays',
        taskQueue: config.TEMPORAL_TASK_QUEUE,
        args: [],
      },
      policies: { overlap: ScheduleOverlapPolicy.SKIP },
    });
    return 'created';
  } catch (error) {
    if (!(error instanceof ScheduleAlreadyRunning)) throw error;
  }
  const handle = temporal.schedule.getHandle(scheduleId);
  const { spec: current } = await handle.describe();
  const intervals = current.intervals ?? [];
  const same =
    intervals.length === 1 &&
    intervals[0]!.every === config.RECONCILE_INTERVAL_SECONDS * 1000 &&
    !intervals[0]!.offset &&
    !current.calendars?.length;
  if (same) return 'unchanged';
  await handle.update((previous) => ({ ...previous, spec }));
  return 'updated';
}
