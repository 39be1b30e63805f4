/**
 * `npm run demo [-- --objects N] [--flat] [--max-messages-per-second R] [--parent ID] [--tag TAG]`: a replay end
 * to end against the running dev stack (`npm run dev`).
 *
 * Registers the `documents-demo` pipeline, starts a parent execution, stores N outputs of
 * `markdown_segmented` for it (playing the part of the `markdown_segmenter` route), replays them to
 * `embedding_generator` and follows the new execution until it completes. Then it prints how to
 * consume the messages and how to look at the workflow with the temporal CLI. `--flat` stores the
 * outputs side by side in one folder (`doc-0000000.json` ...), as a large first replay often has
 * them; `--max-messages-per-second` paces the replay; `--parent` replays the outputs an earlier
 * demo stored for that parent again (no upload: a second, paced run of the same 50,000 objects);
 * `--tag` gives the new parent a tag, by which the api finds it too (the Schemathesis run's parent).
 *
 * Reads `.data/stack.json` (written by `npm run dev`); `API_URL` overrides the api's address. Without
 * stack.json, the S3 settings come from the S3_* variables.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { configSchema } from '../adapters/config.ts';
import { ObjectStore, type ObjectStoreOptions } from '../adapters/object-store.ts';
import { stageFolder } from '../adapters/storage-paths.ts';
import { EXAMPLE_PIPELINE } from '../api/schemas.ts';
import { replayWorkflowId } from '../workflows/definitions.ts';
import { sleep } from '../adapters/sleep.ts';

export const DEMO_PIPELINE = { ...EXAMPLE_PIPELINE, name: 'documents-demo' };

const FROM_STAGE = 'markdown_segmented';
const TO_ROUTE = 'embedding_generator';
const SEGMENTS_PER_DOCUMENT = 10;
const UPLOAD_CONCURRENCY = 16;
const TERMINAL_FAILURES = new Set(['failed', 'cancelled', 'interrupted']);

export interface DemoOptions {
  apiUrl: string;
  /** Sent as `Authorization: Bearer <apiKey>`; `npm run dev` writes its key to stack.json. */
  apiKey?: string;
  /** Where the api and the worker read stage outputs (same bucket and prefix). */
  objectStore: ObjectStore;
  objects: number;
  /** One folder of `doc-0000000.json` ... instead of documents' folders of segments. */
  flat?: boolean;
  /** The replay's own pace (messages/s); absent: unpaced. */
  maxMessagesPerSecond?: number;
  /** Replay this parent (of an earlier demo) again instead of storing new outputs. */
  parentId?: string;
  /** The new parent's tag (the api takes it wherever it takes the parent's id). */
  tag?: string;
  log: (line: string) => void;
  /** Give up on the replay after this long (default 120 s). */
  timeoutMs?: number;
  pollIntervalMs?: number;
}

/** What GET /api/v1/executions/{id} answers (the fields the demo reads). */
export interface ExecutionDetail {
  id: string;
  status: string;
  parent_execution_id: string | null;
  progress: { listed: number; published: number; cursor: string | null };
  error: string | null;
  [field: string]: unknown;
}

export interface DemoResult {
  configId: string;
  parentId: string;
  replay: ExecutionDetail;
  workflowId: string;
}

export class DemoError extends Error {}

function seconds(since: number): string {
  return `${((performance.now() - since) / 1000).toFixed(1)} s`;
}

/** One call to the api; throws DemoError unless it answers `expected`. */
export async function callApi<T>(
  api: { url: string; key?: string },
  method: 'GET' | 'POST',
  path: string,
  expected: number | number[],
  body?: unknown,
): Promise<T> {
  const apiUrl = api.url;
  const url = new URL(path, apiUrl);
  let response: Response;
  try {
    response = await fetch(url, {
      method,
      headers: {
        ...(api.key ? { authorization: `Bearer ${api.key}` } : {}),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(15_000),
    });
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message;
    throw new DemoError(`cannot reach the api at ${apiUrl} (${cause}): is \`npm run dev\` running?`);
  }
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = text;
  }
  if (![expected].flat().includes(response.status)) {
    const detail = (parsed as { detail?: unknown } | undefined)?.detail ?? parsed;
    throw new DemoError(
      `${method} ${path} answered ${response.status} (expected ${expected}): ${JSON.stringify(detail)}`,
    );
  }
  return parsed as T;
}

/** N segment outputs: 10 segments per document, `doc-0003/segment-007.json`. */
function segmentPaths(count: number): string[] {
  return Array.from({ length: count }, (_, index) => {
    const document = String(Math.floor(index / SEGMENTS_PER_DOCUMENT)).padStart(4, '0');
    const segment = String(index % SEGMENTS_PER_DOCUMENT).padStart(3, '0');
    return `doc-${document}/segment-${segment}.json`;
  });
}

/** N outputs side by side: `doc-0000000.json` ... */
function flatPaths(count: number): string[] {
  return Array.from({ length: count }, (_, index) => `doc-${String(index).padStart(7, '0')}.json`);
}

async function storeSegments(
  objectStore: ObjectStore,
  parentId: string,
  count: number,
  flat: boolean,
): Promise<string> {
  const folder = stageFolder(objectStore.prefix, parentId, FROM_STAGE);
  const paths = flat ? flatPaths(count) : segmentPaths(count);
  let next = 0;
  const uploader = async () => {
    while (next < paths.length) {
      const path = paths[next++]!;
      const [document, segment = 'segment-000'] = path.replace('.json', '').split('/');
      await objectStore.putObject(
        folder + path,
        JSON.stringify({
          document: `${document}.md`,
          segment: Number(segment.replace('segment-', '')),
          text: `Segment ${segment} of ${document}.md: the text a segmenter cut from the document.`,
        }),
      );
    }
  };
  await Promise.all(Array.from({ length: Math.min(UPLOAD_CONCURRENCY, count) }, uploader));
  return folder;
}

/** The demo's steps; throws DemoError when a step fails or the replay does not complete. */
export async function runDemo(options: DemoOptions): Promise<DemoResult> {
  const { apiUrl, objectStore, objects, log } = options;
  const api = { url: apiUrl, key: options.apiKey };
  const timeoutMs = options.timeoutMs ?? 120_000;
  const pollIntervalMs = options.pollIntervalMs ?? 500;

  let started = performance.now();
  let parent: { id: string; config_id?: string };
  if (options.parentId) {
    parent = await callApi<{ id: string; config_id: string }>(
      api,
      'GET',
      `/api/v1/executions/${options.parentId}`,
      200,
    );
    log(`1-3. replaying the outputs stored for parent execution ${parent.id} again`);
  } else {
    const config = await callApi<{ id: string }>(api, 'POST', '/api/v1/configs', 201, DEMO_PIPELINE);
    log(
      `1. registered pipeline '${DEMO_PIPELINE.name}' (${DEMO_PIPELINE.stages.join(' -> ')}): config ${config.id}`,
    );

    const created = await callApi<{ id: string; status: string }>(api, 'POST', '/api/v1/executions', 201, {
      config_id: config.id,
      ...(options.tag ? { tag: options.tag } : {}),
    });
    parent = { ...created, config_id: config.id };
    log(`2. created parent execution ${parent.id} -> 201 ${created.status}`);

    started = performance.now();
    const folder = await storeSegments(objectStore, parent.id, objects, options.flat ?? false);
    log(
      `3. stored ${objects} outputs of ${FROM_STAGE} in s3://${objectStore.bucket}/${folder} (${seconds(started)})`,
    );
  }

  started = performance.now();
  const replayRequest = {
    replay_source: 'storage',
    from_stage: FROM_STAGE,
    to_route: TO_ROUTE,
    metadata: { reason: 'demo' },
    ...(options.maxMessagesPerSecond ? { max_messages_per_second: options.maxMessagesPerSecond } : {}),
  };
  const replay = await callApi<{ id: string; status: string }>(
    api,
    'POST',
    `/api/v1/executions/${parent.id}/replay`,
    200,
    replayRequest,
  );
  const workflowId = replayWorkflowId(replay.id);
  log(`4. replay started: execution ${replay.id} (${replay.status}), workflow ${workflowId}`);

  const deadline = Date.now() + timeoutMs;
  let lastLine = '';
  for (;;) {
    const detail = await callApi<ExecutionDetail>(api, 'GET', `/api/v1/executions/${replay.id}`, 200);
    const line = `   ${detail.status} ${detail.progress.listed}/${detail.progress.published}`;
    if (line !== lastLine) log(line);
    lastLine = line;
    if (detail.status === 'completed') {
      log(
        `5. replay completed: ${detail.progress.published} messages published to route '${TO_ROUTE}' in ${seconds(started)}`,
      );
      return { configId: parent.config_id ?? '', parentId: parent.id, replay: detail, workflowId };
    }
    if (TERMINAL_FAILURES.has(detail.status)) {
      throw new DemoError(
        `replay ${replay.id} ended ${detail.status}${detail.error ? `: ${detail.error}` : ''}`,
      );
    }
    if (Date.now() >= deadline) {
      throw new DemoError(
        `replay ${replay.id} not completed after ${timeoutMs / 1000} s (last: ${line.trim()}); see workflow ${workflowId}`,
      );
    }
    await sleep(pollIntervalMs);
  }
}

/** The S3 store of `.data/stack.json`. */
export interface StackS3 {
  endpoint?: string;
  bucket: string;
  region?: string;
  access_key_id?: string | null;
  secret_access_key?: string | null;
  prefix?: string;
}

/** The options of an ObjectStore on the dev stack's store, as stack.json names it. */
export function objectStoreOptionsOfStack(s3: StackS3): ObjectStoreOptions {
  return {
    endpoint: s3.endpoint,
    bucket: s3.bucket,
    region: s3.region ?? 'us-east-1',
    prefix: s3.prefix ?? '',
    accessKeyId: s3.access_key_id ?? undefined,
    secretAccessKey: s3.secret_access_key ?? undefined,
  };
}

/** The part of `.data/stack.json` the demo reads. */
export interface StackFile {
  api_url?: string;
  api_key?: string;
  temporal_address?: string;
  temporal_cli?: string;
  temporal_config_file?: string | null;
  s3?: StackS3;
}

/** Where `npm run dev` writes stack.json and stack.env (DEV_DATA_DIR moves it, as for dev). */
const DATA_DIR = path.resolve(
  process.env.DEV_DATA_DIR || fileURLToPath(new URL('../.data', import.meta.url)),
);
export const STACK_FILE = path.join(DATA_DIR, 'stack.json');
const STACK_ENV_FILE = path.join(DATA_DIR, 'stack.env');

export async function readStackFile(): Promise<StackFile | undefined> {
  let text: string;
  try {
    text = await readFile(STACK_FILE, 'utf8');
  } catch (error) {
    if ((error as { code?: string }).code === 'ENOENT') return undefined;
    throw error;
  }
  return JSON.parse(text) as StackFile;
}

function fail(message: string, code = 1): never {
  process.stderr.write(`${message}\n`);
  process.exit(code);
}

async function main(): Promise<void> {
  let objects = 300;
  let flat = false;
  let maxMessagesPerSecond: number | undefined;
  let parentId: string | undefined;
  let tag: string | undefined;
  try {
    const { values } = parseArgs({
      options: {
        objects: { type: 'string' },
        flat: { type: 'boolean' },
        'max-messages-per-second': { type: 'string' },
        parent: { type: 'string' },
        tag: { type: 'string' },
      },
    });
    if (values.objects !== undefined) objects = Number(values.objects);
    flat = values.flat ?? false;
    if (values['max-messages-per-second'] !== undefined)
      maxMessagesPerSecond = Number(values['max-messages-per-second']);
    parentId = values.parent;
    tag = values.tag;
  } catch (error) {
    fail(
      `${(error as Error).message}\nusage: npm run demo [-- --objects N] [--flat] [--max-messages-per-second R] [--parent ID] [--tag TAG]`,
      2,
    );
  }
  if (!Number.isInteger(objects) || objects < 1) fail('--objects must be a positive integer', 2);
  if (maxMessagesPerSecond !== undefined && !(maxMessagesPerSecond > 0))
    fail('--max-messages-per-second must be a number above 0', 2);

  let stack: StackFile | undefined;
  try {
    stack = await readStackFile();
  } catch (error) {
    fail(`cannot read ${STACK_FILE}: ${(error as Error).message}`);
  }
  const apiUrl = process.env.API_URL || stack?.api_url;
  if (!apiUrl) fail('start the stack first: npm run dev');

  let storeOptions: ObjectStoreOptions;
  if (stack?.s3) {
    storeOptions = objectStoreOptionsOfStack(stack.s3);
  } else {
    // API_URL without a stack file: the S3 settings the api and the worker were given
    const s3 = configSchema
      .pick({
        S3_ENDPOINT: true,
        S3_BUCKET: true,
        S3_REGION: true,
        S3_PREFIX: true,
        S3_ACCESS_KEY_ID: true,
        S3_SECRET_ACCESS_KEY: true,
        S3_FORCE_PATH_STYLE: true,
      })
      .safeParse(Object.fromEntries(Object.entries(process.env).filter(([, value]) => value !== '')));
    if (!s3.success) {
      const issue = s3.error.issues[0]!;
      fail(
        `no ${STACK_FILE}: set the S3_* variables of the stack (${String(issue.path[0])}: ${issue.message})`,
        2,
      );
    }
    storeOptions = {
      endpoint: s3.data.S3_ENDPOINT,
      bucket: s3.data.S3_BUCKET,
      region: s3.data.S3_REGION,
      prefix: s3.data.S3_PREFIX,
      accessKeyId: s3.data.S3_ACCESS_KEY_ID,
      secretAccessKey: s3.data.S3_SECRET_ACCESS_KEY,
      forcePathStyle: s3.data.S3_FORCE_PATH_STYLE,
    };
  }

  const objectStore = new ObjectStore({ ...storeOptions, requestTimeoutMs: 15_000, maxAttempts: 3 });
  const log = (line: string) => process.stdout.write(`${line}\n`);
  log(`demo against ${apiUrl}: ${objects} outputs of ${FROM_STAGE} replayed to ${TO_ROUTE}`);
  try {
    const apiKey = process.env.API_KEY || stack?.api_key;
    const result = await runDemo({
      apiUrl,
      apiKey,
      objectStore,
      objects,
      flat,
      maxMessagesPerSecond,
      parentId,
      tag,
      log,
      // a large replay (npm run demo -- --objects 1000000) takes minutes
      timeoutMs: Math.max(120_000, objects * 2),
    });
    const temporalCli = stack?.temporal_cli ?? 'temporal';
    const temporalAddress = stack?.temporal_address ?? process.env.TEMPORAL_ADDRESS ?? 'localhost:7233';
    // on the cluster the CLI reads the stack's profile (address, namespace, client certificate);
    // elsewhere it reads the same TEMPORAL_* variables as the service
    const temporalTarget = stack?.temporal_config_file
      ? { prefix: `TEMPORAL_CONFIG_FILE=${stack.temporal_config_file} `, flags: '' }
      : { prefix: '', flags: ` --address ${temporalAddress}` };
    // the route consumer reads the worker's variables: `npm run dev` writes them to stack.env
    const consume = `npm run route -- ${TO_ROUTE} --once`;
    const relative = path.relative(process.cwd(), STACK_ENV_FILE);
    const envFile = relative.startsWith('..') || path.isAbsolute(relative) ? STACK_ENV_FILE : relative;
    log(`6. next:`);
    log(
      `   consume the messages:  ${existsSync(STACK_ENV_FILE) ? `(set -a; . ${envFile}; ${consume})` : consume}`,
    );
    log(
      `   inspect the workflow:  ${temporalTarget.prefix}${temporalCli} workflow describe --workflow-id ${result.workflowId}${temporalTarget.flags}`,
    );
  } catch (error) {
    const message = error instanceof DemoError ? error.message : String((error as Error).stack ?? error);
    fail(`demo failed: ${message}`);
  } finally {
    objectStore.close();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await main();
}
