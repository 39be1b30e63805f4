/**
 * The Postgres adapters the api and the reconciler go through (adapters/executions.ts,
 * adapters/idempotency-keys.ts), on the real database: the status function's guards, the
 * reconciler's candidates, Idempotency-Key claims.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getExecution, listIdleRunningReplays, setExecutionStatus } from '../adapters/executions.ts';
import { newExecutionId } from '../adapters/ids.ts';
import {
  deleteIdempotencyKey,
  findIdempotencyKey,
  insertIdempotencyKeyIfAbsent,
} from '../adapters/idempotency-keys.ts';
import { ObjectStore } from '../adapters/object-store.ts';
import { startDelayingProxy } from './support/delaying-proxy.ts';
import { createExecution, registerConfig } from './support/fixtures.ts';
import { createTestStack, type TestStack } from './support/test-stack.ts';

let stack: TestStack;
let configId: string;

beforeAll(async () => {
  stack = await createTestStack();
  configId = (await registerConfig(stack)).id;
});
afterAll(async () => stack?.close());

async function runningReplay(): Promise<string> {
  const { id } = await createExecution(stack, configId);
  await stack.pool.query(
    "UPDATE executions SET workflow_id = 'replay-' || id::text, updated_at = now() - interval '1 hour' WHERE id = $1",
    [id],
  );
  return id;
}

describe('setExecutionStatus', () => {
  it('moves only from the statuses in onlyFrom, and never out of a terminal one', async () => {
    const id = await runningReplay();
    const first = await setExecutionStatus(stack.pool, id, 'interrupted', 'by a workflow');
    expect(first).toMatchObject({ status: 'interrupted', error: 'by a workflow', completed_at: null });

    const refused = await setExecutionStatus(stack.pool, id, 'interrupted', 'by the reconciler', {
      onlyFrom: ['running'],
    });
    expect(refused).toMatchObject({ status: 'interrupted', error: 'by a workflow' });

    const resumed = await setExecutionStatus(stack.pool, id, 'running', null, { onlyFrom: ['interrupted'] });
    expect(resumed?.status).toBe('running');
    const completed = await setExecutionStatus(stack.pool, id, 'completed');
    expect(completed?.completed_at).not.toBeNull();
    expect((await setExecutionStatus(stack.pool, id, 'failed', 'late'))?.status).toBe('completed');
    expect(await setExecutionStatus(stack.pool, newExecutionId(), 'failed')).toBeUndefined();
  });
});

describe('listIdleRunningReplays', () => {
  it('lists running replays unchanged for longer than the grace, not the others', async () => {
    const idle = await runningReplay();
    const fresh = await runningReplay();
    await stack.pool.query('UPDATE executions SET updated_at = now() WHERE id = $1', [fresh]);
    const finished = await runningReplay();
    await setExecutionStatus(stack.pool, finished, 'completed');
    await stack.pool.query("UPDATE executions SET updated_at = now() - interval '1 hour' WHERE id = $1", [
      finished,
    ]);

    const listed = (await listIdleRunningReplays(stack.pool, 60)).map((row) => row.id);
    expect(listed).toContain(idle);
    expect(listed).not.toContain(fresh);
    expect(listed).not.toContain(finished);
    expect((await listIdleRunningReplays(stack.pool, 60, 1)).length).toBe(1);
    expect((await getExecution(stack.pool, idle))?.status).toBe('running');
  });
});

describe('Idempotency-Key claims', () => {
  it('stores the first claim of a key only, and forgets it only for its own execution', async () => {
    const key = `adapters-${newExecutionId()}`;
    const first = { requestHash: 'a'.repeat(64), executionId: newExecutionId() };
    const second = { requestHash: 'b'.repeat(64), executionId: newExecutionId() };
    expect(await findIdempotencyKey(stack.pool, key)).toBeUndefined();
    const claims = await Promise.all(
      [first, second].map((claim) => insertIdempotencyKeyIfAbsent(stack.pool, key, claim)),
    );
    expect(claims.filter(Boolean)).toHaveLength(1);
    const stored = await findIdempotencyKey(stack.pool, key);
    expect([first, second]).toContainEqual(stored);

    const other = stored!.executionId === first.executionId ? second : first;
    await deleteIdempotencyKey(stack.pool, key, other.executionId);
    expect(await findIdempotencyKey(stack.pool, key)).toEqual(stored);
    await deleteIdempotencyKey(stack.pool, key, stored!.executionId);
    expect(await findIdempotencyKey(stack.pool, key)).toBeUndefined();
  });
});

describe('ObjectStore.ensureBucket', () => {
  it('creates a bucket only when HeadBucket says it is missing; any other failure is thrown as it is', async () => {
    const proxy = await startDelayingProxy(stack.config.S3_ENDPOINT!, () => 0);
    const options = {
      endpoint: proxy.url,
      region: stack.config.S3_REGION,
      prefix: '',
      forcePathStyle: true,
      accessKeyId: stack.config.S3_ACCESS_KEY_ID,
    };
    const bucket = `ensure-${stack.config.TEMPORAL_TASK_QUEUE}`;
    const denied = new ObjectStore({
      ...options,
      bucket,
      accessKeyId: 'not-a-key',
      secretAccessKey: 'not-the-secret',
    });
    const allowed = new ObjectStore({
      ...options,
      bucket,
      secretAccessKey: stack.config.S3_SECRET_ACCESS_KEY,
    });
    try {
      // refused (unknown credentials): not "missing", so no CreateBucket
      await expect(denied.ensureBucket()).rejects.toMatchObject({ $metadata: { httpStatusCode: 403 } });
      expect(proxy.requests.filter((line) => !line.startsWith('HEAD '))).toEqual([]);
      // missing: created, once
      await allowed.ensureBucket();
      await allowed.ensureBucket();
      expect(proxy.requests.filter((line) => line.startsWith('PUT '))).toHaveLength(1);
      await expect(allowed.ping()).resolves.toBeUndefined();
    } finally {
      denied.close();
      allowed.close();
      await proxy.close();
    }
  });
});
