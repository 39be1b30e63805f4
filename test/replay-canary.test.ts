/**
 * A replay's canary on the real stack (pg-boss, S3, Temporal, Postgres): the test plays the route's
 * consumer, reading the new execution's messages from the route and writing outputs into its output
 * stage (`embeddings`), for all of them, for half, or not at all.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReplayMessage } from '../adapters/route-queue.ts';
import { stageFolder } from '../adapters/storage-paths.ts';
import { createTestStack, type TestStack } from './support/test-stack.ts';
import {
  createExecution,
  DOCUMENTS_PIPELINE,
  registerConfig,
  requestJson,
  seedOutputs,
  waitForExecution,
} from './support/fixtures.ts';

const STAGE = 'markdown_segmented';
const OUTPUT_STAGE = 'embeddings';
const ROUTE = 'embedding_generator';
const REPLAY = { replay_source: 'storage', from_stage: STAGE, to_route: ROUTE };

let stack: TestStack;
let configId: string;

beforeAll(async () => {
  // one coordinator per replay: the canary runs in it, before the rest is published
  stack = await createTestStack({ REPLAY_MAX_PARTITIONS: '1' });
  await stack.startWorker();
  configId = (await registerConfig(stack)).id;
});
afterAll(async () => stack?.close());

async function parentWith(objects: number): Promise<string> {
  const parent = await createExecution(stack, configId);
  await seedOutputs(stack, parent.id, STAGE, objects);
  return parent.id;
}

async function startReplay(parentId: string, canary: object): Promise<string> {
  const response = await requestJson(stack, 'POST', `/api/v1/executions/${parentId}/replay`, {
    ...REPLAY,
    canary,
  });
  expect(response.status, JSON.stringify(response.body)).toBe(200);
  return response.body.id;
}

/**
 * The route's consumer for one execution: reads its messages from the route and writes an output
 * (the input's path with `.vec` for `.json`) for those `answers` picks, each message once. Runs until stopped.
 */
function consumer(executionId: string, answers: (sequence: number) => boolean) {
  const handled = new Set<string>();
  let stopped = false;
  const running = (async () => {
    while (!stopped) {
      const messages = await stack.routeReader.messagesOf<ReplayMessage>(ROUTE, executionId);
      for (const { data } of messages) {
        if (handled.has(data.message_id)) continue;
        if (answers(data.sequence)) {
          const inputFolder = stageFolder(stack.objectStore.prefix, data.parent_execution_id!, data.stage);
          const path = data.object.key.slice(inputFolder.length).replace(/\.json$/, '.vec');
          const outputFolder = stageFolder(stack.objectStore.prefix, executionId, OUTPUT_STAGE);
          const output = JSON.stringify({ source: data.object.key });
          // a store busy with other tests may drop a request: the message is handled on the next poll
          const written = await stack.objectStore.putObject(outputFolder + path, output).then(
            () => true,
            () => false,
          );
          if (!written) continue;
        }
        handled.add(data.message_id);
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  })();
  return {
    stop: async () => {
      stopped = true;
      await running;
    },
  };
}

async function detail(id: string) {
  const response = await requestJson(stack, 'GET', `/api/v1/executions/${id}`);
  expect(response.status).toBe(200);
  return response.body;
}

/** Every message of the execution, by source key: each published exactly once. */
async function publishedKeys(executionId: string): Promise<string[]> {
  const messages = await stack.routeReader.messagesOf<ReplayMessage>(ROUTE, executionId);
  return messages.map((message) => message.data.object.key);
}

describe('replay canary', () => {
  it('goes on when the outputs of its messages appear', async () => {
    const parentId = await parentWith(30);
    // the consumer starts first: the canary's id is known only once the replay starts, so it
    // follows the replay as soon as the answer comes
    const id = await startReplay(parentId, { messages: 5, within_seconds: 60, min_output_ratio: 1 });
    const route = consumer(id, () => true);
    try {
      const done = await waitForExecution(stack, id, (record) => record.status === 'completed');
      expect(done.published_count).toBe(30);
      const body = await detail(id);
      expect(body.progress).toMatchObject({
        paused: false,
        paused_reason: null,
        canary: { messages: 5, within_seconds: 60, min_output_ratio: 1, outcome: 'passed', published: 5 },
      });
      expect(body.progress.canary.outputs_found).toBe(5);
    } finally {
      await route.stop();
    }
    const keys = await publishedKeys(id);
    expect(keys).toHaveLength(30);
    expect(new Set(keys).size).toBe(30);
  });

  it('pauses itself when too few outputs appear, and a resume completes it exactly', async () => {
    const parentId = await parentWith(40);
    const id = await startReplay(parentId, { messages: 10, within_seconds: 4, min_output_ratio: 0.9 });
    // the first page's sequences are 0..9: half of them are answered
    const route = consumer(id, (sequence) => sequence % 2 === 0);
    try {
      const paused = await waitForExecution(stack, id, (record) => record.paused);
      expect(paused.status).toBe('running');
      expect(paused.published_count).toBe(10);
      const body = await detail(id);
      expect(body.progress).toMatchObject({
        paused: true,
        paused_reason: 'canary',
        published: 10,
        canary: {
          messages: 10,
          within_seconds: 4,
          min_output_ratio: 0.9,
          outcome: 'failed',
          published: 10,
          outputs_found: 5,
        },
      });

      const resumed = await requestJson(stack, 'POST', `/api/v1/executions/${id}/resume`);
      expect([200, 202]).toContain(resumed.status);
      const done = await waitForExecution(stack, id, (record) => record.status === 'completed');
      expect(done.published_count).toBe(40);
      const after = await detail(id);
      expect(after.progress.paused_reason).toBeNull();
      expect(after.progress.canary.outcome).toBe('failed');
    } finally {
      await route.stop();
    }
    const keys = await publishedKeys(id);
    expect(keys).toHaveLength(40);
    expect(new Set(keys).size).toBe(40);
  });

  it('pauses after within_seconds when nothing consumes the route, and can be cancelled', async () => {
    const parentId = await parentWith(20);
    const id = await startReplay(parentId, { messages: 3, within_seconds: 2, min_output_ratio: 0.5 });
    const paused = await waitForExecution(stack, id, (record) => record.paused);
    expect(paused.published_count).toBe(3);
    expect(paused.paused_reason).toBe('canary');
    expect(paused.canary).toMatchObject({ outcome: 'failed', published: 3, outputs_found: 0 });

    const cancelled = await requestJson(stack, 'POST', `/api/v1/executions/${id}/cancel`);
    expect([200, 202]).toContain(cancelled.status);
    const done = await waitForExecution(stack, id, (record) => record.status === 'cancelled');
    expect(done.published_count).toBe(3);
  });

  it('a manual pause says operator', async () => {
    const parentId = await parentWith(20);
    const response = await requestJson(stack, 'POST', `/api/v1/executions/${parentId}/replay`, {
      ...REPLAY,
      max_messages_per_second: 2,
    });
    expect(response.status).toBe(200);
    const id = response.body.id;
    const paused = await requestJson(stack, 'POST', `/api/v1/executions/${id}/pause`);
    expect([200, 202]).toContain(paused.status);
    await waitForExecution(stack, id, (record) => record.paused);
    const body = await detail(id);
    expect(body.progress).toMatchObject({ paused: true, paused_reason: 'operator', canary: null });
    await requestJson(stack, 'POST', `/api/v1/executions/${id}/cancel`);
    await waitForExecution(stack, id, (record) => record.status === 'cancelled');
  });

  it('refuses a canary the route cannot answer, and bad canary fields, writing nothing', async () => {
    const config = await registerConfig(stack, {
      ...DOCUMENTS_PIPELINE,
      name: 'no-output-stage',
      routes: [{ name: 'sink', input_stage: STAGE, output_stage: null }],
      entry_route: 'sink',
    });
    const parent = await createExecution(stack, config.id);
    const before = await stack.pool.query('SELECT count(*)::int AS n FROM executions');
    const refused = await requestJson(stack, 'POST', `/api/v1/executions/${parent.id}/replay`, {
      replay_source: 'storage',
      from_stage: STAGE,
      to_route: 'sink',
      canary: { messages: 5, within_seconds: 10, min_output_ratio: 0.5 },
    });
    expect(refused.status).toBe(400);
    expect(refused.body).toMatchObject({ error_code: 'NO_OUTPUT_STAGE' });
    expect(refused.body.detail).toContain("Route 'sink' has no output_stage");

    const parentId = await parentWith(1);
    for (const canary of [
      { messages: 0, within_seconds: 10, min_output_ratio: 0.5 },
      { messages: 10_001, within_seconds: 10, min_output_ratio: 0.5 },
      { messages: 5, within_seconds: 0, min_output_ratio: 0.5 },
      { messages: 5, within_seconds: 3601, min_output_ratio: 0.5 },
      { messages: 5, within_seconds: 10, min_output_ratio: 0 },
      { messages: 5, within_seconds: 10, min_output_ratio: 1.5 },
      { messages: 5, within_seconds: 10 },
    ]) {
      const response = await requestJson(stack, 'POST', `/api/v1/executions/${parentId}/replay`, {
        ...REPLAY,
        canary,
      });
      expect(response.status, JSON.stringify(canary)).toBe(422);
      expect(response.body.detail[0].loc.slice(0, 2)).toEqual(['body', 'canary']);
    }
    const after = await stack.pool.query('SELECT count(*)::int AS n FROM executions');
    // the parents this test created, nothing more
    expect(after.rows[0].n).toBe(before.rows[0].n + 1);
  });
});
