/**
 * The api's OpenAPI document against the api itself, with no service behind it (its dependencies
 * refuse at once, so every lookup is a 503): the committed snapshot, each status an operation can
 * answer declared on it, links that lead somewhere, 405 with Allow, a body without Content-Type.
 */
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiKeyLine, generateApiKey } from '../../api/auth.ts';
import { operationIds } from '../../api/responses.ts';
import type { ApiServer } from '../../api/server.ts';
import { offlineApiServer, servedOpenApiDocument, SNAPSHOT_FILE } from '../../scripts/openapi-snapshot.ts';

type Schema = Record<string, any>;

const UUID = '01936f8e-6c2a-7cc3-9a53-5b8a2f1c9d10';
const writer = generateApiKey();
const reader = generateApiKey();
const keys = { API_KEYS: `${apiKeyLine('writer', writer)},${apiKeyLine('reader', reader, 'read')}` };

/** A request of each operation that passes every check made before the records are read. */
const VALID: Record<string, { path: string; body?: unknown }> = {
  [operationIds.createConfig]: {
    path: '/api/v1/configs',
    body: {
      name: 'documents',
      stages: ['markdown', 'markdown_segmented'],
      routes: [{ name: 'segmenter', input_stage: 'markdown', output_stage: 'markdown_segmented' }],
      entry_route: 'segmenter',
    },
  },
  [operationIds.getConfig]: { path: `/api/v1/configs/${UUID}` },
  [operationIds.createExecution]: { path: '/api/v1/executions', body: { config_id: UUID } },
  [operationIds.listExecutions]: { path: '/api/v1/executions' },
  [operationIds.getExecution]: { path: `/api/v1/executions/${UUID}` },
  [operationIds.listExecutionReplays]: { path: `/api/v1/executions/${UUID}/replays` },
  [operationIds.replayExecution]: {
    path: `/api/v1/executions/${UUID}/replay`,
    body: { replay_source: 'storage', from_stage: 'markdown_segmented', to_route: 'embedding_generator' },
  },
  [operationIds.previewReplay]: {
    path: `/api/v1/executions/${UUID}/replay/preview`,
    body: { replay_source: 'storage', from_stage: 'markdown_segmented', to_route: 'embedding_generator' },
  },
  [operationIds.getReplayPreview]: { path: `/api/v1/replay-previews/${UUID}` },
  [operationIds.resumeExecution]: { path: `/api/v1/executions/${UUID}/resume` },
  [operationIds.cancelExecution]: { path: `/api/v1/executions/${UUID}/cancel` },
  [operationIds.pauseExecution]: { path: `/api/v1/executions/${UUID}/pause` },
  [operationIds.changeExecution]: {
    path: `/api/v1/executions/${UUID}`,
    body: { max_messages_per_second: 100 },
  },
  [operationIds.createBulkReplay]: {
    path: '/api/v1/bulk-replays',
    body: {
      replay: { replay_source: 'storage', from_stage: 'markdown_segmented', to_route: 'embedding_generator' },
      execution_ids: [UUID],
    },
  },
  [operationIds.getBulkReplay]: { path: `/api/v1/bulk-replays/${UUID}` },
  [operationIds.listBulkReplayItems]: { path: `/api/v1/bulk-replays/${UUID}/items` },
  [operationIds.cancelBulkReplay]: { path: `/api/v1/bulk-replays/${UUID}/cancel` },
  [operationIds.pauseBulkReplay]: { path: `/api/v1/bulk-replays/${UUID}/pause` },
  [operationIds.resumeBulkReplay]: { path: `/api/v1/bulk-replays/${UUID}/resume` },
  [operationIds.healthz]: { path: '/healthz' },
  [operationIds.readyz]: { path: '/readyz' },
};

let server: ApiServer;
/** The same api with one write and one read a minute per key. */
let limited: ApiServer;
let document: Schema;

beforeAll(async () => {
  server = offlineApiServer({ ...keys, MAX_BODY_BYTES: '4096', DEPENDENCY_TIMEOUT_MS: '1000' });
  limited = offlineApiServer({ ...keys, RATE_LIMIT_PER_MINUTE: '1', RATE_LIMIT_READ_PER_MINUTE: '1' });
  document = (await (await server.app.request('/openapi.json')).json()) as Schema;
});
afterAll(async () => {
  await server?.close();
  await limited?.close();
});

function operations(): { path: string; method: string; operation: Schema }[] {
  return Object.entries(document.paths as Record<string, Schema>).flatMap(([path, item]) =>
    Object.entries(item).map(([method, operation]) => ({ path, method, operation })),
  );
}

async function send(
  api: ApiServer,
  method: string,
  path: string,
  options: { key?: string; body?: string | Uint8Array; contentType?: string } = {},
) {
  const headers: Record<string, string> = {};
  if (options.key) headers.authorization = `Bearer ${options.key}`;
  if (options.contentType) headers['content-type'] = options.contentType;
  const response = await api.app.request(path, { method: method.toUpperCase(), headers, body: options.body });
  return { status: response.status, headers: response.headers, body: (await response.json()) as Schema };
}

describe('the OpenAPI document', () => {
  it('is the committed snapshot, docs/openapi.json (`npm run openapi` rewrites it)', async () => {
    const snapshot = JSON.parse(await readFile(SNAPSHOT_FILE, 'utf8'));
    const served = JSON.parse(await servedOpenApiDocument());
    expect(served, 'the served /openapi.json drifted from docs/openapi.json: run `npm run openapi`').toEqual(
      snapshot,
    );
  });

  it('declares on each operation every status the api answers it with', async () => {
    expect(Object.keys(VALID).sort()).toEqual(
      operations()
        .map(({ operation }) => operation.operationId)
        .sort(),
    );
    // one write and one read spend the limited api's buckets
    await send(limited, 'get', '/api/v1/executions', { key: writer });
    await send(limited, 'post', `/api/v1/executions/${UUID}/cancel`, { key: writer });
    const deep = `${'['.repeat(40)}${']'.repeat(40)}`;
    const json = 'application/json';

    for (const { path, method, operation } of operations()) {
      const request = VALID[operation.operationId]!;
      const body = request.body === undefined ? undefined : JSON.stringify(request.body);
      const write = method !== 'get';
      const answers = await Promise.all([
        send(server, method, request.path, { key: writer, body, contentType: body && json }),
        send(server, method, request.path, {}),
        send(server, method, request.path, { key: reader, body, contentType: body && json }),
        send(limited, method, request.path, { key: writer, body, contentType: body && json }),
        ...(write
          ? [
              send(server, method, request.path, { key: writer, body: 'x'.repeat(5000), contentType: json }),
              send(server, method, request.path, { key: writer, body: deep, contentType: json }),
              send(server, method, request.path, { key: writer, body: 'x', contentType: 'text/plain' }),
            ]
          : []),
      ]);
      const observed = new Set(answers.map((answer) => String(answer.status)));
      const declared = new Set(Object.keys(operation.responses));
      const what = `${method.toUpperCase()} ${path}: answered ${[...observed]}, declared ${[...declared]}`;
      expect(
        [...observed].filter((status) => !declared.has(status)),
        what,
      ).toEqual([]);
      // and what the middlewares' statuses declare is true of the operation
      const shared = ['401', '403', '413', '415', '429'];
      expect(
        shared.filter((status) => declared.has(status) && !observed.has(status)),
        what,
      ).toEqual([]);
      if (path.startsWith('/api/')) expect(observed.has('503'), what).toBe(true);
    }
  });

  it('links the operations that create executions and configs to those that take their ids', () => {
    const byId = new Map(operations().map((entry) => [entry.operation.operationId, entry.operation]));
    const resolve = (schema: Schema): Schema =>
      schema.$ref ? resolve(document.components.schemas[schema.$ref.split('/').pop()]) : schema;
    const linked = new Set<string>();
    for (const { path, method, operation } of operations()) {
      for (const [status, response] of Object.entries(operation.responses as Record<string, Schema>)) {
        const source = response.content?.['application/json']?.schema;
        for (const [name, link] of Object.entries((response.links ?? {}) as Record<string, Schema>)) {
          const what = `${method.toUpperCase()} ${path} ${status} ${name}`;
          const target = byId.get(link.operationId);
          expect(target, what).toBeDefined();
          linked.add(`${operation.operationId} -> ${link.operationId}`);
          const names = (target!.parameters ?? []).map((parameter: Schema) => parameter.name);
          const bodyFields = Object.keys(
            resolve(target!.requestBody?.content?.['application/json']?.schema ?? {}).properties ?? {},
          );
          const expressions = [
            ...Object.entries(link.parameters ?? {}).map(([key, value]) => [key, value, names] as const),
            ...Object.entries(link.requestBody ?? {}).map(
              ([key, value]) => [key, value, bodyFields] as const,
            ),
          ];
          expect(expressions.length, what).toBeGreaterThan(0);
          for (const [key, expression, accepted] of expressions) {
            expect(accepted, `${what}: ${key}`).toContain(key);
            const field = /^\$response\.body#\/(\w+)$/.exec(String(expression))?.[1];
            expect(Object.keys(resolve(source).properties ?? {}), `${what}: ${expression}`).toContain(field);
          }
        }
      }
    }
    const anyExecution = ['getExecution', 'replayExecution', 'previewReplay', 'cancelExecution'] as const;
    const replayOnly = ['pauseExecution', 'resumeExecution', 'changeExecution'] as const;
    for (const taker of anyExecution) {
      expect(linked).toContain(`${operationIds.createExecution} -> ${operationIds[taker]}`);
    }
    // a normal execution is not a replay: its controls would answer 409, so no link offers them
    for (const taker of replayOnly) {
      expect(linked).not.toContain(`${operationIds.createExecution} -> ${operationIds[taker]}`);
    }
    for (const creator of ['replayExecution', 'pauseExecution', 'changeExecution'] as const) {
      for (const taker of [...anyExecution, ...replayOnly]) {
        expect(linked).toContain(`${operationIds[creator]} -> ${operationIds[taker]}`);
      }
    }
    for (const taker of [
      'getBulkReplay',
      'cancelBulkReplay',
      'pauseBulkReplay',
      'resumeBulkReplay',
    ] as const) {
      for (const creator of ['createBulkReplay', 'pauseBulkReplay'] as const) {
        expect(linked).toContain(`${operationIds[creator]} -> ${operationIds[taker]}`);
      }
    }
    expect(linked).toContain(`${operationIds.previewReplay} -> ${operationIds.getReplayPreview}`);
    expect(linked).toContain(`${operationIds.createConfig} -> ${operationIds.getConfig}`);
    expect(linked).toContain(`${operationIds.createConfig} -> ${operationIds.createExecution}`);
  });
});

describe('a method a path does not have', () => {
  it('is answered 405 with Allow naming the methods it has, in the ErrorResponse shape', async () => {
    const methods = ['get', 'post', 'put', 'patch', 'delete', 'options'];
    const paths: [string, string[]][] = Object.entries(document.paths as Record<string, Schema>).map(
      ([path, item]) => [path, Object.keys(item)],
    );
    paths.push(['/metrics', ['get']], ['/openapi.json', ['get']], ['/docs', ['get']]);
    for (const [template, allowed] of paths) {
      const path = template.replaceAll(/\{\w+\}/g, UUID);
      const expected = [
        ...allowed.map((method) => method.toUpperCase()),
        ...(allowed.includes('get') ? ['HEAD'] : []),
      ];
      for (const method of methods.filter((method) => !allowed.includes(method))) {
        const answer = await send(server, method, path, { key: writer });
        expect(answer.status, `${method} ${path}`).toBe(405);
        expect(answer.headers.get('allow')?.split(', ').sort()).toEqual(expected.sort());
        expect(answer.body).toMatchObject({ error_code: 'METHOD_NOT_ALLOWED', detail: 'Method Not Allowed' });
        expect(Object.keys(answer.body).sort()).toEqual([
          'correlation_id',
          'detail',
          'error_code',
          'timestamp',
        ]);
      }
    }
    expect((await send(server, 'get', '/api/v1/nothing-here', { key: writer })).status).toBe(404);
    expect((await send(server, 'delete', '/api/v1/executions/x/replay/more', { key: writer })).status).toBe(
      404,
    );
  });
});

describe('a body without Content-Type', () => {
  it('is read as JSON, as FastAPI reads it; another Content-Type is still a 415', async () => {
    const encode = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));
    const invalid = await send(server, 'post', '/api/v1/configs', {
      key: writer,
      body: encode({ name: 'x' }),
    });
    expect(invalid.status, JSON.stringify(invalid.body)).toBe(422);
    expect(invalid.body.detail.map((item: Schema) => item.loc.join('.'))).toContain('body.stages');
    const broken = await send(server, 'post', '/api/v1/configs', {
      key: writer,
      body: new TextEncoder().encode('{"name": '),
    });
    expect([broken.status, broken.body.detail?.[0]?.type]).toEqual([422, 'json_invalid']);
    // valid: it reaches the records, which are nowhere here
    const valid = VALID[operationIds.createConfig]!.body;
    expect((await send(server, 'post', '/api/v1/configs', { key: writer, body: encode(valid) })).status).toBe(
      503,
    );
    const text = await send(server, 'post', '/api/v1/configs', {
      key: writer,
      body: JSON.stringify(valid),
      contentType: 'text/plain',
    });
    expect([text.status, text.body.error_code]).toEqual([415, 'UNSUPPORTED_MEDIA_TYPE']);
  });
});
