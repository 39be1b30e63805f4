import { apiSettingsFromConfig } from '../api/dependencies.ts';
/**
 * Security and hostile input (README, Security): bearer API keys (401, 403, open endpoints), keys
 * never logged, the api refusing to start without a key, body, depth, size and length limits, the
 * per-key rate limit, and that nothing is written for a refused request. On the real services.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ConfigError, parseConfig, type AppConfig } from '../adapters/config.ts';
import { createPool } from '../adapters/database.ts';
import { createLogger } from '../adapters/logger.ts';
import { runMigrations } from '../adapters/migrate.ts';
import { PgBossTransport } from '../adapters/transports/pgboss.ts';
import { PgBossRouteReader } from '../adapters/transports/pgboss-reader.ts';
import { createApp, type App } from '../api/app.ts';
import {
  apiKeyLine,
  apiKeysFromFile,
  AUTH_REALM,
  generateApiKey,
  hashApiKey,
  loadApiAuth,
  type ApiAuthOptions,
} from '../api/auth.ts';
import { TokenBuckets, type ApiLimits } from '../api/limits.ts';
import { createReplayWorker } from '../worker.ts';
import {
  createExecution,
  registerConfig,
  requestJson,
  seedOutputs,
  waitForExecution,
} from './support/fixtures.ts';
import { createTestStack, type TestStack } from './support/test-stack.ts';

const ERROR_KEYS = ['correlation_id', 'detail', 'error_code', 'timestamp'];
const root = new URL('..', import.meta.url).pathname;

let stack: TestStack;
let keysDir: string;
const writerKey = generateApiKey();
const readerKey = generateApiKey();
let configId: string;
let parentId: string;
const valid = { replay_source: 'storage', from_stage: 'markdown_segmented', to_route: 'embedding_generator' };

beforeAll(async () => {
  // more keys from API_KEYS_FILE, beside the stack's own in API_KEYS
  keysDir = await mkdtemp(path.join(tmpdir(), 'replay-keys-'));
  const keysFile = path.join(keysDir, 'api-keys');
  await writeFile(
    keysFile,
    [
      '# keys of the security test',
      apiKeyLine('writer', writerKey),
      '',
      `${apiKeyLine('reader', readerKey, 'read')}   # GET only`,
    ].join('\n'),
  );
  stack = await createTestStack({ API_KEYS_FILE: keysFile, REPLAY_PAGE_SIZE: '10' });
  await stack.startWorker();
  configId = (await registerConfig(stack)).id;
  parentId = (await createExecution(stack, configId, { tag: 'security-parent' })).id;
  await seedOutputs(stack, parentId, 'markdown_segmented', 2);
});

afterAll(async () => {
  await stack?.close();
  if (keysDir) await rm(keysDir, { recursive: true, force: true });
});

/** Waits until no replay of this file is still publishing (their messages would change the counts). */
async function settled(): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const { rows } = await stack.pool.query(
      "SELECT count(*)::int AS n FROM executions WHERE status = 'running' AND parent_execution_id IS NOT NULL",
    );
    if (rows[0].n === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('replays still running after 60 s');
}

async function counts(): Promise<{ executions: number; jobs: number; configs: number }> {
  const { rows } = await stack.pool.query(
    `SELECT (SELECT count(*)::int FROM executions) AS executions,
            (SELECT count(*)::int FROM pipeline_configs) AS configs,
            (SELECT count(*)::int FROM ${stack.config.PGBOSS_SCHEMA}.job) AS jobs`,
  );
  return rows[0];
}

function bearer(key: string) {
  return { authorization: `Bearer ${key}` };
}

/** An ErrorResponse with this status and code, its correlation id echoed, and nothing written. */
async function expectRefused(
  send: () => Promise<{ status: number; body: any; headers: Headers }>,
  status: number,
  errorCode: string,
) {
  await settled();
  const before = await counts();
  const response = await send();
  expect(response.status, JSON.stringify(response.body)).toBe(status);
  expect(Object.keys(response.body).sort()).toEqual(ERROR_KEYS);
  expect(response.body.error_code).toBe(errorCode);
  expect(response.body.correlation_id).toBe(response.headers.get('x-correlation-id'));
  expect(await counts()).toEqual(before);
  return response;
}

/** A FastAPI 422 with an entry at loc, and nothing written. */
async function expect422(
  send: () => Promise<{ status: number; body: any }>,
  loc: (string | number)[],
  type?: string,
) {
  await settled();
  const before = await counts();
  const response = await send();
  expect(response.status, JSON.stringify(response.body).slice(0, 500)).toBe(422);
  expect(Object.keys(response.body)).toEqual(['detail']);
  const entry = response.body.detail.find((item: any) => JSON.stringify(item.loc) === JSON.stringify(loc));
  expect(entry, JSON.stringify(response.body).slice(0, 500)).toBeDefined();
  if (type) expect(entry.type).toBe(type);
  expect(await counts()).toEqual(before);
  return entry;
}

const replay = (body: unknown, headers: Record<string, string> = {}) =>
  requestJson(stack, 'POST', `/api/v1/executions/${parentId}/replay`, body, headers);

describe('bearer API keys', () => {
  it('refuses a request without a key: 401, WWW-Authenticate, ErrorResponse UNAUTHORIZED', async () => {
    const response = await expectRefused(() => replay(valid, { authorization: '' }), 401, 'UNAUTHORIZED');
    expect(response.headers.get('www-authenticate')).toBe(`Bearer realm="${AUTH_REALM}"`);
    for (const [method, route] of [
      ['GET', '/api/v1/executions'],
      ['GET', `/api/v1/executions/${parentId}`],
      ['GET', `/api/v1/configs/${configId}`],
      ['POST', '/api/v1/configs'],
      ['POST', '/api/v1/executions'],
      ['POST', `/api/v1/executions/${parentId}/cancel`],
      ['POST', `/api/v1/executions/${parentId}/resume`],
      // unknown paths too: closed by default, so a route added later is never open by mistake
      ['GET', '/api/v2/anything'],
      ['GET', '/nope'],
    ] as const) {
      const refused = await requestJson(stack, method, route, undefined, { authorization: '' });
      expect(refused.status, `${method} ${route}`).toBe(401);
    }
  });

  it.each([
    ['another scheme', 'Basic dXNlcjpwYXNz', false],
    ['an empty bearer', 'Bearer ', false],
    ['an unknown key', `Bearer ${generateApiKey()}`, true],
    ['the hash instead of the key', 'HASH', true],
    ['characters no key has', 'Bearer er_abc$%^', true],
    ['a very long token', `Bearer ${'a'.repeat(5000)}`, true],
  ])('refuses %s with 401', async (_name, header, invalidToken) => {
    const authorization = header === 'HASH' ? `Bearer ${hashApiKey(writerKey)}` : header;
    const response = await expectRefused(() => replay(valid, { authorization }), 401, 'UNAUTHORIZED');
    expect(response.headers.get('www-authenticate')).toBe(
      invalidToken ? `Bearer realm="${AUTH_REALM}", error="invalid_token"` : `Bearer realm="${AUTH_REALM}"`,
    );
  });

  it('accepts each configured key, from API_KEYS and API_KEYS_FILE, with any case of "Bearer"', async () => {
    for (const headers of [
      stack.authHeaders,
      bearer(writerKey),
      bearer(readerKey),
      { authorization: `bearer ${writerKey}` },
    ]) {
      const response = await requestJson(stack, 'GET', '/api/v1/executions?limit=1', undefined, headers);
      expect(response.status).toBe(200);
    }
    const unknown = await requestJson(stack, 'GET', '/nope', undefined, bearer(writerKey));
    expect(unknown.status).toBe(404);
  });

  it('a read-only key may GET but gets 403 FORBIDDEN on a POST, and nothing is written', async () => {
    const read = await requestJson(
      stack,
      'GET',
      `/api/v1/executions/${parentId}`,
      undefined,
      bearer(readerKey),
    );
    expect(read.status).toBe(200);
    const refused = await expectRefused(() => replay(valid, bearer(readerKey)), 403, 'FORBIDDEN');
    expect(refused.headers.get('www-authenticate')).toContain('error="insufficient_scope"');
    await expectRefused(
      () => requestJson(stack, 'POST', '/api/v1/configs', { name: 'x' }, bearer(readerKey)),
      403,
      'FORBIDDEN',
    );
    await expectRefused(
      () => requestJson(stack, 'POST', `/api/v1/executions/${parentId}/cancel`, undefined, bearer(readerKey)),
      403,
      'FORBIDDEN',
    );
    const written = await replay({ ...valid, tag: 'security-writer' }, bearer(writerKey));
    expect(written.status, JSON.stringify(written.body)).toBe(200);
  });

  it('leaves /healthz, /readyz, /metrics, /openapi.json and /docs open, and documents the scheme', async () => {
    for (const route of ['/healthz', '/readyz', '/metrics', '/openapi.json', '/docs']) {
      const response = await stack.app.request(route);
      expect(response.status, route).toBe(200);
    }
    const document: any = await (await stack.app.request('/openapi.json')).json();
    expect(document.components.securitySchemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(document.security).toEqual([{ bearerAuth: [] }]);
    expect(document.paths['/healthz'].get.security).toEqual([]);
    expect(document.paths['/api/v1/configs'].post.security).toBeUndefined();
    for (const name of ['Unauthorized', 'Forbidden', 'PayloadTooLarge', 'RateLimited']) {
      expect(document.components.responses[name].content['application/json'].schema).toEqual({
        $ref: '#/components/schemas/ErrorResponse',
      });
    }
  });

  it('serves /docs from its own origin only: every asset the page names, without a key, under a CSP', async () => {
    const page = await stack.app.request('/docs');
    expect(page.status).toBe(200);
    const csp = page.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toMatch(/script-src[^;]*(unsafe-inline|https?:)/);
    const html = await page.text();
    // no CDN, no inline script: nothing the page loads comes from elsewhere or escapes the policy
    expect(html).not.toMatch(/https?:\/\/|src="\/\//);
    expect(html).not.toMatch(/<script>|<script(?![^>]*\ssrc=)[^>]*>/);
    const assets = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((match) => match[1]!);
    expect(assets.length).toBeGreaterThanOrEqual(4);
    const types: Record<string, RegExp> = { js: /^text\/javascript/, css: /^text\/css/, png: /^image\/png/ };
    for (const asset of assets) {
      expect(asset, asset).toMatch(/^\/docs\/assets\/[\w.-]+$/);
      const response = await stack.app.request(asset);
      expect(response.status, asset).toBe(200);
      expect(response.headers.get('content-type'), asset).toMatch(types[asset.split('.').pop()!]!);
      expect((await response.arrayBuffer()).byteLength, asset).toBeGreaterThan(0);
    }
    const init = await (await stack.app.request(assets.find((asset) => asset.endsWith('init.js'))!)).text();
    expect(init).toContain("url: '/openapi.json'");
    const bundle = await (await stack.app.request('/docs/assets/swagger-ui-bundle.js')).text();
    expect(bundle).toContain('SwaggerUIBundle');
  });

  it('closes the health endpoints with PUBLIC_HEALTH_ENDPOINTS=false, never the documentation', async () => {
    const closed = appWith({ ...stack.auth, publicHealth: false });
    for (const route of ['/healthz', '/readyz', '/metrics']) {
      const refused = await closed.request(route);
      expect(refused.status, route).toBe(401);
      expect(refused.headers.get('www-authenticate')).toBe(`Bearer realm="${AUTH_REALM}"`);
      expect((await closed.request(route, { headers: bearer(readerKey) })).status, route).toBe(200);
    }
    for (const route of ['/openapi.json', '/docs']) expect((await closed.request(route)).status).toBe(200);
    const document: any = await (await closed.request('/openapi.json')).json();
    expect(document.paths['/healthz'].get.security).toBeUndefined();
    expect(parseConfig({ ...minimalEnv, PUBLIC_HEALTH_ENDPOINTS: 'false' }).PUBLIC_HEALTH_ENDPOINTS).toBe(
      false,
    );
  });

  it('never logs a key, on success or refusal; the key name is on the request line', async () => {
    const lines: string[] = [];
    const logger = createLogger('trace', { test: 'security' });
    // the logger exactly as the api makes it (adapters/logger.ts), its output captured
    (logger as any)[pino.symbols.streamSym] = { write: (line: string) => lines.push(line) };
    const app = appWith(stack.auth, logger);
    const unknownKey = generateApiKey();
    const send = (headers: Record<string, string>, body: unknown = valid) =>
      app.request(`/api/v1/executions/${parentId}/replay`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify(body),
      });
    expect((await send(bearer(writerKey), { ...valid, to_route: 'nope' })).status).toBe(400);
    expect((await send(bearer(readerKey))).status).toBe(403);
    expect((await send(bearer(unknownKey))).status).toBe(401);
    expect((await send({ authorization: writerKey })).status).toBe(401);
    expect((await send({ ...bearer(writerKey), 'x-correlation-id': 'sec-1' }, [1])).status).toBe(422);
    // were a handler to log the request's headers the way pino's serializers do, they are removed
    logger.info({ req: { headers: { authorization: `Bearer ${writerKey}` } } }, 'request with headers');

    const output = lines.join('');
    expect(lines.length).toBeGreaterThan(5);
    for (const key of [writerKey, readerKey, unknownKey, stack.apiKey]) {
      expect(output).not.toContain(key);
      expect(output).not.toContain(key.slice(3, 20));
    }
    const requestLines = lines.map((line) => JSON.parse(line)).filter((line) => line.msg === 'request');
    expect(requestLines.map((line) => [line.status, line.api_key])).toEqual([
      [400, 'writer'],
      [403, 'reader'],
      [401, undefined],
      [401, undefined],
      [422, 'writer'],
    ]);
  });
});

describe('configuration of keys', () => {
  it('reads API_KEYS and API_KEYS_FILE entries: name, hash, scope, comments; refuses bad ones by line', () => {
    const hash = hashApiKey('er_example');
    expect(apiKeysFromFile(`# comment\n\nci:${hash}:read # the CI\n${hash.toUpperCase()}\n`)).toEqual([
      { line: 3, entry: { name: 'ci', hash, scope: 'read' } },
      { line: 4, entry: { name: `key-${hash.slice(0, 8)}`, hash, scope: 'write' } },
    ]);
    const read = (text: string) => () => loadApiAuth({ ...keysConfig(), API_KEYS_FILE: '/keys' }, () => text);
    expect(read(`ok:${hash}\nbad:${hash.slice(1)}`)).toThrow('API_KEYS_FILE line 2');
    expect(read(`a:${hash}\nb:${hash}`)).toThrow('configured twice');
    expect(() => loadApiAuth({ ...keysConfig(), API_KEYS_FILE: '/no/such/file' })).toThrow(
      'API_KEYS_FILE cannot be read (ENOENT)',
    );
  });

  it('refuses a key pasted where its hash belongs, without repeating it', () => {
    const key = generateApiKey();
    for (const API_KEYS of [key, `ci:${key}`, `ci:${hashApiKey(key)},${key}`]) {
      let message = '';
      try {
        parseConfig({ ...minimalEnv, API_KEYS });
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigError);
        message = (error as Error).message;
      }
      expect(message).toMatch(/^configuration error: API_KEYS entry \d is an API key, not its hash/);
      expect(message).not.toContain(key);
    }
  });

  it('without a key and with AUTH_REQUIRED, the api refuses to start: one line naming API_KEYS, exit 2', () => {
    expect(() => loadApiAuth(keysConfig())).toThrow(ConfigError);
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'api/main.ts'], {
      cwd: root,
      env: { PATH: process.env.PATH, ...minimalEnv },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(run.status).toBe(2);
    const lines = run.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^configuration error: API_KEYS is required when AUTH_REQUIRED is true/);
    expect(loadApiAuth({ ...keysConfig(), AUTH_REQUIRED: false }).required).toBe(false);
  });

  it('`npm run api-key` prints a new key once and the name:sha256 line to configure', () => {
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/api-key.ts', 'ci-bot', '--read'], {
      cwd: root,
      env: { PATH: process.env.PATH },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(run.status, run.stderr).toBe(0);
    const keys = run.stdout.match(/er_[A-Za-z0-9_-]{43}\b/g) ?? [];
    expect(keys).toHaveLength(1);
    const key = keys[0]!;
    const sha = createHash('sha256').update(key).digest('hex');
    expect(run.stdout).toContain(`ci-bot:${sha}:read`);
    expect(Buffer.from(key.slice(3), 'base64url')).toHaveLength(32);
  });
});

describe('api/main.ts, served', () => {
  let child: ChildProcess | undefined;
  let output = '';
  afterAll(() => {
    if (child?.exitCode === null) child.kill('SIGTERM');
  });

  async function startApi(env: Record<string, string>): Promise<string> {
    const started = spawn(process.execPath, ['--import', 'tsx', 'api/main.ts'], {
      cwd: root,
      env: {
        PATH: process.env.PATH,
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
        TEMPORAL_ADDRESS: stack.config.TEMPORAL_ADDRESS,
        DATABASE_URL: stack.config.DATABASE_URL,
        DATABASE_SCHEMA: stack.config.DATABASE_SCHEMA,
        PGBOSS_SCHEMA: stack.config.PGBOSS_SCHEMA,
        S3_ENDPOINT: stack.config.S3_ENDPOINT!,
        S3_BUCKET: stack.config.S3_BUCKET,
        S3_ACCESS_KEY_ID: stack.config.S3_ACCESS_KEY_ID!,
        S3_SECRET_ACCESS_KEY: stack.config.S3_SECRET_ACCESS_KEY!,
        API_HOST: '127.0.0.1',
        API_PORT: '0',
        LOG_LEVEL: 'info',
        ...env,
      },
    });
    child = started;
    output = '';
    started.stdout!.on('data', (chunk) => (output += chunk));
    started.stderr!.on('data', (chunk) => (output += chunk));
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      const listening = output
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line))
        .find((line) => line.msg === 'api listening');
      if (listening) return String(listening.url);
      if (started.exitCode !== null) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`api did not start: ${output}`);
  }

  async function stopApi() {
    const running = child!;
    const exited = new Promise((resolve) => running.once('exit', resolve));
    running.kill('SIGTERM');
    await exited;
  }

  it('serves with the configured keys: 401 without, 200 with, health open; names the keys, never them', async () => {
    const url = await startApi({ API_KEYS: apiKeyLine('served', writerKey) });
    expect((await fetch(`${url}/api/v1/executions`)).status).toBe(401);
    const listed = await fetch(`${url}/api/v1/executions?limit=1`, { headers: bearer(writerKey) });
    expect(listed.status).toBe(200);
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    await stopApi();
    expect(output).toContain('"api_keys":["served (write)"]');
    expect(output).not.toContain(writerKey);
  });

  it('AUTH_REQUIRED=false starts without a key, with a warning', async () => {
    const url = await startApi({ AUTH_REQUIRED: 'false' });
    expect((await fetch(`${url}/api/v1/executions?limit=1`)).status).toBe(200);
    await stopApi();
    const warning = output
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line))
      .find((line) => line.level === 40);
    expect(warning?.msg).toMatch(/^AUTH_REQUIRED=false: .*local development only/);
  });
});

describe('limits on what one request may cost', () => {
  it('refuses a body over MAX_BODY_BYTES with 413 PAYLOAD_TOO_LARGE, with or without Content-Length', async () => {
    const big = JSON.stringify({ ...valid, metadata: { blob: 'x'.repeat(stack.limits.maxBodyBytes) } });
    await expectRefused(() => replay(big), 413, 'PAYLOAD_TOO_LARGE');
    await expectRefused(
      () => replay(big, { 'content-length': String(Buffer.byteLength(big)) }),
      413,
      'PAYLOAD_TOO_LARGE',
    );
    const streamed = async () => {
      const bytes = new TextEncoder().encode(big);
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          for (let offset = 0; offset < bytes.length; offset += 64 * 1024)
            controller.enqueue(bytes.subarray(offset, offset + 64 * 1024));
          controller.close();
        },
      });
      const response = await stack.app.request(`/api/v1/executions/${parentId}/replay`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...stack.authHeaders },
        body,
        duplex: 'half',
      } as RequestInit);
      return { status: response.status, body: await response.json(), headers: response.headers };
    };
    await expectRefused(streamed, 413, 'PAYLOAD_TOO_LARGE');
    expect(parseConfig({ ...minimalEnv, MAX_BODY_BYTES: '2048' }).MAX_BODY_BYTES).toBe(2048);
  });

  it('metadata: at most 8 levels deep and 16 KiB, else 422 at ["body","metadata"]', async () => {
    const nested = (levels: number): Record<string, unknown> => {
      let value: Record<string, unknown> = { leaf: true };
      for (let level = 1; level < levels; level += 1) value = { level: value };
      return value;
    };
    await expect422(() => replay({ ...valid, metadata: nested(9) }), ['body', 'metadata'], 'value_error');
    await expect422(
      () => requestJson(stack, 'POST', '/api/v1/executions', { config_id: configId, metadata: nested(9) }),
      ['body', 'metadata'],
    );
    await expect422(() => replay({ ...valid, metadata: { list: [[[[[[[[1]]]]]]]] } }), ['body', 'metadata']);
    await expect422(
      () => replay({ ...valid, metadata: { text: 'x'.repeat(16 * 1024) } }),
      ['body', 'metadata'],
      'value_error',
    );
    const deepest = await replay({ ...valid, metadata: nested(8) });
    expect(deepest.status, JSON.stringify(deepest.body)).toBe(200);
    const largest = await replay({ ...valid, metadata: { text: 'x'.repeat(16 * 1024 - 20) } });
    expect(largest.status, JSON.stringify(largest.body)).toBe(200);
  });

  it('a JSON body nested thousands of levels deep is a 422, not a 500, wherever the nesting is', async () => {
    const deep = (levels: number) => '['.repeat(levels) + ']'.repeat(levels);
    for (const body of [
      `{"replay_source":"storage","from_stage":"markdown_segmented","to_route":"embedding_generator","tag":${deep(20_000)}}`,
      `{"replay_source":"storage","from_stage":"markdown_segmented","to_route":"embedding_generator","ignored":${deep(20_000)}}`,
      deep(100_000),
    ]) {
      await expect422(() => replay(body), ['body'], 'value_error');
    }
  });

  it.each([
    [{ tag: 't'.repeat(129) }, ['body', 'tag'], 'string_too_long'],
    [{ tag: 'has space' }, ['body', 'tag'], 'string_pattern_mismatch'],
    [{ tag: '-leading-dash' }, ['body', 'tag'], 'string_pattern_mismatch'],
    [{ tag: 'tag/with/slash' }, ['body', 'tag'], 'string_pattern_mismatch'],
    [{ tag: '' }, ['body', 'tag'], 'string_too_short'],
    [{ to_route: 'r'.repeat(201) }, ['body', 'to_route'], 'string_too_long'],
    [{ from_stage: 's'.repeat(201) }, ['body', 'from_stage'], 'string_too_long'],
  ])('replay %j -> 422 at %j', async (change, loc, type) => {
    await expect422(() => replay({ ...valid, ...change }), loc, type);
  });

  it('tags of 128 characters of the allowed set are accepted; the same rules on POST /executions', async () => {
    const tag = `A1_.:-${'x'.repeat(122)}`;
    const accepted = await replay({ ...valid, tag });
    expect(accepted.status, JSON.stringify(accepted.body)).toBe(200);
    expect((await requestJson(stack, 'GET', `/api/v1/executions/${tag}`)).body.tag).toBe(tag);
    await expect422(
      () => requestJson(stack, 'POST', '/api/v1/executions', { config_id: configId, tag: 'no spaces' }),
      ['body', 'tag'],
      'string_pattern_mismatch',
    );
    // a filter: a tag no execution can hold finds none (Schemathesis: documented as any string)
    for (const [query, found] of [
      [tag, 1],
      ['a%00b', 0],
      ['%ED%A0%80x', 0],
    ] as const) {
      const listed = await requestJson(stack, 'GET', `/api/v1/executions?tag=${query}`);
      expect(listed.status, JSON.stringify(listed.body)).toBe(200);
      expect(listed.body.items.length).toBe(found);
    }
  });

  it('from_path over 1024 characters or with an encoded traversal is 400, and limit over 200 is 422', async () => {
    await expectRefused(() => replay({ ...valid, from_path: 'a'.repeat(1025) }), 400, 'INVALID_FROM_PATH');
    await expectRefused(() => replay({ ...valid, from_path: '%2e%2e/%zz' }), 400, 'INVALID_FROM_PATH');
    await expectRefused(
      () => replay({ ...valid, from_path: '..\uff05\uff12\uff46x' }),
      400,
      'INVALID_FROM_PATH',
    );
    await expect422(() => requestJson(stack, 'GET', '/api/v1/executions?limit=201'), ['query', 'limit']);
  });
});

describe('rate limit per key', () => {
  it('answers 429 RATE_LIMITED with Retry-After past RATE_LIMIT_PER_MINUTE writes, per key; reads have their own', async () => {
    const app = appWith(stack.auth, stack.logger, { writesPerMinute: 3, readsPerMinute: 5 });
    const post = (key: string) =>
      app.request('/api/v1/configs', {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...bearer(key) },
        body: JSON.stringify({
          name: 'rate',
          stages: ['a'],
          routes: [{ name: 'r', input_stage: 'a', output_stage: null }],
          entry_route: 'r',
        }),
      });
    for (let index = 0; index < 3; index += 1) expect((await post(writerKey)).status).toBe(201);
    await settled();
    const before = await counts();
    const limited = await post(writerKey);
    expect(limited.status).toBe(429);
    const body: any = await limited.json();
    expect(Object.keys(body).sort()).toEqual(ERROR_KEYS);
    expect(body.error_code).toBe('RATE_LIMITED');
    const retryAfter = Number(limited.headers.get('retry-after'));
    expect(Number.isInteger(retryAfter)).toBe(true);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(await counts()).toEqual(before);
    // another key has its own bucket; reads have theirs
    expect((await post(stack.apiKey)).status).toBe(201);
    for (let index = 0; index < 5; index += 1) {
      expect((await app.request('/api/v1/executions?limit=1', { headers: bearer(writerKey) })).status).toBe(
        200,
      );
    }
    expect((await app.request('/api/v1/executions?limit=1', { headers: bearer(writerKey) })).status).toBe(
      429,
    );
    // the health endpoints are never limited
    for (let index = 0; index < 10; index += 1) expect((await app.request('/healthz')).status).toBe(200);
    expect(parseConfig({ ...minimalEnv, RATE_LIMIT_PER_MINUTE: '7' }).RATE_LIMIT_PER_MINUTE).toBe(7);
    expect(parseConfig(minimalEnv).RATE_LIMIT_PER_MINUTE).toBe(600);
  });

  it('token buckets refill at the rate per minute and say when the next token comes', () => {
    let now = 0;
    const buckets = new TokenBuckets(60, () => now);
    for (let index = 0; index < 60; index += 1) expect(buckets.take('k')).toBe(0);
    expect(buckets.take('k')).toBe(1);
    expect(buckets.take('other')).toBe(0);
    now += 999;
    expect(buckets.take('k')).toBe(1);
    now += 1;
    expect(buckets.take('k')).toBe(0);
    now += 10 * 60_000;
    for (let index = 0; index < 60; index += 1) expect(buckets.take('k')).toBe(0);
    expect(buckets.take('k')).toBe(1);
    const slow = new TokenBuckets(2, () => now);
    slow.take('k');
    slow.take('k');
    expect(slow.take('k')).toBe(30);
  });
});

describe('docs/least-privilege.sql', () => {
  /** The file's two parts (psql's `\if :{?setup}`), with psql's :"identifier" and :'literal' variables. */
  function leastPrivilegeSql(variables: Record<string, string>): { setup: string; grants: string } {
    const text = readFileSync(path.join(root, 'docs/least-privilege.sql'), 'utf8');
    const substituted = text.replace(
      /:"(\w+)"|:'(\w+)'/g,
      (_match, identifier?: string, literal?: string) => {
        const value = variables[(identifier ?? literal)!];
        if (value === undefined) throw new Error(`no value for ${identifier ?? literal}`);
        return identifier ? `"${value.replaceAll('"', '""')}"` : `'${value.replaceAll("'", "''")}'`;
      },
    );
    const match = /^\\if :\{\?setup\}$([\s\S]*)^\\else$([\s\S]*)^\\endif$/m.exec(substituted);
    if (!match) throw new Error('docs/least-privilege.sql: no \\if :{?setup} … \\else … \\endif');
    return { setup: match[1]!, grants: match[2]! };
  }

  it('lets the api and the worker run a replay as the app role, which can change no schema', async (context) => {
    const admin = new pg.Client({ connectionString: stack.config.DATABASE_URL });
    await admin.connect();
    const { rows } = await admin.query(
      'SELECT rolsuper OR rolcreaterole AS can FROM pg_roles WHERE rolname = current_user',
    );
    if (!rows[0]?.can) {
      await admin.end();
      context.skip();
    }
    const suffix = randomBytes(3).toString('hex');
    const url = new URL(stack.config.DATABASE_URL);
    const names = {
      database: decodeURIComponent(url.pathname.slice(1)),
      owner_role: `er_owner_${suffix}`,
      owner_password: `owner-${suffix}`,
      app_role: `er_app_${suffix}`,
      app_password: `app-${suffix}`,
      app_schema: `lp_${suffix}`,
      queue_schema: `lp_${suffix}_queue`,
    };
    const urlOf = (user: string, password: string) => {
      const copy = new URL(url);
      copy.username = user;
      copy.password = password;
      return copy.toString();
    };
    const { setup, grants } = leastPrivilegeSql(names);
    const cleanups: (() => Promise<unknown>)[] = [];
    try {
      await admin.query(setup);
      await runMigrations({
        databaseUrl: urlOf(names.owner_role, names.owner_password),
        schema: names.app_schema,
        queueSchema: names.queue_schema,
      });
      const owner = new pg.Client({ connectionString: urlOf(names.owner_role, names.owner_password) });
      await owner.connect();
      await owner.query(grants);
      await owner.query(grants); // again: after every migration, idempotent
      await owner.end();

      // the api and a worker, both as the app role
      const config: AppConfig = {
        ...stack.config,
        DATABASE_URL: urlOf(names.app_role, names.app_password),
        DATABASE_SCHEMA: names.app_schema,
        PGBOSS_SCHEMA: names.queue_schema,
        TEMPORAL_TASK_QUEUE: `least-privilege-${suffix}`,
        // several pages, so every page statement runs as the app role
        REPLAY_PAGE_SIZE: 2,
        REPLAY_PAGES_PER_RUN: 2,
      };
      const pool = createPool({
        url: config.DATABASE_URL,
        schema: config.DATABASE_SCHEMA,
        poolMax: 4,
        queryTimeoutMs: 10_000,
        applicationName: 'least-privilege-test',
      });
      cleanups.push(() => pool.end());
      const routeTransport = new PgBossTransport(pool, config.PGBOSS_SCHEMA, '{route}');
      await routeTransport.start();
      cleanups.push(() => routeTransport.close());
      const routeReader = new PgBossRouteReader(pool, config.PGBOSS_SCHEMA, '{route}', stack.logger);
      const worker = await createReplayWorker(config, {
        logger: stack.logger,
        identity: `least-privilege-${suffix}`,
        workflowBundle: { codePath: inject('stack').workflowBundlePath },
      });
      const running = worker.run();
      cleanups.unshift(async () => {
        worker.shutdown();
        await running.catch(() => {});
      });
      const app = createApp({
        pool,
        temporal: stack.temporal,
        objectStore: stack.objectStore,
        routeTransport,
        logger: stack.logger,
        auth: stack.auth,
        limits: stack.limits,
        settings: apiSettingsFromConfig(config, { dependencyTimeoutMs: 10_000 }),
      });
      const local: TestStack = { ...stack, app, pool, routeTransport, routeReader, config };

      const config_id = (await registerConfig(local)).id;
      const parent = await createExecution(local, config_id, { tag: `lp-parent-${suffix}` });
      await seedOutputs(local, parent.id, 'markdown_segmented', 5);
      const started = await requestJson(
        local,
        'POST',
        `/api/v1/executions/${parent.id}/replay`,
        { ...valid, tag: `lp-replay-${suffix}` },
        { 'Idempotency-Key': `lp-${suffix}` },
      );
      expect(started.status, JSON.stringify(started.body)).toBe(200);
      const done = await waitForExecution(local, started.body.id, (record) => record.status !== 'running');
      expect(done.status, done.error ?? '').toBe('completed');
      expect(await routeReader.messagesOf('embedding_generator', started.body.id)).toHaveLength(5);
      const cancelled = await requestJson(local, 'POST', `/api/v1/executions/${parent.id}/cancel`);
      expect(cancelled.status, JSON.stringify(cancelled.body)).toBe(200);

      const app_schema = `"${names.app_schema}"`;
      const queue = `"${names.queue_schema}"`;
      for (const statement of [
        `CREATE TABLE ${app_schema}.intruder (id int)`,
        `CREATE TABLE ${queue}.intruder (id int)`,
        `DROP TABLE ${app_schema}.executions`,
        `ALTER TABLE ${app_schema}.executions ADD COLUMN intruder int`,
        `TRUNCATE ${app_schema}.executions`,
        `DELETE FROM ${app_schema}.executions`,
        `UPDATE ${app_schema}.pipeline_configs SET name = 'intruder'`,
        `SELECT * FROM ${app_schema}.schema_migrations`,
        `SELECT ${queue}.delete_queue('embedding_generator')`,
        `CREATE SCHEMA intruder_${suffix}`,
      ]) {
        await expect(pool.query(statement), statement).rejects.toMatchObject({ code: '42501' });
      }
    } finally {
      for (const cleanup of cleanups) await cleanup().catch(() => {});
      await admin.query(`DROP SCHEMA IF EXISTS "${names.app_schema}", "${names.queue_schema}" CASCADE`);
      for (const role of [names.app_role, names.owner_role]) {
        await admin.query(`DROP OWNED BY "${role}" CASCADE`).catch(() => {});
        await admin.query(`DROP ROLE IF EXISTS "${role}"`);
      }
      await admin.end();
    }
  });
});

const minimalEnv = { DATABASE_URL: 'postgres://u:p@localhost:5432/db', S3_BUCKET: 'outputs' };

function keysConfig() {
  const config = parseConfig(minimalEnv);
  return { ...config, API_KEYS: undefined, API_KEYS_FILE: undefined };
}

/** Another app on this file's services, with other auth or limits. */
function appWith(
  auth: ApiAuthOptions,
  logger = stack.logger,
  limits: Partial<ApiLimits> = stack.limits,
): App {
  return createApp({
    pool: stack.pool,
    temporal: stack.temporal,
    objectStore: stack.objectStore,
    routeTransport: stack.routeTransport,
    logger,
    auth,
    limits,
    settings: apiSettingsFromConfig(stack.config, { dependencyTimeoutMs: 10_000 }),
  });
}
