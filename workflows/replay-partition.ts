import {
  CancellationScope,
  condition,
  continueAsNew,
  proxyActivities,
  proxyLocalActivities,
  setCurrentDetails,
  setHandler,
} from '@temporalio/workflow';
import type { ReplayActivities } from '../activities/index.ts';
import type { ReplayPartitionInput, ReplayPartitionOutcome } from './replay-partition.contract.ts';
import { resumeSignal } from './definitions.ts';
import { activityOptions, publishUntilFinished, STEP_RETRY } from './publish-loop.ts';

/**
 * While paused, how often a partition looks whether the replay was resumed. Its pause lives in
 * Postgres and its resume comes from the parent, which may send it before this partition's step
 * has seen the pause (or before the partition could take signals): the look keeps it from waiting
 * for a resume that already came.
 */
const PAUSED_POLL = '30s';

/**
 * One partition of a large replay (workflow id `replay-<execution id>-p<n>`), a child of
 * replayExecution: publishPages over its own key range, from its own cursor, exactly once, until
 * its last page marks it completed, on the shared publish loop (workflows/publish-loop.ts). A step
 * that runs out of attempts interrupts this partition only (and shows the replay `interrupted`); a
 * `resume` (the parent passes it on) goes on. Pause and pace are the replay's, read from Postgres
 * before every page, so they hold for every partition.
 */
export async function replayPartition(input: ReplayPartitionInput): Promise<ReplayPartitionOutcome> {
  const { executionId, partition, settings } = input;
  const statusActivities = proxyLocalActivities<ReplayActivities>({
    startToCloseTimeout: '30s',
    retry: STEP_RETRY,
  });
  const publishActivities = proxyActivities<ReplayActivities>(
    activityOptions(settings, `list and publish pages of partition ${partition}`),
  );

  let resumeGeneration = 0;
  let published = input.published ?? 0;
  setHandler(resumeSignal, () => {
    resumeGeneration += 1;
  });
  const show = (state: string) =>
    setCurrentDetails(
      `**partition ${partition}** of replay \`${executionId}\`: ${state}; ${published} published`,
    );

  await publishUntilFinished({
    settings,
    stepName: `partition ${partition}: publishPages`,
    resumes: () => resumeGeneration,
    // this partition waits for an operator; the others go on
    async interrupt(reason) {
      await CancellationScope.nonCancellable(() =>
        statusActivities.setPartitionStatus({ executionId, partition, status: 'interrupted', error: reason }),
      );
      show(`interrupted (${reason})`);
    },
    goOn: () =>
      statusActivities.setPartitionStatus({ executionId, partition, status: 'running', error: null }),
    async beforeStep() {},
    publish(pagesThisRun) {
      show('publishing');
      return publishActivities.publishPages({
        executionId,
        partition,
        firstPageSize: settings.pageSize,
        pageSize: settings.pageSize,
        maxPages: settings.pagesPerRun - pagesThisRun,
        sliceSeconds: settings.sliceSeconds,
      });
    },
    record(result) {
      published = result.published;
      if (result.finished) show('completed');
    },
    async whilePaused() {
      show('paused');
      const generation = resumeGeneration;
      await condition(() => resumeGeneration > generation, PAUSED_POLL);
      return 'next-step';
    },
    continueAsNew: () => continueAsNew<typeof replayPartition>({ ...input, published }),
  });
  return { partition, published };
}
