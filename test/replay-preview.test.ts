/**
 * POST /api/v1/executions/{id}/replay/preview on the real stack: it counts exactly what the replay
 * of the same request then publishes (0, 1, 1,001 objects, a nested tree, from_path, lineage),
 * answers a bad request as the replay does and writes nothing, and past its inline budget continues
 * as a preview job read back at its status URL.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stageFolder } from '../adapters/storage-paths.ts';
import { createApp } from '../api/app.ts';
import { apiSettingsFromConfig } from '../api/dependencies.ts';
import { PREVIEW_SAMPLE_SIZE } from '../services/replay-preview.ts';
import { previewWorkflowId } from '../workflows/definitions.ts';
import {
  createExecution,
  registerConfig,
  requestJson,
  seedOutputs,
  waitForExecution,
} from './support/fixtures.ts';
import { createTestStack, type TestStack } from './support/test-stack.ts';

let stack: TestStack;
let configId: string;

const REQUEST = {
  replay_source: 'storage',
  from_stage: 'markdown_segmented',
  to_route: 'embedding_generator',
};

beforeAll(async () => {
  stack = await createTestStack({ REPLAY_PAGE_SIZE: '1000' });
  await stack.startWorker();
  configId = (await registerConfig(stack)).id;
});
afterAll(async () => stack?.close());

async function executionCount(): Promise<number> {
  return (await stack.pool.query('SELECT count(*)::int AS n FROM executions')).rows[0].n;
}

async function preview(parent: string, body: object = {}) {
  return requestJson(stack, 'POST', `/api/v1/executions/${parent}/replay/preview`, { ...REQUEST, ...body });
}

/** Replays the same request and returns what it published. */
async function replay(parent: string, body: object = {}) {
  const response = await requestJson(stack, 'POST', `/api/v1/executions/${parent}/replay`, {
    ...REQUEST,
    ...body,
  });
  expect(response.status, JSON.stringify(response.body)).toBe(200);
  const record = await waitForExecution(
    stack,
    response.body.id,
    (item) => item.status !== 'running',
    120_000,
  );
  expect(record.status, record.error ?? '').toBe('completed');
  const messages = await stack.routeReader.messagesOf('embedding_generator', record.id);
  // in the order the replay published them (its listing's order: the store's)
  return messages
    .sort((a, b) => a.data.sequence - b.data.sequence)
    .map((message) => message.data.object as { key: string; size: number });
}

/** The preview's counts against what the replay published. */
function expectPreviewOf(answer: any, published: { key: string; size: number }[]) {
  const keys = published.map((object) => object.key);
  expect(answer.count).toBe(published.length);
  expect(answer.bytes).toBe(published.reduce((sum, object) => sum + object.size, 0));
  expect(answer.first_key).toBe(keys[0] ?? null);
  expect(answer.last_key).toBe(keys.at(-1) ?? null);
  expect(answer.sample).toHaveLength(Math.min(PREVIEW_SAMPLE_SIZE, keys.length));
  expect(keys).toEqual(expect.arrayContaining(answer.sample));
  const folderTotal = answer.folders.reduce((sum: number, item: any) => sum + item.count, 0);
  expect(folderTotal + answer.other_folders.count).toBe(published.length);
}

async function putObjects(executionId: string, relativeKeys: string[]) {
  const folder = stageFolder(stack.objectStore.prefix, executionId, 'markdown_segmented');
  let next = 0;
  const upload = async () => {
    while (next < relativeKeys.length) {
      const key = folder + relativeKeys[next++]!;
      await stack.objectStore.putObject(key, JSON.stringify({ key, text: 'x'.repeat(next % 50) }));
    }
  };
  await Promise.all(Array.from({ length: 16 }, upload));
}

describe('the preview counts what the replay publishes', () => {
  it.each([0, 1, 1001])('%i objects', async (count) => {
    const parent = await createExecution(stack, configId);
    await seedOutputs(stack, parent.id, 'markdown_segmented', count, { concurrency: 32 });
    // another stage's outputs are not counted
    await seedOutputs(stack, parent.id, 'embeddings', 2);
    const before = await executionCount();
    const answer = await preview(parent.id);
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    expect(await executionCount()).toBe(before);
    expect(answer.body).toMatchObject({
      id: null,
      status: 'completed',
      execution_id: parent.id,
      source_execution_id: parent.id,
      replay_source: 'storage',
      from_stage: 'markdown_segmented',
      to_route: 'embedding_generator',
      from_path: null,
      listed: count,
      config: { id: configId, name: 'documents' },
      route: { name: 'embedding_generator', input_stage: 'markdown_segmented', output_stage: 'embeddings' },
      rate: { messages_per_second: 10_000, basis: 'default' },
      error: null,
    });
    expect(answer.body.estimated_seconds).toBe(Math.ceil((count / 10_000) * 10) / 10);
    expectPreviewOf(answer.body, await replay(parent.id));
  });

  it('a nested tree: counts per sub-folder, and from_path narrows exactly as the replay does', async () => {
    const parent = await createExecution(stack, configId, { tag: `preview-tree-${Date.now()}` });
    const keys = [
      ...Array.from({ length: 30 }, (_, index) => `docs/2024/a-${index}.json`),
      ...Array.from({ length: 12 }, (_, index) => `docs/2025/b-${index}.json`),
      ...Array.from({ length: 7 }, (_, index) => `img/c-${index}.json`),
      'docs.json',
      'docs/2024/a-1.json/inner.json',
      'top-1.json',
      'top-2.json',
      // a sibling that shares the prefix of from_path 'docs/2024/a-1.json' but is not selected
      'docs/2024/a-1.json5',
    ];
    await putObjects(parent.id, keys);

    const whole = await preview(parent.id);
    expect(whole.status).toBe(200);
    expect(whole.body.folders).toEqual([
      { folder: '', count: 3, bytes: expect.any(Number) },
      { folder: 'docs/', count: 44, bytes: expect.any(Number) },
      { folder: 'img/', count: 7, bytes: expect.any(Number) },
    ]);
    expect(whole.body.other_folders).toEqual({ folders: 0, count: 0, bytes: 0 });
    expectPreviewOf(whole.body, await replay(parent.id));

    for (const fromPath of ['docs/2024/', 'docs', 'docs/2024/a-1.json', './img//', 'nothing/']) {
      const narrowed = await preview(parent.id, { from_path: fromPath });
      expect(narrowed.status, fromPath).toBe(200);
      expectPreviewOf(narrowed.body, await replay(parent.id, { from_path: fromPath }));
    }
    const single = await preview(parent.id, { replay_source: 'manual', from_path: 'docs/2024/a-1.json' });
    expect(single.body).toMatchObject({ count: 2, from_path: 'docs/2024/a-1.json' });
    expect(single.body.folders.map((item: any) => item.folder)).toEqual(['docs/']);
  });

  it('lineage: reads the nearest ancestor that stored the stage, as the replay does', async () => {
    const parent = await createExecution(stack, configId);
    await seedOutputs(stack, parent.id, 'markdown_segmented', 5);
    const first = await requestJson(stack, 'POST', `/api/v1/executions/${parent.id}/replay`, REQUEST);
    await waitForExecution(stack, first.body.id, (item) => item.status === 'completed');
    // the replay stored nothing of the stage: lineage reads the parent's
    const answer = await preview(first.body.id, { replay_source: 'lineage' });
    expect(answer.body).toMatchObject({
      execution_id: first.body.id,
      source_execution_id: parent.id,
      count: 5,
    });
    expectPreviewOf(answer.body, await replay(first.body.id, { replay_source: 'lineage' }));
    // storage reads the replay's own (empty) folder
    expect((await preview(first.body.id)).body).toMatchObject({
      source_execution_id: first.body.id,
      count: 0,
    });
  });
});

describe('the estimate', () => {
  it("is at the lower of the request's and the route's limits", async () => {
    const limited = await registerConfig(stack, {
      name: 'limited',
      stages: ['markdown_segmented', 'embeddings'],
      routes: [
        {
          name: 'embedding_generator',
          input_stage: 'markdown_segmented',
          output_stage: 'embeddings',
          max_messages_per_second: 100,
        },
      ],
      entry_route: 'embedding_generator',
    });
    const parent = await createExecution(stack, limited.id);
    await seedOutputs(stack, parent.id, 'markdown_segmented', 25);
    const byRoute = await preview(parent.id, { max_messages_per_second: 500 });
    expect(byRoute.body).toMatchObject({
      count: 25,
      route: { max_messages_per_second: 100 },
      rate: { messages_per_second: 100, basis: 'route' },
      estimated_seconds: 0.3,
    });
    const byRequest = await preview(parent.id, { max_messages_per_second: 10 });
    expect(byRequest.body).toMatchObject({
      rate: { messages_per_second: 10, basis: 'request' },
      estimated_seconds: 2.5,
    });
  });
});

describe('a bad request', () => {
  it('gets exactly the answer the replay gets, and writes nothing', async () => {
    const parent = await createExecution(stack, configId, { tag: `preview-bad-${Date.now()}` });
    const taken = `taken-${Date.now()}`;
    await createExecution(stack, configId, { tag: taken });
    const cases: [string, unknown][] = [
      ['01936f8e-6c2a-7cc3-9a53-5b8a2f1c9d10', REQUEST],
      [parent.id, { ...REQUEST, to_route: 'nope' }],
      [parent.id, { ...REQUEST, from_stage: 'nope' }],
      [parent.id, { ...REQUEST, from_stage: 'markdown' }],
      [parent.id, { ...REQUEST, from_path: '../other' }],
      [parent.id, { ...REQUEST, replay_source: 'manual' }],
      [parent.id, { ...REQUEST, config_id: '01936f8e-6c2a-7cc3-9a53-5b8a2f1c9d10' }],
      [parent.id, { ...REQUEST, tag: taken }],
      [parent.id, { from_stage: 'markdown_segmented' }],
      [parent.id, { ...REQUEST, max_messages_per_second: 0 }],
      [parent.id, '{"replay_source": '],
    ];
    const before = await executionCount();
    for (const [ref, body] of cases) {
      const [previewed, replayed] = await Promise.all([
        requestJson(stack, 'POST', `/api/v1/executions/${ref}/replay/preview`, body),
        requestJson(stack, 'POST', `/api/v1/executions/${ref}/replay`, body),
      ]);
      const what = `${ref} ${JSON.stringify(body)}`;
      expect(previewed.status, what).toBe(replayed.status);
      expect(previewed.status, what).toBeGreaterThanOrEqual(400);
      const comparable = ({ correlation_id: _c, timestamp: _t, ...rest }: any) => rest;
      expect(comparable(previewed.body), what).toEqual(comparable(replayed.body));
    }
    expect(await executionCount()).toBe(before);
    expect((await stack.pool.query('SELECT count(*)::int AS n FROM replay_previews')).rows[0].n).toBe(0);
  });
});

describe('a large listing', () => {
  it('continues as a preview job with a status URL, and counts what the replay publishes', async () => {
    // the same stack, with an api that lists at most 1,000 keys within a request
    const settings = apiSettingsFromConfig(stack.config);
    const app = createApp({
      pool: stack.pool,
      temporal: stack.temporal,
      objectStore: stack.objectStore,
      routeTransport: stack.routeTransport,
      logger: stack.logger,
      settings: { ...settings, preview: { ...settings.preview, inlineMaxKeys: 1000 } },
    });
    const parent = await createExecution(stack, configId);
    const keys = Array.from(
      { length: 2600 },
      (_, index) => `part-${index % 3}/doc-${String(index).padStart(5, '0')}.json`,
    );
    await putObjects(parent.id, keys);

    const started = await app.request(`/api/v1/executions/${parent.id}/replay/preview`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ...REQUEST, max_messages_per_second: 200 }),
    });
    expect(started.status).toBe(202);
    const body = (await started.json()) as any;
    expect(body).toMatchObject({ status: 'running', listed: 1000 });
    expect(body.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(started.headers.get('location')).toBe(`/api/v1/replay-previews/${body.id}`);

    let shown: any;
    const deadline = Date.now() + 60_000;
    do {
      await new Promise((resolve) => setTimeout(resolve, 250));
      shown = await requestJson(stack, 'GET', started.headers.get('location')!);
      expect(shown.status).toBe(200);
    } while (shown.body.status === 'running' && Date.now() < deadline);
    expect(shown.body).toMatchObject({
      id: body.id,
      status: 'completed',
      listed: 2600,
      count: 2600,
      rate: { messages_per_second: 200, basis: 'request' },
      estimated_seconds: 13,
    });
    expect(shown.body.folders.map((item: any) => [item.folder, item.count])).toEqual([
      ['part-0/', 867],
      ['part-1/', 867],
      ['part-2/', 866],
    ]);
    const workflow = await stack.temporal.workflow.getHandle(previewWorkflowId(body.id)).result();
    expect(workflow).toEqual({ preview_id: body.id, status: 'completed', error: null });
    expectPreviewOf(shown.body, await replay(parent.id));

    const unknown = await requestJson(
      stack,
      'GET',
      '/api/v1/replay-previews/01936f8e-6c2a-7cc3-9a53-5b8a2f1c9d10',
    );
    expect([unknown.status, unknown.body.error_code]).toEqual([404, 'REPLAY_PREVIEW_NOT_FOUND']);
  });

  it('a preview job cancelled from the Temporal UI or CLI ends cancelled, not running', async () => {
    // an api whose preview jobs count on a task queue no worker polls: the job stays running until cancelled
    const settings = apiSettingsFromConfig(stack.config);
    const app = createApp({
      pool: stack.pool,
      temporal: stack.temporal,
      objectStore: stack.objectStore,
      routeTransport: stack.routeTransport,
      logger: stack.logger,
      settings: {
        ...settings,
        preview: { ...settings.preview, inlineMaxKeys: 2 },
        replay: { ...settings.replay, publishTaskQueue: `${settings.replay.publishTaskQueue}-nobody-polls` },
      },
    });
    const parent = await createExecution(stack, configId);
    await putObjects(parent.id, ['a.json', 'b.json', 'c.json', 'd.json', 'e.json']);
    const started = await app.request(`/api/v1/executions/${parent.id}/replay/preview`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(REQUEST),
    });
    expect(started.status).toBe(202);
    const { id } = (await started.json()) as { id: string };
    const handle = stack.temporal.workflow.getHandle(previewWorkflowId(id));
    await handle.cancel();
    expect(await handle.result()).toEqual({ preview_id: id, status: 'cancelled', error: null });
    const shown = await requestJson(stack, 'GET', `/api/v1/replay-previews/${id}`);
    expect(shown.status).toBe(200);
    expect(shown.body).toMatchObject({ id, status: 'cancelled' });
  });
});
