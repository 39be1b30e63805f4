/**
 * The api's graceful stop, as `npm run api` runs it: a real api process on the shared services gets
 * SIGTERM while a request of it waits on Postgres (the test holds a lock on the executions table). The
 * listener closes at once (new connections are refused), the request in flight still gets its normal
 * answer once the lock is released, and the process exits 0 by itself within its grace period.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { sleep } from '../adapters/sleep.ts';
import { runMigrations } from '../adapters/migrate.ts';
import { apiKeyLine, generateApiKey } from '../api/auth.ts';
import { freePort, waitForPort } from '../scripts/stack/free-port.ts';
import { startManagedProcess, type ManagedProcess } from '../scripts/stack/managed-process.ts';
import { DOCUMENTS_PIPELINE } from './support/fixtures.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const GRACE_SECONDS = 60;

let dir: string;
let port: number;
let schema: string;
let api: ManagedProcess;
let admin: pg.Client;
const apiKey = generateApiKey();

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: any;
}

/** One request on a connection of its own (no agent): what a new client of a load balancer does. */
function call(method: string, route: string, body?: unknown): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const request = http.request(
      {
        host: '127.0.0.1',
        port,
        method,
        path: route,
        agent: false,
        headers: {
          authorization: `Bearer ${apiKey}`,
          ...(payload ? { 'content-type': 'application/json' } : {}),
        },
      },
      (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (text += chunk));
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            headers: response.headers,
            body: text ? JSON.parse(text) : undefined,
          }),
        );
      },
    );
    request.on('error', reject);
    request.end(payload);
  });
}

/** Whether a new TCP connection to the api is refused (the listener is closed). */
function refused(): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'ECONNREFUSED'));
  });
}

/** Polls until check() holds; the deadline is the only bound (a loaded machine is slow). */
async function until(what: string, check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms\n${await apiLog()}`);
    await sleep(100);
  }
}

const apiLog = async () => (await readFile(path.join(dir, 'api.log'), 'utf8').catch(() => '')).slice(-3000);

beforeAll(async () => {
  const stack = inject('stack');
  dir = await mkdtemp(path.join(tmpdir(), 'execution-replay-api-drain-'));
  port = await freePort();
  const suffix = randomBytes(4).toString('hex');
  schema = `d_${suffix}`;
  await runMigrations({ databaseUrl: stack.databaseUrl, schema, queueSchema: `${schema}_queue` });
  admin = new pg.Client({ connectionString: stack.databaseUrl });
  await admin.connect();
  api = startManagedProcess('api', process.execPath, ['--import', 'tsx', 'api/main.ts'], {
    logFile: path.join(dir, 'api.log'),
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      TEMPORAL_ADDRESS: stack.temporalAddress,
      TEMPORAL_TASK_QUEUE: `drain-${suffix}`,
      DATABASE_URL: stack.databaseUrl,
      DATABASE_SCHEMA: schema,
      PGBOSS_SCHEMA: `${schema}_queue`,
      S3_ENDPOINT: stack.s3.endpoint,
      S3_BUCKET: stack.s3.bucket,
      S3_REGION: stack.s3.region,
      S3_PREFIX: `d-${suffix}/`,
      S3_ACCESS_KEY_ID: stack.s3.accessKeyId,
      S3_SECRET_ACCESS_KEY: stack.s3.secretAccessKey,
      API_HOST: '127.0.0.1',
      API_PORT: String(port),
      API_KEYS: apiKeyLine('drain-test', apiKey),
      API_SHUTDOWN_GRACE_SECONDS: String(GRACE_SECONDS),
      // the held request waits on the lock, not on this bound
      DEPENDENCY_TIMEOUT_MS: '120000',
      LOG_LEVEL: 'info',
      RECONCILER_SCHEDULE: 'false',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    },
  });
  await waitForPort('127.0.0.1', port, 120_000);
}, 240_000);

afterAll(async () => {
  await admin?.query('ROLLBACK').catch(() => {});
  await admin?.end().catch(() => {});
  await api?.stop(5_000).catch(() => {});
  if (dir) await rm(dir, { recursive: true, force: true });
});

it('on SIGTERM refuses new connections, answers the request in flight normally, and exits 0', async () => {
  const config = await call('POST', '/api/v1/configs', DOCUMENTS_PIPELINE);
  expect(config.status).toBe(201);
  const execution = await call('POST', '/api/v1/executions', { config_id: config.body.id });
  expect(execution.status).toBe(201);
  const before = await call('GET', `/api/v1/executions/${execution.body.id}`);
  expect(before.status).toBe(200);

  // a read of the executions table now waits on Postgres until the test lets it go
  await admin.query('BEGIN');
  await admin.query(`LOCK TABLE "${schema}".executions IN ACCESS EXCLUSIVE MODE`);
  const inFlight = call('GET', `/api/v1/executions/${execution.body.id}`);
  await until('the api request waits on the lock', async () => {
    const waiting = await admin.query(
      `SELECT count(*)::int AS n FROM pg_stat_activity
        WHERE application_name = 'execution-replay-api' AND wait_event_type = 'Lock'`,
    );
    return waiting.rows[0].n >= 1;
  });

  process.kill(api.child.pid!, 'SIGTERM');
  await until('new connections are refused', refused);
  // still running: it waits for the request in flight
  expect(api.child.exitCode).toBeNull();

  await admin.query('ROLLBACK');
  const answer = await inFlight;
  expect(answer.status).toBe(200);
  expect(answer.body).toEqual(before.body);
  expect(answer.headers.connection).toBe('close');

  // by itself, within its grace period: not cut (exit 1), not killed
  expect(await api.exited).toBe(0);
  const log = await apiLog();
  expect(log).toContain('"msg":"api draining"');
  expect(log).toMatch(/"drained":true,"msg":"api stopped"/);
}, 180_000);
