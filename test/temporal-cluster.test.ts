import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { sleep } from '../adapters/sleep.ts';
import { ObjectStore, objectStoreOptionsFromConfig } from '../adapters/object-store.ts';
import { startTemporalCluster, type TemporalCluster } from '../scripts/stack/temporal-cluster.ts';
import { findTemporalServer } from '../scripts/temporal-server-binary.ts';
import { createTestStack, type TestStack } from './support/test-stack.ts';
import {
  createExecution,
  registerConfig,
  requestJson,
  seedOutputs,
  waitForExecution,
} from './support/fixtures.ts';

/**
 * The service on a production-shaped Temporal cluster (scripts/stack/temporal-cluster.ts): Postgres
 * persistence, frontend, history, matching and worker as four processes, mTLS on the frontend. Every
 * client of the test (api, workers) connects with the cluster's client certificate through the
 * TEMPORAL_* settings; one without a certificate is refused; the history and the matching services
 * die mid-replay and come back, and the replay still publishes every object exactly once.
 */

const STAGE = 'markdown_segmented';
const ROUTE = 'embedding_generator';
const REPLAY = { replay_source: 'storage', from_stage: STAGE, to_route: ROUTE } as const;

let cluster: TemporalCluster;
let stack: TestStack;
let configId: string;
// the seeding's own store, with retries: the api's makes one attempt, and a shared s3rver under
// load sometimes drops a connection while hundreds of objects are stored
let seedStore: ObjectStore;

beforeAll(async () => {
  const services = inject('stack');
  const suffix = randomBytes(4).toString('hex');
  // a clean clone builds the server once (about 3.5 min on two cores); later runs take the cache
  const binaries = await findTemporalServer((line) => process.stderr.write(`[cluster] ${line}\n`));
  const { freePort } = await import('../scripts/stack/free-port.ts');
  cluster = await startTemporalCluster({
    binaries,
    dir: path.join(services.workDir, `temporal-cluster-${suffix}`),
    postgresUrl: services.databaseUrl,
    databasePrefix: `temporal_${suffix}`,
    frontendPort: await freePort(),
    maxConnections: 8,
  });
  // the api and the workers of this file reach the cluster only through the TEMPORAL_* settings
  stack = await createTestStack({
    ...cluster.env,
    // small pages, so a replay of a few hundred objects spans the services' restarts
    REPLAY_PAGE_SIZE: '25',
    REPLAY_PAGES_PER_RUN: '5',
    REPLAY_HEARTBEAT_TIMEOUT_SECONDS: '5',
    BULK_REPLAY_WINDOW_SIZE: '4',
  });
  expect(stack.config.temporal.tls?.clientCertPair).toBeDefined();
  seedStore = new ObjectStore({
    ...objectStoreOptionsFromConfig(stack.config),
    maxAttempts: 5,
    requestTimeoutMs: 30_000,
  });
  await stack.startWorker();
  configId = (await registerConfig(stack)).id;
}, 600_000);

afterAll(async () => {
  seedStore?.close();
  await stack?.close();
  await cluster?.stop();
});

async function parentWith(objects: number) {
  const parent = await createExecution(stack, configId);
  const keys = await seedOutputs({ objectStore: seedStore }, parent.id, STAGE, objects, { concurrency: 16 });
  return { id: parent.id, keys };
}

async function expectExactlyOnce(executionId: string, keys: string[]) {
  const messages = await stack.routeReader.messagesOf(ROUTE, executionId);
  expect(messages.map((message) => message.data.object.key).sort()).toEqual(keys);
}

async function replay(parentId: string, extra: object = {}): Promise<string> {
  const response = await requestJson(stack, 'POST', `/api/v1/executions/${parentId}/replay`, {
    ...REPLAY,
    ...extra,
  });
  expect(response.status, JSON.stringify(response.body)).toBe(200);
  return response.body.id;
}

describe('over mTLS', () => {
  it('a replay is exact', async () => {
    const parent = await parentWith(60);
    const id = await replay(parent.id);
    const done = await waitForExecution(stack, id, (record) => record.status === 'completed');
    expect(done.published_count).toBe(60);
    await expectExactlyOnce(id, parent.keys);
  });

  it('a bulk replay is exact', async () => {
    const parents = [await parentWith(7), await parentWith(30)];
    const response = await requestJson(stack, 'POST', '/api/v1/bulk-replays', {
      replay: REPLAY,
      execution_ids: parents.map((parent) => parent.id),
      max_concurrent: 2,
    });
    expect(response.status, JSON.stringify(response.body)).toBe(202);
    let bulk: any;
    for (let tries = 0; tries < 600; tries += 1) {
      bulk = (await requestJson(stack, 'GET', `/api/v1/bulk-replays/${response.body.id}`)).body;
      if (bulk.status !== 'running') break;
      await sleep(200);
    }
    expect(bulk).toMatchObject({ status: 'completed', total: 2, completed: 2, failed: 0 });
    const items = (await requestJson(stack, 'GET', `/api/v1/bulk-replays/${response.body.id}/items`)).body
      .items;
    for (const [index, parent] of parents.entries())
      await expectExactlyOnce(items[index].execution_id, parent.keys);
  });

  it('a pause and a resume are exact', async () => {
    const parent = await parentWith(400);
    const id = await replay(parent.id, { max_messages_per_second: 100 });
    await waitForExecution(stack, id, (record) => record.published_count >= 50);
    expect((await requestJson(stack, 'POST', `/api/v1/executions/${id}/pause`)).status).toBe(200);
    await waitForExecution(stack, id, (record) => record.paused);
    const stopped = (await requestJson(stack, 'GET', `/api/v1/executions/${id}`)).body.progress.published;
    expect(stopped).toBeLessThan(400);
    expect((await requestJson(stack, 'POST', `/api/v1/executions/${id}/resume`)).status).toBe(200);
    await waitForExecution(stack, id, (record) => record.status === 'completed');
    await expectExactlyOnce(id, parent.keys);
  });

  it('a client without a certificate is refused, and says why in one line', async () => {
    const {
      TEMPORAL_TLS_CLIENT_CERT_PATH: _cert,
      TEMPORAL_TLS_CLIENT_KEY_PATH: _key,
      ...noCert
    } = cluster.env;
    const services = inject('stack');
    const child = spawn(process.execPath, ['--import', 'tsx', 'worker.ts'], {
      env: {
        PATH: process.env.PATH,
        ...noCert,
        DATABASE_URL: stack.config.DATABASE_URL,
        DATABASE_SCHEMA: stack.config.DATABASE_SCHEMA,
        PGBOSS_SCHEMA: stack.config.PGBOSS_SCHEMA,
        S3_BUCKET: stack.config.S3_BUCKET,
        S3_ENDPOINT: stack.config.S3_ENDPOINT,
        TEMPORAL_TASK_QUEUE: stack.config.TEMPORAL_TASK_QUEUE,
        RECONCILER_SCHEDULE: 'false',
        WORKFLOW_BUNDLE_PATH: services.workflowBundlePath,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code, output).toBe(1);
    const line = output
      .split('\n')
      .map((text) => (text.startsWith('{') ? JSON.parse(text) : { msg: text }))
      .find((entry) => /refused the connection/.test(entry.msg ?? ''));
    expect(line, output).toBeDefined();
    expect(line.level).toBe(60); // fatal
    expect(line.msg).toContain(`Temporal at ${cluster.address}`);
    expect(line.msg).toMatch(/certificate required/i);
    expect(line.msg).toContain('TEMPORAL_TLS_CLIENT_CERT_PATH');
  });
});

describe('a service of the cluster killed mid-replay and restarted', () => {
  it.each(['history', 'matching'] as const)(
    '%s: the replay resumes and stays exact',
    async (name) => {
      const parent = await parentWith(500);
      const id = await replay(parent.id, { max_messages_per_second: 100 });
      await waitForExecution(stack, id, (record) => record.published_count >= 50);
      const service = cluster.services[name];
      await service.kill();
      await sleep(2000);
      service.restart();
      const before = (await waitForExecution(stack, id, () => true)).published_count;
      expect(before).toBeLessThan(500);
      const done = await waitForExecution(stack, id, (record) => record.status === 'completed', 150_000);
      expect(done.published_count).toBe(500);
      await expectExactlyOnce(id, parent.keys);
    },
    180_000,
  );
});
