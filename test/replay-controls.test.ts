import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { searchAttributes } from '../workflows/search-attributes.ts';
import { replayWorkflowId } from '../workflows/definitions.ts';
import { getExecution } from '../adapters/executions.ts';
import { createTestStack, type TestStack } from './support/test-stack.ts';
import {
  createExecution,
  DOCUMENTS_PIPELINE,
  registerConfig,
  requestJson,
  seedOutputs,
  waitForExecution,
} from './support/fixtures.ts';

/**
 * Operators' controls on the real stack: a replay's pace (its own limit, its route's, changed while
 * it runs) and pause. Rates are checked as ratios of what was published to the time the messages'
 * own commit timestamps span, never with a timer around the test.
 */

const STAGE = 'markdown_segmented';
const ROUTE = 'embedding_generator';
const REPLAY = { replay_source: 'storage', from_stage: STAGE, to_route: ROUTE };
const PAGE_SIZE = 400;

let stack: TestStack;
let configId: string;

beforeAll(async () => {
  // one coordinator per replay: its pages, one after another, are what these tests read; unpaced
  // pages of 400 keys (no paced page here is larger), so an unpaced replay takes many
  stack = await createTestStack({ REPLAY_MAX_PARTITIONS: '1', REPLAY_PAGE_SIZE: String(PAGE_SIZE) });
  await stack.startWorker();
  configId = (await registerConfig(stack)).id;
});
afterAll(async () => stack?.close());

async function parentWith(objects: number, config = configId) {
  const parent = await createExecution(stack, config);
  const keys = await seedOutputs(stack, parent.id, STAGE, objects, { concurrency: 32 });
  return { id: parent.id, keys };
}

/** Each page's messages commit together: their pages, as [commit time in ms, messages], in order. */
async function pagesOf(executionIds: string[], route = ROUTE): Promise<[number, number][]> {
  const schema = stack.config.PGBOSS_SCHEMA;
  const { rows } = await stack.pool.query<{ at: Date; n: number }>(
    `SELECT created_on AS at, count(*)::int AS n FROM (
       SELECT created_on FROM ${schema}.job WHERE name = $1 AND data->>'execution_id' = ANY ($2)
       UNION ALL
       SELECT created_on FROM ${schema}.archive WHERE name = $1 AND data->>'execution_id' = ANY ($2)) AS m
     GROUP BY created_on ORDER BY created_on`,
    [route, executionIds],
  );
  return rows.map((row) => [row.at.getTime(), row.n]);
}

/** Messages per second after the first page (which the full bucket lets out at once). */
function paceOf(pages: [number, number][]): number {
  const [first] = pages[0]!;
  const [last] = pages.at(-1)!;
  const afterFirst = pages.slice(1).reduce((sum, [, n]) => sum + n, 0);
  return afterFirst / ((last - first) / 1000);
}

async function expectExactlyOnce(executionId: string, keys: string[]) {
  const messages = await stack.routeReader.messagesOf(ROUTE, executionId);
  expect(messages.map((message) => message.data.object.key).sort()).toEqual(keys);
}

describe('rate limits', () => {
  it('a replay limited to 200 messages/s publishes at that pace', async () => {
    const parent = await parentWith(1000);
    const response = await requestJson(stack, 'POST', `/api/v1/executions/${parent.id}/replay`, {
      ...REPLAY,
      max_messages_per_second: 200,
    });
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    const done = await waitForExecution(stack, response.body.id, (record) => record.status === 'completed');
    expect(done.max_messages_per_second).toBe(200);
    const pages = await pagesOf([response.body.id]);
    // a second of messages a page
    expect(Math.max(...pages.map(([, n]) => n))).toBe(200);
    expect(paceOf(pages) / 200).toBeGreaterThan(0.85);
    expect(paceOf(pages) / 200).toBeLessThan(1.15);
    await expectExactlyOnce(response.body.id, parent.keys);
  });

  it("two replays into one limited route share the route's limit; another config's route of that name too", async () => {
    // a route of its own: its limit holds for every replay into it, whatever config names it
    const LIMITED_ROUTE = 'limited_generator';
    const withRoute = (name: string, limit?: number) => ({
      ...DOCUMENTS_PIPELINE,
      name,
      routes: [
        ...DOCUMENTS_PIPELINE.routes,
        {
          name: LIMITED_ROUTE,
          input_stage: STAGE,
          output_stage: 'embeddings',
          max_messages_per_second: limit,
        },
      ],
    });
    const limited = (await registerConfig(stack, withRoute('limited', 200))).id;
    const unlimited = (await registerConfig(stack, withRoute('unlimited'))).id;
    const first = await parentWith(600, limited);
    const second = await parentWith(600, limited);
    // a cross-pipeline replay through a config that sets no limit for a route of that name
    const third = await parentWith(600, limited);
    const started = await Promise.all([
      ...[first, second].map((parent) =>
        requestJson(stack, 'POST', `/api/v1/executions/${parent.id}/replay`, {
          ...REPLAY,
          to_route: LIMITED_ROUTE,
        }),
      ),
      requestJson(stack, 'POST', `/api/v1/executions/${third.id}/replay`, {
        ...REPLAY,
        to_route: LIMITED_ROUTE,
        config_id: unlimited,
      }),
    ]);
    const ids = started.map((response) => response.body.id as string);
    for (const id of ids) await waitForExecution(stack, id, (record) => record.status === 'completed');
    const pace = paceOf(await pagesOf(ids, LIMITED_ROUTE));
    expect(pace).toBeLessThan(200 * 1.15);
    expect(pace).toBeGreaterThan(200 * 0.7);
    // the unlimited config's replay went at the destination's pace too: never a page above a second's worth
    expect(Math.max(...(await pagesOf([ids[2]!], LIMITED_ROUTE)).map(([, n]) => n))).toBeLessThanOrEqual(200);
  });

  it('a live rate change takes effect within one page', async () => {
    const parent = await parentWith(800);
    const response = await requestJson(stack, 'POST', `/api/v1/executions/${parent.id}/replay`, {
      ...REPLAY,
      max_messages_per_second: 50,
    });
    const id = response.body.id;
    await waitForExecution(stack, id, (record) => record.published_count >= 100);
    const changed = await requestJson(stack, 'PATCH', `/api/v1/executions/${id}`, {
      max_messages_per_second: 400,
    });
    expect(changed.status, JSON.stringify(changed.body)).toBe(200);
    expect(changed.body.max_messages_per_second).toBe(400);
    const changedAt = Date.now();
    await waitForExecution(stack, id, (record) => record.status === 'completed');
    const after = (await pagesOf([id])).filter(([at]) => at > changedAt);
    // at most one page of the old size after the change, then pages of the new one
    expect(after.slice(1, -1).every(([, n]) => n === 400)).toBe(true);
    expect(after.filter(([, n]) => n === 50).length).toBeLessThanOrEqual(1);
    await expectExactlyOnce(id, parent.keys);

    const late = await requestJson(stack, 'PATCH', `/api/v1/executions/${id}`, {
      max_messages_per_second: 10,
    });
    expect(late.status).toBe(409);
    const bad = await requestJson(stack, 'PATCH', `/api/v1/executions/${id}`, { max_messages_per_second: 0 });
    expect(bad.status).toBe(422);
    // below one message every ten seconds: refused (a wait must fit in one publishing activity)
    const tiny = await requestJson(stack, 'PATCH', `/api/v1/executions/${id}`, {
      max_messages_per_second: 0.001,
    });
    expect(tiny.status).toBe(422);
  });

  it('a limit set on an unlimited running replay takes effect within a page', async () => {
    const RATE = 200;
    // unpaced, long enough to be still running when the limit arrives (pages of PAGE_SIZE)
    const parent = await parentWith(15 * PAGE_SIZE);
    const response = await requestJson(stack, 'POST', `/api/v1/executions/${parent.id}/replay`, REPLAY);
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    const id = response.body.id;
    // its first page is out: the publishing step runs, unpaced (watched closely: it goes fast)
    for (let tries = 0; (await getExecution(stack.pool, id))!.published_count === 0; tries += 1) {
      expect(tries, 'the first page').toBeLessThan(3000);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const changed = await requestJson(stack, 'PATCH', `/api/v1/executions/${id}`, {
      max_messages_per_second: RATE,
    });
    expect(changed.status, JSON.stringify(changed.body)).toBe(200);
    const changedAt = Date.now();
    expect(changed.body).toMatchObject({ status: 'running', max_messages_per_second: RATE });
    // the new limit is in force for the rest of the replay (pages committed after the answer)
    const committedAfter = async () => (await pagesOf([id])).filter(([at]) => at > changedAt);
    for (let tries = 0; (await committedAfter()).length < 6; tries += 1) {
      expect(tries, 'paced pages after the PATCH').toBeLessThan(300);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect((await requestJson(stack, 'POST', `/api/v1/executions/${id}/cancel`)).status).toBeLessThan(300);
    const after = await committedAfter();
    // at most the one unpaced page already on its way, then pages of a second's worth at the new rate
    expect(after.filter(([, n]) => n > RATE).length).toBeLessThanOrEqual(1);
    const paced = after.filter(([, n]) => n <= RATE);
    expect(paceOf(paced) / RATE).toBeLessThan(1.15);
    // what went out after the answer: one unpaced page, one full bucket, then the rate over the time
    const [firstAt] = after[0]!;
    const [lastAt] = after.at(-1)!;
    const sent = after.reduce((sum, [, n]) => sum + n, 0);
    expect(sent).toBeLessThanOrEqual(PAGE_SIZE + RATE + (RATE * (lastAt - firstAt)) / 1000);
    const done = await waitForExecution(stack, id, (record) => record.status !== 'running');
    expect(done.status).toBe('cancelled');
    expect(done.published_count).toBeLessThan(parent.keys.length);
  }, 240_000);
});

describe('pause', () => {
  it('stops publishing; resume continues, every object exactly once', async () => {
    const parent = await parentWith(1500);
    const response = await requestJson(stack, 'POST', `/api/v1/executions/${parent.id}/replay`, {
      ...REPLAY,
      max_messages_per_second: 300,
    });
    const id = response.body.id;
    await waitForExecution(stack, id, (record) => record.published_count >= 300);

    const paused = await requestJson(stack, 'POST', `/api/v1/executions/${id}/pause`);
    expect(paused.status, JSON.stringify(paused.body)).toBe(200);
    expect(paused.body).toMatchObject({ status: 'running', progress: { paused: true } });
    const handle = stack.temporal.workflow.getHandle(replayWorkflowId(id));
    // the workflow has taken it in: it waits, and says so in its search attribute
    for (let tries = 0; tries < 50; tries += 1) {
      const described = await handle.describe();
      if (described.typedSearchAttributes.get(searchAttributes.ReplayStatus) === 'paused') break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect((await handle.describe()).typedSearchAttributes.get(searchAttributes.ReplayStatus)).toBe('paused');
    const stopped = (await requestJson(stack, 'GET', `/api/v1/executions/${id}`)).body.progress.published;
    await new Promise((resolve) => setTimeout(resolve, 2500));
    const still = await requestJson(stack, 'GET', `/api/v1/executions/${id}`);
    expect(still.body.progress).toMatchObject({ published: stopped, paused: true });
    expect(still.body.status).toBe('running');
    expect(stopped).toBeLessThan(1500);
    expect((await requestJson(stack, 'POST', `/api/v1/executions/${id}/pause`)).status).toBe(200);

    const resumed = await requestJson(stack, 'POST', `/api/v1/executions/${id}/resume`);
    expect(resumed.status, JSON.stringify(resumed.body)).toBe(200);
    await waitForExecution(stack, id, (record) => record.status === 'completed');
    await expectExactlyOnce(id, parent.keys);
    expect((await requestJson(stack, 'GET', `/api/v1/executions/${id}`)).body.progress.paused).toBe(false);
    expect((await requestJson(stack, 'POST', `/api/v1/executions/${id}/pause`)).status).toBe(409);
  });

  it('works as signals from the Temporal UI or CLI too', async () => {
    const parent = await parentWith(900);
    const response = await requestJson(stack, 'POST', `/api/v1/executions/${parent.id}/replay`, {
      ...REPLAY,
      max_messages_per_second: 300,
    });
    const id = response.body.id;
    const handle = stack.temporal.workflow.getHandle(replayWorkflowId(id));
    await waitForExecution(stack, id, (record) => record.published_count >= 300);
    await handle.signal('pause');
    await waitForExecution(stack, id, (record) => record.paused);
    const progress = await handle.query<{ paused: boolean }>('progress');
    expect(progress.paused).toBe(true);
    await handle.signal('setRate', 900);
    await handle.signal('resume');
    const done = await waitForExecution(stack, id, (record) => record.status === 'completed');
    expect(done.max_messages_per_second).toBe(900);
    await expectExactlyOnce(id, parent.keys);
  });
});
