/**
 * A draining api (SIGTERM, api/server.ts drain) is not ready: /readyz answers 503 naming the api
 * itself, before asking any dependency, and every answer closes its connection. Nothing connects here.
 */
import { afterAll, expect, it } from 'vitest';
import { parseConfig } from '../../adapters/config.ts';
import { createApiServer } from '../../api/server.ts';

const api = createApiServer(
  parseConfig({ DATABASE_URL: 'postgres://u@localhost:1/db', S3_BUCKET: 'outputs', LOG_LEVEL: 'silent' }),
  { auth: { required: false, keys: [], publicHealth: true } },
);
afterAll(() => api.close());

it('answers /readyz 503 with component `api` while draining, and closes each connection after its answer', async () => {
  const healthy = await api.app.request('/healthz');
  expect(healthy.headers.get('connection')).toBeNull();

  api.dependencies.drain.draining = true;
  const response = await api.app.request('/readyz');
  expect(response.status).toBe(503);
  expect(await response.json()).toEqual({
    status: 'unavailable',
    components: {
      api: {
        status: 'unavailable',
        detail: 'the api is shutting down; it finishes the requests in flight and exits',
      },
    },
  });
  expect(response.headers.get('connection')).toBe('close');
  expect((await api.app.request('/healthz')).headers.get('connection')).toBe('close');
});

it('takes API_SHUTDOWN_GRACE_SECONDS (default 20) and refuses what is not a positive whole number', () => {
  const minimal = { DATABASE_URL: 'postgres://u@localhost:1/db', S3_BUCKET: 'outputs' };
  expect(parseConfig(minimal).API_SHUTDOWN_GRACE_SECONDS).toBe(20);
  expect(parseConfig({ ...minimal, API_SHUTDOWN_GRACE_SECONDS: '45' }).API_SHUTDOWN_GRACE_SECONDS).toBe(45);
  expect(() => parseConfig({ ...minimal, API_SHUTDOWN_GRACE_SECONDS: '0' })).toThrow(
    /API_SHUTDOWN_GRACE_SECONDS/,
  );
});
