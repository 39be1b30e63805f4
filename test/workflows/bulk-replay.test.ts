/**
 * The bulk replay workflow with stub activities on the shared Temporal dev server: its children are
 * real `replayExecution` workflows on the same worker, whose stub activities a test holds open to
 * see how many run at once, refuses, or lets a cancel reach.
 */
import { ApplicationFailure } from '@temporalio/activity';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { afterAll, describe, expect, it } from 'vitest';
import { failureTypes } from '../../domain/replay.ts';
import { type BulkReplayWorkflowInput } from '../../workflows/bulk-replay.contract.ts';
import { type PublishPagesInput } from '../../workflows/replay-execution.contract.ts';
import { bulkProgressQuery, cancelSignal, pauseSignal, resumeSignal } from '../../workflows/definitions.ts';
import {
  bulkSettings,
  closeStubWorker,
  deferred,
  FakeBulkReplay,
  FakeReplays,
  heartbeatUntil,
  newBulkReplay,
  replaySettings,
  runInputs,
  sleep,
  startBulkReplay,
  startReplay,
  waitUntil,
  withStubs,
  type StubActivities,
} from './stub-worker.ts';

afterAll(closeStubWorker);

/** Children's publishing steps that run until the test lets each one go. */
function heldPublishing(fakes: FakeReplays) {
  const gates = new Map<string, ReturnType<typeof deferred<void>>>();
  const gate = (executionId: string) => {
    if (!gates.has(executionId)) gates.set(executionId, deferred());
    return gates.get(executionId)!;
  };
  const state = { running: [] as string[], mostAtOnce: 0, cancelled: [] as string[] };
  async function publishPages(input: PublishPagesInput) {
    state.running.push(input.executionId);
    state.mostAtOnce = Math.max(state.mostAtOnce, state.running.length);
    try {
      await heartbeatUntil(gate(input.executionId).promise);
      return await fakes.publishPages(input);
    } catch (error) {
      state.cancelled.push(input.executionId);
      throw error;
    } finally {
      state.running.splice(state.running.indexOf(input.executionId), 1);
    }
  }
  return { state, publishPages, release: (executionId: string) => gate(executionId).resolve() };
}

function activitiesOf(fakes: FakeReplays, bulk: FakeBulkReplay, replacements: StubActivities = {}) {
  return { ...fakes.activities(replacements), ...bulk.activities(fakes.calls) };
}

describe.concurrent('a bulk replay', () => {
  it('runs at most max_concurrent children at once, checking parents a window at a time', async () => {
    const fakes = new FakeReplays();
    const held = heldPublishing(fakes);
    let bulk!: FakeBulkReplay;
    const stubs: StubActivities = {};
    await withStubs(stubs, async (scope) => {
      bulk = new FakeBulkReplay(scope, newBulkReplay(scope, 2), 5);
      Object.assign(stubs, activitiesOf(fakes, bulk, { publishPages: held.publishPages }));
      const { handle, created } = await startBulkReplay(scope.temporal, scope.taskQueue, {
        bulk: bulk.bulk,
        settings: bulkSettings(scope.taskQueue, { windowSize: 2 }),
      });
      expect(created).toMatchObject({ id: bulk.bulk.id, status: 'running', total: 5 });

      const started = () => fakes.callsOf('startReplay').map((call) => call.executionId);
      await waitUntil(() => held.state.running.length === 2, 'two children publish');
      await sleep(300);
      expect(started()).toHaveLength(2);
      // each child that finishes frees its slot for the next parent
      for (let finished = 0; finished < 5; finished += 1) {
        await waitUntil(() => started().length >= Math.min(finished + 2, 5), `child ${finished + 2} starts`);
        held.release(started()[finished]!);
      }
      expect(await handle.result()).toEqual({
        status: 'completed',
        bulk_replay_id: bulk.bulk.id,
        error: null,
      });
      expect(held.state.mostAtOnce).toBe(2);
      expect(bulk.children.map((child) => fakes.record(child.replay.id).summary.status)).toEqual(
        Array(5).fill('completed'),
      );
      expect(fakes.callsOf('prepareBulkChildren').map((call) => call.input)).toEqual([
        { bulkReplayId: bulk.bulk.id, fromPosition: 0, limit: 2 },
        { bulkReplayId: bulk.bulk.id, fromPosition: 2, limit: 2 },
        { bulkReplayId: bulk.bulk.id, fromPosition: 4, limit: 2 },
      ]);
      expect(bulk.statusChanges).toEqual([{ status: 'completed', error: null }]);
    });
  });

  it('continues as new after childrenPerRun children, carrying its next position and not its list', async () => {
    const fakes = new FakeReplays();
    const stubs: StubActivities = {};
    await withStubs(stubs, async (scope) => {
      const bulk = new FakeBulkReplay(scope, newBulkReplay(scope, 5), 3);
      Object.assign(stubs, activitiesOf(fakes, bulk));
      const { handle } = await startBulkReplay(scope.temporal, scope.taskQueue, {
        bulk: bulk.bulk,
        settings: bulkSettings(scope.taskQueue, { windowSize: 5, childrenPerRun: 2 }),
      });
      expect(await handle.result()).toMatchObject({ status: 'completed' });
      const runs = await runInputs<BulkReplayWorkflowInput>(scope.temporal, bulk.bulk.workflow_id);
      expect(runs.map((run) => [run.bulk.execution_ids, run.carried?.nextPosition])).toEqual([
        [bulk.bulk.execution_ids, undefined],
        [null, 2],
      ]);
      expect(fakes.callsOf('prepareBulkChildren').map((call) => call.input)).toMatchObject([
        { fromPosition: 0, limit: 2 },
        { fromPosition: 2, limit: 2 },
      ]);
      expect(fakes.callsOf('createBulkReplay')).toHaveLength(1);
      expect(fakes.callsOf('startReplay')).toHaveLength(3);
    });
  });

  it('records a child whose replay was refused at its start, and goes on with the others', async () => {
    const fakes = new FakeReplays();
    const stubs: StubActivities = {};
    await withStubs(stubs, async (scope) => {
      // the config of the second parent went away after the parent was checked
      const bulk = new FakeBulkReplay(scope, newBulkReplay(scope, 1), 3, (position) =>
        position === 1 ? { config_id: 'gone' } : {},
      );
      Object.assign(
        stubs,
        activitiesOf(fakes, bulk, {
          async startReplay(replay) {
            if (replay.config_id === 'gone')
              throw ApplicationFailure.nonRetryable(
                'pipeline config gone no longer exists',
                failureTypes.configNotFound,
              );
            return fakes.startReplay(replay);
          },
        }),
      );
      const { handle } = await startBulkReplay(scope.temporal, scope.taskQueue, {
        bulk: bulk.bulk,
        settings: bulkSettings(scope.taskQueue),
      });
      expect(await handle.result()).toMatchObject({ status: 'completed' });
      expect(bulk.refusedChildren).toEqual([
        { position: 1, errorCode: 'REPLAY_REJECTED', error: 'pipeline config gone no longer exists' },
      ]);
      expect(
        [0, 2].map((position) => fakes.record(bulk.children[position]!.replay.id).summary.status),
      ).toEqual(['completed', 'completed']);
    });
  });

  it('records a child whose workflow could not be started, and goes on with the others', async () => {
    const fakes = new FakeReplays();
    const stubs: StubActivities = {};
    await withStubs(stubs, async (scope) => {
      const bulk = new FakeBulkReplay(scope, newBulkReplay(scope, 2), 3);
      Object.assign(stubs, activitiesOf(fakes, bulk));
      // the second child's workflow id is taken already (ids are never reused)
      const taken = bulk.children[1]!.replay;
      const { handle: earlier } = await startReplay(scope.temporal, scope.taskQueue, {
        execution: { ...taken, id: `${taken.id}-earlier` },
        settings: replaySettings(scope.taskQueue),
      });
      await earlier.result();
      const { handle } = await startBulkReplay(scope.temporal, scope.taskQueue, {
        bulk: bulk.bulk,
        settings: bulkSettings(scope.taskQueue),
      });
      expect(await handle.result()).toMatchObject({ status: 'completed' });
      expect(bulk.refusedChildren).toHaveLength(1);
      expect(bulk.refusedChildren[0]).toMatchObject({ position: 1, errorCode: 'REPLAY_NOT_STARTED' });
      expect(bulk.refusedChildren[0]!.error).toContain('could not be started');
      expect(
        [0, 2].map((position) => fakes.record(bulk.children[position]!.replay.id).summary.status),
      ).toEqual(['completed', 'completed']);
    });
  });

  it('is refused at its start (too many parents): the update fails, nothing else runs', async () => {
    const fakes = new FakeReplays();
    const stubs: StubActivities = {};
    await withStubs(stubs, async (scope) => {
      const bulk = new FakeBulkReplay(scope, newBulkReplay(scope, 1), 3);
      Object.assign(stubs, activitiesOf(fakes, bulk), {
        createBulkReplay: async () => {
          fakes.calls.push({
            activity: 'createBulkReplay',
            executionId: bulk.bulk.id,
            attempt: 1,
            input: null,
          });
          throw ApplicationFailure.nonRetryable(
            'the filter matches too many executions',
            failureTypes.tooManyParents,
          );
        },
      });
      const { handle, refused } = await startBulkReplay(scope.temporal, scope.taskQueue, {
        bulk: bulk.bulk,
        settings: bulkSettings(scope.taskQueue),
      });
      expect(refused).toBeInstanceOf(WorkflowUpdateFailedError);
      expect((refused as WorkflowUpdateFailedError).cause).toMatchObject({
        type: failureTypes.tooManyParents,
      });
      expect(await handle.result()).toEqual({
        status: 'rejected',
        bulk_replay_id: bulk.bulk.id,
        error: 'the filter matches too many executions',
      });
      expect(fakes.calls.map((call) => call.activity)).toEqual(['createBulkReplay']);
    });
  });

  it('is cancelled: its running children are cancelled first, no other child starts', async () => {
    const fakes = new FakeReplays();
    const held = heldPublishing(fakes);
    const stubs: StubActivities = {};
    await withStubs(stubs, async (scope) => {
      const bulk = new FakeBulkReplay(scope, newBulkReplay(scope, 2), 4);
      Object.assign(stubs, activitiesOf(fakes, bulk, { publishPages: held.publishPages }));
      const { handle } = await startBulkReplay(scope.temporal, scope.taskQueue, {
        bulk: bulk.bulk,
        settings: bulkSettings(scope.taskQueue),
      });
      await waitUntil(() => held.state.running.length === 2, 'two children publish');
      await handle.signal(cancelSignal);
      expect(await handle.result()).toEqual({
        status: 'cancelled',
        bulk_replay_id: bulk.bulk.id,
        error: null,
      });

      const running = bulk.children.slice(0, 2).map((child) => child.replay.id);
      // activities are cancelled with TRY_CANCEL: the workflow closes without waiting for them,
      // and each one learns of it on its next heartbeat
      await waitUntil(() => held.state.cancelled.length === 2, 'both publishing steps see the cancel');
      expect(held.state.cancelled.sort()).toEqual([...running].sort());
      expect(
        fakes
          .callsOf('startReplay')
          .map((call) => call.executionId)
          .sort(),
      ).toEqual([...running].sort());
      // the bulk replay's record is cancelled last, once both children have recorded theirs
      const statusCalls = fakes.calls
        .filter((call) => call.activity === 'setExecutionStatus' || call.activity === 'setBulkReplayStatus')
        .map((call) => [call.activity, (call.input as { status: string }).status]);
      expect(statusCalls).toEqual([
        ['setExecutionStatus', 'cancelled'],
        ['setExecutionStatus', 'cancelled'],
        ['setBulkReplayStatus', 'cancelled'],
      ]);
    });
  });

  it('resumed, then cancelled: the children an earlier run left running are cancelled too', async () => {
    const fakes = new FakeReplays();
    const stubs: StubActivities = {};
    const cancelled: string[] = [];
    const waiting = deferred();
    await withStubs(stubs, async (scope) => {
      // its parents were all started by the run closed outside the service
      const bulk = new FakeBulkReplay(scope, newBulkReplay(scope, 2), 0);
      Object.assign(stubs, activitiesOf(fakes, bulk), {
        async awaitStartedChildren() {
          waiting.resolve();
          await heartbeatUntil(new Promise<never>(() => {}));
        },
        async cancelBulkChildren({ bulkReplayId }: { bulkReplayId: string }) {
          cancelled.push(bulkReplayId);
          return 2;
        },
      } satisfies StubActivities);
      const { handle } = await startBulkReplay(scope.temporal, scope.taskQueue, {
        bulk: bulk.bulk,
        settings: bulkSettings(scope.taskQueue),
        resume: true,
      });
      await waiting.promise;
      await handle.signal(cancelSignal);
      expect(await handle.result()).toMatchObject({ status: 'cancelled' });
      expect(cancelled).toEqual([bulk.bulk.id]);
      expect(bulk.statusChanges.map((change) => change.status)).toEqual(['cancelled']);
    });
  });
});

// pause_after_failed_children: the bulk replay stops starting children once enough went wrong
describe.concurrent('a bulk replay with pause_after_failed_children', () => {
  it('pauses itself after that many failed children, says why, and a resume goes on', async () => {
    const fakes = new FakeReplays();
    let bulk!: FakeBulkReplay;
    const stubs: StubActivities = {};
    const paused: unknown[] = [];
    await withStubs(stubs, async (scope) => {
      bulk = new FakeBulkReplay(scope, { ...newBulkReplay(scope, 1), pause_after_failed_children: 2 }, 5);
      const failing = new Set(bulk.children.slice(0, 2).map((child) => child.replay.id));
      Object.assign(
        stubs,
        activitiesOf(fakes, bulk, {
          publishPages: async (input) => {
            if (failing.has(input.executionId))
              throw ApplicationFailure.nonRetryable('the route refused it', 'Boom');
            return fakes.publishPages(input);
          },
          setBulkReplayPaused: async (input) => {
            paused.push(input);
          },
          // the bulk replay's pause reaches its running children
          setReplayPaused: async (input) => input.paused,
        }),
      );
      const { handle } = await startBulkReplay(scope.temporal, scope.taskQueue, {
        bulk: bulk.bulk,
        settings: bulkSettings(scope.taskQueue),
      });
      await waitUntil(() => paused.length === 1, 'the bulk replay pauses itself');
      expect(paused).toEqual([{ bulkReplayId: bulk.bulk.id, reason: 'failed_children', failedChildren: 2 }]);
      expect(await handle.query(bulkProgressQuery)).toMatchObject({
        paused: true,
        paused_reason: 'failed_children',
        failed_children: 2,
      });
      await sleep(300);
      // no child starts while it is paused
      expect(fakes.callsOf('startReplay')).toHaveLength(2);

      await handle.signal(resumeSignal);
      expect(await handle.result()).toMatchObject({ status: 'completed' });
      expect(fakes.callsOf('startReplay')).toHaveLength(5);
      expect(bulk.children.map((child) => fakes.record(child.replay.id).summary.status)).toEqual([
        'failed',
        'failed',
        'completed',
        'completed',
        'completed',
      ]);
    });
  });

  it('writes a bare pause and resume signal (as the Temporal UI sends them) to Postgres, in order', async () => {
    const fakes = new FakeReplays();
    const held = heldPublishing(fakes);
    let bulk!: FakeBulkReplay;
    const stubs: StubActivities = {};
    const paused: unknown[] = [];
    await withStubs(stubs, async (scope) => {
      bulk = new FakeBulkReplay(scope, newBulkReplay(scope, 1), 2);
      Object.assign(
        stubs,
        activitiesOf(fakes, bulk, {
          publishPages: held.publishPages,
          setBulkReplayPaused: async (input) => {
            paused.push(input);
          },
          setReplayPaused: async (input) => input.paused,
        }),
      );
      const { handle } = await startBulkReplay(scope.temporal, scope.taskQueue, {
        bulk: bulk.bulk,
        settings: bulkSettings(scope.taskQueue),
      });
      await waitUntil(() => held.state.running.length === 1, 'the first child publishes');
      // no api call: only the signals, as an operator sends them from the UI
      await handle.signal(pauseSignal);
      await handle.signal(resumeSignal);
      await waitUntil(() => paused.length === 2, 'the pause and the resume are written');
      expect(paused).toEqual([
        { bulkReplayId: bulk.bulk.id, reason: 'operator', failedChildren: null },
        { bulkReplayId: bulk.bulk.id, reason: null, failedChildren: null },
      ]);
      for (const child of bulk.children) {
        await waitUntil(() => held.state.running.includes(child.replay.id), 'the child publishes');
        held.release(child.replay.id);
      }
      expect(await handle.result()).toMatchObject({ status: 'completed' });
    });
  });

  it('counts an interrupted child (it tells its bulk replay) and pauses at once at 1', async () => {
    const fakes = new FakeReplays();
    let bulk!: FakeBulkReplay;
    const stubs: StubActivities = {};
    const paused: unknown[] = [];
    await withStubs(stubs, async (scope) => {
      bulk = new FakeBulkReplay(scope, { ...newBulkReplay(scope, 1), pause_after_failed_children: 1 }, 3);
      const interrupted = bulk.children[0]!.replay.id;
      Object.assign(
        stubs,
        activitiesOf(fakes, bulk, {
          publishPages: async (input) => {
            if (input.executionId === interrupted) throw new Error('the store is down');
            return fakes.publishPages(input);
          },
          setBulkReplayPaused: async (input) => {
            paused.push(input);
          },
          // the bulk replay's pause reaches its running children
          setReplayPaused: async (input) => input.paused,
        }),
      );
      const { handle } = await startBulkReplay(scope.temporal, scope.taskQueue, {
        bulk: bulk.bulk,
        settings: bulkSettings(scope.taskQueue, {
          replay: replaySettings(scope.taskQueue, { stepMaxAttempts: 2 }),
        }),
      });
      await waitUntil(() => paused.length === 1, 'the bulk replay pauses itself', 30_000);
      expect(paused).toEqual([{ bulkReplayId: bulk.bulk.id, reason: 'failed_children', failedChildren: 1 }]);
      expect(fakes.statusesOf(interrupted)).toEqual(['interrupted']);
      expect(fakes.callsOf('startReplay')).toHaveLength(1);
      await handle.signal(cancelSignal);
      expect(await handle.result()).toMatchObject({ status: 'cancelled' });
      expect(fakes.callsOf('startReplay')).toHaveLength(1);
    });
  });
});
