import {
  ApplicationFailure,
  CancellationScope,
  ChildWorkflowCancellationType,
  ContinueAsNew,
  allHandlersFinished,
  condition,
  continueAsNew,
  executeChild,
  getExternalWorkflowHandle,
  isCancellation,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { ReplayActivities } from '../activities/index.ts';
import { failureTypes, isFinished, type ExecutionStatus, type ExecutionSummary } from '../domain/replay.ts';
import type { CanaryState, PausedReason, ReplayCanary } from '../domain/replay-canary.ts';
import {
  type CarriedState,
  type PublishPagesResult,
  type ReplayOutcome,
  type ReplayProgress,
  type ReplayWorkflowInput,
  type StartedReplay,
} from './replay-execution.contract.ts';
import {
  cancelSignal,
  childInterruptedSignal,
  executionCreatedUpdate,
  PARTITION_WORKFLOW_TYPE,
  partitionWorkflowId,
  pauseSignal,
  progressQuery,
  resumeSignal,
  setRateSignal,
  setRateUpdate,
} from './definitions.ts';
import { applicationFailureOf, describe, isNonRetryableChild, refusalOf } from './failures.ts';
import {
  activityOptions,
  interruptAndWaitForResume,
  publishUntilFinished,
  STEP_RETRY,
  stepRunner,
} from './publish-loop.ts';
import type { replayPartition } from './replay-partition.ts';
import { searchAttributes } from './search-attributes.ts';

/** Marks the runs that may split a large replay into partitions (docs/workflow-versioning.md). */
const PARTITIONS_PATCH = 'partitioned-replays';
/** Marks the runs where a partition that failed for good fails its replay (before: it waited for a resume). */
const PARTITION_FAILURE_PATCH = 'partition-failure-fails-replay';
/** Marks the runs that publish a canary's first messages and wait for their outputs before the rest. */
const CANARY_PATCH = 'replay-canary';
/** Marks the runs where a bulk replay's child tells its bulk replay that it was interrupted. */
const TELL_BULK_OF_INTERRUPTION_PATCH = 'replay-tells-bulk-of-interruption';

export type { ReplayWorkflowInput, ReplayOutcome } from './replay-execution.contract.ts';

/** Keys of a replay's first page (one S3 listing): time to the first message stays short. */
const FIRST_PAGE_SIZE = 1000;

/**
 * One replay: a local activity creates the record and starts the routes inside the first workflow
 * task (the api's update-with-start returns with it), then heartbeating activities on the publish
 * task queue list and publish whole pages, each page exactly once, until the last page's
 * transaction marks the record `completed`. A 10-object replay is two workflow tasks and one
 * activity; a large one continues as new every `pagesPerRun` pages.
 */
export async function replayExecution(input: ReplayWorkflowInput): Promise<ReplayOutcome> {
  const { execution, settings } = input;
  const executionId = execution.id;
  const retry = STEP_RETRY;
  // The api waits for this one (update-with-start): run inside the first workflow task with no round
  // trip through the server, and a small budget so a dead database fails the request.
  const startActivities = proxyLocalActivities<ReplayActivities>({
    startToCloseTimeout: '10s',
    retry: { ...retry, maximumAttempts: 3 },
  });
  // Status changes must land eventually, whatever the outage: retried without limit.
  const statusActivities = proxyLocalActivities<ReplayActivities>({ startToCloseTimeout: '30s', retry });
  // The long work, on its own task queue: it never delays the first workflow task of a new replay.
  const longStep = (summary: string) => proxyActivities<ReplayActivities>(activityOptions(settings, summary));

  let summary: ExecutionSummary | undefined = input.carried?.summary;
  let rejection: ApplicationFailure | undefined;
  let sourceExecutionId = input.carried?.sourceExecutionId ?? null;
  let cursor = input.carried?.cursor ?? null;
  let listed = input.carried?.listed ?? 0;
  let published = input.carried?.published ?? 0;
  let status: ReplayProgress['status'] = summary ? 'running' : 'starting';
  let step = 'starting';
  let lastError: string | null = null;
  let resumeGeneration = 0;
  let paused = input.carried?.paused ?? false;
  let pausedReason: PausedReason | null = input.carried?.pausedReason ?? (paused ? 'operator' : null);
  /** The canary has run (or will not): it runs once, before anything else is published. */
  let canaryDone = input.carried?.canaryDone ?? false;
  /** What this run knows of its canary (the record holds it for the api). */
  let canaryState: CanaryState | null = null;
  let maxRate = input.carried
    ? (input.carried.maxMessagesPerSecond ?? null)
    : (execution.max_messages_per_second ?? null);
  /** 0: not split (yet), 1: could not be split, 2 or more: published by that many partitions. */
  let partitions = input.carried?.partitions ?? 0;
  /** Partitions whose child workflow runs now. */
  const runningPartitions = new Set<number>();
  const mayPartition = () => partitions === 0 && (settings.maxPartitions ?? 1) > 1;
  // an operator's pause, resume and rate reach Postgres one after another, in the order asked
  let controls: Promise<unknown> = Promise.resolve();
  const control = (apply: () => Promise<unknown>) => (controls = controls.then(apply, apply));

  const mainScope = new CancellationScope();

  setHandler(executionCreatedUpdate, async () => {
    await condition(() => summary !== undefined || rejection !== undefined);
    if (rejection) throw rejection;
    return summary!;
  });
  setHandler(progressQuery, () => ({
    execution_id: executionId,
    status,
    step,
    listed,
    published,
    cursor,
    last_error: lastError,
    source_execution_id: sourceExecutionId,
    paused,
    max_messages_per_second: maxRate,
    paused_reason: paused ? pausedReason : null,
    canary: canaryState,
  }));
  // resumes an interrupted step, and a paused replay
  setHandler(resumeSignal, () => {
    resumeGeneration += 1;
    // a partition interrupted or paused waits for a resume of its own
    for (const partition of runningPartitions) {
      void getExternalWorkflowHandle(partitionWorkflowId(execution.workflow_id, partition))
        .signal(resumeSignal)
        .catch(() => {});
    }
    if (!paused) return;
    paused = false;
    pausedReason = null;
    showDetails();
    void control(async () => {
      await statusActivities.setReplayPaused({ executionId, paused: false });
      if (!paused) showStatus(summary?.status ?? 'running');
    });
  });
  setHandler(pauseSignal, () => {
    if (paused || !summary || isFinished(summary.status)) return;
    paused = true;
    pausedReason = 'operator';
    showDetails();
    void control(async () => {
      // the publishing activity's next page will not commit: it returns, and the loop waits
      await statusActivities.setReplayPaused({ executionId, paused: true });
      if (paused) showStatus('paused');
    });
  });
  const setRate = async (rate: number | null): Promise<number | null> => {
    maxRate = rate;
    showDetails();
    await control(() => statusActivities.setReplayRate({ executionId, maxMessagesPerSecond: rate }));
    return maxRate;
  };
  setHandler(setRateUpdate, setRate, {
    validator: (rate) => {
      if (rate !== null && !(typeof rate === 'number' && rate > 0 && rate <= 1_000_000))
        throw new Error('max_messages_per_second must be a number above 0 and at most 1000000, or null');
    },
  });
  setHandler(setRateSignal, (rate) => {
    if (rate === null || (typeof rate === 'number' && rate > 0 && rate <= 1_000_000)) void setRate(rate);
  });
  setHandler(cancelSignal, () => mainScope.cancel());

  /** The Temporal UI's "current details": where the replay is, and how it is paced, in Markdown. */
  function showDetails(): void {
    const pace = maxRate === null ? 'no replay limit' : `at most ${maxRate} msgs/s`;
    // a replay that ended while paused (cancelled, failed) says how it ended, not that it is paused
    const showPaused = paused && (status === 'running' || status === 'starting');
    setCurrentDetails(
      [
        `**${showPaused ? `paused (${pausedReason ?? 'operator'})` : status}**: ${published.toLocaleString('en')} messages published, ${listed.toLocaleString('en')} keys listed`,
        canaryState ? canaryLine(canaryState) : '',
        `pace: ${pace} (the route's limit holds too); step: \`${step}\`${partitions >= 2 ? `; ${partitions} partitions, ${runningPartitions.size} running` : ''}`,
        cursor === null ? '' : `cursor: \`${cursor}\``,
        lastError ? `last error: ${lastError}` : '',
      ]
        .filter(Boolean)
        .join('\n\n'),
    );
  }

  function adopt(state: StartedReplay | CarriedState): void {
    summary = state.summary;
    sourceExecutionId = state.sourceExecutionId;
    cursor = state.cursor;
    listed = state.listed;
    published = state.published;
    status = state.summary.status;
    paused = state.paused ?? paused;
    pausedReason = state.pausedReason ?? (paused ? (pausedReason ?? 'operator') : null);
    canaryDone = state.canaryDone ?? canaryDone;
    maxRate = state.maxMessagesPerSecond === undefined ? maxRate : state.maxMessagesPerSecond;
    partitions = state.partitions ?? partitions;
    showDetails();
  }

  function showStatus(next: ExecutionStatus | 'paused'): void {
    upsertSearchAttributes([{ key: searchAttributes.ReplayStatus, value: next }]);
  }

  async function setStatus(next: ExecutionStatus, error: string | null): Promise<void> {
    summary = await statusActivities.setExecutionStatus({ executionId, status: next, error });
    status = summary.status;
    lastError = error ?? lastError;
    showStatus(summary.status);
    showDetails();
  }

  /** A bulk replay's child (the only replays with a parent) tells it: it counts failed children. */
  function tellBulkOfInterruption(): void {
    const parent = workflowInfo().parent;
    if (!parent || !patched(TELL_BULK_OF_INTERRUPTION_PATCH)) return;
    void getExternalWorkflowHandle(parent.workflowId)
      .signal(childInterruptedSignal, executionId)
      .catch(() => {});
  }

  const interruptible = {
    interrupt: async (reason: string) => {
      await setStatus('interrupted', reason);
      tellBulkOfInterruption();
    },
    goOn: () => setStatus('running', null),
    resumes: () => resumeGeneration,
  };
  const runStep = stepRunner({ ...interruptible, enter: (name) => (step = name) });

  /**
   * Publishes every partition as a child workflow, at most `partitionsInFlight` at once, then
   * completes the record. A partition whose workflow ends without finishing (terminated from the
   * UI or CLI) shows `interrupted` and waits for a resume, which starts it again from its cursor;
   * the others go on meanwhile.
   */
  async function runPartitions(): Promise<void> {
    step = 'partitions';
    showDetails();
    const pending = Array.from({ length: partitions }, (_, index) => index);
    const lanes = Math.min(settings.partitionsInFlight ?? partitions, partitions);
    await Promise.all(
      Array.from({ length: lanes }, async () => {
        for (let next = pending.shift(); next !== undefined; next = pending.shift()) await runPartition(next);
      }),
    );
    step = 'completePartitionedReplay';
    const completed = await statusActivities.completePartitionedReplay({ executionId });
    ({ summary, listed, published } = completed);
    status = completed.summary.status;
    showStatus(status);
    showDetails();
  }

  async function runPartition(partition: number): Promise<void> {
    runningPartitions.add(partition);
    try {
      for (;;) {
        try {
          await executeChild<typeof replayPartition>(PARTITION_WORKFLOW_TYPE, {
            workflowId: partitionWorkflowId(execution.workflow_id, partition),
            args: [{ executionId, partition, settings }],
            staticSummary: `partition ${partition} of replay ${executionId}`,
            cancellationType: ChildWorkflowCancellationType.WAIT_CANCELLATION_COMPLETED,
          });
          return;
        } catch (error) {
          if (isCancellation(error)) throw error;
          // a partition that failed for good: a resume cannot help, the replay fails with its cause
          if (isNonRetryableChild(error) && patched(PARTITION_FAILURE_PATCH)) {
            const cause = applicationFailureOf(error)!;
            throw ApplicationFailure.create({
              message: `partition ${partition}: ${describe(error)}`,
              type: cause.type ?? undefined,
              nonRetryable: true,
              cause,
            });
          }
          await interruptAndWaitForResume(
            {
              interrupt: async (reason) => {
                await statusActivities.setPartitionStatus({
                  executionId,
                  partition,
                  status: 'interrupted',
                  error: reason,
                });
                lastError = reason;
                showDetails();
              },
              goOn: () =>
                statusActivities.setPartitionStatus({
                  executionId,
                  partition,
                  status: 'running',
                  error: null,
                }),
              resumes: () => resumeGeneration,
            },
            `partition ${partition}: ${describe(error)}`,
            resumeGeneration,
          );
        }
      }
    } finally {
      runningPartitions.delete(partition);
    }
  }

  /** Waits while the replay is paused; an operator's pause or rate reaches Postgres before the next step. */
  async function waitWhilePaused(): Promise<void> {
    await controls;
    while (paused) {
      step = 'paused';
      showDetails();
      await condition(() => !paused);
      await controls;
    }
  }

  /** A publishing step's figures become the workflow's. */
  function recordPublished(result: PublishPagesResult): void {
    ({ cursor, listed, published, sourceExecutionId } = result);
    showDetails();
    if (result.finished) {
      summary = result.summary ?? summary;
      status = summary!.status;
      showStatus(status);
      showDetails();
    }
  }

  /**
   * The canary: publishes the first `messages` messages, then waits up to `within_seconds` for
   * outputs in the new execution's output stage answering `min_output_ratio` of them. Below it,
   * the replay pauses itself (reason `canary`) and the page loop waits for an operator's resume
   * (or cancel). `finished`: the replay was done within the canary's messages.
   */
  async function runCanary(canary: ReplayCanary): Promise<'finished' | 'go-on'> {
    canaryState = { ...canary, outcome: 'publishing', published, outputs_found: 0 };
    while (published < canary.messages) {
      await waitWhilePaused();
      const remaining = canary.messages - published;
      const result = await runStep('canaryPublish', () =>
        longStep(`publish the canary's first ${canary.messages} messages`).publishPages({
          executionId,
          firstPageSize: remaining,
          pageSize: remaining,
          maxPages: 1,
          sliceSeconds: settings.sliceSeconds,
        }),
      );
      recordPublished(result);
      canaryState = { ...canaryState, published };
      if (result.finished) {
        canaryDone = true;
        canaryState = { ...canaryState, outcome: 'skipped' };
        await statusActivities.skipCanary({ executionId, published });
        return 'finished';
      }
      // paused in Postgres but not here (resumed meanwhile): this workflow's word holds
      if (result.paused && !paused)
        void control(() => statusActivities.setReplayPaused({ executionId, paused: false }));
    }
    canaryState = { ...canaryState, outcome: 'watching' };
    showDetails();
    const deadlineMs = Date.now() + canary.within_seconds * 1000;
    const watched = await runStep('canaryWatch', () =>
      proxyActivities<ReplayActivities>({
        ...activityOptions(
          settings,
          `wait up to ${canary.within_seconds} s for outputs of the canary's ${published} messages`,
        ),
        startToCloseTimeout: `${canary.within_seconds + settings.activityTimeoutSeconds}s`,
      }).watchCanaryOutputs({
        executionId,
        published,
        minOutputRatio: canary.min_output_ratio,
        deadlineMs,
      }),
    );
    canaryDone = true;
    canaryState = {
      ...canaryState,
      outcome: watched.reached ? 'passed' : 'failed',
      published: watched.published,
      outputs_found: watched.outputsFound,
    };
    showDetails();
    if (!watched.reached && !paused) {
      paused = true;
      pausedReason = 'canary';
      showDetails();
      await control(async () => {
        await statusActivities.setReplayPaused({ executionId, paused: true, reason: 'canary' });
        if (paused) showStatus('paused');
      });
    }
    return 'go-on';
  }

  async function replay(): Promise<void> {
    if (!summary && input.resume) {
      step = 'loadReplayState';
      adopt(await statusActivities.loadReplayState({ executionId }));
      showStatus('running');
    }
    if (!summary) {
      step = 'startReplay';
      try {
        adopt(await startActivities.startReplay(execution));
      } catch (error) {
        rejection = refusalOf(error);
        throw rejection;
      }
    }
    // a duplicate run for a replay that already finished: nothing to do
    if (isFinished(summary!.status)) return;
    // a partitioned replay resumed in a new run goes on with its partitions
    if (partitions >= 2) return runPartitions();
    // runs recorded before canaries existed had none in their input: patched() is asked only with one
    if (execution.canary && !canaryDone && patched(CANARY_PATCH)) {
      if ((await runCanary(execution.canary)) === 'finished') return;
    }

    const outcome = await publishUntilFinished({
      ...interruptible,
      settings,
      stepName: 'publishPages',
      beforeStep: waitWhilePaused,
      publish(pagesThisRun) {
        step = 'publishPages';
        const after = cursor;
        return longStep(
          `list and publish pages after ${after === null ? 'the start' : `\`${after}\``}`,
        ).publishPages({
          executionId,
          firstPageSize: Math.min(FIRST_PAGE_SIZE, settings.pageSize),
          pageSize: settings.pageSize,
          // a replay that may be split publishes a few pages as one first: done by then, it never is
          maxPages: mayPartition()
            ? (settings.partitionAfterPages ?? 4)
            : settings.pagesPerRun - pagesThisRun,
          sliceSeconds: settings.sliceSeconds,
        });
      },
      record: recordPublished,
      async afterStep(result) {
        // Large replays are split into partitions, each a child workflow with its own cursor. A patch:
        // runs recorded before partitions existed (or run by workers that did not have them) go on as one.
        if (result.paused || !mayPartition() || !patched(PARTITIONS_PATCH)) return 'go-on';
        partitions = await runStep('planPartitions', () =>
          longStep('split the rest into partitions').planPartitions({
            executionId,
            maxPartitions: settings.maxPartitions!,
          }),
        );
        showDetails();
        return partitions >= 2 ? 'stop' : 'go-on';
      },
      async whilePaused() {
        // paused in Postgres but not here (resumed meanwhile): this workflow's word is the one that holds
        if (!paused) void control(() => statusActivities.setReplayPaused({ executionId, paused: false }));
        return 'go-on';
      },
      async continueAsNew() {
        await controls;
        await condition(allHandlersFinished);
        return continueAsNew<typeof replayExecution>({
          ...input,
          carried: {
            summary: summary!,
            sourceExecutionId,
            cursor,
            listed,
            published,
            paused,
            maxMessagesPerSecond: maxRate,
            partitions,
            pausedReason,
            canaryDone,
          },
        });
      },
    });
    if (outcome === 'stopped') return runPartitions();
  }

  // Finishing must not be cancellable: after a cancel request (UI, CLI, api) the workflow still
  // records its outcome and closes as Completed with status `cancelled` in its result.
  const handlersFinished = () => CancellationScope.nonCancellable(() => condition(allHandlersFinished));
  const outcome = (error: string | null): ReplayOutcome => ({
    status: summary?.status ?? 'completed',
    execution_id: executionId,
    published,
    error,
  });

  try {
    await mainScope.run(replay);
  } catch (error) {
    if (error instanceof ContinueAsNew) throw error;
    if (rejection) {
      status = 'rejected';
      await handlersFinished();
      return { status: 'rejected', execution_id: executionId, published: 0, error: rejection.message };
    }
    if (isCancellation(error)) {
      await CancellationScope.nonCancellable(() => setStatus('cancelled', 'cancelled by operator'));
      await handlersFinished();
      return outcome(null);
    }
    const message = `${step}: ${describe(error)}`;
    await CancellationScope.nonCancellable(() => setStatus('failed', message));
    await handlersFinished();
    // a record another path finished first (completed, cancelled) keeps its status
    if (summary?.status !== 'failed') return outcome(null);
    // the step's own failure (its type, a partition's) stays readable as the cause
    throw ApplicationFailure.create({
      message,
      type: failureTypes.replayFailed,
      nonRetryable: true,
      cause: applicationFailureOf(error),
    });
  }
  await handlersFinished();
  return outcome(null);
}

/** The canary in the Temporal UI's current details. */
function canaryLine(canary: CanaryState): string {
  const counted = `${canary.outputs_found} of ${canary.published} published inputs answered`;
  const wanted = `at least ${canary.min_output_ratio} within ${canary.within_seconds} s`;
  return `canary (${canary.messages} messages): **${canary.outcome}**; ${counted} (${wanted})`;
}
