/**
 * The replay workflow's state machine with stub activities on the shared Temporal dev server: every
 * transition the real-stack tests cannot force at will (a failed step, a heartbeat timeout, a
 * cancel at a given moment, a refused start), in seconds. The real activities are tested on real
 * services elsewhere; here only their names and contracts are kept.
 */
import { ApplicationFailure, Context } from '@temporalio/activity';
import { WorkflowFailedError, WorkflowUpdateFailedError } from '@temporalio/client';
import { afterAll, describe, expect, it } from 'vitest';
import { failureTypes } from '../../domain/replay.ts';
import { type ReplayWorkflowInput } from '../../workflows/replay-execution.contract.ts';
import {
  cancelSignal,
  pauseSignal,
  progressQuery,
  REPLAY_WORKFLOW_TYPE,
  resumeSignal,
  setRateSignal,
  setRateUpdate,
} from '../../workflows/definitions.ts';
import {
  closeStubWorker,
  deferred,
  FakeReplays,
  heartbeatUntil,
  KEYS_PER_PAGE,
  replaySettings,
  sleep,
  startReplay,
  runInputs,
  waitUntil,
  withStubs,
} from './stub-worker.ts';

afterAll(closeStubWorker);

// each test has its own workflows and stubs on the file's worker: they run side by side
describe.concurrent('a replay', () => {
  it('continues as new every pagesPerRun pages, carrying its cursor and counters', async () => {
    const fakes = new FakeReplays(() => 5);
    await withStubs(fakes.activities(), async ({ temporal, taskQueue, newReplay }) => {
      const execution = newReplay();
      const { handle, created } = await startReplay(temporal, taskQueue, {
        execution,
        settings: replaySettings(taskQueue, { pagesPerRun: 2 }),
      });
      expect(created).toMatchObject({ id: execution.id, status: 'running' });
      expect(await handle.result()).toEqual({
        status: 'completed',
        execution_id: execution.id,
        published: 5 * KEYS_PER_PAGE,
        error: null,
      });

      const runs = await runInputs<ReplayWorkflowInput>(temporal, execution.workflow_id);
      expect(
        runs.map((run) => run.carried && { ...run.carried, summary: run.carried.summary.status }),
      ).toEqual([
        undefined,
        {
          summary: 'running',
          sourceExecutionId: 'parent-1',
          cursor: 'key-2',
          listed: 20,
          published: 20,
          paused: false,
          maxMessagesPerSecond: null,
          partitions: 0,
          pausedReason: null,
          canaryDone: false,
        },
        {
          summary: 'running',
          sourceExecutionId: 'parent-1',
          cursor: 'key-4',
          listed: 40,
          published: 40,
          paused: false,
          maxMessagesPerSecond: null,
          partitions: 0,
          pausedReason: null,
          canaryDone: false,
        },
      ]);
      // the record is created once; every run publishes at most pagesPerRun pages
      expect(fakes.callsOf('startReplay')).toHaveLength(1);
      expect(
        fakes.callsOf('publishPages').map((call) => (call.input as { maxPages: number }).maxPages),
      ).toEqual([2, 2, 2]);
      expect(fakes.statusesOf(execution.id)).toEqual([]);
    });
  });

  it('goes on from the state Postgres keeps when resumed in a new run (resume: true)', async () => {
    const fakes = new FakeReplays(() => 3);
    await withStubs(fakes.activities(), async ({ temporal, taskQueue, newReplay }) => {
      const execution = newReplay();
      await fakes.startReplay(execution);
      Object.assign(fakes.record(execution.id), { cursor: 'key-2', published: 2 * KEYS_PER_PAGE });
      fakes.record(execution.id).summary.status = 'interrupted';
      const handle = await temporal.workflow.start(REPLAY_WORKFLOW_TYPE, {
        workflowId: execution.workflow_id,
        taskQueue,
        args: [{ execution, settings: replaySettings(taskQueue), resume: true }],
      });
      expect(await handle.result()).toMatchObject({ status: 'completed', published: 3 * KEYS_PER_PAGE });
      expect(fakes.calls.map((call) => call.activity)).toEqual(['loadReplayState', 'publishPages']);
      expect(fakes.callsOf('publishPages')[0]!.input).toMatchObject({ maxPages: 100 });
    });
  });

  it('retries a step whose activity stopped heartbeating, on the same step, without interrupting', async () => {
    const fakes = new FakeReplays();
    const activities = fakes.activities({
      async publishPages(input) {
        const context = Context.current();
        // the first attempt hangs without a heartbeat (a stuck worker) until the worker stops it
        if (context.info.attempt === 1) await context.sleep(10_000);
        return fakes.publishPages(input);
      },
    });
    await withStubs(activities, async ({ temporal, taskQueue, newReplay }) => {
      const execution = newReplay();
      const { handle } = await startReplay(temporal, taskQueue, {
        execution,
        settings: replaySettings(taskQueue, { heartbeatTimeoutSeconds: 1 }),
      });
      expect(await handle.result()).toMatchObject({ status: 'completed', published: KEYS_PER_PAGE });
      expect(fakes.callsOf('publishPages').map((call) => call.attempt)).toEqual([1, 2]);
      expect(fakes.statusesOf(execution.id)).toEqual([]);
    });
  });

  it('is interrupted when a step spends its attempts, and goes on only on a resume sent after that', async () => {
    const fakes = new FakeReplays();
    const firstAttemptFails = deferred();
    let calls = 0;
    const activities = fakes.activities({
      async publishPages(input) {
        calls += 1;
        if (calls === 1) {
          await heartbeatUntil(firstAttemptFails.promise);
          throw new Error('the store is unreachable');
        }
        return fakes.publishPages(input);
      },
    });
    await withStubs(activities, async ({ temporal, taskQueue, newReplay }) => {
      const execution = newReplay();
      const { handle } = await startReplay(temporal, taskQueue, {
        execution,
        settings: replaySettings(taskQueue, { stepMaxAttempts: 1 }),
      });
      await waitUntil(() => calls === 1, 'the first step runs');
      // a resume that comes before the interruption must not resume it
      await handle.signal(resumeSignal);
      firstAttemptFails.resolve();
      await waitUntil(() => fakes.statusesOf(execution.id).length > 0, 'the replay is interrupted');
      await sleep(500);
      expect(fakes.statusesOf(execution.id)).toEqual(['interrupted']);
      expect(fakes.statusChanges[0]!.error).toBe('publishPages: the store is unreachable');
      expect(await handle.query(progressQuery)).toMatchObject({
        status: 'interrupted',
        step: 'publishPages',
        last_error: 'publishPages: the store is unreachable',
      });

      await handle.signal(resumeSignal);
      expect(await handle.result()).toMatchObject({ status: 'completed', published: KEYS_PER_PAGE });
      expect(fakes.statusesOf(execution.id)).toEqual(['interrupted', 'running']);
      expect(fakes.callsOf('publishPages').map((call) => call.attempt)).toEqual([1, 1]);
    });
  });

  it('is cancelled while publishing: the step is cancelled, the record becomes cancelled', async () => {
    const fakes = new FakeReplays();
    const stepCancelled = deferred<string>();
    const activities = fakes.activities({
      async publishPages() {
        try {
          return await heartbeatUntil(new Promise<never>(() => {}));
        } catch (error) {
          stepCancelled.resolve((error as Error).name);
          throw error;
        }
      },
    });
    await withStubs(activities, async ({ temporal, taskQueue, newReplay }) => {
      const execution = newReplay();
      const { handle } = await startReplay(temporal, taskQueue, {
        execution,
        settings: replaySettings(taskQueue),
      });
      await waitUntil(() => fakes.callsOf('publishPages').length === 1, 'publishing starts');
      await handle.signal(cancelSignal, 'test');
      expect(await handle.result()).toEqual({
        status: 'cancelled',
        execution_id: execution.id,
        published: 0,
        error: null,
      });
      expect(fakes.statusChanges).toEqual([
        { executionId: execution.id, status: 'cancelled', error: 'cancelled by operator' },
      ]);
      expect(await stepCancelled.promise).toBe('CancelledFailure');
    });
  });

  it('is cancelled while interrupted', async () => {
    const fakes = new FakeReplays();
    const activities = fakes.activities({
      async publishPages() {
        throw new Error('the store is unreachable');
      },
    });
    await withStubs(activities, async ({ temporal, taskQueue, newReplay }) => {
      const execution = newReplay();
      const { handle } = await startReplay(temporal, taskQueue, {
        execution,
        settings: replaySettings(taskQueue, { stepMaxAttempts: 1 }),
      });
      await waitUntil(() => fakes.statusesOf(execution.id).length === 1, 'the replay is interrupted');
      await handle.cancel();
      expect(await handle.result()).toMatchObject({ status: 'cancelled', error: null });
      expect(fakes.statusesOf(execution.id)).toEqual(['interrupted', 'cancelled']);
      expect(fakes.callsOf('publishPages')).toHaveLength(1);
    });
  });

  it('fails on a non-retryable step failure: record failed, workflow failed, no retry', async () => {
    const fakes = new FakeReplays();
    const activities = fakes.activities({
      async publishPages() {
        throw ApplicationFailure.nonRetryable('the stage folder is a file', 'BadStage');
      },
    });
    await withStubs(activities, async ({ temporal, taskQueue, newReplay }) => {
      const execution = newReplay();
      const { handle } = await startReplay(temporal, taskQueue, {
        execution,
        settings: replaySettings(taskQueue),
      });
      const failure = await handle.result().catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(WorkflowFailedError);
      expect((failure as WorkflowFailedError).cause).toMatchObject({
        type: failureTypes.replayFailed,
        message: 'publishPages: the stage folder is a file',
      });
      expect(fakes.statusChanges).toEqual([
        { executionId: execution.id, status: 'failed', error: 'publishPages: the stage folder is a file' },
      ]);
      expect(fakes.callsOf('publishPages')).toHaveLength(1);
    });
  });

  it('keeps the status another path finished its record with (cancelled through the api, no workflow)', async () => {
    const fakes = new FakeReplays();
    const activities = fakes.activities({
      async publishPages(input) {
        fakes.record(input.executionId).summary.status = 'cancelled';
        return fakes.publishPages(input);
      },
    });
    await withStubs(activities, async ({ temporal, taskQueue, newReplay }) => {
      const execution = newReplay();
      const { handle } = await startReplay(temporal, taskQueue, {
        execution,
        settings: replaySettings(taskQueue),
      });
      expect(await handle.result()).toMatchObject({ status: 'cancelled', error: null });
      expect(fakes.statusesOf(execution.id)).toEqual(['failed']);
    });
  });
});

describe.concurrent('a refused start', () => {
  it.each([
    ['a taken tag', failureTypes.tagTaken],
    ['a config that is gone', failureTypes.configNotFound],
  ])('(%s) fails the update, returns rejected, and runs nothing else', async (_name, type) => {
    const fakes = new FakeReplays();
    const activities = fakes.activities({
      async startReplay() {
        throw ApplicationFailure.nonRetryable(`refused: ${type}`, type);
      },
    });
    await withStubs(activities, async ({ temporal, taskQueue, newReplay }) => {
      const execution = newReplay();
      const { handle, refused } = await startReplay(temporal, taskQueue, {
        execution,
        settings: replaySettings(taskQueue),
      });
      expect(refused).toBeInstanceOf(WorkflowUpdateFailedError);
      expect((refused as WorkflowUpdateFailedError).cause).toMatchObject({
        type,
        message: `refused: ${type}`,
      });
      expect(await handle.result()).toEqual({
        status: 'rejected',
        execution_id: execution.id,
        published: 0,
        error: `refused: ${type}`,
      });
      expect(fakes.calls.map((call) => call.activity)).toEqual(['startReplay']);
    });
  });

  it('(a database that stays down) is refused after three attempts as RecordNotCreated', async () => {
    const fakes = new FakeReplays();
    const activities = fakes.activities({
      async startReplay() {
        throw new Error('connection refused');
      },
    });
    await withStubs(activities, async ({ temporal, taskQueue, newReplay }) => {
      const execution = newReplay();
      const { handle, refused } = await startReplay(temporal, taskQueue, {
        execution,
        settings: replaySettings(taskQueue),
      });
      expect((refused as WorkflowUpdateFailedError).cause).toMatchObject({
        type: failureTypes.recordNotCreated,
        message: 'connection refused',
      });
      expect(await handle.result()).toMatchObject({ status: 'rejected', error: 'connection refused' });
      expect(fakes.calls.map((call) => call.attempt)).toEqual([1, 2, 3]);
    });
  });
});

// what operators do to a running replay: pause and resume it, change its rate
describe.concurrent('a replay, operated mid-replay', () => {
  it('is paused mid-replay: the step stops, nothing is published until a resume, then it goes on', async () => {
    const fakes = new FakeReplays(() => 3);
    let pausedInPostgres = false;
    const firstPage = deferred();
    const pauses: boolean[] = [];
    const activities = fakes.activities({
      async publishPages(input) {
        // a page's transaction refuses to commit while the record is paused
        if (pausedInPostgres) {
          const record = fakes.record(input.executionId);
          return {
            pages: 0,
            cursor: record.cursor,
            listed: record.published,
            published: record.published,
            sourceExecutionId: 'parent-1',
            finished: false,
            paused: true,
            summary: null,
          };
        }
        const result = await fakes.publishPages({ ...input, maxPages: 1 });
        firstPage.resolve();
        if (!result.finished) await heartbeatUntil(new Promise((resolve) => setTimeout(resolve, 300)));
        return result;
      },
      async setReplayPaused({ paused }) {
        pauses.push(paused);
        pausedInPostgres = paused;
        return paused;
      },
    });
    await withStubs(activities, async ({ temporal, taskQueue, newReplay }) => {
      const execution = newReplay();
      const { handle } = await startReplay(temporal, taskQueue, {
        execution,
        settings: replaySettings(taskQueue),
      });
      await firstPage.promise;
      await handle.signal(pauseSignal);
      await waitUntil(() => pauses.length === 1, 'the pause reaches Postgres');
      const progress = await handle.query(progressQuery);
      expect(progress).toMatchObject({ paused: true, status: 'running' });
      // the step in flight ends; no other starts while paused
      await sleep(800);
      const stepsWhilePaused = fakes.callsOf('publishPages').length;
      const publishedWhilePaused = fakes.record(execution.id).published;
      await sleep(500);
      expect(fakes.callsOf('publishPages')).toHaveLength(stepsWhilePaused);
      expect(fakes.record(execution.id).published).toBe(publishedWhilePaused);
      expect(publishedWhilePaused).toBeLessThan(3 * KEYS_PER_PAGE);

      await handle.signal(resumeSignal);
      expect(await handle.result()).toMatchObject({ status: 'completed', published: 3 * KEYS_PER_PAGE });
      expect(pauses).toEqual([true, false]);
      expect(fakes.statusChanges).toEqual([]);
    });
  });

  it('cancelled while paused: its current details (the Temporal UI) say cancelled, not paused', async () => {
    const fakes = new FakeReplays(() => 3);
    const firstPage = deferred();
    const pauses: boolean[] = [];
    const activities = fakes.activities({
      async publishPages(input) {
        const result = await fakes.publishPages({ ...input, maxPages: 1 });
        firstPage.resolve();
        if (!result.finished) await heartbeatUntil(new Promise((resolve) => setTimeout(resolve, 300)));
        return result;
      },
      async setReplayPaused({ paused }) {
        pauses.push(paused);
        return paused;
      },
    });
    await withStubs(activities, async ({ temporal, taskQueue, newReplay }) => {
      const { handle } = await startReplay(temporal, taskQueue, {
        execution: newReplay(),
        settings: replaySettings(taskQueue),
      });
      await firstPage.promise;
      await handle.signal(pauseSignal);
      await waitUntil(() => pauses.length === 1, 'the pause reaches Postgres');
      const details = async () =>
        (await handle.query<{ currentDetails: string }>('__temporal_workflow_metadata')).currentDetails;
      expect(await details()).toMatch(/^\*\*paused \(operator\)\*\*/);
      await handle.signal(cancelSignal);
      expect(await handle.result()).toMatchObject({ status: 'cancelled' });
      expect(await details()).toMatch(/^\*\*cancelled\*\*/);
    });
  });

  it('takes a new rate mid-replay (setRate update and signal): Postgres first, then the answer', async () => {
    const fakes = new FakeReplays(() => 2);
    const rates: (number | null)[] = [];
    const release = deferred();
    const activities = fakes.activities({
      async publishPages(input) {
        await heartbeatUntil(release.promise);
        return fakes.publishPages(input);
      },
      async setReplayRate({ maxMessagesPerSecond }) {
        rates.push(maxMessagesPerSecond);
        return maxMessagesPerSecond;
      },
    });
    await withStubs(activities, async ({ temporal, taskQueue, newReplay }) => {
      const execution = newReplay();
      const { handle } = await startReplay(temporal, taskQueue, {
        execution,
        settings: replaySettings(taskQueue),
      });
      await waitUntil(() => fakes.callsOf('publishPages').length === 1, 'publishing starts');
      expect(await handle.executeUpdate(setRateUpdate, { args: [5] })).toBe(5);
      expect(rates).toEqual([5]);
      expect(await handle.query(progressQuery)).toMatchObject({ max_messages_per_second: 5 });
      // a bad rate is refused by the update's validator, and changes nothing
      await expect(handle.executeUpdate(setRateUpdate, { args: [-1] })).rejects.toThrow();
      await handle.signal(setRateSignal, null);
      await waitUntil(() => rates.length === 2, 'the lifted limit reaches Postgres');
      expect(rates).toEqual([5, null]);
      release.resolve();
      expect(await handle.result()).toMatchObject({ status: 'completed', published: 2 * KEYS_PER_PAGE });
      expect(await handle.query(progressQuery)).toMatchObject({ max_messages_per_second: null });
    });
  });
});

// a canary: the first messages, a wait for their outputs, and a pause of its own below the ratio
describe.concurrent('a replay with a canary', () => {
  const canary = { messages: 10, within_seconds: 5, min_output_ratio: 0.9 };

  it('publishes the canary, goes on once its outputs are there, and never pauses', async () => {
    const fakes = new FakeReplays(() => 3);
    const activities = fakes.activities({
      watchCanaryOutputs: async (input) => ({ published: input.published, outputsFound: 10, reached: true }),
      setReplayPaused: async () => true,
    });
    await withStubs(activities, async ({ temporal, taskQueue, newReplay }) => {
      const execution = newReplay({ canary });
      const { handle } = await startReplay(temporal, taskQueue, {
        execution,
        settings: replaySettings(taskQueue),
      });
      expect(await handle.result()).toMatchObject({ status: 'completed', published: 3 * KEYS_PER_PAGE });
      const publishes = fakes
        .callsOf('publishPages')
        .map((call) => call.input as { maxPages: number; pageSize: number });
      // the canary's page first, alone, sized to its messages
      expect(publishes[0]).toMatchObject({ maxPages: 1, pageSize: 10, firstPageSize: 10 });
      expect(fakes.callsOf('watchCanaryOutputs').map((call) => call.input)).toEqual([
        expect.objectContaining({ published: 10, minOutputRatio: 0.9 }),
      ]);
      expect(fakes.callsOf('setReplayPaused')).toEqual([]);
      const progress = await handle.query(progressQuery);
      expect(progress).toMatchObject({
        paused: false,
        paused_reason: null,
        canary: { outcome: 'passed', published: 10, outputs_found: 10 },
      });
    });
  });

  it('pauses itself below the ratio (reason canary); a resume goes on without another canary', async () => {
    const fakes = new FakeReplays(() => 3);
    const activities = fakes.activities({
      watchCanaryOutputs: async (input) => ({ published: input.published, outputsFound: 5, reached: false }),
      setReplayPaused: async (input) => input.paused,
    });
    await withStubs(activities, async ({ temporal, taskQueue, newReplay }) => {
      const execution = newReplay({ canary });
      const { handle } = await startReplay(temporal, taskQueue, {
        execution,
        settings: replaySettings(taskQueue),
      });
      await waitUntil(() => fakes.callsOf('setReplayPaused').length === 1, 'the canary paused the replay');
      expect(fakes.callsOf('setReplayPaused')[0]!.input).toEqual({
        executionId: execution.id,
        paused: true,
        reason: 'canary',
      });
      const progress = await handle.query(progressQuery);
      expect(progress).toMatchObject({
        paused: true,
        paused_reason: 'canary',
        published: 10,
        canary: { ...canary, outcome: 'failed', published: 10, outputs_found: 5 },
      });
      expect(fakes.callsOf('publishPages')).toHaveLength(1);

      await handle.signal(resumeSignal);
      expect(await handle.result()).toMatchObject({ status: 'completed', published: 3 * KEYS_PER_PAGE });
      expect(fakes.callsOf('watchCanaryOutputs')).toHaveLength(1);
      expect(
        fakes.callsOf('setReplayPaused').map((call) => (call.input as { paused: boolean }).paused),
      ).toEqual([true, false]);
    });
  });

  it('is cancelled while its canary holds it paused', async () => {
    const fakes = new FakeReplays(() => 3);
    const activities = fakes.activities({
      watchCanaryOutputs: async (input) => ({ published: input.published, outputsFound: 0, reached: false }),
      setReplayPaused: async (input) => input.paused,
    });
    await withStubs(activities, async ({ temporal, taskQueue, newReplay }) => {
      const execution = newReplay({ canary });
      const { handle } = await startReplay(temporal, taskQueue, {
        execution,
        settings: replaySettings(taskQueue),
      });
      await waitUntil(() => fakes.callsOf('setReplayPaused').length === 1, 'the canary paused the replay');
      await handle.signal(cancelSignal);
      expect(await handle.result()).toMatchObject({ status: 'cancelled', published: KEYS_PER_PAGE });
      expect(fakes.statusesOf(execution.id)).toEqual(['cancelled']);
    });
  });

  it('skips the wait when the replay is done within the canary', async () => {
    const fakes = new FakeReplays(() => 1);
    const activities = fakes.activities({ skipCanary: async () => {} });
    await withStubs(activities, async ({ temporal, taskQueue, newReplay }) => {
      const execution = newReplay({ canary: { ...canary, messages: 50 } });
      const { handle } = await startReplay(temporal, taskQueue, {
        execution,
        settings: replaySettings(taskQueue),
      });
      expect(await handle.result()).toMatchObject({ status: 'completed', published: KEYS_PER_PAGE });
      expect(fakes.callsOf('skipCanary').map((call) => call.input)).toEqual([
        { executionId: execution.id, published: KEYS_PER_PAGE },
      ]);
      expect(fakes.callsOf('watchCanaryOutputs')).toEqual([]);
    });
  });
});
