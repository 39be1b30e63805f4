/**
 * `npm run fuzz:fixtures`: the records a Schemathesis run needs to reach every operation of the api
 * with ids it can use (README, "Fuzzing with Schemathesis"). Against the running dev stack
 * (`npm run dev`, started with PREVIEW_INLINE_MAX_KEYS=5), it makes:
 *
 * - the parent `fuzz-parent` with 300 stored outputs (the demo's), unless it is there already;
 * - a replay of it that runs (paced at 0.1 msg/s: it runs for the whole fuzzing run), and another
 *   one paused, for pause, resume and PATCH;
 * - a preview job of it (202), for `GET /replay-previews/{preview_id}`;
 * - a bulk replay of it, paced as well, for the bulk replay's reads and actions;
 *
 * and writes their ids, with the parent's config id, as libFuzzer dictionaries to `.data/fuzz/`,
 * which `schemathesis.toml` binds to those operations' parameters. Generated ids name nothing, and
 * the parent is not a replay, so without these the operations answer 404 or 409 to every request.
 * Run it again before each fuzzing run: a run may cancel or finish what the last one left.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ObjectStore } from '../adapters/object-store.ts';
import {
  callApi,
  DemoError,
  objectStoreOptionsOfStack,
  readStackFile,
  runDemo,
  STACK_FILE,
  type StackFile,
} from './demo.ts';

const PARENT_TAG = 'fuzz-parent';
const FIXTURES_DIR = fileURLToPath(new URL('../.data/fuzz/', import.meta.url));
/** Slow enough that the fixture replays still run when the fuzzing phase reaches them. */
const FIXTURE_RATE = 0.1;

interface Api {
  url: string;
  key?: string;
}

/** A libFuzzer dictionary (`"value"` a line), the format Schemathesis reads with `from-file`. */
function dictionary(values: string[]): string {
  return (
    values.map((value) => `"${value.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`).join('\n') + '\n'
  );
}

async function parentOf(api: Api, stack: StackFile) {
  try {
    return await callApi<{ id: string; config_id: string }>(
      api,
      'GET',
      `/api/v1/executions/${PARENT_TAG}`,
      200,
    );
  } catch (error) {
    if (!(error instanceof DemoError) || !error.message.includes('answered 404')) throw error;
  }
  if (!stack.s3) throw new DemoError(`${STACK_FILE} names no S3 store: start the stack with npm run dev`);
  const objectStore = new ObjectStore({
    ...objectStoreOptionsOfStack(stack.s3),
    requestTimeoutMs: 15_000,
    maxAttempts: 3,
  });
  try {
    const result = await runDemo({
      apiUrl: api.url,
      apiKey: api.key,
      objectStore,
      objects: 300,
      tag: PARENT_TAG,
      log: (line) => process.stdout.write(`${line}\n`),
    });
    return { id: result.parentId, config_id: result.configId };
  } finally {
    objectStore.close();
  }
}

async function main(): Promise<void> {
  const stack = await readStackFile();
  const url = process.env.API_URL || stack?.api_url;
  if (!stack || !url) throw new DemoError(`no ${STACK_FILE}: start the stack first with npm run dev`);
  const api: Api = { url, key: process.env.API_KEY || stack.api_key };

  const parent = await parentOf(api, stack);
  const replay = {
    replay_source: 'storage',
    from_stage: 'markdown_segmented',
    to_route: 'embedding_generator',
    max_messages_per_second: FIXTURE_RATE,
    reason: 'schemathesis fixture',
  };
  const startReplay = () =>
    callApi<{ id: string }>(api, 'POST', `/api/v1/executions/${parent.id}/replay`, 200, replay);
  const running = await startReplay();
  const paused = await startReplay();
  await callApi(api, 'POST', `/api/v1/executions/${paused.id}/pause`, [200, 202]);

  const { max_messages_per_second: _rate, reason: _reason, ...previewRequest } = replay;
  const preview = await callApi<{ id: string | null }>(
    api,
    'POST',
    `/api/v1/executions/${parent.id}/replay/preview`,
    [200, 202],
    previewRequest,
  );
  if (!preview.id)
    throw new DemoError(
      'the preview was answered at once (200), with no job to read: start the stack with PREVIEW_INLINE_MAX_KEYS=5',
    );
  const bulk = await callApi<{ id: string }>(api, 'POST', '/api/v1/bulk-replays', 202, {
    execution_ids: [parent.id],
    replay,
  });

  const files: Record<string, string[]> = {
    'configs.dict': [parent.config_id],
    'running-replays.dict': [running.id],
    'paused-replays.dict': [paused.id],
    'preview-jobs.dict': [preview.id],
    'bulk-replays.dict': [bulk.id],
  };
  await mkdir(FIXTURES_DIR, { recursive: true });
  for (const [name, values] of Object.entries(files))
    await writeFile(path.join(FIXTURES_DIR, name), dictionary(values));
  process.stdout.write(
    `fuzz fixtures in ${path.relative(process.cwd(), FIXTURES_DIR) || FIXTURES_DIR}: config ${parent.config_id}, ` +
      `replays ${running.id} (running) and ${paused.id} (paused), preview job ${preview.id}, bulk replay ${bulk.id}\n`,
  );
}

try {
  await main();
} catch (error) {
  const message = error instanceof DemoError ? error.message : String((error as Error).stack ?? error);
  process.stderr.write(`fuzz fixtures failed: ${message}\n`);
  process.exit(1);
}
