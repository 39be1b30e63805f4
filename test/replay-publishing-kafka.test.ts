/**
 * The publishing suite (test/support/publishing-suite.ts) on the `kafka` route transport, over the
 * broker's SASL_SSL listener (SCRAM-SHA-512 and TLS, as managed Kafka asks); the plaintext listener
 * is what route-consumer, route-missing and the dev stack use. And a refused password.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ConfigError, type AppConfig } from '../adapters/config.ts';
import { createApiServer } from '../api/server.ts';
import { createReplayWorker } from '../worker.ts';
import { publishingSuite } from './support/publishing-suite.ts';
import { createTestStack, type TestStack } from './support/test-stack.ts';

publishingSuite('kafka-sasl');

describe('kafka over SASL_SSL: the broker in /readyz, a wrong password refused at start', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await createTestStack({}, { transport: 'kafka-sasl' });
  });
  afterAll(async () => stack?.close());

  it('reports the broker in /readyz', async () => {
    const ready = await stack.app.request('/readyz');
    expect(ready.status).toBe(200);
    expect(((await ready.json()) as any).components.kafka).toEqual({ status: 'ok' });
  });

  it('stops the api and the worker at start naming KAFKA_SASL_PASSWORD, before anything is published', async () => {
    const wrong: AppConfig = { ...stack.config, KAFKA_SASL_PASSWORD: 'not-the-password' };
    const refusal = /^configuration error: KAFKA_SASL_PASSWORD .*refused by the Kafka broker/;
    const api = createApiServer(wrong, { logger: stack.logger });
    await expect(api.start()).rejects.toThrow(ConfigError);
    await expect(api.start()).rejects.toThrow(refusal);
    // its /readyz (public) names the broker, and leaves the cause to the log
    const ready = await api.app.request('/readyz');
    expect(ready.status).toBe(503);
    expect(((await ready.json()) as any).components.kafka.detail).toMatch(
      /^kafka is unavailable; the api's log has the cause under correlation id /,
    );
    await api.close();
    // the worker never polls: no replay step (and so no message) can run on it
    await expect(
      createReplayWorker(wrong, {
        logger: stack.logger,
        workflowBundle: { codePath: inject('stack').workflowBundlePath },
      }),
    ).rejects.toThrow(refusal);
  });
});
