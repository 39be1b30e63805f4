/**
 * Cancel, terminate-and-resume, continue-as-new and concurrency on the shared real services, with a
 * small page size so a replay spans many pages and runs.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { reconcileClosedReplays } from '../activities/index.ts';
import type { Client } from '@temporalio/client';
import { workflowControl } from '../services/workflow-control.ts';
import {
  cancelSignal,
  pauseSignal,
  progressQuery,
  replayWorkflowId,
  setRateUpdate,
} from '../workflows/definitions.ts';
import { createTestStack, type TestStack } from './support/test-stack.ts';
import {
  createExecution,
  registerConfig,
  requestJson,
  seedOutputs,
  waitForExecution,
} from './support/fixtures.ts';

const execFileAsync = promisify(execFile);
type WorkflowHandle = ReturnType<Client['workflow']['getHandle']>;
const PAGE_SIZE = 20;
const PAGES_PER_RUN = 5;

let stack: TestStack;
let configId: string;

beforeAll(async () => {
  stack = await createTestStack({
    REPLAY_PAGE_SIZE: String(PAGE_SIZE),
    REPLAY_PAGES_PER_RUN: String(PAGES_PER_RUN),
    // one coordinator: these tests follow its runs
    REPLAY_MAX_PARTITIONS: '1',
  });
  await stack.startWorker();
  configId = (await registerConfig(stack)).id;
});
afterAll(async () => stack?.close());

async function startReplay(parentId: string, headers: Record<string, string> = {}) {
  const response = await requestJson(
    stack,
    'POST',
    `/api/v1/executions/${parentId}/replay`,
    { replay_source: 'storage', from_stage: 'markdown_segmented', to_route: 'embedding_generator' },
    headers,
  );
  expect(response.status, JSON.stringify(response.body)).toBe(200);
  return response.body.id as string;
}

async function publishedKeys(executionId: string): Promise<string[]> {
  const messages = await stack.routeReader.messagesOf('embedding_generator', executionId);
  return messages.map((message) => message.data.object.key).sort();
}

async function temporalCli(...args: string[]) {
  const { temporalCli: binary } = inject('stack');
  const { stdout } = await execFileAsync(binary, [...args, '--address', stack.config.TEMPORAL_ADDRESS], {
    timeout: 30_000,
  });
  return stdout;
}

describe('cancel', () => {
  it('stops publishing mid-replay; record and routes end cancelled', async () => {
    const parent = await createExecution(stack, configId);
    await seedOutputs(stack, parent.id, 'markdown_segmented', 3000, { concurrency: 32 });
    const id = await startReplay(parent.id);
    await waitForExecution(stack, id, (record) => record.published_count >= 200);

    const cancelled = await requestJson(stack, 'POST', `/api/v1/executions/${id}/cancel`);
    expect(cancelled.status, JSON.stringify(cancelled.body)).toBe(200);
    expect(cancelled.body.status).toBe('cancelled');
    expect(cancelled.body.completed_at).not.toBeNull();

    const record = await waitForExecution(stack, id, (item) => item.status === 'cancelled');
    const routes = await stack.pool.query(
      'SELECT DISTINCT status FROM execution_routes WHERE execution_id = $1',
      [id],
    );
    expect(routes.rows).toEqual([{ status: 'cancelled' }]);
    const countAfterCancel = (await publishedKeys(id)).length;
    expect(countAfterCancel).toBeLessThan(3000);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect((await publishedKeys(id)).length).toBe(countAfterCancel);
    expect(countAfterCancel).toBe(record.published_count);

    const again = await requestJson(stack, 'POST', `/api/v1/executions/${id}/cancel`);
    expect(again.status).toBe(409);
    expect(again.body.error_code).toBe('EXECUTION_FINISHED');
    const resume = await requestJson(stack, 'POST', `/api/v1/executions/${id}/resume`);
    expect(resume.status).toBe(409);
    expect(resume.body.error_code).toBe('EXECUTION_NOT_INTERRUPTED');
  });
});

describe('a workflow terminated outside the service', () => {
  it('is marked interrupted by the reconciler and resumed from its cursor, every object once', async () => {
    const parent = await createExecution(stack, configId);
    const keys = await seedOutputs(stack, parent.id, 'markdown_segmented', 2000, { concurrency: 32 });
    const id = await startReplay(parent.id);
    await waitForExecution(stack, id, (record) => record.published_count >= 300);

    await temporalCli(
      'workflow',
      'terminate',
      '--workflow-id',
      replayWorkflowId(id),
      '--reason',
      'operator test',
    );
    const stuck = await waitForExecution(stack, id, () => true);
    expect(stuck.status).toBe('running');

    const marked = await reconcileClosedReplays(
      { pool: stack.pool, temporal: stack.temporal, logger: stack.logger },
      { graceSeconds: 0 },
    );
    expect(marked).toContain(id);
    const interrupted = await requestJson(stack, 'GET', `/api/v1/executions/${id}`);
    expect(interrupted.body.status).toBe('interrupted');
    expect(interrupted.body.error).toContain('terminated');

    const resumed = await requestJson(stack, 'POST', `/api/v1/executions/${id}/resume`);
    expect(resumed.status, JSON.stringify(resumed.body)).toBe(200);
    expect(resumed.body.status).toBe('running');
    const done = await waitForExecution(stack, id, (record) => record.status === 'completed', 120_000);
    expect(done.published_count).toBe(2000);
    expect(await publishedKeys(id)).toEqual(keys);
    expect(done.error).toBeNull();
  });
});

describe('continue-as-new', () => {
  it('keeps every run short while the replay spans many runs', async () => {
    const parent = await createExecution(stack, configId);
    const keys = await seedOutputs(stack, parent.id, 'markdown_segmented', 1000, { concurrency: 32 });
    const id = await startReplay(parent.id);
    const handle = stack.temporal.workflow.getHandle(replayWorkflowId(id));
    const progress = await handle.query(progressQuery);
    expect(progress.execution_id).toBe(id);
    expect(['running', 'completed']).toContain(progress.status);

    await waitForExecution(stack, id, (record) => record.status === 'completed', 120_000);
    expect(await publishedKeys(id)).toEqual(keys);

    const runs: { runId: string; historyLength: number }[] = [];
    for await (const execution of stack.temporal.workflow.list({
      query: `WorkflowId = '${replayWorkflowId(id)}'`,
    })) {
      runs.push({ runId: execution.runId, historyLength: execution.historyLength });
    }
    // 1,000 objects / 20 per page / 5 pages per run: about 10 runs
    expect(runs.length).toBeGreaterThanOrEqual(9);
    const longest = Math.max(...runs.map((run) => run.historyLength));
    expect(longest).toBeLessThan(120);
  });
});

describe('concurrency', () => {
  it('two replays of one parent run side by side without mixing', async () => {
    const parent = await createExecution(stack, configId);
    const keys = await seedOutputs(stack, parent.id, 'markdown_segmented', 400, { concurrency: 32 });
    const [a, b] = await Promise.all([startReplay(parent.id), startReplay(parent.id)]);
    expect(a).not.toBe(b);
    await Promise.all(
      [a, b].map((id) => waitForExecution(stack, id, (record) => record.status === 'completed')),
    );
    expect(await publishedKeys(a)).toEqual(keys);
    expect(await publishedKeys(b)).toEqual(keys);
  });

  it('100 concurrent POSTs with one Idempotency-Key give one execution', async () => {
    const parent = await createExecution(stack, configId);
    const keys = await seedOutputs(stack, parent.id, 'markdown_segmented', 50);
    const headers = { 'Idempotency-Key': `burst-${parent.id}` };
    const ids = await Promise.all(Array.from({ length: 100 }, () => startReplay(parent.id, headers)));
    expect(new Set(ids).size).toBe(1);
    const children = await stack.pool.query('SELECT id FROM executions WHERE parent_execution_id = $1', [
      parent.id,
    ]);
    expect(children.rowCount).toBe(1);
    await waitForExecution(stack, ids[0]!, (record) => record.status === 'completed');
    expect(await publishedKeys(ids[0]!)).toEqual(keys);
  });
});

describe('races with a workflow that closes (answered 409, never 500)', () => {
  /** A replay held at 1 message/s whose workflow is then terminated and reconciled: interrupted. */
  async function interruptedReplay(): Promise<string> {
    const parent = await createExecution(stack, configId);
    await seedOutputs(stack, parent.id, 'markdown_segmented', 30);
    const response = await requestJson(stack, 'POST', `/api/v1/executions/${parent.id}/replay`, {
      replay_source: 'storage',
      from_stage: 'markdown_segmented',
      to_route: 'embedding_generator',
      max_messages_per_second: 1,
    });
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    const id = response.body.id as string;
    await waitForExecution(stack, id, (record) => record.published_count >= 1);
    await stack.temporal.workflow.getHandle(replayWorkflowId(id)).terminate('race test');
    await reconcileClosedReplays(
      { pool: stack.pool, temporal: stack.temporal, logger: stack.logger },
      { graceSeconds: 0 },
    );
    await waitForExecution(stack, id, (record) => record.status === 'interrupted');
    return id;
  }

  it('concurrent resumes of a closed replay: one starts its new run, the others answer 409', async () => {
    const id = await interruptedReplay();
    const answers = await Promise.all(
      Array.from({ length: 8 }, () => requestJson(stack, 'POST', `/api/v1/executions/${id}/resume`)),
    );
    const statuses = answers.map((answer) => answer.status);
    expect(
      statuses.every((status) => [200, 202, 409].includes(status)),
      JSON.stringify(statuses),
    ).toBe(true);
    expect(statuses.some((status) => status !== 409)).toBe(true);
    for (const answer of answers.filter((item) => item.status === 409)) {
      expect(answer.body.error_code).toBe('EXECUTION_NOT_INTERRUPTED');
      expect(answer.body.correlation_id).toEqual(expect.any(String));
    }
    await requestJson(stack, 'POST', `/api/v1/executions/${id}/cancel`);
  });

  it('a signal or update to a workflow that closed after the open check answers 409 WORKFLOW_CLOSED', async () => {
    const id = await interruptedReplay();
    // the workflow is closed: what a request meets when it closes between its check and its signal
    const control = workflowControl(stack.temporal, 10_000);
    for (const send of [
      (handle: WorkflowHandle) => handle.signal(pauseSignal),
      (handle: WorkflowHandle) => handle.signal(cancelSignal, 'race test'),
      async (handle: WorkflowHandle) => void (await handle.executeUpdate(setRateUpdate, { args: [5] })),
    ]) {
      await expect(control.signal(replayWorkflowId(id), send)).rejects.toMatchObject({
        kind: 'conflict',
        code: 'WORKFLOW_CLOSED',
      });
    }
    await requestJson(stack, 'POST', `/api/v1/executions/${id}/cancel`);
  });
});
