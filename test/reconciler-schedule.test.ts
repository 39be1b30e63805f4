/**
 * The reconciler's Schedule on the real Temporal server: created once, its interval brought up to
 * date when RECONCILE_INTERVAL_SECONDS changes (it was kept forever), and made by no test worker
 * unless asked (RECONCILER_SCHEDULE).
 */
import { randomBytes } from 'node:crypto';
import { Client, Connection, ScheduleNotFoundError } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ensureReconcilerSchedule, reconcilerScheduleId } from '../adapters/reconciler-schedule.ts';
import { createTestStack } from './support/test-stack.ts';

let connection: Connection;
let temporal: Client;
const created: string[] = [];

beforeAll(async () => {
  connection = await Connection.connect({ address: inject('stack').temporalAddress });
  temporal = new Client({ connection });
});
afterAll(async () => {
  for (const id of created)
    await temporal.schedule
      .getHandle(id)
      .delete()
      .catch(() => {});
  await connection?.close();
});

const everyMs = async (taskQueue: string) =>
  (await temporal.schedule.getHandle(reconcilerScheduleId(taskQueue)).describe()).spec.intervals?.map(
    (interval) => interval.every,
  );

describe('the reconciler schedule', () => {
  it('is created once, and takes a new interval when the setting changes', async () => {
    const taskQueue = `schedule-${randomBytes(4).toString('hex')}`;
    created.push(reconcilerScheduleId(taskQueue));
    const config = { TEMPORAL_TASK_QUEUE: taskQueue, RECONCILE_INTERVAL_SECONDS: 60 };
    expect(await ensureReconcilerSchedule(temporal, config)).toBe('created');
    expect(await ensureReconcilerSchedule(temporal, config)).toBe('unchanged');
    expect(await everyMs(taskQueue)).toEqual([60_000]);

    // an operator's pause is kept across the update
    const handle = temporal.schedule.getHandle(reconcilerScheduleId(taskQueue));
    await handle.pause('maintenance');
    expect(await ensureReconcilerSchedule(temporal, { ...config, RECONCILE_INTERVAL_SECONDS: 15 })).toBe(
      'updated',
    );
    expect(await everyMs(taskQueue)).toEqual([15_000]);
    const described = await handle.describe();
    expect(described.state.paused).toBe(true);
    expect(described.action).toMatchObject({ type: 'startWorkflow', workflowType: 'reconcileReplays' });
  });

  it('is made by no worker of a test stack unless RECONCILER_SCHEDULE is true', async () => {
    const stack = await createTestStack();
    try {
      expect(stack.config.RECONCILER_SCHEDULE).toBe(false);
      await stack.startWorker();
      const describe = temporal.schedule.getHandle(reconcilerScheduleId(stack.config.TEMPORAL_TASK_QUEUE));
      await expect(describe.describe()).rejects.toBeInstanceOf(ScheduleNotFoundError);
    } finally {
      await stack.close();
    }
  });
});
