/**
 * A partitioned replay with stub activities: the parent publishes a page, splits the rest into
 * partitions and runs each as a `replayPartition` child. What only a stub can force at will: a
 * partition that fails for good, one that runs out of attempts and waits for a resume.
 */
import { ApplicationFailure } from '@temporalio/activity';
import { WorkflowFailedError } from '@temporalio/client';
import { afterAll, describe, expect, it } from 'vitest';
import { failureTypes } from '../../domain/replay.ts';
import {
  type PublishPagesInput,
  type PublishPagesResult,
} from '../../workflows/replay-execution.contract.ts';
import { type SetPartitionStatusInput } from '../../workflows/replay-partition.contract.ts';
import { resumeSignal } from '../../workflows/definitions.ts';
import {
  closeStubWorker,
  FakeReplays,
  KEYS_PER_PAGE,
  replaySettings,
  startReplay,
  waitUntil,
  withStubs,
  type StubActivities,
} from './stub-worker.ts';

afterAll(closeStubWorker);

const PARTITIONS = 2;

/** A partition's step that publishes its one page and finishes it. */
async function partitionDone(input: PublishPagesInput): Promise<PublishPagesResult> {
  return {
    pages: 1,
    cursor: `p${input.partition}-end`,
    listed: KEYS_PER_PAGE,
    published: KEYS_PER_PAGE,
    sourceExecutionId: 'parent-1',
    finished: true,
    paused: false,
    summary: null,
  };
}

/**
 * The replay's activities: the whole replay's first step publishes one page of many, planning
 * splits the rest in PARTITIONS, each partition's step is `partitionStep`.
 */
function partitionedActivities(
  fakes: FakeReplays,
  partitionStep: (input: PublishPagesInput) => Promise<PublishPagesResult>,
  partitionStatuses: SetPartitionStatusInput[] = [],
): StubActivities {
  return fakes.activities({
    async publishPages(input) {
      if (input.partition !== undefined) return partitionStep(input);
      return fakes.publishPages(input);
    },
    planPartitions: async () => PARTITIONS,
    async setPartitionStatus(input) {
      partitionStatuses.push(input);
    },
    async completePartitionedReplay({ executionId }) {
      const record = fakes.record(executionId);
      record.summary.status = 'completed';
      return { summary: { ...record.summary }, listed: 30, published: 30 };
    },
  });
}

const partitionSettings = (taskQueue: string) =>
  replaySettings(taskQueue, { maxPartitions: PARTITIONS, partitionAfterPages: 1, stepMaxAttempts: 2 });

describe.concurrent('a partitioned replay', () => {
  it('publishes every partition as a child and completes the replay', async () => {
    const fakes = new FakeReplays(() => 100);
    const statuses: SetPartitionStatusInput[] = [];
    await withStubs(partitionedActivities(fakes, partitionDone, statuses), async (scope) => {
      const execution = scope.newReplay();
      const { handle } = await startReplay(scope.temporal, scope.taskQueue, {
        execution,
        settings: partitionSettings(scope.taskQueue),
      });
      expect(await handle.result()).toMatchObject({ status: 'completed', published: 30 });
      const partitions = fakes
        .callsOf('publishPages')
        .map((call) => (call.input as PublishPagesInput).partition)
        .filter((partition) => partition !== undefined)
        .sort();
      expect(partitions).toEqual([0, 1]);
      expect(fakes.callsOf('completePartitionedReplay')).toHaveLength(1);
      expect(statuses).toEqual([]);
    });
  });

  it("fails with the partition's own failure when it fails for good: no interruption, no wait for a resume", async () => {
    const fakes = new FakeReplays(() => 100);
    const statuses: SetPartitionStatusInput[] = [];
    const activities = partitionedActivities(
      fakes,
      async (input) => {
        if (input.partition === 0)
          throw ApplicationFailure.nonRetryable('the stage folder is a file', 'BadStage');
        return partitionDone(input);
      },
      statuses,
    );
    await withStubs(activities, async (scope) => {
      const execution = scope.newReplay();
      const { handle } = await startReplay(scope.temporal, scope.taskQueue, {
        execution,
        settings: partitionSettings(scope.taskQueue),
      });
      const failure = await handle.result().catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(WorkflowFailedError);
      const cause = (failure as WorkflowFailedError).cause as ApplicationFailure;
      expect(cause).toMatchObject({ type: failureTypes.replayFailed });
      expect(cause.message).toContain('partition 0');
      expect(cause.message).toContain('the stage folder is a file');
      expect(cause.message).not.toContain('Child Workflow execution failed');
      // the child's own type, as its cause
      expect(cause.cause).toMatchObject({ type: 'BadStage' });
      expect(statuses.filter((status) => status.status === 'interrupted')).toEqual([]);
      // a status write is a local activity: a workflow task that times out on a loaded machine runs
      // it again, so count the distinct writes (the real one is idempotent)
      const failed = fakes.statusChanges.filter((change) => change.status === 'failed');
      expect(new Set(failed.map((change) => change.error)).size).toBe(1);
      expect(failed[0]!.error).toContain('the stage folder is a file');
      expect(fakes.statusesOf(execution.id)).not.toContain('interrupted');
    });
  });

  it('interrupts a partition that spends its attempts, and publishes it again on a resume', async () => {
    const fakes = new FakeReplays(() => 100);
    const statuses: SetPartitionStatusInput[] = [];
    let failing = true;
    const activities = partitionedActivities(
      fakes,
      async (input) => {
        if (input.partition === 1 && failing) throw new Error('the store is down');
        return partitionDone(input);
      },
      statuses,
    );
    await withStubs(activities, async (scope) => {
      const execution = scope.newReplay();
      const { handle } = await startReplay(scope.temporal, scope.taskQueue, {
        execution,
        settings: partitionSettings(scope.taskQueue),
      });
      await waitUntil(() => statuses.some((status) => status.status === 'interrupted'), 'interrupted');
      expect(statuses[0]).toMatchObject({ partition: 1, status: 'interrupted' });
      expect(statuses[0]!.error).toContain('the store is down');
      failing = false;
      await handle.signal(resumeSignal);
      expect(await handle.result()).toMatchObject({ status: 'completed' });
      expect(statuses.map((status) => [status.partition, status.status])).toEqual([
        [1, 'interrupted'],
        [1, 'running'],
      ]);
    });
  });
});
