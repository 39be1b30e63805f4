/**
 * The first large replay a new user tries, on the store `npm run dev` starts (versitygw) and on the
 * one it falls back to without Go (s3rver): a flat folder past the partition threshold completes,
 * exactly, unpaced and paced. On the default store, a worker SIGKILLed while it plans the partitions
 * changes nothing but the time, and a store slower than the heartbeat timeout on every call makes no
 * step retry (planning, listing, publishing, a preview's count) and publishes nothing twice
 * (activities heartbeat on a timer, not once a page).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listPartitions } from '../../adapters/replay-partitions.ts';
import { previewWorkflowId, replayWorkflowId } from '../../workflows/definitions.ts';
import { startPrivateStack, type PrivateStack, type WorkerProcess } from '../support/private-stack.ts';
import {
  expectPublishedExactlyOnce,
  request,
  retriedActivities,
  ROUTE,
  seedParent,
  sleep,
  startReplay,
  waitForRecord,
} from './helpers.ts';

/** Pages of 100 (the private stack's), two published as one, then up to four partitions. */
const PARTITIONED = {
  REPLAY_PARTITION_AFTER_PAGES: '2',
  REPLAY_MAX_PARTITIONS: '4',
  REPLAY_PARTITIONS_IN_FLIGHT: '4',
};
const OBJECTS = 2_000;

/** Unpaced, then paced: both complete in partitions, every object once, no step retried. */
function firstLargeReplays(context: () => { stack: PrivateStack; parentId: string; keys: string[] }) {
  it('completes unpaced, in partitions, every object once', async () => {
    const { stack, parentId, keys } = context();
    const id = await startReplay(stack, parentId);
    await waitForRecord(stack, id, (record) => record.status !== 'running', 120_000);
    await expectPublishedExactlyOnce(stack, id, keys);
    expect((await listPartitions(stack.pool, id)).length).toBeGreaterThanOrEqual(2);
    expect(await retriedActivities(stack, id, { withPartitions: true })).toEqual([]);
  }, 150_000);

  it('completes paced, in partitions, every object once', async () => {
    const { stack, parentId, keys } = context();
    const id = await startReplay(stack, parentId, { max_messages_per_second: 1000 });
    await waitForRecord(stack, id, (record) => record.status !== 'running', 120_000);
    await expectPublishedExactlyOnce(stack, id, keys);
    expect((await listPartitions(stack.pool, id)).length).toBeGreaterThanOrEqual(2);
    expect(await retriedActivities(stack, id, { withPartitions: true })).toEqual([]);
  }, 150_000);
}

describe('a flat folder past the partition threshold on s3rver (the store without Go)', () => {
  let stack: PrivateStack;
  let parentId: string;
  let keys: string[];

  beforeAll(async () => {
    stack = await startPrivateStack({ store: 's3rver', env: PARTITIONED });
    ({ parentId, keys } = await seedParent(stack, OBJECTS));
    await stack.startWorkerProcess().polling();
  }, 240_000);
  afterAll(async () => stack?.close());

  firstLargeReplays(() => ({ stack, parentId, keys }));
});

describe('a flat folder past the partition threshold on versitygw (the store npm run dev starts)', () => {
  let stack: PrivateStack;
  let parentId: string;
  let keys: string[];

  beforeAll(async () => {
    stack = await startPrivateStack({
      store: 'versitygw',
      s3LatencyProxy: true,
      // a second of silence is a lost worker: the slowed-down store below takes longer on every call
      env: { ...PARTITIONED, REPLAY_HEARTBEAT_TIMEOUT_SECONDS: '1' },
    });
    ({ parentId, keys } = await seedParent(stack, OBJECTS));
  }, 240_000);
  afterAll(async () => stack?.close());

  describe('as fast as it goes', () => {
    let worker: WorkerProcess;
    beforeAll(async () => {
      worker = stack.startWorkerProcess();
      await worker.polling();
    });
    afterAll(async () => {
      worker.kill('SIGTERM');
      await worker.exited;
    });
    firstLargeReplays(() => ({ stack, parentId, keys }));
  });

  it('a worker SIGKILLed while it plans the partitions changes nothing but the time', async () => {
    // each probe of the plan a round trip of 150 ms: planning takes seconds
    stack.setS3Latency(150);
    let worker = stack.startWorkerProcess();
    await worker.polling();
    const id = await startReplay(stack, parentId);
    const handle = stack.temporal.workflow.getHandle(replayWorkflowId(id));
    const deadline = Date.now() + 60_000;
    for (;;) {
      const { raw } = await handle.describe();
      const planning = raw.pendingActivities?.find(
        (activity) => activity.activityType?.name === 'planPartitions',
      );
      // STARTED: a worker runs it now
      if (planning && Number(planning.state) === 2) break;
      expect(Date.now()).toBeLessThan(deadline);
      await sleep(50);
    }
    worker.kill('SIGKILL');
    expect(await worker.exited).toBe('SIGKILL');
    worker = stack.startWorkerProcess();

    await waitForRecord(stack, id, (record) => record.status !== 'running', 120_000);
    await expectPublishedExactlyOnce(stack, id, keys);
    expect((await listPartitions(stack.pool, id)).length).toBeGreaterThanOrEqual(2);
    const retried = await retriedActivities(stack, id, { withPartitions: true });
    expect(retried).toContainEqual(
      expect.objectContaining({ activity: 'planPartitions', cause: 'TIMEOUT_TYPE_HEARTBEAT' }),
    );
    worker.kill('SIGTERM');
    await worker.exited;
  }, 180_000);

  it('a store slower than the heartbeat timeout on every call: no retry, no duplicate', async () => {
    // nested outputs: the plan is one listing of their folders, not tens of probes (each call is slow)
    stack.setS3Latency(0);
    const nested = await seedParent(stack, 600, { folders: 10 });
    stack.setS3Latency(1_300);
    const worker = stack.startWorkerProcess();
    await worker.polling();
    const id = await startReplay(stack, nested.parentId);
    await waitForRecord(stack, id, (record) => record.status !== 'running', 150_000);
    expect(await retriedActivities(stack, id, { withPartitions: true })).toEqual([]);
    await expectPublishedExactlyOnce(stack, id, nested.keys);
    expect((await listPartitions(stack.pool, id)).length).toBeGreaterThanOrEqual(2);

    // a preview too large for its request (100 keys here) counts in a heartbeating activity too
    const previewing = { app: stack.appWith({ PREVIEW_INLINE_MAX_KEYS: '100' }) };
    const started = await request(
      previewing,
      'POST',
      `/api/v1/executions/${nested.parentId}/replay/preview`,
      {
        replay_source: 'storage',
        from_stage: 'markdown_segmented',
        to_route: ROUTE,
      },
    );
    expect(started.status, JSON.stringify(started.body)).toBe(202);
    const workflowId = previewWorkflowId(started.body.id);
    const outcome = await stack.temporal.workflow.getHandle(workflowId).result();
    expect(outcome).toMatchObject({ status: 'completed' });
    const counted = await request(stack, 'GET', `/api/v1/replay-previews/${started.body.id}`);
    expect(counted.body).toMatchObject({ status: 'completed', count: nested.keys.length });
    expect(await retriedActivities(stack, id, { workflowId })).toEqual([]);
    worker.kill('SIGTERM');
    await worker.exited;
  }, 180_000);
});
