import { apiSettingsFromConfig } from '../api/dependencies.ts';
/**
 * The replay endpoint against its contract (docs/contract.md):
 * every validation row with its status and exact body shape, on the real services.
 */
import { execFileSync } from 'node:child_process';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createPool } from '../adapters/database.ts';
import { createApp } from '../api/app.ts';
import { freePort } from '../scripts/stack/free-port.ts';
import { CONTRACT_RESPONSE_KEYS } from './support/contract.ts';
import { createTestStack, type TestStack } from './support/test-stack.ts';
import {
  createExecution,
  registerConfig,
  requestJson,
  seedOutputs,
  waitForExecution,
} from './support/fixtures.ts';

const ERROR_KEYS = ['correlation_id', 'detail', 'error_code', 'timestamp'];
const ISO_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

let stack: TestStack;
let configId: string;
let parentId: string;
const valid = { replay_source: 'storage', from_stage: 'markdown_segmented', to_route: 'embedding_generator' };

beforeAll(async () => {
  stack = await createTestStack();
  await stack.startWorker();
  configId = (await registerConfig(stack)).id;
  parentId = (await createExecution(stack, configId, { tag: 'contract-parent' })).id;
  await seedOutputs(stack, parentId, 'markdown_segmented', 3);
});
afterAll(async () => stack?.close());

async function executionCount(): Promise<number> {
  const result = await stack.pool.query('SELECT count(*)::int AS n FROM executions');
  return result.rows[0].n;
}

function replay(body: unknown, headers: Record<string, string> = {}, parent = parentId) {
  return requestJson(stack, 'POST', `/api/v1/executions/${encodeURIComponent(parent)}/replay`, body, headers);
}

/** A refused request: the documented status and shape, and nothing written. */
async function expectRefused(
  request: () => Promise<{ status: number; body: any; headers: Headers }>,
  status: number,
  errorCode: string,
) {
  const before = await executionCount();
  const response = await request();
  expect(response.status, JSON.stringify(response.body)).toBe(status);
  expect(Object.keys(response.body).sort()).toEqual(ERROR_KEYS);
  expect(response.body.error_code).toBe(errorCode);
  expect(typeof response.body.detail).toBe('string');
  expect(response.body.timestamp).toMatch(ISO_TIMESTAMP);
  expect(response.body.correlation_id).toBe(response.headers.get('x-correlation-id'));
  expect(await executionCount()).toBe(before);
  return response.body;
}

async function expect422(body: unknown, loc: (string | number)[], type: string) {
  const before = await executionCount();
  const response = await replay(body);
  expect(response.status, JSON.stringify(response.body)).toBe(422);
  expect(Object.keys(response.body)).toEqual(['detail']);
  const entry = response.body.detail.find((item: any) => JSON.stringify(item.loc) === JSON.stringify(loc));
  expect(entry, JSON.stringify(response.body)).toBeDefined();
  expect(entry.type).toBe(type);
  expect(typeof entry.msg).toBe('string');
  expect(await executionCount()).toBe(before);
}

describe('200: a replay', () => {
  it('answers exactly the contract ExecutionResponse, linked to the parent', async () => {
    const response = await replay({ ...valid, tag: 'contract-ok', metadata: { why: 'test' } });
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    expect(Object.keys(response.body).sort()).toEqual(CONTRACT_RESPONSE_KEYS);
    expect(response.body).toMatchObject({
      config_id: configId,
      status: 'running',
      completed_at: null,
      parent_execution_id: parentId,
      replay_source: 'storage',
      tag: 'contract-ok',
    });
    expect(response.body.id).toMatch(UUID);
    expect(response.body.id[14]).toBe('7'); // UUID v7
    expect(response.body.started_at).toMatch(ISO_TIMESTAMP);
    expect(response.headers.get('content-type')).toContain('application/json');
  });

  it('looks the parent up by tag', async () => {
    const response = await replay(valid, {}, 'contract-parent');
    expect(response.status).toBe(200);
    expect(response.body.parent_execution_id).toBe(parentId);
  });

  it('takes from_path keys with colons, and publishes exactly the objects under them', async () => {
    const parent = await createExecution(stack, configId);
    await seedOutputs(stack, parent.id, 'markdown_segmented', 2, { folder: 'q1:2024/' });
    await seedOutputs(stack, parent.id, 'markdown_segmented', 1, { folder: 'report:v2/' });
    for (const [fromPath, count] of [
      ['q1:2024/x', 0],
      ['q1:2024/', 2],
      ['report:v2/doc-000000.json', 1],
    ] as const) {
      const response = await replay({ ...valid, from_path: fromPath }, {}, parent.id);
      expect(response.status, JSON.stringify(response.body)).toBe(200);
      const done = await waitForExecution(stack, response.body.id, (record) => record.status === 'completed');
      expect([done.from_path, done.published_count]).toEqual([fromPath, count]);
    }
  });

  it('reads a body sent without Content-Type as JSON', async () => {
    const response = await stack.app.request(`/api/v1/executions/${parentId}/replay`, {
      method: 'POST',
      headers: stack.authHeaders,
      // a byte body: fetch adds no Content-Type (a string body would get text/plain)
      body: new TextEncoder().encode(JSON.stringify({ ...valid, tag: 'contract-no-content-type' })),
    });
    const body: any = await response.json();
    expect(response.status, JSON.stringify(body)).toBe(200);
    expect(body).toMatchObject({ parent_execution_id: parentId, tag: 'contract-no-content-type' });
  });

  it('echoes X-Correlation-ID and X-Request-ID', async () => {
    const response = await replay({ ...valid, to_route: 'nope' }, { 'X-Request-ID': 'req-42' });
    expect(response.headers.get('x-correlation-id')).toBe('req-42');
    expect(response.body.correlation_id).toBe('req-42');
  });
});

describe('422: the body does not match the schema (FastAPI HTTPValidationError)', () => {
  it.each([
    [
      { from_stage: 'markdown_segmented', to_route: 'embedding_generator' },
      ['body', 'replay_source'],
      'missing',
    ],
    [{ replay_source: 'storage', to_route: 'embedding_generator' }, ['body', 'from_stage'], 'missing'],
    [{ replay_source: 'storage', from_stage: 'markdown_segmented' }, ['body', 'to_route'], 'missing'],
    [{ ...valid, from_stage: '' }, ['body', 'from_stage'], 'string_too_short'],
    [{ ...valid, to_route: '' }, ['body', 'to_route'], 'string_too_short'],
    [{ ...valid, replay_source: 'tape' }, ['body', 'replay_source'], 'enum'],
    [{ ...valid, config_id: 'not-a-uuid' }, ['body', 'config_id'], 'uuid_parsing'],
    [{ ...valid, metadata: [1] }, ['body', 'metadata'], 'dict_type'],
    [{ ...valid, tag: 7 }, ['body', 'tag'], 'string_type'],
    [{ ...valid, replay_source: 'manual' }, ['body', 'from_path'], 'missing'],
    [[valid], ['body'], 'model_attributes_type'],
  ])('%j -> %j %s', async (body, loc, type) => {
    await expect422(body, loc, type);
  });

  it('answers malformed JSON with json_invalid', async () => {
    await expect422('{"replay_source": ', ['body', 0], 'json_invalid');
  });
});

describe('404: parent or config not found', () => {
  it('an unknown UUID', async () => {
    await expectRefused(
      () => replay(valid, {}, '01936f8e-6c2a-7cc3-9a53-5b8a2f1c9d10'),
      404,
      'EXECUTION_NOT_FOUND',
    );
  });
  it('an unknown tag', async () => {
    await expectRefused(() => replay(valid, {}, 'no-such-tag'), 404, 'EXECUTION_NOT_FOUND');
  });
  it('an unknown config_id', async () => {
    await expectRefused(
      () => replay({ ...valid, config_id: '01936f8e-6c2a-7cc3-9a53-5b8a2f1c9d10' }),
      404,
      'CONFIG_NOT_FOUND',
    );
  });
});

describe('400: route, stage or from_path invalid', () => {
  it('to_route is not a route of the config', async () => {
    await expectRefused(() => replay({ ...valid, to_route: 'nope' }), 400, 'INVALID_ROUTE');
  });
  it('from_stage is not a stage of the parent config', async () => {
    await expectRefused(() => replay({ ...valid, from_stage: 'nope' }), 400, 'INVALID_STAGE');
  });
  it('from_stage is not the input stage of to_route', async () => {
    await expectRefused(() => replay({ ...valid, from_stage: 'markdown' }), 400, 'STAGE_ROUTE_MISMATCH');
  });
  it.each([
    '../x',
    '..',
    '%2e%2e/x',
    '%252e%252e/x',
    '/etc/passwd',
    'a\\b',
    'a%5cb',
    'a\u0000b',
    '\uff0e\uff0e/x',
  ])('from_path %j', async (fromPath) => {
    await expectRefused(() => replay({ ...valid, from_path: fromPath }), 400, 'INVALID_FROM_PATH');
  });
});

describe('409: conflicts', () => {
  it('a tag that is taken', async () => {
    await expectRefused(() => replay({ ...valid, tag: 'contract-parent' }), 409, 'TAG_CONFLICT');
  });

  it('Idempotency-Key: same key and body give the same execution; another body is a 409', async () => {
    const headers = { 'Idempotency-Key': 'contract-key-1' };
    const first = await replay(valid, headers);
    const second = await replay(valid, headers);
    expect(first.status).toBe(200);
    expect(second.status).toBe(200);
    expect(second.body.id).toBe(first.body.id);
    await expectRefused(
      () => replay({ ...valid, metadata: { other: true } }, headers),
      409,
      'IDEMPOTENCY_KEY_REUSED',
    );
  });

  it('Idempotency-Key: an optional field given as null is the same request as one leaving it out', async () => {
    const headers = { 'Idempotency-Key': 'contract-key-null' };
    const first = await replay(
      { ...valid, from_path: null, tag: null, metadata: null, config_id: null },
      headers,
    );
    const second = await replay(valid, headers);
    const third = await replay({ ...valid, from_path: null }, headers);
    expect([first.status, second.status, third.status], JSON.stringify(second.body)).toEqual([200, 200, 200]);
    expect(new Set([first.body.id, second.body.id, third.body.id]).size).toBe(1);
    // a value that is not null is another request
    await expectRefused(() => replay({ ...valid, from_path: '' }, headers), 409, 'IDEMPOTENCY_KEY_REUSED');
  });

  it('Idempotency-Key: concurrent identical requests create one execution', async () => {
    const headers = { 'Idempotency-Key': 'contract-key-concurrent' };
    const responses = await Promise.all(Array.from({ length: 10 }, () => replay(valid, headers)));
    expect(responses.map((response) => response.status)).toEqual(Array(10).fill(200));
    expect(new Set(responses.map((response) => response.body.id)).size).toBe(1);
  });
});

describe('503: a dependency is down, answered within a bounded time', () => {
  it('Temporal unreachable', async () => {
    const deadPort = await freePort();
    const temporal = new Client({
      connection: Connection.lazy({ address: `127.0.0.1:${deadPort}`, connectTimeout: 1000 }),
    });
    const app = createApp({
      ...appDependencies(),
      temporal,
      settings: { ...settingsOf(), dependencyTimeoutMs: 1500 },
    });
    const started = Date.now();
    const before = await executionCount();
    const response = await app.request(`/api/v1/executions/${parentId}/replay`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'Idempotency-Key': 'dead-temporal' },
      body: JSON.stringify(valid),
    });
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(response.status).toBe(503);
    const body: any = await response.json();
    expect(Object.keys(body).sort()).toEqual(ERROR_KEYS);
    expect(body.error_code).toBe('SERVICE_UNAVAILABLE');
    expect(await executionCount()).toBe(before);
    const keys = await stack.pool.query("SELECT 1 FROM idempotency_keys WHERE key = 'dead-temporal'");
    expect(keys.rowCount).toBe(0);
  });

  it('Postgres unreachable', async () => {
    const deadPort = await freePort();
    const pool = createPool({
      url: `postgres://replay:replay@127.0.0.1:${deadPort}/replay`,
      schema: 'public',
      poolMax: 2,
      queryTimeoutMs: 1000,
      applicationName: 'test-dead',
    });
    const app = createApp({
      ...appDependencies(),
      pool,
      settings: { ...settingsOf(), dependencyTimeoutMs: 1000 },
    });
    const started = Date.now();
    const response = await app.request(`/api/v1/executions/${parentId}/replay`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(valid),
    });
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(response.status).toBe(503);
    expect(((await response.json()) as any).error_code).toBe('SERVICE_UNAVAILABLE');
    const ready = await app.request('/readyz');
    expect(ready.status).toBe(503);
    expect(((await ready.json()) as any).components.postgres.status).toBe('unavailable');
    await pool.end();
  });
});

describe('503: a dependency refuses the call, answered in the ErrorResponse shape, never a 500', () => {
  it('Temporal: a namespace without the search attributes', async () => {
    const namespace = `no-search-attributes-${stack.config.TEMPORAL_TASK_QUEUE}`;
    const { temporalAddress, temporalCli } = inject('stack');
    execFileSync(temporalCli, [
      'operator',
      'namespace',
      'create',
      '--address',
      temporalAddress,
      '--namespace',
      namespace,
    ]);
    const temporal = new Client({ connection: stack.temporal.connection, namespace });
    const app = createApp({ ...appDependencies(), temporal });
    const before = await executionCount();
    const response = await app.request(`/api/v1/executions/${parentId}/replay`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'Idempotency-Key': 'refusing-temporal' },
      body: JSON.stringify(valid),
    });
    const body: any = await response.json();
    expect(response.status, JSON.stringify(body)).toBe(503);
    expect(Object.keys(body).sort()).toEqual(ERROR_KEYS);
    expect(body.error_code).toBe('SERVICE_UNAVAILABLE');
    // Temporal's own words stay in the log: the client gets a stable message and the correlation id
    expect(body.detail).toBe('Temporal could not serve the request');
    expect(body.correlation_id).toEqual(expect.any(String));
    expect(await executionCount()).toBe(before);
    const keys = await stack.pool.query("SELECT 1 FROM idempotency_keys WHERE key = 'refusing-temporal'");
    expect(keys.rowCount).toBe(0);
  });

  it('Postgres refusing our password: neither the answers nor the public /readyz show its words', async () => {
    const url = new URL(stack.config.DATABASE_URL);
    url.password = 'not-the-password';
    const pool = createPool({
      url: url.toString(),
      schema: 'public',
      poolMax: 2,
      queryTimeoutMs: 5000,
      applicationName: 'test-wrong-password',
    });
    try {
      const app = createApp({ ...appDependencies(), pool });
      const internal = new RegExp(`password|authentication|${url.username}|${url.hostname}|${url.port}`, 'i');
      const response = await app.request(`/api/v1/executions/${parentId}`);
      const answer: any = await response.json();
      expect(response.status, JSON.stringify(answer)).toBe(503);
      expect(answer.detail).not.toMatch(internal);
      const ready = await app.request('/readyz');
      const readiness: any = await ready.json();
      expect(ready.status).toBe(503);
      expect(readiness.components.postgres.status).toBe('unavailable');
      expect(JSON.stringify(readiness)).not.toMatch(internal);
      expect(readiness.components.postgres.detail).toContain(ready.headers.get('x-correlation-id'));
    } finally {
      await pool.end();
    }
  });

  it('Postgres: a schema without the tables', async () => {
    const pool = createPool({
      url: stack.config.DATABASE_URL,
      schema: 'no_such_schema',
      poolMax: 2,
      queryTimeoutMs: 5000,
      applicationName: 'test-unmigrated',
    });
    try {
      const app = createApp({ ...appDependencies(), pool });
      for (const [method, path, body] of [
        ['GET', `/api/v1/executions/${parentId}`, undefined],
        ['GET', '/api/v1/executions', undefined],
        ['POST', `/api/v1/executions/${parentId}/replay`, valid],
        ['POST', `/api/v1/executions/${parentId}/cancel`, undefined],
      ] as const) {
        const response = await app.request(path, {
          method,
          headers: { 'content-type': 'application/json' },
          body: body && JSON.stringify(body),
        });
        const answer: any = await response.json();
        expect(response.status, `${method} ${path} ${JSON.stringify(answer)}`).toBe(503);
        expect(answer).toMatchObject({
          error_code: 'SERVICE_UNAVAILABLE',
          detail: 'Postgres could not serve the request',
        });
      }
    } finally {
      await pool.end();
    }
  });
});

function settingsOf() {
  return apiSettingsFromConfig(stack.config);
}

function appDependencies() {
  return {
    pool: stack.pool,
    temporal: stack.temporal,
    objectStore: stack.objectStore,
    routeTransport: stack.routeTransport,
    logger: stack.logger,
    settings: settingsOf(),
  };
}
