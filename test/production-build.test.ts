/**
 * The production build as the image runs it: `npm run build` into a folder, then the compiled
 * migrations, worker and api (plain `node`, no tsx) against the shared services, and one replay
 * through the api's HTTP port. The worker loads the prebuilt workflow bundle and runs under its
 * build id, which the workflow's history records.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { copyFile, mkdtemp, readFile, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parseConfig } from '../adapters/config.ts';
import { ObjectStore, objectStoreOptionsFromConfig } from '../adapters/object-store.ts';
import { apiKeyLine, generateApiKey } from '../api/auth.ts';
import { freePort, waitForPort } from '../scripts/stack/free-port.ts';
import { startManagedProcess, type ManagedProcess } from '../scripts/stack/managed-process.ts';
import { replayWorkflowId } from '../workflows/definitions.ts';
import { DOCUMENTS_PIPELINE, seedOutputs } from './support/fixtures.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const OBJECTS = 30;

let dir: string;
let out: string;
let env: Record<string, string>;
let apiUrl: string;
const apiKey = generateApiKey();
const processes: ManagedProcess[] = [];

/** Runs a compiled entry of the build with plain node, as the image does. */
function start(name: string, entry: string): ManagedProcess {
  const managed = startManagedProcess(name, process.execPath, [path.join(out, entry)], {
    logFile: path.join(dir, `${name}.log`),
    env: { PATH: process.env.PATH ?? '', ...env },
    cwd: dir,
  });
  processes.push(managed);
  return managed;
}

async function logLines(name: string): Promise<Record<string, unknown>[]> {
  const text = await readFile(path.join(dir, `${name}.log`), 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line));
}

async function waitForLine(name: string, message: string, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const line = (await logLines(name)).find((entry) => entry.msg === message);
    if (line) return line;
    if (Date.now() > deadline) {
      const text = await readFile(path.join(dir, `${name}.log`), 'utf8').catch(() => '');
      throw new Error(`${name} did not log '${message}':\n${text.slice(-3000)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function api(method: string, route: string, body?: unknown) {
  const response = await fetch(`${apiUrl}${route}`, {
    method,
    headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as any };
}

beforeAll(async () => {
  // laid out as the image is: package.json, node_modules and dist/ side by side
  dir = await mkdtemp(path.join(tmpdir(), 'execution-replay-build-'));
  out = path.join(dir, 'dist');
  await copyFile(path.join(ROOT, 'package.json'), path.join(dir, 'package.json'));
  await symlink(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'));
  // the type check is npm run check's; the JavaScript is the same without it
  execFileSync(process.execPath, ['--import', 'tsx', 'scripts/build.ts', '--out-dir', out, '--no-check'], {
    cwd: ROOT,
    stdio: 'pipe',
  });
  const stack = inject('stack');
  const suffix = randomBytes(4).toString('hex');
  const port = await freePort();
  env = {
    TEMPORAL_ADDRESS: stack.temporalAddress,
    TEMPORAL_TASK_QUEUE: `build-${suffix}`,
    DATABASE_URL: stack.databaseUrl,
    DATABASE_SCHEMA: `b_${suffix}`,
    PGBOSS_SCHEMA: `b_${suffix}_queue`,
    S3_ENDPOINT: stack.s3.endpoint,
    S3_BUCKET: stack.s3.bucket,
    S3_REGION: stack.s3.region,
    S3_PREFIX: `b-${suffix}/`,
    S3_ACCESS_KEY_ID: stack.s3.accessKeyId,
    S3_SECRET_ACCESS_KEY: stack.s3.secretAccessKey,
    API_HOST: '127.0.0.1',
    API_PORT: String(port),
    API_KEYS: apiKeyLine('build-test', apiKey),
    LOG_LEVEL: 'info',
    RECONCILER_SCHEDULE: 'false',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
  apiUrl = `http://127.0.0.1:${port}`;
}, 240_000);

afterAll(async () => {
  for (const managed of processes.reverse()) await managed.stop().catch(() => {});
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('the production build', () => {
  it('compiles every entry the image runs, with the migrations and the workflow bundle beside them', () => {
    for (const file of [
      'api/main.js',
      'worker.js',
      'workflow-bundle.js',
      'scripts/migrate.js',
      'scripts/temporal-setup.js',
      'scripts/api-key.js',
      'adapters/migrations/1764460800000_initial-schema.sql',
    ]) {
      expect(existsSync(path.join(out, file)), file).toBe(true);
    }
    // no TypeScript, and no import of it, in what the image runs
    const files = readdirSync(out, { recursive: true, encoding: 'utf8' });
    expect(files.filter((file) => file.endsWith('.ts'))).toEqual([]);
    const importsTs = files.filter(
      (file) =>
        file.endsWith('.js') && /from\s+['"][^'"]+\.ts['"]/.test(readFileSync(path.join(out, file), 'utf8')),
    );
    expect(importsTs).toEqual([]);
  });

  it('migrates, serves and replays with plain node: the worker runs the prebuilt bundle under its build id', async () => {
    const migrate = start('migrate', 'scripts/migrate.js');
    expect(await migrate.exited).toBe(0);
    start('worker', 'worker.js');
    const started = await waitForLine('worker', 'worker started');
    expect(started.workflow_bundle).toBe('prebuilt');
    expect(started.build_id).toMatch(/^[0-9a-f]{16}$/);
    start('api', 'api/main.js');
    await waitForPort('127.0.0.1', Number(env.API_PORT), 60_000);

    const config = await api('POST', '/api/v1/configs', DOCUMENTS_PIPELINE);
    expect(config.status, JSON.stringify(config.body)).toBe(201);
    const parent = await api('POST', '/api/v1/executions', { config_id: config.body.id });
    expect(parent.status, JSON.stringify(parent.body)).toBe(201);
    const objectStore = new ObjectStore(objectStoreOptionsFromConfig(parseConfig(env)));
    try {
      await seedOutputs({ objectStore }, parent.body.id, 'markdown_segmented', OBJECTS);
    } finally {
      objectStore.close();
    }
    const replay = await api('POST', `/api/v1/executions/${parent.body.id}/replay`, {
      replay_source: 'storage',
      from_stage: 'markdown_segmented',
      to_route: 'embedding_generator',
    });
    expect(replay.status, JSON.stringify(replay.body)).toBe(200);
    const deadline = Date.now() + 90_000;
    let detail = await api('GET', `/api/v1/executions/${replay.body.id}`);
    while (detail.body.status === 'running' && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      detail = await api('GET', `/api/v1/executions/${replay.body.id}`);
    }
    expect(detail.body.status, JSON.stringify(detail.body)).toBe('completed');
    expect(detail.body.progress.published).toBe(OBJECTS);

    const connection = await Connection.connect({ address: env.TEMPORAL_ADDRESS! });
    try {
      const history = await new Client({ connection }).workflow
        .getHandle(replayWorkflowId(replay.body.id))
        .fetchHistory();
      const completions = (history.events ?? []).filter(
        (event) => event.workflowTaskCompletedEventAttributes,
      );
      expect(completions.length).toBeGreaterThan(0);
      expect(JSON.stringify(completions)).toContain(String(started.build_id));
    } finally {
      await connection.close();
    }
  });
});
