/**
 * Durability under worker crashes (docs/design.md section 9): the only worker, a real `npm run worker`
 * process, is killed with SIGKILL at several points of a 20,000-object replay and started again each
 * time. With the default settings, the publishing step lost with it is retried once its heartbeat
 * stops (heartbeat timeout, not the step's whole start-to-close bound); a page whose transaction had
 * committed before the kill is not published again (cursor compare-and-set).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startPrivateStack, type PrivateStack } from '../support/private-stack.ts';
import {
  expectPublishedExactlyOnce,
  retriedActivities,
  seedParent,
  startReplay,
  waitForRecord,
} from './helpers.ts';

const OBJECTS = 20_000;
const KILL_AT = [0.15, 0.45, 0.75];

let stack: PrivateStack;
let parentId: string;
let keys: string[];

beforeAll(async () => {
  stack = await startPrivateStack();
  ({ parentId, keys } = await seedParent(stack, OBJECTS));
}, 240_000);
afterAll(async () => stack?.close());

it(`completes a ${OBJECTS}-object replay whose worker is SIGKILLed ${KILL_AT.length} times`, async () => {
  let worker = stack.startWorkerProcess();
  await worker.polling(); // the api waits for the workflow to create the record
  const id = await startReplay(stack, parentId);

  const publishedAtKill: number[] = [];
  for (const fraction of KILL_AT) {
    const record = await waitForRecord(
      stack,
      id,
      (item) => item.published_count >= fraction * OBJECTS || item.status !== 'running',
      90_000,
    );
    // killed mid-replay, not after it
    expect(record.status).toBe('running');
    worker.kill('SIGKILL');
    expect(await worker.exited).toBe('SIGKILL');
    publishedAtKill.push(record.published_count);
    worker = stack.startWorkerProcess();
  }
  expect(publishedAtKill.every((count) => count < OBJECTS)).toBe(true);

  await waitForRecord(stack, id, (item) => item.status !== 'running', 120_000);
  await expectPublishedExactlyOnce(stack, id, keys);
  // each lost step was noticed by its missing heartbeat
  const retried = await retriedActivities(stack, id);
  expect(retried.length).toBeGreaterThanOrEqual(1);
  for (const attempt of retried) {
    expect(attempt).toMatchObject({ activity: 'publishPages', cause: 'TIMEOUT_TYPE_HEARTBEAT' });
  }
}, 240_000);

it('completes a partitioned replay whose worker is SIGKILLed while its partitions publish', async () => {
  let worker = stack.startWorkerProcess();
  await worker.polling();
  const partitioned = { ...stack, app: stack.appWith({ REPLAY_MAX_PARTITIONS: '4' }) };
  const id = await startReplay(partitioned, parentId);
  const partitions = async () =>
    (await stack.pool.query('SELECT count(*)::int AS n FROM replay_partitions WHERE execution_id = $1', [id]))
      .rows[0].n as number;
  const record = await waitForRecord(
    stack,
    id,
    (item) => item.published_count >= 0.4 * OBJECTS || item.status !== 'running',
    90_000,
  );
  expect(record.status).toBe('running');
  expect(await partitions()).toBeGreaterThanOrEqual(2);
  worker.kill('SIGKILL');
  expect(await worker.exited).toBe('SIGKILL');
  worker = stack.startWorkerProcess();

  await waitForRecord(stack, id, (item) => item.status !== 'running', 120_000);
  await expectPublishedExactlyOnce(stack, id, keys);
  // the partitions' steps lost with the worker were noticed by their missing heartbeats
  const retried = await retriedActivities(stack, id, { withPartitions: true });
  expect(retried.filter((attempt) => attempt.activity === 'publishPages').length).toBeGreaterThanOrEqual(1);
  worker.kill('SIGTERM');
  await worker.exited;
}, 240_000);
