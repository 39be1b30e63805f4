/**
 * Durability under worker crashes (docs/design.md section 9): the only worker, a real `npm run worker`
 * process, is killed with SIGKILL at several points of a 10,000-object replay and started again each
 * time. With the default settings, the publishing step lost with it is retried once its heartbeat
 * stops (heartbeat timeout, not the step's whole start-to-close bound); a page whose transaction had
 * committed before the kill is not published again (cursor compare-and-set). And the graceful
 * counterpart: a worker sent SIGTERM hands its running slice back after the page, and exits.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { replayWorkflowId } from '../../workflows/definitions.ts';
import { startPrivateStack, type PrivateStack } from '../support/private-stack.ts';
import {
  expectPublishedExactlyOnce,
  retriedActivities,
  seedParent,
  startReplay,
  waitForRecord,
} from './helpers.ts';

const OBJECTS = 10_000;
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
  worker.kill('SIGTERM');
  await worker.exited;
}, 240_000);

it('drains a worker on SIGTERM: its slice ends after the page, another worker goes on, exactly once', async () => {
  const draining = stack.startWorkerProcess();
  await draining.polling();
  const id = await startReplay(stack, parentId);
  const record = await waitForRecord(
    stack,
    id,
    (item) => item.published_count >= 0.3 * OBJECTS || item.status !== 'running',
    90_000,
  );
  expect(record.status).toBe('running');
  draining.kill('SIGTERM');
  // it exits by itself, within its grace period, not by the signal
  expect(await draining.exited).toBe(0);
  // the replay's next step waits in its task queue for the next worker
  const other = stack.startWorkerProcess();

  await waitForRecord(stack, id, (item) => item.status !== 'running', 240_000);
  await expectPublishedExactlyOnce(stack, id, keys);
  // handed back, not lost: no publishing step was retried (a lost one waits for its heartbeat
  // timeout, then runs again as attempt 2), and the steps ran on both workers
  expect(await retriedActivities(stack, id)).toEqual([]);
  expect(await publishingIdentities(id)).toHaveLength(2);
  other.kill('SIGTERM');
  expect(await other.exited).toBe(0);
}, 420_000);

/** The workers (identities) that ran the replay's publishing steps, from its workflow histories. */
async function publishingIdentities(executionId: string): Promise<string[]> {
  const identities = new Set<string>();
  for await (const run of stack.temporal.workflow.list({
    query: `WorkflowId = '${replayWorkflowId(executionId)}'`,
  })) {
    const history = await stack.temporal.workflow.getHandle(run.workflowId, run.runId).fetchHistory();
    for (const event of history.events ?? []) {
      const identity = event.activityTaskStartedEventAttributes?.identity;
      if (identity) identities.add(identity.replace(/-publish$/, ''));
    }
  }
  return [...identities];
}

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
