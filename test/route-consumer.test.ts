/**
 * The reference route consumer (`npm run route`) on every route transport: in this process, and as
 * the command with --once --json.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppConfig } from '../adapters/config.ts';
import { createLogger } from '../adapters/logger.ts';
import { createRouteReader, type RouteReader } from '../adapters/route-reader.ts';
import { stageFolder } from '../adapters/storage-paths.ts';
import { startRouteConsumer, type RouteConsumer } from '../scripts/route-consumer.ts';
import { createTestStack, type TestStack } from './support/test-stack.ts';
import {
  createExecution,
  registerConfig,
  requestJson,
  seedOutputs,
  waitForExecution,
} from './support/fixtures.ts';

const ROUTE = 'embedding_generator';
const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** The environment that configures a process like this stack (the inverse of parseConfig). */
function envOf(config: AppConfig): Record<string, string> {
  return Object.fromEntries(
    Object.entries(config)
      .filter(([, value]) => value !== undefined)
      .map(([name, value]) => [name, Array.isArray(value) ? value.join(',') : String(value)]),
  );
}

describe.each(['pgboss', 'kafka', 'sqs'] as const)('reference route consumer on %s', (transport) => {
  let stack: TestStack;
  let consumerReader: RouteReader;
  beforeAll(async () => {
    stack = await createTestStack({}, { transport });
    await stack.startWorker();
    // a consuming process's own reader (for pg-boss: with supervision), as `npm run route` builds it
    consumerReader = createRouteReader(stack.config, stack.pool, stack.logger);
  });
  afterAll(async () => {
    await consumerReader?.close().catch(() => {});
    await stack?.close();
  });

  /** A completed replay of `count` seeded markdown_segmented outputs to embedding_generator. */
  async function completedReplay(count: number): Promise<{ id: string; parentId: string; keys: string[] }> {
    const config = await registerConfig(stack);
    const parent = await createExecution(stack, config.id);
    const keys = await seedOutputs(stack, parent.id, 'markdown_segmented', count);
    const response = await requestJson(stack, 'POST', `/api/v1/executions/${parent.id}/replay`, {
      replay_source: 'storage',
      from_stage: 'markdown_segmented',
      to_route: ROUTE,
    });
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    const done = await waitForExecution(stack, response.body.id, (record) => record.status === 'completed');
    expect(done.published_count).toBe(count);
    return { id: response.body.id, parentId: parent.id, keys };
  }

  /** Runs a consumer until it has handled `count` messages (at most 60 s), then stops it. */
  async function consume(count: number): Promise<RouteConsumer> {
    const consumer = await startRouteConsumer({
      pool: stack.pool,
      routeReader: consumerReader,
      objectStore: stack.objectStore,
      route: ROUTE,
      logger: createLogger(stack.config.LOG_LEVEL, { test: 'route-consumer' }),
      batchSize: 25,
    });
    try {
      const deadline = Date.now() + 60_000;
      while (consumer.processed() < count && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    } finally {
      await consumer.stop();
    }
    expect(consumer.processed()).toBe(count);
    return consumer;
  }

  async function listAll(keyPrefix: string): Promise<string[]> {
    const keys: string[] = [];
    let startAfter: string | null = null;
    for (;;) {
      const page = await stack.objectStore.listPage(keyPrefix, startAfter, 1000);
      keys.push(...page.objects.map((object) => object.key));
      if (!page.isTruncated) return keys;
      startAfter = page.lastKey;
    }
  }

  it('handles every replay message once and writes one output per source object', async () => {
    const replay = await completedReplay(120);
    const consumer = await consume(120);
    expect(consumer.distinctIds()).toBe(120);

    if (transport === 'pgboss') {
      const messages = await stack.routeReader.messagesOf(ROUTE, replay.id);
      expect(messages).toHaveLength(120);
      expect(messages.filter((message) => message.state !== 'completed')).toEqual([]);
    }

    // same path relative to the stage folder, under the new execution's embeddings/ folder
    const sourceFolder = stageFolder(stack.objectStore.prefix, replay.parentId, 'markdown_segmented');
    const outputFolder = stageFolder(stack.objectStore.prefix, replay.id, 'embeddings');
    const outputKeys = await listAll(outputFolder);
    expect(outputKeys).toEqual(replay.keys.map((key) => outputFolder + key.slice(sourceFolder.length)));
    const bodies = await Promise.all(
      outputKeys.map(async (key) => JSON.parse(await stack.objectStore.getObjectText(key))),
    );
    expect(bodies.map((body) => body.source_key)).toEqual(replay.keys);
    for (const body of bodies) {
      expect(body).toMatchObject({ route: ROUTE, execution_id: replay.id });
      expect(body.length).toBeGreaterThan(0);
    }
    expect(bodies.map((body) => body.sequence).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 120 }, (_, index) => index),
    );
  });

  it('drops the messages of a cancelled execution without writing outputs', async () => {
    const replay = await completedReplay(30);
    const updated = await stack.pool.query(
      "UPDATE execution_routes SET status = 'cancelled' WHERE execution_id = $1",
      [replay.id],
    );
    expect(updated.rowCount).toBeGreaterThan(0);

    await consume(30);

    if (transport === 'pgboss') {
      const messages = await stack.routeReader.messagesOf(ROUTE, replay.id);
      expect(messages).toHaveLength(30);
      expect(messages.filter((message) => message.state !== 'completed')).toEqual([]);
    }
    expect(await listAll(stageFolder(stack.objectStore.prefix, replay.id, 'embeddings'))).toEqual([]);
  });

  it('`npm run route -- <route> --once --json` drains the route and ends with its counts', async () => {
    const replay = await completedReplay(45);
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', 'scripts/route-consumer.ts', ROUTE, '--once', '--json', '--batch-size', '20'],
      {
        cwd: ROOT,
        env: {
          PATH: process.env.PATH ?? '',
          AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
          ...envOf(stack.config),
        },
        timeout: 90_000,
      },
    );
    const lines = stdout.trim().split('\n');
    expect(JSON.parse(lines.at(-1)!)).toEqual({ processed: 45, distinct_ids: 45 });
    const outputs = await listAll(stageFolder(stack.objectStore.prefix, replay.id, 'embeddings'));
    expect(outputs).toHaveLength(45);
  });
});
