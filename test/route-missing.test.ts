/**
 * startRoutes where the deployment does not let the service create topics or queues
 * (KAFKA_CREATE_TOPICS=false, SQS_CREATE_QUEUES=false): the replay is refused (503) with a clear
 * error naming the missing one, and writes nothing; once an operator created it, the replay goes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../adapters/config.ts';
import { createRouteTransport, RouteMissingError, type RouteTransport } from '../adapters/route-transport.ts';
import { createTestStack, type TestStack } from './support/test-stack.ts';
import {
  DOCUMENTS_PIPELINE,
  createExecution,
  registerConfig,
  requestJson,
  seedOutputs,
  waitForExecution,
} from './support/fixtures.ts';

describe('Kafka topics that the service may not create', () => {
  let stack: TestStack;
  /** What an operator uses to create topics (the service's own transport with creating allowed). */
  let operator: RouteTransport;

  beforeAll(async () => {
    stack = await createTestStack(
      { KAFKA_CREATE_TOPICS: 'false', REPLAY_STEP_MAX_ATTEMPTS: '2' },
      { transport: 'kafka' },
    );
    await stack.startWorker();
    operator = createRouteTransport(
      parseConfig({ ...envOf(stack), KAFKA_CREATE_TOPICS: 'true' }),
      stack.pool,
      stack.logger,
    );
  });
  afterAll(async () => {
    await operator?.close();
    await stack?.close();
  });

  function envOf(test: TestStack): Record<string, string> {
    return Object.fromEntries(
      Object.entries(test.config)
        .filter(([, value]) => value !== undefined)
        .map(([name, value]) => [name, Array.isArray(value) ? value.join(',') : String(value)]),
    );
  }

  it('refuses a replay naming the missing topic; once it exists the replay goes', async () => {
    const template = stack.config.ROUTE_NAME_TEMPLATE;
    await expect(stack.routeTransport.ensureRoute('nowhere')).rejects.toThrow(RouteMissingError);
    await expect(stack.routeTransport.ensureRoute('nowhere')).rejects.toThrow(
      `Kafka topic '${template.replace('{route}', 'nowhere')}' of route 'nowhere' does not exist and KAFKA_CREATE_TOPICS is false`,
    );

    // the parent's pipeline has its topics; the replay goes to another pipeline's route, which has none
    for (const route of DOCUMENTS_PIPELINE.routes) await operator.ensureRoute(route.name);
    const configId = (await registerConfig(stack)).id;
    const other = await registerConfig(stack, {
      name: 'embeddings-v2',
      stages: ['markdown_segmented', 'embeddings_v2'],
      routes: [{ name: 'embedding_v2', input_stage: 'markdown_segmented', output_stage: 'embeddings_v2' }],
      entry_route: 'embedding_v2',
    });
    const parent = await createExecution(stack, configId);
    const keys = await seedOutputs(stack, parent.id, 'markdown_segmented', 3);
    const request = {
      replay_source: 'storage',
      from_stage: 'markdown_segmented',
      to_route: 'embedding_v2',
      config_id: other.id,
    };
    const before = (await stack.pool.query('SELECT count(*)::int AS n FROM executions')).rows[0].n;
    const refused = await requestJson(stack, 'POST', `/api/v1/executions/${parent.id}/replay`, request);
    expect(refused.status, JSON.stringify(refused.body)).toBe(503);
    expect(refused.body.error_code).toBe('ROUTE_UNAVAILABLE');
    expect(refused.body.detail).toContain(
      `Kafka topic '${template.replace('{route}', 'embedding_v2')}' of route 'embedding_v2' does not exist`,
    );
    // refused, it wrote nothing
    expect((await stack.pool.query('SELECT count(*)::int AS n FROM executions')).rows[0].n).toBe(before);

    await operator.ensureRoute('embedding_v2');
    const started = await requestJson(stack, 'POST', `/api/v1/executions/${parent.id}/replay`, request);
    expect(started.status, JSON.stringify(started.body)).toBe(200);
    const done = await waitForExecution(stack, started.body.id, (record) => record.status !== 'running');
    expect(done.status, done.error ?? '').toBe('completed');
    const messages = await stack.routeReader.messagesOf('embedding_v2', started.body.id);
    expect(messages.map((message) => message.data.object.key).sort()).toEqual(keys);
  });
});

describe('SQS queues that the service may not create', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await createTestStack({ SQS_CREATE_QUEUES: 'false' }, { transport: 'sqs' });
  });
  afterAll(async () => stack?.close());

  it('names the missing queue', async () => {
    const queue = stack.config.ROUTE_NAME_TEMPLATE.replace('{route}', 'nowhere');
    await expect(stack.routeTransport.ensureRoute('nowhere')).rejects.toThrow(
      `SQS queue '${queue}' of route 'nowhere' does not exist and SQS_CREATE_QUEUES is false`,
    );
    // and a route name SQS cannot take is refused before any call, naming it
    await expect(stack.routeTransport.ensureRoute('with.dot')).rejects.toThrow(
      /route 'with.dot' maps to SQS queue/,
    );
  });
});
