/**
 * Who asked for a replay and why (`reason`, `requested_by`), on the real services: in the answers,
 * the record, the listing of an execution's replays, every message (and its Kafka headers), the
 * Temporal UI's summary and details; a body that claims `requested_by` refused; and a bulk replay
 * that skips a parent with an open (paused) replay into the same route.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONTRACT_RESPONSE_KEYS } from './support/contract.ts';
import {
  createExecution,
  registerConfig,
  requestJson,
  seedOutputs,
  waitForExecution,
} from './support/fixtures.ts';
import { createTestStack, type TestStack } from './support/test-stack.ts';

const STAGE = 'markdown_segmented';
const ROUTE = 'embedding_generator';
const REPLAY = { replay_source: 'storage', from_stage: STAGE, to_route: ROUTE } as const;
const REASON = 'embedding model v2: re-embed last week';

/** The name of the stack's API key: what `requested_by` must say. */
function keyName(stack: TestStack): string {
  return stack.config.API_KEYS!.split(':')[0]!;
}

async function executionCount(stack: TestStack): Promise<number> {
  return (await stack.pool.query('SELECT count(*)::int AS n FROM executions')).rows[0].n;
}

describe('replay provenance on pg-boss', () => {
  let stack: TestStack;
  let configId: string;

  beforeAll(async () => {
    stack = await createTestStack();
    await stack.startWorker();
    configId = (await registerConfig(stack)).id;
  });
  afterAll(async () => stack?.close());

  async function parentWith(count: number, extra: object = {}) {
    const parent = await createExecution(stack, configId, extra);
    await seedOutputs(stack, parent.id, STAGE, count);
    return parent.id;
  }

  it('keeps reason and requested_by on the record, in every message and in the Temporal UI', async () => {
    const parentId = await parentWith(5, { tag: 'provenance-parent' });
    const response = await requestJson(stack, 'POST', `/api/v1/executions/provenance-parent/replay`, {
      ...REPLAY,
      reason: REASON,
    });
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    expect(Object.keys(response.body).sort()).toEqual(
      [...CONTRACT_RESPONSE_KEYS, 'reason', 'requested_by'].sort(),
    );
    expect(response.body).toMatchObject({ reason: REASON, requested_by: keyName(stack) });
    const id = response.body.id;

    const record = await waitForExecution(stack, id, (item) => item.status === 'completed');
    expect(record).toMatchObject({ reason: REASON, requested_by: keyName(stack) });
    const detail = await requestJson(stack, 'GET', `/api/v1/executions/${id}`);
    expect(detail.body).toMatchObject({ reason: REASON, requested_by: keyName(stack) });

    const messages = await stack.routeReader.messagesOf(ROUTE, id);
    expect(messages).toHaveLength(5);
    for (const message of messages) {
      expect(message.data).toMatchObject({
        execution_id: id,
        parent_execution_id: parentId,
        root_execution_id: parentId,
        reason: REASON,
        requested_by: keyName(stack),
        replay: true,
      });
    }

    const described = await stack.temporal.workflow.getHandle(`replay-${id}`).describe();
    expect(await described.staticSummary()).toBe(
      `replay of provenance-parent: ${STAGE} -> ${ROUTE} (storage) by ${keyName(stack)}: ${REASON}`,
    );
    const details = await described.staticDetails();
    expect(details).toContain(`| requested by | \`${keyName(stack)}\` |`);
    expect(details).toContain(`| reason | \`${REASON}\` |`);
  });

  it('answers exactly the contract ExecutionResponse to a request without reason', async () => {
    const parentId = await parentWith(1);
    const response = await requestJson(stack, 'POST', `/api/v1/executions/${parentId}/replay`, REPLAY);
    expect(response.status).toBe(200);
    expect(Object.keys(response.body).sort()).toEqual(CONTRACT_RESPONSE_KEYS);
    const record = await waitForExecution(stack, response.body.id, (item) => item.status === 'completed');
    // who asked is known all the same; no reason was given
    expect(record).toMatchObject({ reason: null, requested_by: keyName(stack) });
    const [message] = await stack.routeReader.messagesOf(ROUTE, record.id);
    expect(message!.data).toMatchObject({ reason: null, requested_by: keyName(stack) });
  });

  it('refuses a body that sends requested_by (any value), naming the field, writing nothing', async () => {
    const parentId = await parentWith(1);
    for (const claimed of ['someone-else', null, { name: 'x' }]) {
      const before = await executionCount(stack);
      const response = await requestJson(stack, 'POST', `/api/v1/executions/${parentId}/replay`, {
        ...REPLAY,
        reason: 'x',
        requested_by: claimed,
      });
      expect(response.status, JSON.stringify(response.body)).toBe(422);
      expect(response.body.detail).toEqual([
        expect.objectContaining({ loc: ['body', 'requested_by'], type: 'value_error' }),
      ]);
      expect(response.body.detail[0].msg).toMatch(/requested_by is set by the service/);
      expect(await executionCount(stack)).toBe(before);
    }
    // in a bulk replay: in its replay fields, and beside them
    for (const body of [
      { replay: { ...REPLAY, requested_by: 'x' }, execution_ids: [parentId] },
      { replay: REPLAY, execution_ids: [parentId], requested_by: 'x' },
    ]) {
      const response = await requestJson(stack, 'POST', '/api/v1/bulk-replays', body);
      expect(response.status, JSON.stringify(response.body)).toBe(422);
      const loc = 'requested_by' in body ? ['body', 'requested_by'] : ['body', 'replay', 'requested_by'];
      expect(response.body.detail).toEqual([expect.objectContaining({ loc })]);
    }
  });

  it('takes a reason of 1 to 500 characters and refuses a longer, an empty or a control character', async () => {
    const parentId = await parentWith(1);
    const longest = 'r'.repeat(500);
    const ok = await requestJson(stack, 'POST', `/api/v1/executions/${parentId}/replay`, {
      ...REPLAY,
      reason: longest,
    });
    expect(ok.status, JSON.stringify(ok.body)).toBe(200);
    expect(ok.body.reason).toBe(longest);
    for (const [reason, type] of [
      ['r'.repeat(501), 'string_too_long'],
      ['', 'string_too_short'],
      ['bell\u0007', 'value_error'],
    ] as const) {
      const before = await executionCount(stack);
      const response = await requestJson(stack, 'POST', `/api/v1/executions/${parentId}/replay`, {
        ...REPLAY,
        reason,
      });
      expect(response.status, JSON.stringify(response.body)).toBe(422);
      expect(response.body.detail).toEqual([expect.objectContaining({ loc: ['body', 'reason'], type })]);
      expect(await executionCount(stack)).toBe(before);
    }
  });

  it('lists the replays of an execution newest first, a page at a time', async () => {
    const parentId = await parentWith(1, { tag: 'listed-parent' });
    const ids: string[] = [];
    for (const reason of ['first', 'second', 'third']) {
      const response = await requestJson(stack, 'POST', `/api/v1/executions/${parentId}/replay`, {
        ...REPLAY,
        reason,
      });
      expect(response.status).toBe(200);
      ids.push(response.body.id);
    }
    for (const id of ids) await waitForExecution(stack, id, (item) => item.status === 'completed');

    const first = await requestJson(stack, 'GET', `/api/v1/executions/listed-parent/replays?limit=2`);
    expect(first.status, JSON.stringify(first.body)).toBe(200);
    expect(first.body.items.map((item: any) => [item.id, item.reason])).toEqual([
      [ids[2], 'third'],
      [ids[1], 'second'],
    ]);
    expect(first.body.items[0]).toMatchObject({
      requested_by: keyName(stack),
      status: 'completed',
      paused: false,
      to_route: ROUTE,
      from_stage: STAGE,
      listed: 1,
      published: 1,
    });
    expect(first.body.items[0].started_at).toMatch(/^\d{4}-\d{2}-\d{2}T/);
    expect(first.body.next_cursor).toBe(ids[1]);
    const second = await requestJson(
      stack,
      'GET',
      `/api/v1/executions/${parentId}/replays?limit=2&cursor=${first.body.next_cursor}`,
    );
    expect(second.body.items.map((item: any) => item.id)).toEqual([ids[0]]);
    expect(second.body.next_cursor).toBeNull();
    // a replay of a replay is its own parent's, not the first parent's
    const grandchild = await requestJson(stack, 'POST', `/api/v1/executions/${ids[0]}/replay`, REPLAY);
    expect(grandchild.status).toBe(200);
    const again = await requestJson(stack, 'GET', `/api/v1/executions/${parentId}/replays`);
    expect(again.body.items).toHaveLength(3);

    const unknown = await requestJson(stack, 'GET', '/api/v1/executions/no-such-execution/replays');
    expect(unknown.status).toBe(404);
    expect(unknown.body.error_code).toBe('EXECUTION_NOT_FOUND');
    const badLimit = await requestJson(stack, 'GET', `/api/v1/executions/${parentId}/replays?limit=0`);
    expect(badLimit.status).toBe(422);
  });

  it('skips a parent with a paused replay into the route when asked, and names that replay', async () => {
    const busy = await parentWith(30);
    const free = await parentWith(2);
    // a replay that publishes a message every ten seconds, paused: open, running, going nowhere
    const open = await requestJson(stack, 'POST', `/api/v1/executions/${busy}/replay`, {
      ...REPLAY,
      max_messages_per_second: 0.1,
    });
    expect(open.status).toBe(200);
    const paused = await requestJson(stack, 'POST', `/api/v1/executions/${open.body.id}/pause`);
    expect(paused.status, JSON.stringify(paused.body)).toBe(200);
    expect(paused.body).toMatchObject({ status: 'running', progress: { paused: true } });

    const bulk = await requestJson(stack, 'POST', '/api/v1/bulk-replays', {
      replay: { ...REPLAY, reason: 'nightly re-embed' },
      execution_ids: [busy, free],
      skip_parents_with_open_replays: true,
    });
    expect(bulk.status, JSON.stringify(bulk.body)).toBe(202);
    expect(bulk.body).toMatchObject({ reason: 'nightly re-embed', requested_by: keyName(stack) });
    const bulkId = bulk.body.id;
    let summary: any;
    for (let tries = 0; tries < 600; tries += 1) {
      summary = (await requestJson(stack, 'GET', `/api/v1/bulk-replays/${bulkId}`)).body;
      if (summary.status === 'completed') break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(summary).toMatchObject({ status: 'completed', total: 2, started: 1, completed: 1, skipped: 1 });
    const items = (await requestJson(stack, 'GET', `/api/v1/bulk-replays/${bulkId}/items`)).body.items;
    expect(items[0]).toMatchObject({
      parent: busy,
      status: 'skipped',
      execution_id: null,
      open_replay_id: open.body.id,
      error_code: 'OPEN_REPLAY',
    });
    expect(items[1]).toMatchObject({ parent: free, status: 'completed', open_replay_id: null });
    // the child carries the bulk replay's provenance
    const child = await requestJson(stack, 'GET', `/api/v1/executions/${items[1].execution_id}`);
    expect(child.body).toMatchObject({ reason: 'nightly re-embed', requested_by: keyName(stack) });
    const described = await stack.temporal.workflow.getHandle(`bulk-replay-${bulkId}`).describe();
    expect(await described.staticSummary()).toContain(`by ${keyName(stack)}: nightly re-embed`);

    // without the flag, the same parent is replayed again
    const unskipped = await requestJson(stack, 'POST', '/api/v1/bulk-replays', {
      replay: REPLAY,
      execution_ids: [busy],
      max_concurrent: 1,
    });
    expect(unskipped.status).toBe(202);
    expect(unskipped.body).toMatchObject({ skipped: 0, reason: null });
    for (const id of [open.body.id]) {
      expect((await requestJson(stack, 'POST', `/api/v1/executions/${id}/cancel`)).status).toBeLessThan(300);
    }
    await requestJson(stack, 'POST', `/api/v1/bulk-replays/${unskipped.body.id}/cancel`);
  });
});

describe.each(['kafka', 'sqs'] as const)(
  'replay provenance on %s: headers / message attributes',
  (transport) => {
    let stack: TestStack;
    let configId: string;

    beforeAll(async () => {
      stack = await createTestStack({}, { transport });
      await stack.startWorker();
      configId = (await registerConfig(stack)).id;
    });
    afterAll(async () => stack?.close());

    it('puts the ids, the reason and who asked into every record’s headers', async () => {
      const parent = await createExecution(stack, configId);
      await seedOutputs(stack, parent.id, STAGE, 4);
      const first = await requestJson(stack, 'POST', `/api/v1/executions/${parent.id}/replay`, REPLAY);
      const firstRecord = await waitForExecution(stack, first.body.id, (item) => item.status === 'completed');
      // a replay of the replay: its root is the first parent
      const reason = 'ünïcode reason\nsecond line';
      const response = await requestJson(stack, 'POST', `/api/v1/executions/${firstRecord.id}/replay`, {
        ...REPLAY,
        replay_source: 'lineage',
        reason,
      });
      expect(response.status, JSON.stringify(response.body)).toBe(200);
      const record = await waitForExecution(stack, response.body.id, (item) => item.status === 'completed');
      const messages = await stack.routeReader.messagesOf(ROUTE, record.id);
      expect(messages).toHaveLength(4);
      for (const message of messages) {
        expect(message.headers).toEqual({
          message_id: message.id,
          execution_id: record.id,
          parent_execution_id: firstRecord.id,
          root_execution_id: parent.id,
          reason,
          requested_by: keyName(stack),
        });
        expect(message.data).toMatchObject({ reason, requested_by: keyName(stack) });
      }
      // a replay without a reason has no reason header
      const [plain] = await stack.routeReader.messagesOf(ROUTE, firstRecord.id);
      expect(plain!.headers).toEqual({
        message_id: plain!.id,
        execution_id: firstRecord.id,
        parent_execution_id: parent.id,
        root_execution_id: parent.id,
        requested_by: keyName(stack),
      });
    });
  },
);
