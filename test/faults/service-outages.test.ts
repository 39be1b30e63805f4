/**
 * Durability when a service goes away mid-replay (docs/design.md sections 6 and 9), on private services:
 * Postgres restarted, the Temporal server (file-backed) restarted, S3 down past a step's retry budget.
 *
 * One in-process worker serves every test and is expected to survive every outage, and it does:
 * failed steps are retried with backoff (1 s doubling to 30 s) within the step budget, and the
 * SDK's worker keeps polling while the Temporal server is away and reconnects when it is back, so
 * no worker restart is needed (asserted after each test).
 */
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { getExecution } from '../../adapters/executions.ts';
import { startPrivateStack, type InProcessWorker, type PrivateStack } from '../support/private-stack.ts';
import {
  expectPublishedExactlyOnce,
  request,
  seedParent,
  sleep,
  startReplay,
  waitForRecord,
} from './helpers.ts';

const OBJECTS = 6000;

let stack: PrivateStack;
let worker: InProcessWorker;
let parentId: string;
let keys: string[];

beforeAll(async () => {
  stack = await startPrivateStack();
  worker = await stack.startInProcessWorker();
  ({ parentId, keys } = await seedParent(stack, OBJECTS));
}, 180_000);
afterAll(async () => stack?.close());
afterEach(() => {
  // the same worker rode out the outage: it was never restarted
  expect(worker.handle.isRunning()).toBe(true);
});

/** Starts a replay (through `on`'s api) and waits until about 30% of it is published. */
async function replayUnderWay(on: PrivateStack = stack): Promise<string> {
  const id = await startReplay(on, parentId);
  const record = await waitForRecord(
    stack,
    id,
    (item) => item.published_count >= 0.3 * OBJECTS || item.status !== 'running',
    60_000,
  );
  expect(record.status).toBe('running');
  return id;
}

it('completes a replay when Postgres restarts under it', async () => {
  const id = await replayUnderWay();
  await stack.restartPostgres(3000);
  // nothing can complete while Postgres is down: the outage hit the replay mid-way
  const after = await waitForRecord(stack, id, () => true, 30_000);
  expect(after.status).toBe('running');
  expect(after.published_count).toBeLessThan(OBJECTS);

  await waitForRecord(stack, id, (item) => item.status !== 'running', 120_000);
  await expectPublishedExactlyOnce(stack, id, keys);
}, 240_000);

it('completes a replay when the Temporal server restarts under it', async () => {
  const id = await replayUnderWay();
  await stack.restartTemporal(3000);
  const after = await getExecution(stack.pool, id);
  expect(after?.status).toBe('running');
  expect(after?.published_count).toBeLessThan(OBJECTS);

  await waitForRecord(stack, id, (item) => item.status !== 'running', 120_000);
  await expectPublishedExactlyOnce(stack, id, keys);
}, 240_000);

it('interrupts a replay while S3 is down past the retry budget; resume completes it', async () => {
  // 3 attempts, 1 s then 2 s apart: the budget is spent about 3 s into the outage
  const strict = { ...stack, app: stack.appWith({ REPLAY_STEP_MAX_ATTEMPTS: '3' }) };
  const id = await replayUnderWay(strict);
  await stack.stopS3();

  const interrupted = await waitForRecord(stack, id, (item) => item.status !== 'running', 60_000);
  expect(interrupted.status).toBe('interrupted');
  expect(interrupted.published_count).toBeLessThan(OBJECTS);
  const shown = await request(stack, 'GET', `/api/v1/executions/${id}`);
  expect(shown.status).toBe(200);
  expect(shown.body.status).toBe('interrupted');
  expect(shown.body.error).toMatch(/^publishPages: .+/);

  // it waits for an operator, also once S3 is back
  await sleep(2000);
  const before = await request(stack, 'GET', `/api/v1/executions/${id}`);
  await stack.startS3();
  await sleep(1000);
  const waiting = await request(stack, 'GET', `/api/v1/executions/${id}`);
  expect(waiting.body.status).toBe('interrupted');
  expect(waiting.body.progress.published).toBe(before.body.progress.published);

  const resumed = await request(stack, 'POST', `/api/v1/executions/${id}/resume`);
  expect(resumed.status, JSON.stringify(resumed.body)).toBe(200);
  expect(resumed.body.status).toBe('running');

  await waitForRecord(stack, id, (item) => item.status !== 'running', 120_000);
  await expectPublishedExactlyOnce(stack, id, keys);
  const done = await request(stack, 'GET', `/api/v1/executions/${id}`);
  expect(done.body.error).toBeNull();
}, 240_000);
