/**
 * Small helpers for the fault tests (test/support/fixtures.ts's take the shared TestStack), and the
 * one check every fault test ends with: the published set equals the source set.
 */
import { expect } from 'vitest';
import { temporal } from '@temporalio/proto';
export { sleep } from '../../adapters/sleep.ts';
import { sleep } from '../../adapters/sleep.ts';
import { getExecution, type ExecutionRecord } from '../../adapters/executions.ts';
import { replayWorkflowId } from '../../workflows/definitions.ts';
import { seedOutputs } from '../support/fixtures.ts';
import type { PrivateStack } from '../support/private-stack.ts';

export const ROUTE = 'embedding_generator';
const STAGE = 'markdown_segmented';

const PIPELINE = {
  name: 'documents',
  stages: ['markdown', STAGE, 'embeddings'],
  routes: [
    { name: 'markdown_segmenter', input_stage: 'markdown', output_stage: STAGE },
    { name: ROUTE, input_stage: STAGE, output_stage: 'embeddings' },
  ],
  entry_route: 'markdown_segmenter',
};

export async function request(
  stack: Pick<PrivateStack, 'app'>,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: any }> {
  const response = await stack.app.request(path, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}

async function created(stack: PrivateStack, path: string, body: unknown): Promise<string> {
  const response = await request(stack, 'POST', path, body);
  if (response.status !== 201)
    throw new Error(`${path}: ${response.status} ${JSON.stringify(response.body)}`);
  return response.body.id;
}

/**
 * A parent execution of a registered pipeline with `count` stored outputs, flat (`doc-000000.json`)
 * or spread over `folders` folders (`part-00/doc-000000.json`); returns its id and keys.
 */
export async function seedParent(
  stack: PrivateStack,
  count: number,
  options: { folders?: number } = {},
): Promise<{ parentId: string; keys: string[] }> {
  const configId = await created(stack, '/api/v1/configs', PIPELINE);
  const parentId = await created(stack, '/api/v1/executions', { config_id: configId });
  if (!options.folders) {
    // s3rver takes about 800 puts/s at this concurrency
    const keys = await seedOutputs(stack, parentId, STAGE, count, { concurrency: 32 });
    return { parentId, keys };
  }
  const perFolder = Math.ceil(count / options.folders);
  const keys: string[] = [];
  for (let folder = 0; folder < options.folders; folder += 1) {
    const inFolder = Math.min(perFolder, count - keys.length);
    const folderName = `part-${String(folder).padStart(2, '0')}/`;
    keys.push(
      ...(await seedOutputs(stack, parentId, STAGE, inFolder, { concurrency: 32, folder: folderName })),
    );
  }
  return { parentId, keys };
}

export async function startReplay(
  stack: Pick<PrivateStack, 'app'>,
  parentId: string,
  extra: Record<string, unknown> = {},
): Promise<string> {
  const response = await request(stack, 'POST', `/api/v1/executions/${parentId}/replay`, {
    replay_source: 'storage',
    from_stage: STAGE,
    to_route: ROUTE,
    ...extra,
  });
  if (response.status !== 200) throw new Error(`replay: ${response.status} ${JSON.stringify(response.body)}`);
  return response.body.id;
}

/**
 * Polls the record until predicate holds. Read errors (Postgres restarting) are retried: the
 * deadline is the only bound.
 */
export async function waitForRecord(
  stack: PrivateStack,
  id: string,
  predicate: (record: ExecutionRecord) => boolean,
  timeoutMs: number,
): Promise<ExecutionRecord> {
  const deadline = Date.now() + timeoutMs;
  let last: ExecutionRecord | undefined;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      last = await getExecution(stack.pool, id);
      if (last && predicate(last)) return last;
    } catch (error) {
      lastError = error;
    }
    await sleep(100);
  }
  throw new Error(
    `execution ${id} did not reach the expected state in ${timeoutMs} ms; last: ${JSON.stringify(last)}` +
      (lastError ? `; last read error: ${String(lastError)}` : ''),
  );
}

/** Nothing lost, nothing twice: the route queue holds exactly one message per source key. */
export async function expectPublishedExactlyOnce(
  stack: PrivateStack,
  executionId: string,
  sourceKeys: string[],
): Promise<void> {
  const messages = await stack.routeReader.messagesOf(ROUTE, executionId);
  const published = messages.map((message) => message.data.object.key);
  const seen = new Set<string>();
  const twice = published.filter((key) => seen.has(key) || !seen.add(key));
  const missing = sourceKeys.filter((key) => !seen.has(key));
  const source = new Set(sourceKeys);
  const foreign = [...seen].filter((key) => !source.has(key));
  expect({ twice: twice.slice(0, 10), missing: missing.slice(0, 10), foreign: foreign.slice(0, 10) }).toEqual(
    {
      twice: [],
      missing: [],
      foreign: [],
    },
  );
  expect(published.length).toBe(sourceKeys.length);
  const record = await getExecution(stack.pool, executionId);
  expect(record?.status).toBe('completed');
  expect(record?.published_count).toBe(sourceKeys.length);
}

/**
 * The activities of a replay's workflow (every run) that needed more than one attempt, with why the
 * attempt before the last failed (the history keeps the last failure on the started event).
 */
export async function retriedActivities(
  stack: PrivateStack,
  executionId: string,
  options: { withPartitions?: boolean; workflowId?: string } = {},
): Promise<{ activity: string; attempt: number; cause: string }[]> {
  // another workflow of the replay's (a preview job's) when given
  const workflowId = options.workflowId ?? replayWorkflowId(executionId);
  const retried: { activity: string; attempt: number; cause: string }[] = [];
  // a partitioned replay's publishing runs in its partitions' workflows (`<id>-p<n>`)
  const query = options.withPartitions
    ? `WorkflowId STARTS_WITH '${workflowId}'`
    : `WorkflowId = '${workflowId}'`;
  for await (const run of stack.temporal.workflow.list({ query })) {
    const history = await stack.temporal.workflow.getHandle(run.workflowId, run.runId).fetchHistory();
    const scheduled = new Map<string, string>();
    for (const event of history.events ?? []) {
      const attributes = event.activityTaskScheduledEventAttributes;
      if (attributes) scheduled.set(String(event.eventId), attributes.activityType?.name ?? '');
      const started = event.activityTaskStartedEventAttributes;
      if (started && (started.attempt ?? 1) > 1) {
        const timeout = started.lastFailure?.timeoutFailureInfo?.timeoutType;
        retried.push({
          activity: scheduled.get(String(started.scheduledEventId)) ?? '',
          attempt: started.attempt ?? 1,
          cause: timeout !== undefined && timeout !== null ? temporalEnumName(timeout) : 'failure',
        });
      }
    }
  }
  return retried;
}

function temporalEnumName(value: number | string): string {
  return typeof value === 'string' ? value : (temporal.api.enums.v1.TimeoutType[value] ?? String(value));
}

/**
 * Nothing lost, duplicates identifiable: every source key delivered at least once, nothing else, and
 * every duplicate carries the id of the message it repeats. Returns the number of duplicates.
 */
export async function expectDeliveredAtLeastOnce(
  stack: PrivateStack,
  executionId: string,
  sourceKeys: string[],
): Promise<{ deliveries: number; duplicates: number }> {
  const messages = await stack.routeReader.messagesOf(ROUTE, executionId);
  const idByKey = new Map<string, string>();
  const mismatched: string[] = [];
  for (const message of messages) {
    const key = message.data.object.key;
    const known = idByKey.get(key);
    if (known === undefined) idByKey.set(key, message.id);
    else if (known !== message.id) mismatched.push(key);
    // the id travels twice (header/attribute and body): both must say the same
    if (message.id !== message.data.message_id) mismatched.push(key);
  }
  const source = new Set(sourceKeys);
  const missing = sourceKeys.filter((key) => !idByKey.has(key));
  const foreign = [...idByKey.keys()].filter((key) => !source.has(key));
  expect({
    missing: missing.slice(0, 10),
    foreign: foreign.slice(0, 10),
    mismatched: mismatched.slice(0, 10),
  }).toEqual({ missing: [], foreign: [], mismatched: [] });
  const record = await getExecution(stack.pool, executionId);
  expect(record?.status).toBe('completed');
  expect(record?.published_count).toBe(sourceKeys.length);
  return { deliveries: messages.length, duplicates: messages.length - idByKey.size };
}
