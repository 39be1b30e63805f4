/**
 * A preview job (`previewReplay`) with stub activities: it counts a slice at a time until done,
 * fails when a slice spends its attempts, and ends `cancelled` when cancelled while counting.
 */
import { randomUUID } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/activity';
import { afterAll, describe, expect, it } from 'vitest';
import type { previewReplay } from '../../workflows/preview-replay.ts';
import { PREVIEW_WORKFLOW_TYPE } from '../../workflows/definitions.ts';
import {
  closeStubWorker,
  deferred,
  heartbeatUntil,
  replaySettings,
  waitUntil,
  withStubs,
  type StubScope,
} from './stub-worker.ts';

afterAll(closeStubWorker);

function startPreview(scope: StubScope, previewId: string) {
  return scope.temporal.workflow.start<typeof previewReplay>(PREVIEW_WORKFLOW_TYPE, {
    workflowId: scope.workflowId(`replay-preview-${previewId}`),
    taskQueue: scope.taskQueue,
    args: [{ previewId, settings: replaySettings(scope.taskQueue, { stepMaxAttempts: 2 }) }],
  });
}

describe.concurrent('a preview job', () => {
  it('counts slice after slice until the listing is done', async () => {
    let slices = 0;
    const previewId = randomUUID();
    await withStubs(
      {
        countReplayPreview: async () => {
          slices += 1;
          return { done: slices === 3, count: slices * 10, listed: slices * 10 };
        },
      },
      async (scope) => {
        const handle = await startPreview(scope, previewId);
        expect(await handle.result()).toEqual({ preview_id: previewId, status: 'completed', error: null });
        expect(slices).toBe(3);
      },
    );
  });

  it('fails the preview with the step’s own message when a slice spends its attempts', async () => {
    const failed: { previewId: string; error: string }[] = [];
    const previewId = randomUUID();
    await withStubs(
      {
        countReplayPreview: async () => {
          throw ApplicationFailure.retryable('the store is down');
        },
        failReplayPreview: async (input) => {
          failed.push(input);
        },
      },
      async (scope) => {
        const handle = await startPreview(scope, previewId);
        expect(await handle.result()).toEqual({
          preview_id: previewId,
          status: 'failed',
          error: 'the store is down',
        });
        expect(failed).toEqual([{ previewId, error: 'the store is down' }]);
      },
    );
  });

  it('is cancelled while counting: the preview ends cancelled, not running', async () => {
    const cancelled: string[] = [];
    const failed: string[] = [];
    const counting = deferred();
    const previewId = randomUUID();
    await withStubs(
      {
        countReplayPreview: async () => {
          counting.resolve();
          return heartbeatUntil(new Promise<never>(() => {}));
        },
        cancelReplayPreview: async (input) => {
          cancelled.push(input.previewId);
        },
        failReplayPreview: async (input) => {
          failed.push(input.previewId);
        },
      },
      async (scope) => {
        const handle = await startPreview(scope, previewId);
        await counting.promise;
        await handle.cancel();
        expect(await handle.result()).toEqual({ preview_id: previewId, status: 'cancelled', error: null });
        await waitUntil(() => cancelled.length > 0, 'the preview is cancelled');
        expect(cancelled).toEqual([previewId]);
        expect(failed).toEqual([]);
      },
    );
  });
});
