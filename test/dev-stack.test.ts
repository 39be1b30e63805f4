import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../scripts/stack/free-port.ts';

/**
 * `npm run dev` end to end: its own stack on free ports and a fresh data dir (not the suite's shared
 * services), a clean stop on SIGINT, and a second start on the same data dir that still has the data.
 */

const root = fileURLToPath(new URL('..', import.meta.url));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const PORT_VARIABLES = [
  'DEV_API_PORT',
  'DEV_TEMPORAL_PORT',
  'DEV_TEMPORAL_UI_PORT',
  'DEV_POSTGRES_PORT',
  'DEV_S3_PORT',
] as const;

const STACK_KEYS = [
  'api_url',
  'api_key',
  'temporal_address',
  'temporal_namespace',
  'temporal_ui_url',
  'temporal_cli',
  'task_queue',
  'database_url',
  's3',
  'transport',
];
const S3_KEYS = ['endpoint', 'bucket', 'region', 'access_key_id', 'secret_access_key', 'prefix'];

const CONFIG = {
  name: 'd',
  stages: ['a', 'b'],
  routes: [{ name: 'r', input_stage: 'a', output_stage: 'b' }],
  entry_route: 'r',
};

interface DevProcess {
  child: ChildProcess;
  exited: Promise<number | null>;
  output(): string;
}

let dataDir: string;
let ports: Record<(typeof PORT_VARIABLES)[number], number>;
let dev: DevProcess | undefined;

let kafkaPorts: { DEV_KAFKA_PORT: number; DEV_KAFKA_CONTROLLER_PORT: number };

function startDev(args: string[] = []): DevProcess {
  const env: NodeJS.ProcessEnv = { ...process.env, DEV_DATA_DIR: dataDir };
  for (const variable of PORT_VARIABLES) env[variable] = String(ports[variable]);
  for (const [variable, port] of Object.entries(kafkaPorts)) env[variable] = String(port);
  // the embedded Postgres and S3, whatever the environment running the tests points at
  delete env.DATABASE_URL;
  delete env.S3_ENDPOINT;
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/dev.ts', ...args], {
    cwd: root,
    env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, exited, output: () => output };
}

async function readStackJson(process: DevProcess, timeoutMs = 120_000): Promise<any> {
  const file = path.join(dataDir, 'stack.json');
  const deadline = Date.now() + timeoutMs;
  while (!existsSync(file)) {
    if (process.child.exitCode !== null)
      throw new Error(`dev exited with ${process.child.exitCode}:\n${process.output()}`);
    if (Date.now() > deadline) throw new Error(`no stack.json after ${timeoutMs} ms:\n${process.output()}`);
    await sleep(250);
  }
  return JSON.parse(await readFile(file, 'utf8'));
}

async function stopDev(process: DevProcess): Promise<number | null> {
  process.child.kill('SIGINT');
  const code = await Promise.race([process.exited, sleep(60_000).then(() => 'timeout' as const)]);
  if (code === 'timeout') throw new Error(`dev did not exit within 60 s of SIGINT:\n${process.output()}`);
  return code;
}

function acceptsConnections(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

describe('npm run dev', { timeout: 300_000 }, () => {
  let configId: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'execution-replay-dev-'));
    // embedded Postgres runs as the `postgres` system user when we are root: it must reach <data>/pg
    await chmod(dataDir, 0o755);
    const [api, temporal, ui, postgres, s3] = await Promise.all(PORT_VARIABLES.map(() => freePort()));
    ports = {
      DEV_API_PORT: api!,
      DEV_TEMPORAL_PORT: temporal!,
      DEV_TEMPORAL_UI_PORT: ui!,
      DEV_POSTGRES_PORT: postgres!,
      DEV_S3_PORT: s3!,
    };
    kafkaPorts = { DEV_KAFKA_PORT: await freePort(), DEV_KAFKA_CONTROLLER_PORT: await freePort() };
  });

  afterAll(async () => {
    if (dev && dev.child.exitCode === null && dev.child.signalCode === null) {
      // a graceful stop first: the services run in process groups of their own, which a kill of dev's misses
      dev.child.kill('SIGINT');
      await Promise.race([dev.exited, sleep(30_000)]);
      if (dev.child.exitCode === null && dev.child.signalCode === null)
        process.kill(-dev.child.pid!, 'SIGKILL');
    }
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  }, 60_000);

  it('starts the whole stack and describes it in stack.json and stack.env', async () => {
    dev = startDev();
    const stack = await readStackJson(dev);
    expect(Object.keys(stack).sort()).toEqual([...STACK_KEYS].sort());
    expect(Object.keys(stack.s3).sort()).toEqual([...S3_KEYS].sort());
    expect(stack.transport).toEqual({ kind: 'pgboss', database_url: stack.database_url, schema: 'pgboss' });

    const ready = await fetch(`${stack.api_url}/readyz`);
    expect(ready.status).toBe(200);
    const body: any = await ready.json();
    for (const component of ['temporal', 'postgres', 's3']) {
      expect(body.components[component].status).toBe('ok');
    }

    expect((await fetch(stack.temporal_ui_url)).status).toBe(200);
    await promisify(execFile)(stack.temporal_cli, [
      'workflow',
      'list',
      '--address',
      stack.temporal_address,
      '--namespace',
      'default',
    ]);

    const stackEnv = await readFile(path.join(dataDir, 'stack.env'), 'utf8');
    expect(stackEnv).toMatch(/^DATABASE_URL=postgres/m);
    expect(stackEnv).toMatch(/^TEMPORAL_ADDRESS=\S+/m);

    const created = await fetch(`${stack.api_url}/api/v1/configs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${stack.api_key}` },
      body: JSON.stringify(CONFIG),
    });
    expect(created.status).toBe(201);
    configId = ((await created.json()) as any).id;
    expect(configId).toBeTruthy();
  });

  it('stops everything on SIGINT and exits 0', async () => {
    expect(await stopDev(dev!)).toBe(0);
    for (const variable of PORT_VARIABLES) {
      expect(await acceptsConnections(ports[variable]), `${variable} ${ports[variable]}`).toBe(false);
    }
  });

  it('keeps the data of the first run in a second run on the same data dir', async () => {
    await rm(path.join(dataDir, 'stack.json'), { force: true });
    dev = startDev();
    const stack = await readStackJson(dev);
    // the local key is kept in the data dir: the same key works after a restart
    const response = await fetch(`${stack.api_url}/api/v1/configs/${configId}`, {
      headers: { authorization: `Bearer ${stack.api_key}` },
    });
    expect(response.status).toBe(200);
    expect(((await response.json()) as any).id).toBe(configId);
    expect(await stopDev(dev)).toBe(0);
  });

  it('runs the routes on a Kafka broker with --transport kafka and names it in stack.json and stack.env', async () => {
    await rm(path.join(dataDir, 'stack.json'), { force: true });
    dev = startDev(['--transport', 'kafka']);
    const stack = await readStackJson(dev);
    const brokers = `127.0.0.1:${kafkaPorts.DEV_KAFKA_PORT}`;
    expect(stack.transport).toEqual({ kind: 'kafka', brokers });
    const stackEnv = await readFile(path.join(dataDir, 'stack.env'), 'utf8');
    expect(stackEnv).toMatch(/^ROUTE_TRANSPORT=kafka$/m);
    expect(stackEnv).toContain(`KAFKA_BROKERS=${brokers}\n`);
    // a normal execution's init message goes to the entry route's topic through the api
    const created = await fetch(`${stack.api_url}/api/v1/executions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${stack.api_key}` },
      body: JSON.stringify({ config_id: configId }),
    });
    expect(created.status, await created.clone().text()).toBe(201);
    expect(await stopDev(dev)).toBe(0);
    expect(await acceptsConnections(kafkaPorts.DEV_KAFKA_PORT)).toBe(false);
  });
});
