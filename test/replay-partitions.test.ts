import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listPartitions } from '../adapters/replay-partitions.ts';
import { stageFolder } from '../adapters/storage-paths.ts';
import { partitionWorkflowId, replayWorkflowId } from '../workflows/definitions.ts';
import { createTestStack, type TestStack } from './support/test-stack.ts';
import { WorkflowFailedError, type ApplicationFailure } from '@temporalio/client';
import { failureTypes } from '../domain/replay.ts';
import { createExecution, registerConfig, requestJson, waitForExecution } from './support/fixtures.ts';

/**
 * Partitioned replays on the real stack: a replay with more than a few pages is split into key
 * ranges, each published by its own child workflow, and every object still goes out exactly once.
 */

const STAGE = 'markdown_segmented';
const ROUTE = 'embedding_generator';
const REPLAY = { replay_source: 'storage', from_stage: STAGE, to_route: ROUTE };

let stack: TestStack;
let configId: string;

beforeAll(async () => {
  // pages of 100; two pages as one, then up to 4 partitions
  stack = await createTestStack({
    REPLAY_PAGE_SIZE: '100',
    REPLAY_PARTITION_AFTER_PAGES: '2',
    REPLAY_MAX_PARTITIONS: '4',
    REPLAY_PARTITIONS_IN_FLIGHT: '3',
  });
  await stack.startWorker();
  configId = (await registerConfig(stack)).id;
});
afterAll(async () => stack?.close());

/** Stores one output per relative key under the parent's stage folder; returns the full keys, sorted. */
async function seed(parentId: string, relativeKeys: string[]): Promise<string[]> {
  const folder = stageFolder(stack.objectStore.prefix, parentId, STAGE);
  const keys = relativeKeys.map((key) => folder + key);
  let next = 0;
  await Promise.all(
    Array.from({ length: 32 }, async () => {
      while (next < keys.length) {
        const key = keys[next++]!;
        await stack.objectStore.putObject(key, JSON.stringify({ key }));
      }
    }),
  );
  return keys.sort();
}

async function replayOf(parentId: string, body: object = {}) {
  const response = await requestJson(stack, 'POST', `/api/v1/executions/${parentId}/replay`, {
    ...REPLAY,
    ...body,
  });
  expect(response.status, JSON.stringify(response.body)).toBe(200);
  return response.body.id as string;
}

async function expectExactlyOnce(executionId: string, keys: string[]) {
  const messages = await stack.routeReader.messagesOf(ROUTE, executionId);
  expect(messages.map((message) => message.data.object.key).sort()).toEqual(keys);
  expect(new Set(messages.map((message) => message.data.sequence)).size).toBe(keys.length);
}

const nested = (folders: number, perFolder: number) =>
  Array.from(
    { length: folders * perFolder },
    (_, index) =>
      `part-${String(Math.floor(index / perFolder)).padStart(3, '0')}/doc-${String(index % perFolder).padStart(4, '0')}.json`,
  );

describe('partitioned replays', () => {
  it('splits a nested tree into partitions, each a child workflow; every object once', async () => {
    const parent = await createExecution(stack, configId);
    const keys = await seed(parent.id, nested(12, 100));
    const id = await replayOf(parent.id);
    const done = await waitForExecution(stack, id, (record) => record.status === 'completed');
    expect(done.published_count).toBe(keys.length);
    const partitions = await listPartitions(stack.pool, id);
    expect(partitions.length).toBeGreaterThanOrEqual(2);
    expect(partitions.length).toBeLessThanOrEqual(4);
    expect(partitions.every((partition) => partition.status === 'completed')).toBe(true);
    await expectExactlyOnce(id, keys);
    // each partition ran as its own workflow
    for (const partition of partitions) {
      const child = stack.temporal.workflow.getHandle(
        partitionWorkflowId(replayWorkflowId(id), partition.partition),
      );
      expect((await child.describe()).status.name).toBe('COMPLETED');
    }
    const shown = await requestJson(stack, 'GET', `/api/v1/executions/${id}`);
    expect(shown.body.progress.published).toBe(keys.length);
    // split by one listing of its folders: every boundary is a folder
    expect(partitions.slice(1).every((partition) => partition.start_after!.endsWith('/'))).toBe(true);
  });

  it('finds the folders under a from_path that names a folder without its slash', async () => {
    const parent = await createExecution(stack, configId);
    const keys = await seed(parent.id, [...nested(12, 100).map((key) => `deep/${key}`), 'deeper.json']);
    const id = await replayOf(parent.id, { from_path: 'deep' });
    await waitForExecution(stack, id, (record) => record.status === 'completed');
    const partitions = await listPartitions(stack.pool, id);
    expect(partitions.length).toBeGreaterThanOrEqual(2);
    expect(partitions.slice(1).every((partition) => /\/deep\/part-\d+\/$/.test(partition.start_after!))).toBe(
      true,
    );
    await expectExactlyOnce(
      id,
      keys.filter((key) => key.includes('/deep/')),
    );
  });

  it('splits a flat folder by the keys it probes; a from_path narrows every partition', async () => {
    const parent = await createExecution(stack, configId);
    const flat = Array.from({ length: 1500 }, (_, index) => `doc-${String(index).padStart(6, '0')}.json`);
    const keys = await seed(parent.id, [...flat, ...nested(3, 100).map((key) => `other/${key}`)]);
    const id = await replayOf(parent.id);
    await waitForExecution(stack, id, (record) => record.status === 'completed');
    expect((await listPartitions(stack.pool, id)).length).toBeGreaterThanOrEqual(2);
    await expectExactlyOnce(id, keys);

    const narrowed = await replayOf(parent.id, { from_path: 'other/' });
    await waitForExecution(stack, narrowed, (record) => record.status === 'completed');
    await expectExactlyOnce(
      narrowed,
      keys.filter((key) => key.includes('/other/')),
    );
  });

  it('a replay of a few pages is never split', async () => {
    const parent = await createExecution(stack, configId);
    const keys = await seed(parent.id, nested(1, 150));
    const id = await replayOf(parent.id);
    await waitForExecution(stack, id, (record) => record.status === 'completed');
    expect(await listPartitions(stack.pool, id)).toEqual([]);
    await expectExactlyOnce(id, keys);
  });

  it('a partition whose workflow is terminated interrupts the replay; a resume takes it up again', async () => {
    const parent = await createExecution(stack, configId);
    const keys = await seed(parent.id, nested(8, 100));
    const id = await replayOf(parent.id, { max_messages_per_second: 300 });
    // the partitions are running, paced: terminate one of them from outside, as an operator could
    let partitions = await listPartitions(stack.pool, id);
    for (let tries = 0; tries < 200 && partitions.length === 0; tries += 1) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      partitions = await listPartitions(stack.pool, id);
    }
    expect(partitions.length).toBeGreaterThanOrEqual(2);
    const victim = partitionWorkflowId(replayWorkflowId(id), 0);
    for (let tries = 0; tries < 100; tries += 1) {
      const described = await stack.temporal.workflow
        .getHandle(victim)
        .describe()
        .catch(() => undefined);
      if (described?.status.name === 'RUNNING') break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await stack.temporal.workflow.getHandle(victim).terminate('a test terminates one partition');
    const interrupted = await waitForExecution(stack, id, (record) => record.status === 'interrupted');
    expect(interrupted.error).toMatch(/^partition 0: /);

    const resumed = await requestJson(stack, 'POST', `/api/v1/executions/${id}/resume`);
    expect([200, 202]).toContain(resumed.status);
    await waitForExecution(stack, id, (record) => record.status === 'completed');
    await expectExactlyOnce(id, keys);
  });

  it('a partition that fails for good fails the replay with its own failure, without waiting for a resume', async () => {
    const parent = await createExecution(stack, configId);
    await seed(parent.id, nested(8, 100));
    const id = await replayOf(parent.id, { max_messages_per_second: 300 });
    let partitions = await listPartitions(stack.pool, id);
    for (let tries = 0; tries < 200 && partitions.length === 0; tries += 1) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      partitions = await listPartitions(stack.pool, id);
    }
    expect(partitions.length).toBeGreaterThanOrEqual(2);
    // another path finishes the record: each partition's next page finds it not running, for good
    await stack.pool.query(
      `UPDATE executions SET status = 'failed', error = 'failed by the test' WHERE id = $1`,
      [id],
    );
    const failure = await stack.temporal.workflow
      .getHandle(replayWorkflowId(id))
      .result()
      .catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(WorkflowFailedError);
    const cause = (failure as WorkflowFailedError).cause as ApplicationFailure;
    expect(cause.type).toBe(failureTypes.replayFailed);
    expect(cause.message).toMatch(/partition \d+: execution .* is failed/);
    expect(cause.message).not.toContain('Child Workflow execution failed');
    expect((cause.cause as ApplicationFailure).type).toBe(failureTypes.notRunning);
    expect((await listPartitions(stack.pool, id)).some((item) => item.status === 'interrupted')).toBe(false);
  }, 60_000);
});
