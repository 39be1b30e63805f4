import { execFile } from 'node:child_process';
import { readFile, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sleep } from '../adapters/sleep.ts';
import { freePort } from '../scripts/stack/free-port.ts';
import {
  DEV_PORT_VARIABLES,
  devStackPlace,
  disposeDev,
  readStackJson as readDevStackJson,
  startDev,
  stopDev,
  type DevPorts,
  type DevProcess,
} from './support/dev-process.ts';

/**
 * `npm run dev` end to end: its own stack on free ports and a fresh data dir (not the suite's shared
 * services), a clean stop on SIGINT, and a second start on the same data dir that still has the data.
 */

const STACK_KEYS = [
  'transport',
  'api_url',
  'api_key',
  'temporal_address',
  'temporal_namespace',
  'temporal_ui_url',
  'temporal_cli',
  'temporal_config_file',
  'task_queue',
  'database_url',
  's3',
];
const S3_KEYS = ['kind', 'endpoint', 'bucket', 'region', 'access_key_id', 'secret_access_key', 'prefix'];

const CONFIG = {
  name: 'd',
  stages: ['a', 'b'],
  routes: [{ name: 'r', input_stage: 'a', output_stage: 'b' }],
  entry_route: 'r',
};

let dataDir: string;
let ports: DevPorts;
let dev: DevProcess | undefined;

const readStackJson = (process: DevProcess) => readDevStackJson(process, dataDir);

function workerLog(): Promise<string> {
  return readFile(path.join(dataDir, 'logs', 'worker.log'), 'utf8').catch(() => '');
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
    ({ dataDir, ports } = await devStackPlace());
  });

  afterAll(() => disposeDev(dev, dataDir), 60_000);

  it('starts the whole stack and describes it in stack.json and stack.env', async () => {
    dev = startDev(dataDir, ports);
    const stack = await readStackJson(dev);
    expect(Object.keys(stack).sort()).toEqual([...STACK_KEYS].sort());
    expect(stack.transport).toEqual({ kind: 'pgboss', database_url: stack.database_url, schema: 'pgboss' });
    expect(Object.keys(stack.s3).sort()).toEqual([...S3_KEYS].sort());
    // the store a new user meets: versitygw, built with Go like the Temporal CLI
    expect(stack.s3.kind).toBe('versitygw');

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

  it('restarts a worker that dies, and keeps the rest of the stack running', async () => {
    const pidFile = path.join(dataDir, 'run', 'worker.pid');
    const firstPid = Number(await readFile(pidFile, 'utf8'));
    const startsLogged = async () => (await workerLog()).split('worker started').length - 1;
    // the first worker may not have logged its start yet: wait for one more than now
    const startsBefore = await startsLogged();
    process.kill(firstPid, 'SIGKILL');
    let secondPid = firstPid;
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      secondPid = Number(await readFile(pidFile, 'utf8').catch(() => String(firstPid)));
      if (secondPid !== firstPid && (await startsLogged()) > startsBefore) break;
      await sleep(250);
    }
    expect(dev!.output()).toMatch(/\[dev\] worker exited unexpectedly \(SIGKILL\); restarting it in 1 s/);
    expect(secondPid).not.toBe(firstPid);
    expect(() => process.kill(secondPid, 0)).not.toThrow();
    expect(dev!.child.exitCode).toBeNull();
    // the restarted worker runs replays
    const stack = await readStackJson(dev!);
    const headers = { 'content-type': 'application/json', authorization: `Bearer ${stack.api_key}` };
    const parent = await fetch(`${stack.api_url}/api/v1/executions`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ config_id: configId }),
    });
    expect(parent.status).toBe(201);
    const parentId = ((await parent.json()) as any).id;
    const replay = await fetch(`${stack.api_url}/api/v1/executions/${parentId}/replay`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ replay_source: 'storage', from_stage: 'a', to_route: 'r' }),
    });
    expect(replay.status).toBe(200);
    const replayId = ((await replay.json()) as any).id;
    let status = 'running';
    while (status === 'running' && Date.now() < deadline + 30_000) {
      await sleep(250);
      const shown = await fetch(`${stack.api_url}/api/v1/executions/${replayId}`, { headers });
      status = ((await shown.json()) as any).status;
    }
    expect(status).toBe('completed');
  });

  it('stops everything on SIGINT and exits 0', async () => {
    expect(await stopDev(dev!)).toBe(0);
    for (const variable of DEV_PORT_VARIABLES) {
      expect(await acceptsConnections(ports[variable]), `${variable} ${ports[variable]}`).toBe(false);
    }
  });

  it('keeps the data of the first run in a second run on the same data dir', async () => {
    await rm(path.join(dataDir, 'stack.json'), { force: true });
    dev = startDev(dataDir, ports);
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
    const kafkaPorts = {
      DEV_KAFKA_PORT: await freePort(),
      DEV_KAFKA_CONTROLLER_PORT: await freePort(),
      DEV_KAFKA_SASL_PORT: await freePort(),
    };
    dev = startDev(
      dataDir,
      ports,
      Object.fromEntries(Object.entries(kafkaPorts).map(([name, port]) => [name, String(port)])),
      ['--transport', 'kafka'],
    );
    const stack = await readStackJson(dev);
    const brokers = `127.0.0.1:${kafkaPorts.DEV_KAFKA_PORT}`;
    expect(stack.transport).toEqual({
      kind: 'kafka',
      brokers,
      sasl_ssl: {
        brokers: `127.0.0.1:${kafkaPorts.DEV_KAFKA_SASL_PORT}`,
        mechanism: 'scram-sha-512',
        username: 'replay',
        password: expect.any(String),
        ca_file: path.join(dataDir, 'kafka', 'tls', 'ca.pem'),
      },
    });
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
