/**
 * What a replay selects besides from_path, on the real stack: `select: "missing_outputs"` (inputs of
 * the stage the parent has no output for in the target route's output stage) and the modified-time
 * window [modified_since, modified_before). The preview counts exactly what the replay publishes, and
 * a partitioned replay publishes the same set, each message once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listPartitions } from '../adapters/replay-partitions.ts';
import { stageFolder } from '../adapters/storage-paths.ts';
import { createTestStack, type TestStack } from './support/test-stack.ts';
import { createExecution, registerConfig, requestJson, waitForExecution } from './support/fixtures.ts';

const INPUT_STAGE = 'markdown_segmented';
const OUTPUT_STAGE = 'embeddings';
const ROUTE = 'embedding_generator';
const REPLAY = { replay_source: 'storage', from_stage: INPUT_STAGE, to_route: ROUTE };
const INPUTS = 1000;

let stack: TestStack;
let configId: string;

beforeAll(async () => {
  // pages of 100; two pages as one, then up to 4 partitions: 1,000 inputs are partitioned
  stack = await createTestStack({
    REPLAY_PAGE_SIZE: '100',
    REPLAY_PARTITION_AFTER_PAGES: '2',
    REPLAY_MAX_PARTITIONS: '4',
    REPLAY_PARTITIONS_IN_FLIGHT: '3',
    // previews of more keys go on as preview jobs
    PREVIEW_INLINE_MAX_KEYS: '300',
  });
  await stack.startWorker();
  configId = (await registerConfig(stack)).id;
});
afterAll(async () => stack?.close());

async function put(keys: string[]): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: 32 }, async () => {
      while (next < keys.length) {
        const key = keys[next++]!;
        await stack.objectStore.putObject(key, JSON.stringify({ key }));
      }
    }),
  );
}

/**
 * 1,000 inputs, unpadded (`doc-1.pdf` is a prefix of `doc-10.pdf`'s stem, and `doc-1/part-1.json`
 * sorts between them), a fifth of them in folders; outputs for the 600 with index % 5 < 3, as a
 * `.json`, a folder of outputs (`x/part-1.json`) or another extension (`.txt`), and decoys that
 * answer nothing (`doc-13-summary.json`, `doc-13.pdf.json`). Returns the inputs without an output.
 */
async function seedParent(parentId: string): Promise<string[]> {
  const inputFolder = stageFolder(stack.objectStore.prefix, parentId, INPUT_STAGE);
  const outputFolder = stageFolder(stack.objectStore.prefix, parentId, OUTPUT_STAGE);
  const inputs: string[] = [];
  const outputs: string[] = [];
  const missing: string[] = [];
  for (let index = 0; index < INPUTS; index += 1) {
    const stem = index % 5 === 4 ? `set-${index % 3}/doc-${index}` : `doc-${index}`;
    const input = `${stem}.${index % 2 === 0 ? 'pdf' : 'md'}`;
    inputs.push(inputFolder + input);
    if (index % 5 < 3) {
      outputs.push(
        outputFolder +
          (index % 3 === 0 ? `${stem}.json` : index % 3 === 1 ? `${stem}/part-1.json` : `${stem}.txt`),
      );
    } else {
      missing.push(inputFolder + input);
      if (index % 10 === 3)
        outputs.push(`${outputFolder}${stem}-summary.json`, `${outputFolder}${input}.json`);
    }
  }
  await put([...inputs, ...outputs]);
  return missing.sort();
}

async function replay(parentId: string, body: object): Promise<{ status: number; body: any }> {
  return requestJson(stack, 'POST', `/api/v1/executions/${parentId}/replay`, { ...REPLAY, ...body });
}

/** A preview's final answer: at once, or its preview job's once counted. */
async function previewOf(parentId: string, body: object): Promise<any> {
  const answer = await requestJson(stack, 'POST', `/api/v1/executions/${parentId}/replay/preview`, {
    ...REPLAY,
    ...body,
  });
  expect([200, 202], JSON.stringify(answer.body)).toContain(answer.status);
  let preview = answer.body;
  const deadline = Date.now() + 90_000;
  while (preview.status === 'running' && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    preview = (await requestJson(stack, 'GET', `/api/v1/replay-previews/${answer.body.id}`)).body;
  }
  return preview;
}

async function publishedKeys(executionId: string): Promise<string[]> {
  const messages = await stack.routeReader.messagesOf(ROUTE, executionId);
  const keys = messages.map((message) => message.data.object.key as string);
  expect(new Set(messages.map((message) => message.data.sequence)).size).toBe(keys.length);
  return keys.sort();
}

describe('select: missing_outputs', () => {
  let parentId: string;
  let missing: string[];

  beforeAll(async () => {
    parentId = (await createExecution(stack, configId)).id;
    missing = await seedParent(parentId);
    expect(missing).toHaveLength(400);
  });

  it('publishes exactly the 400 inputs without an output, partitioned, each once; the preview says 400', async () => {
    // 1,000 keys past PREVIEW_INLINE_MAX_KEYS: counted by a preview job, from its stored plan
    const preview = await previewOf(parentId, { select: 'missing_outputs' });
    expect(preview).toMatchObject({
      status: 'completed',
      count: 400,
      listed: INPUTS,
      selection: { select: 'missing_outputs', output_stage: OUTPUT_STAGE, output_match: 'stem' },
    });

    const started = await replay(parentId, { select: 'missing_outputs' });
    expect(started.status, JSON.stringify(started.body)).toBe(200);
    expect(started.body.selection).toEqual({
      select: 'missing_outputs',
      modified_since: null,
      modified_before: null,
      output_stage: OUTPUT_STAGE,
      output_match: 'stem',
    });
    const done = await waitForExecution(stack, started.body.id, (record) => record.status !== 'running');
    expect(done.status).toBe('completed');
    expect(await publishedKeys(done.id)).toEqual(missing);
    expect(done.published_count).toBe(400);
    expect(done.listed_count).toBe(INPUTS);
    expect((await listPartitions(stack.pool, done.id)).length).toBeGreaterThan(1);

    const detail = await requestJson(stack, 'GET', `/api/v1/executions/${done.id}`);
    expect(detail.body.selection).toMatchObject({ select: 'missing_outputs', output_stage: OUTPUT_STAGE });
  });

  it('a bulk replay gives each child the selection: the child publishes what its parent lacks', async () => {
    const response = await requestJson(stack, 'POST', '/api/v1/bulk-replays', {
      replay: { ...REPLAY, select: 'missing_outputs' },
      execution_ids: [parentId],
    });
    expect(response.status, JSON.stringify(response.body)).toBe(202);
    const deadline = Date.now() + 90_000;
    let bulk = response.body;
    while (!['completed', 'failed', 'cancelled'].includes(bulk.status) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      bulk = (await requestJson(stack, 'GET', `/api/v1/bulk-replays/${response.body.id}`)).body;
    }
    expect(bulk).toMatchObject({ status: 'completed', completed: 1 });
    const items = await requestJson(stack, 'GET', `/api/v1/bulk-replays/${response.body.id}/items`);
    const childId = items.body.items[0].execution_id;
    expect(await publishedKeys(childId)).toEqual(missing);

    const empty = await requestJson(stack, 'POST', '/api/v1/bulk-replays', {
      replay: { ...REPLAY, modified_since: '2026-12-01T10:00:00Z', modified_before: '2026-12-01T09:00:00Z' },
      execution_ids: [parentId],
    });
    expect(empty.status).toBe(400);
    expect(empty.body).toMatchObject({ error_code: 'INVALID_TIME_WINDOW' });
  });

  it('select all (and a request naming nothing) publishes all 1,000, answering only the contract fields', async () => {
    const started = await replay(parentId, {});
    expect(started.status).toBe(200);
    expect(started.body).not.toHaveProperty('selection');
    const done = await waitForExecution(stack, started.body.id, (record) => record.status !== 'running');
    expect(done.published_count).toBe(INPUTS);
    const detail = await requestJson(stack, 'GET', `/api/v1/executions/${done.id}`);
    expect(detail.body.selection).toEqual({
      select: 'all',
      modified_since: null,
      modified_before: null,
      output_stage: null,
      output_match: null,
    });
  });

  it('exact: a config whose route matches outputs by their whole path', async () => {
    const exact = await registerConfig(stack, {
      name: 'documents-exact',
      stages: ['markdown', INPUT_STAGE, OUTPUT_STAGE],
      routes: [
        { name: 'markdown_segmenter', input_stage: 'markdown', output_stage: INPUT_STAGE },
        { name: ROUTE, input_stage: INPUT_STAGE, output_stage: OUTPUT_STAGE, output_match: 'exact' },
      ],
      entry_route: 'markdown_segmenter',
    });
    const preview = await previewOf(parentId, { config_id: exact.id, select: 'missing_outputs' });
    // no output has an input's exact path
    expect(preview).toMatchObject({ count: INPUTS, selection: { output_match: 'exact' } });
  });

  it('a target route without output_stage is refused: 400 NO_OUTPUT_STAGE, nothing created', async () => {
    const noOutputs = await registerConfig(stack, {
      name: 'documents-no-outputs',
      stages: ['markdown', INPUT_STAGE],
      routes: [
        { name: 'markdown_segmenter', input_stage: 'markdown', output_stage: INPUT_STAGE },
        { name: ROUTE, input_stage: INPUT_STAGE, output_stage: null },
      ],
      entry_route: 'markdown_segmenter',
    });
    const before = await stack.pool.query('SELECT count(*)::int AS n FROM executions');
    for (const path of ['replay', 'replay/preview']) {
      const refused = await requestJson(stack, 'POST', `/api/v1/executions/${parentId}/${path}`, {
        ...REPLAY,
        config_id: noOutputs.id,
        select: 'missing_outputs',
      });
      expect(refused.status).toBe(400);
      expect(refused.body).toMatchObject({ error_code: 'NO_OUTPUT_STAGE' });
      expect(refused.body.detail).toContain(ROUTE);
    }
    const after = await stack.pool.query('SELECT count(*)::int AS n FROM executions');
    expect(after.rows[0].n).toBe(before.rows[0].n);
  });
});

describe('modified-time window', () => {
  let parentId: string;
  let first: string[];
  let second: string[];
  /** LastModified of the second batch's earliest object, as the store lists it. */
  let secondStarts: string;

  const lastModifiedOf = async (keys: string[]): Promise<string[]> => {
    const folder = stageFolder(stack.objectStore.prefix, parentId, INPUT_STAGE);
    const wanted = new Set(keys);
    const found: string[] = [];
    for (let after: string | null = null; ;) {
      const page = await stack.objectStore.listPage(folder, after, 1000);
      for (const object of page.objects) if (wanted.has(object.key)) found.push(object.last_modified);
      if (!page.isTruncated) break;
      after = page.lastKey;
    }
    return found.sort();
  };

  beforeAll(async () => {
    parentId = (await createExecution(stack, configId)).id;
    const folder = stageFolder(stack.objectStore.prefix, parentId, INPUT_STAGE);
    first = Array.from({ length: 30 }, (_, index) => `${folder}early-${index}.json`).sort();
    second = Array.from({ length: 20 }, (_, index) => `${folder}late-${index}.json`).sort();
    await put(first);
    // stores keep LastModified to the second (some to the millisecond): two batches seconds apart
    await new Promise((resolve) => setTimeout(resolve, 2500));
    await put(second);
    const firstTimes = await lastModifiedOf(first);
    secondStarts = (await lastModifiedOf(second))[0]!;
    expect(firstTimes.at(-1)! < secondStarts).toBe(true);
  });

  it('a window starting between the batches publishes the second only; an object at modified_since is in', async () => {
    const body = { modified_since: secondStarts };
    const preview = await requestJson(stack, 'POST', `/api/v1/executions/${parentId}/replay/preview`, {
      ...REPLAY,
      ...body,
    });
    expect(preview.body).toMatchObject({ count: second.length, selection: body });
    const started = await replay(parentId, body);
    expect(started.status, JSON.stringify(started.body)).toBe(200);
    expect(started.body.selection).toMatchObject({ select: 'all', ...body, modified_before: null });
    const done = await waitForExecution(stack, started.body.id, (record) => record.status !== 'running');
    expect(await publishedKeys(done.id)).toEqual(second);
  });

  it('an object exactly at modified_before is out: [.., second batch start) publishes the first only', async () => {
    const started = await replay(parentId, { modified_before: secondStarts });
    const done = await waitForExecution(stack, started.body.id, (record) => record.status !== 'running');
    expect(await publishedKeys(done.id)).toEqual(first);
  });

  it('a window that selects nothing completes with 0 messages', async () => {
    const body = { modified_since: '2099-01-01T00:00:00Z', modified_before: '2099-01-02T00:00:00+02:00' };
    const preview = await requestJson(stack, 'POST', `/api/v1/executions/${parentId}/replay/preview`, {
      ...REPLAY,
      ...body,
    });
    expect(preview.body).toMatchObject({ count: 0, listed: first.length + second.length });
    const started = await replay(parentId, body);
    const done = await waitForExecution(stack, started.body.id, (record) => record.status !== 'running');
    expect(done).toMatchObject({ status: 'completed', published_count: 0 });
  });

  it('modified_since at or after modified_before is a 400; a malformed instant a 422', async () => {
    const empty = await replay(parentId, {
      modified_since: '2026-12-01T10:00:00Z',
      modified_before: '2026-12-01T11:00:00+01:00',
    });
    expect(empty.status).toBe(400);
    expect(empty.body).toMatchObject({ error_code: 'INVALID_TIME_WINDOW' });
    const malformed = await replay(parentId, { modified_since: 'yesterday' });
    expect(malformed.status).toBe(422);
    expect(malformed.body.detail[0].loc).toEqual(['body', 'modified_since']);
    const select = await replay(parentId, { select: 'some' });
    expect(select.status).toBe(422);
  });
});
