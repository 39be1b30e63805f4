import {
  CancellationScope,
  condition,
  continueAsNew,
  isCancellation,
  proxyActivities,
  proxyLocalActivities,
  setCurrentDetails,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { ReplayActivities } from '../activities/index.ts';
import type { ReplayPartitionInput, ReplayPartitionOutcome } from './contract.ts';
import { resumeSignal } from './definitions.ts';
import { describe, isNonRetryable } from './failures.ts';

/** While paused, how often a partition looks whether the replay was resumed (its resume signal may come first). */
const PAUSED_POLL = '30s';
/** Bytes of history after which a partition's run continues as new (as replayExecution's). */
const MAX_RUN_HISTORY_BYTES = 2 * 1024 * 1024;

/**
 * One partition of a large replay (workflow id `replay-<execution id>-p<n>`), a child of
 * replayExecution: publishPages over its own key range, from its own cursor, exactly once, until
 * its last page marks it completed. A step that runs out of attempts interrupts this partition only
 * (and shows the replay `interrupted`); a `resume` (the parent passes it on) goes on. Pause and
 * pace are the replay's, read from Postgres before every page, so they hold for every partition.
 */
export async function replayPartition(input: ReplayPartitionInput): Promise<ReplayPartitionOutcome> {
  const { executionId, partition, settings } = input;
  const retry = { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s' } as const;
  const statusActivities = proxyLocalActivities<ReplayActivities>({ startToCloseTimeout: '30s', retry });
  const publishActivities = proxyActivities<ReplayActivities>({
    taskQueue: settings.publishTaskQueue,
    startToCloseTimeout: `${settings.activityTimeoutSeconds}s`,
    heartbeatTimeout: `${settings.heartbeatTimeoutSeconds}s`,
    retry: { ...retry, maximumAttempts: settings.stepMaxAttempts },
    summary: `list and publish pages of partition ${partition}`,
  });

  let resumeGeneration = 0;
  let published = input.published ?? 0;
  setHandler(resumeSignal, () => {
    resumeGeneration += 1;
  });
  const show = (state: string) =>
    setCurrentDetails(
      `**partition ${partition}** of replay \`${executionId}\`: ${state}; ${published} published`,
    );

  let pagesThisRun = 0;
  for (;;) {
    let result;
    try {
      show('publishing');
      result = await publishActivities.publishPages({
        executionId,
        partition,
        firstPageSize: settings.pageSize,
        pageSize: settings.pageSize,
        maxPages: settings.pagesPerRun - pagesThisRun,
        sliceSeconds: settings.sliceSeconds,
      });
    } catch (error) {
      if (isCancellation(error) || isNonRetryable(error)) throw error;
      // this partition waits for an operator; the others go on
      const generation = resumeGeneration;
      const reason = `partition ${partition}: publishPages: ${describe(error)}`;
      await CancellationScope.nonCancellable(() =>
        statusActivities.setPartitionStatus({ executionId, partition, status: 'interrupted', error: reason }),
      );
      show(`interrupted (${reason})`);
      await condition(() => resumeGeneration > generation);
      await statusActivities.setPartitionStatus({ executionId, partition, status: 'running', error: null });
      continue;
    }
    published = result.published;
    if (result.finished) {
      show('completed');
      return { partition, published };
    }
    if (result.paused) {
      show('paused');
      const generation = resumeGeneration;
      await condition(() => resumeGeneration > generation, PAUSED_POLL);
      continue;
    }
    pagesThisRun += result.pages;
    const info = workflowInfo();
    if (
      pagesThisRun >= settings.pagesPerRun ||
      info.historySize > MAX_RUN_HISTORY_BYTES ||
      info.continueAsNewSuggested
    ) {
      await continueAsNew<typeof replayPartition>({ ...input, published });
    }
  }
}
