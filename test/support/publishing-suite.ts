/**
 * What a replay publishes: one message per selected stored object, once, in the documented format,
 * for sizes around the 1,000-key page boundary, and for every replay_source. The same suite runs on
 * every route transport (test/replay-publishing*.test.ts), read back by the transport's reader.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InitMessage } from '../../adapters/route-queue.ts';
import { replayMessageId } from '../../adapters/ids.ts';
import { stageFolder } from '../../adapters/storage-paths.ts';
import { createTestStack, type TestStack } from './test-stack.ts';
import { deleteDestination, type TestTransport } from './transports.ts';
import { startDelayingProxy } from './delaying-proxy.ts';
import { getExecution } from '../../adapters/executions.ts';
import { SqsTransport, sqsSettingsFromConfig } from '../../adapters/transports/sqs.ts';
import { createApp } from '../../api/app.ts';
import { apiSettingsFromConfig } from '../../api/dependencies.ts';
import {
  DOCUMENTS_PIPELINE,
  createExecution,
  registerConfig,
  requestJson,
  seedOutputs,
  waitForExecution,
} from './fixtures.ts';

export function publishingSuite(transport: TestTransport): void {
  let stack: TestStack;
  let configId: string;

  beforeAll(async () => {
    // pages of 1,000 keys: the sizes below straddle both S3's and the workflow's page boundaries
    stack = await createTestStack({ REPLAY_PAGE_SIZE: '1000' }, { transport });
    await stack.startWorker();
    configId = (await registerConfig(stack)).id;
  });
  afterAll(async () => stack?.close());

  async function replayAndWait(parent: string, body: Record<string, unknown>) {
    const response = await requestJson(stack, 'POST', `/api/v1/executions/${parent}/replay`, {
      from_stage: 'markdown_segmented',
      to_route: 'embedding_generator',
      ...body,
    });
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    const record = await waitForExecution(
      stack,
      response.body.id,
      (item) => item.status !== 'running',
      120_000,
    );
    expect(record.status, record.error ?? '').toBe('completed');
    expect(record.completed_at).not.toBeNull();
    const messages = await stack.routeReader.messagesOf(
      (body.to_route as string) ?? 'embedding_generator',
      record.id,
    );
    return { record, messages };
  }

  describe('published messages equal the stored objects', () => {
    it.each([0, 1, 999, 1000, 1001, 2500])('%i objects', async (count) => {
      const parent = await createExecution(stack, configId, { metadata: { batch: count } });
      const keys = await seedOutputs(stack, parent.id, 'markdown_segmented', count, { concurrency: 32 });
      // outputs of another stage and of another execution must not be picked up
      await seedOutputs(stack, parent.id, 'embeddings', 2);
      const { record, messages } = await replayAndWait(parent.id, {
        replay_source: 'storage',
        metadata: { run: count },
      });

      expect(record.published_count).toBe(count);
      expect(messages).toHaveLength(count);
      const byKey = new Map(messages.map((message) => [message.data.object.key, message]));
      expect([...byKey.keys()].sort()).toEqual(keys);
      expect(new Set(messages.map((message) => message.data.sequence))).toEqual(
        new Set(keys.map((_, index) => index)),
      );
      for (const key of keys.slice(0, 5)) {
        const message = byKey.get(key)!;
        expect(message.id).toBe(replayMessageId(record.id, 'embedding_generator', key));
        expect(message.data).toEqual({
          message_id: message.id,
          execution_id: record.id,
          parent_execution_id: parent.id,
          root_execution_id: parent.id,
          config_id: configId,
          route: 'embedding_generator',
          stage: 'markdown_segmented',
          replay: true,
          replay_source: 'storage',
          object: {
            bucket: stack.config.S3_BUCKET,
            key,
            size: expect.any(Number),
            etag: expect.stringMatching(/^[0-9a-f]{32}$/),
            last_modified: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T/),
          },
          sequence: expect.any(Number),
          metadata: { run: count },
          // who asked and why: this file's API key, and no reason given
          reason: null,
          requested_by: stack.config.API_KEYS!.split(':')[0],
        });
        expect(message.data.object.size).toBe(JSON.stringify({ key, text: `segment ${key}` }).length);
      }
      // routes of the config started for the new execution, and its record linked to the parent
      const routes = await stack.pool.query(
        'SELECT route, status FROM execution_routes WHERE execution_id = $1 ORDER BY route',
        [record.id],
      );
      expect(routes.rows).toEqual([
        { route: 'embedding_generator', status: 'running' },
        { route: 'markdown_segmenter', status: 'running' },
      ]);
      expect(record.parent_execution_id).toBe(parent.id);
      expect(record.root_execution_id).toBe(parent.id);
    });

    it('sends no init message to the entry route', async () => {
      const parent = await createExecution(stack, configId);
      await seedOutputs(stack, parent.id, 'markdown_segmented', 2);
      const { record } = await replayAndWait(parent.id, { replay_source: 'storage' });
      expect(await stack.routeReader.messagesOf('markdown_segmenter', record.id)).toEqual([]);
      // while the parent, a normal execution, got exactly one
      const init = await stack.routeReader.messagesOf<InitMessage>('markdown_segmenter', parent.id);
      expect(init.map((message) => message.data.init)).toEqual([true]);
    });
  });

  if (transport !== 'pgboss') {
    describe('a destination deleted under a running replay', () => {
      it('is made again by the next attempt, without a worker restart', async () => {
        // a route of its own: the other tests' destinations (and their readers) stay as they are
        const deletable = await registerConfig(stack, {
          name: 'deletable',
          stages: ['markdown_segmented', 'embeddings_deletable'],
          routes: [
            { name: 'deletable', input_stage: 'markdown_segmented', output_stage: 'embeddings_deletable' },
          ],
          entry_route: 'deletable',
        });
        const parent = await createExecution(stack, configId);
        const keys = await seedOutputs(stack, parent.id, 'markdown_segmented', 60);
        const response = await requestJson(stack, 'POST', `/api/v1/executions/${parent.id}/replay`, {
          replay_source: 'storage',
          from_stage: 'markdown_segmented',
          to_route: 'deletable',
          config_id: deletable.id,
          // pages of about 15 messages, a second apart: the deletion lands mid-way
          max_messages_per_second: 15,
        });
        expect(response.status, JSON.stringify(response.body)).toBe(200);
        const id = response.body.id as string;
        await waitForExecution(stack, id, (record) => record.published_count >= 15);
        await deleteDestination(stack, 'deletable');

        const done = await waitForExecution(stack, id, (record) => record.status !== 'running', 120_000);
        expect(done.status, done.error ?? '').toBe('completed');
        expect(done.published_count).toBe(keys.length);
        // the destination was made again and took what went out after the deletion (a broker may
        // still take, and drop with the old topic, a send made while it was being deleted)
        const after = await stack.routeReader.messagesOf('deletable', id);
        expect(after.length).toBeGreaterThan(0);
        expect(after.every((message) => keys.includes(message.data.object.key))).toBe(true);
      });
    });
  }

  if (transport === 'sqs') {
    describe("a normal execution's init message on a broker slower than the api waits", () => {
      it('is sent only for an execution that committed, under its deterministic id', async () => {
        const proxy = await startDelayingProxy(stack.config.SQS_ENDPOINT!, (target) =>
          target.endsWith('SendMessageBatch') ? 1500 : 0,
        );
        const slow = new SqsTransport(
          { ...sqsSettingsFromConfig(stack.config), endpoint: proxy.url },
          stack.logger,
        );
        try {
          const app = createApp({
            pool: stack.pool,
            temporal: stack.temporal,
            objectStore: stack.objectStore,
            routeTransport: slow,
            logger: stack.logger,
            settings: { ...apiSettingsFromConfig(stack.config), dependencyTimeoutMs: 500 },
          });
          const response = await app.request('/api/v1/executions', {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ config_id: configId, metadata: { slow: true } }),
          });
          expect([201, 503], await response.text()).toContain(response.status);
          await proxy.idle();
          const sent = proxy.delayed.flatMap((body) =>
            (JSON.parse(body) as { Entries: { MessageBody: string }[] }).Entries.map(
              (entry) => JSON.parse(entry.MessageBody) as InitMessage,
            ),
          );
          expect(sent).toHaveLength(1);
          // the message names an execution that exists, under the id every resend of it would carry
          const [init] = sent;
          const record = await getExecution(stack.pool, init!.execution_id);
          expect(record?.metadata).toEqual({ slow: true });
          expect(init!.message_id).toBe(replayMessageId(init!.execution_id, 'markdown_segmenter', ''));
          const delivered = await stack.routeReader.messagesOf<InitMessage>(
            'markdown_segmenter',
            init!.execution_id,
          );
          expect(delivered.map((message) => message.id)).toEqual([init!.message_id]);
        } finally {
          await slow.close();
          await proxy.close();
        }
      });
    });
  }

  describe('replay sources', () => {
    it('from_path narrows storage to a folder or one key', async () => {
      const parent = await createExecution(stack, configId);
      const inFolder = await seedOutputs(stack, parent.id, 'markdown_segmented', 4, { folder: 'docs/2024/' });
      await seedOutputs(stack, parent.id, 'markdown_segmented', 3, { folder: 'docs/2023/' });
      await seedOutputs(stack, parent.id, 'markdown_segmented', 2, { folder: 'docs/2024-old/' });

      const folder = await replayAndWait(parent.id, { replay_source: 'storage', from_path: 'docs/2024' });
      expect(folder.messages.map((message) => message.data.object.key).sort()).toEqual(inFolder);

      const single = await replayAndWait(parent.id, {
        replay_source: 'storage',
        from_path: './docs//2024/doc-000002.json',
      });
      expect(single.messages.map((message) => message.data.object.key)).toEqual([inFolder[2]]);
      expect(single.record.from_path).toBe('docs/2024/doc-000002.json');
    });

    it('manual publishes exactly the named objects', async () => {
      const parent = await createExecution(stack, configId);
      const keys = await seedOutputs(stack, parent.id, 'markdown_segmented', 3, { folder: 'picked/' });
      await seedOutputs(stack, parent.id, 'markdown_segmented', 3);
      const { record, messages } = await replayAndWait(parent.id, {
        replay_source: 'manual',
        from_path: 'picked/',
      });
      expect(messages.map((message) => message.data.object.key).sort()).toEqual(keys);
      expect(messages.every((message) => message.data.replay_source === 'manual')).toBe(true);
      expect(record.replay_source).toBe('manual');
    });

    it('lineage walks up to the nearest ancestor that stored the stage; root stays the first execution', async () => {
      const root = await createExecution(stack, configId);
      const keys = await seedOutputs(stack, root.id, 'markdown_segmented', 5);
      // a replay of the root: it reads the root's outputs, and (like a replay that started later in the
      // pipeline) stores none of markdown_segmented itself
      const first = await replayAndWait(root.id, { replay_source: 'storage' });
      expect(first.record.root_execution_id).toBe(root.id);

      // storage on the child finds nothing; lineage finds the root's outputs
      const fromStorage = await replayAndWait(first.record.id, { replay_source: 'storage' });
      expect(fromStorage.messages).toHaveLength(0);
      const fromLineage = await replayAndWait(first.record.id, { replay_source: 'lineage' });
      expect(fromLineage.messages.map((message) => message.data.object.key).sort()).toEqual(keys);
      expect(fromLineage.record.parent_execution_id).toBe(first.record.id);
      expect(fromLineage.record.root_execution_id).toBe(root.id);
      expect(fromLineage.record.source_execution_id).toBe(root.id);
      expect(fromLineage.messages[0]!.data).toMatchObject({
        parent_execution_id: first.record.id,
        root_execution_id: root.id,
        replay_source: 'lineage',
      });

      const detail = await requestJson(stack, 'GET', `/api/v1/executions/${fromLineage.record.id}`);
      expect(detail.body).toMatchObject({
        root_execution_id: root.id,
        progress: { listed: 5, published: 5 },
        error: null,
      });
      const children = await requestJson(
        stack,
        'GET',
        `/api/v1/executions?parent_execution_id=${first.record.id}`,
      );
      expect(children.body.items.map((item: any) => item.id).sort()).toEqual(
        [fromStorage.record.id, fromLineage.record.id].sort(),
      );
    });

    it('cross-pipeline: routes from config_id, storage from the parent', async () => {
      const other = await registerConfig(stack, {
        ...DOCUMENTS_PIPELINE,
        name: 'embeddings-v2',
        stages: ['markdown_segmented', 'embeddings_v2'],
        routes: [
          {
            name: 'embedding_generator_v2',
            input_stage: 'markdown_segmented',
            output_stage: 'embeddings_v2',
          },
        ],
        entry_route: 'embedding_generator_v2',
      });
      const parent = await createExecution(stack, configId);
      const keys = await seedOutputs(stack, parent.id, 'markdown_segmented', 7);
      const { record, messages } = await replayAndWait(parent.id, {
        replay_source: 'storage',
        to_route: 'embedding_generator_v2',
        config_id: other.id,
      });
      expect(record.config_id).toBe(other.id);
      expect(messages.map((message) => message.data.object.key).sort()).toEqual(keys);
      expect(messages[0]!.data.config_id).toBe(other.id);
      expect(
        keys.every((key) =>
          key.startsWith(stageFolder(stack.objectStore.prefix, parent.id, 'markdown_segmented')),
        ),
      ).toBe(true);
      const routes = await stack.pool.query('SELECT route FROM execution_routes WHERE execution_id = $1', [
        record.id,
      ]);
      expect(routes.rows).toEqual([{ route: 'embedding_generator_v2' }]);
    });
  });
}
