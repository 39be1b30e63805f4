/**
 * `select: "missing_outputs"` under a worker crash: a partitioned replay whose only worker, a real
 * `npm run worker` process, is SIGKILLed mid-replay and started again. Each publishing step starts
 * its merge of the two listings over from the cursor Postgres holds, so the replay still publishes
 * exactly the inputs without an output, each once.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { listPartitions } from '../../adapters/replay-partitions.ts';
import { stageFolder } from '../../adapters/storage-paths.ts';
import { startPrivateStack, type PrivateStack } from '../support/private-stack.ts';
import { expectPublishedExactlyOnce, seedParent, startReplay, waitForRecord } from './helpers.ts';

const INPUTS = 3000;
const OUTPUT_STAGE = 'embeddings';

let stack: PrivateStack;
let parentId: string;
let missing: string[];

beforeAll(async () => {
  // pages of 100, partitioned after two: the kill lands in a partition's step
  stack = await startPrivateStack({
    env: { REPLAY_PAGE_SIZE: '100', REPLAY_PARTITION_AFTER_PAGES: '2', REPLAY_MAX_PARTITIONS: '4' },
  });
  const seeded = await seedParent(stack, INPUTS);
  parentId = seeded.parentId;
  const inputFolder = stageFolder(stack.objectStore.prefix, parentId, 'markdown_segmented');
  const outputFolder = stageFolder(stack.objectStore.prefix, parentId, OUTPUT_STAGE);
  const outputs: string[] = [];
  missing = [];
  seeded.keys.forEach((key, index) => {
    const stem = key.slice(inputFolder.length).replace(/\.json$/, '');
    // 60% answered: by the same name, a folder of outputs, or another extension
    if (index % 5 < 3)
      outputs.push(outputFolder + [`${stem}.json`, `${stem}/part-1.json`, `${stem}.txt`][index % 3]);
    else missing.push(key);
  });
  let next = 0;
  await Promise.all(
    Array.from({ length: 32 }, async () => {
      while (next < outputs.length) await stack.objectStore.putObject(outputs[next++]!, '{}');
    }),
  );
}, 240_000);
afterAll(async () => stack?.close());

it('publishes exactly the inputs without an output when the worker is SIGKILLed mid-replay', async () => {
  let worker = stack.startWorkerProcess();
  await worker.polling();
  // paced, so the kill finds it publishing: 1,200 messages at 100 a second
  const id = await startReplay(stack, parentId, { select: 'missing_outputs', max_messages_per_second: 100 });
  const record = await waitForRecord(
    stack,
    id,
    (item) => item.published_count >= 0.3 * missing.length || item.status !== 'running',
    120_000,
  );
  expect(record.status).toBe('running');
  worker.kill('SIGKILL');
  expect(await worker.exited).toBe('SIGKILL');
  worker = stack.startWorkerProcess();

  await waitForRecord(stack, id, (item) => item.status !== 'running', 180_000);
  await expectPublishedExactlyOnce(stack, id, missing);
  expect((await listPartitions(stack.pool, id)).length).toBeGreaterThan(1);
  worker.kill('SIGTERM');
  await worker.exited;
}, 300_000);
