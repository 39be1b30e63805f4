import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDemo } from '../scripts/demo.ts';
import { createTestStack, type TestStack } from './support/test-stack.ts';

let stack: TestStack;
let server: ServerType | undefined;
let apiUrl: string;

beforeAll(async () => {
  // scripts/demo.ts sends no API key (yet): this file's api alone runs without authentication
  stack = await createTestStack();
  await stack.startWorker();
  // the demo talks HTTP, as it does to `npm run dev`: serve this file's api on a free port
  const listening = serve({ fetch: stack.app.fetch, port: 0, hostname: '127.0.0.1' });
  server = listening;
  await new Promise<void>((resolve, reject) => {
    if (listening.listening) return resolve();
    listening.once('listening', () => resolve());
    listening.once('error', reject);
  });
  const { port } = listening.address() as AddressInfo;
  apiUrl = `http://127.0.0.1:${port}`;
});

afterAll(async () => {
  if (server) await new Promise<void>((resolve) => server!.close(() => resolve()));
  await stack?.close();
});

describe('npm run demo', () => {
  it('registers the pipeline, stores outputs and follows the replay to completed', async () => {
    const lines: string[] = [];
    const result = await runDemo({
      apiUrl,
      apiKey: stack.apiKey,
      objectStore: stack.objectStore,
      objects: 50,
      log: (line) => lines.push(line),
    });

    expect(result.replay.status).toBe('completed');
    expect(result.replay.progress.published).toBe(50);
    expect(result.replay.progress.listed).toBe(50);
    expect(result.replay.parent_execution_id).toBe(result.parentId);
    expect(result.workflowId).toBe(`replay-${result.replay.id}`);
    expect(lines.at(-1)).toMatch(/replay completed: 50 messages published/);

    const messages = await stack.routeReader.messagesOf('embedding_generator', result.replay.id);
    expect(messages).toHaveLength(50);
    expect(messages.every((message) => message.data.metadata.reason === 'demo')).toBe(true);
  });
});
