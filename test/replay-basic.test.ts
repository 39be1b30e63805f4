import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONTRACT_RESPONSE_KEYS } from './support/contract.ts';
import { createTestStack, type TestStack } from './support/test-stack.ts';
import {
  createExecution,
  registerConfig,
  requestJson,
  seedOutputs,
  waitForExecution,
} from './support/fixtures.ts';

let stack: TestStack;
beforeAll(async () => {
  stack = await createTestStack();
  await stack.startWorker();
});
afterAll(async () => stack?.close());

describe('replay end to end', () => {
  it('publishes every stored output to the route', async () => {
    const config = await registerConfig(stack);
    const parent = await createExecution(stack, config.id);
    const keys = await seedOutputs(stack, parent.id, 'markdown_segmented', 25);
    const response = await requestJson(stack, 'POST', `/api/v1/executions/${parent.id}/replay`, {
      replay_source: 'storage',
      from_stage: 'markdown_segmented',
      to_route: 'embedding_generator',
    });
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    expect(Object.keys(response.body).sort()).toEqual(CONTRACT_RESPONSE_KEYS);
    const done = await waitForExecution(stack, response.body.id, (record) => record.status === 'completed');
    expect(done.published_count).toBe(25);
    const messages = await stack.routeReader.messagesOf('embedding_generator', response.body.id);
    expect(messages.map((message) => message.data.object.key).sort()).toEqual(keys);
  });
});
