import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../api/app.ts';
import { apiSettingsFromConfig } from '../api/dependencies.ts';
import { startAdmission } from '../services/start-admission.ts';
import { ServiceError } from '../services/errors.ts';
import { createTestStack, type TestStack } from './support/test-stack.ts';
import { createExecution, registerConfig } from './support/fixtures.ts';

/** Past its capacity the api answers at once, with Retry-After, instead of holding the client. */

let stack: TestStack;
let parentId: string;
const body = JSON.stringify({
  replay_source: 'storage',
  from_stage: 'markdown_segmented',
  to_route: 'embedding_generator',
});

// no worker polls this file's task queue: every start waits until the dependency timeout
beforeAll(async () => {
  stack = await createTestStack();
  parentId = (await createExecution(stack, (await registerConfig(stack)).id)).id;
});
afterAll(async () => stack?.close());

describe('admission of starts', () => {
  it('refuses a start past the limit at once, and admits again once one finished', async () => {
    const admission = startAdmission(1);
    let release!: () => void;
    const first = admission.run(() => new Promise<void>((resolve) => (release = resolve)));
    const refused = await admission.run(async () => 'ran').catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(ServiceError);
    expect(refused).toMatchObject({
      kind: 'unavailable',
      code: 'OVERLOADED',
      options: { retryAfterSeconds: 1 },
    });
    release();
    await first;
    expect(await admission.run(async () => 'ran')).toBe('ran');
  });

  it('a replay past the limit: 503 OVERLOADED with Retry-After while another start waits', async () => {
    const app = createApp({
      pool: stack.pool,
      temporal: stack.temporal,
      objectStore: stack.objectStore,
      routeTransport: stack.routeTransport,
      logger: stack.logger,
      settings: { ...apiSettingsFromConfig(stack.config), dependencyTimeoutMs: 3000, maxStartsInFlight: 1 },
    });
    const post = () =>
      app.request(`/api/v1/executions/${parentId}/replay`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      });
    const waiting = post();
    // the first start is in flight (it waits for a worker that never comes)
    await new Promise((resolve) => setTimeout(resolve, 300));
    const refused = await post();
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(((await refused.json()) as any).error_code).toBe('OVERLOADED');

    const timedOut = await waiting;
    expect(timedOut.status).toBe(503);
    expect(timedOut.headers.get('retry-after')).toBe('5');
    expect(((await timedOut.json()) as any).error_code).toBe('SERVICE_UNAVAILABLE');
  });
});
