import {
  ApplicationFailure,
  CancellationScope,
  ChildWorkflowCancellationType,
  ContinueAsNew,
  ParentClosePolicy,
  allHandlersFinished,
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  isCancellation,
  log,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setCurrentDetails,
  setHandler,
  startChild,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import type { BulkCancelActivities, ReplayActivities } from '../activities/index.ts';
import {
  failureTypes,
  type BulkPausedReason,
  type BulkReplaySummary,
  type ExecutionStatus,
} from '../domain/replay.ts';
import {
  type BulkReplayOutcome,
  type BulkReplayProgress,
  type BulkReplayWorkflowInput,
  type PreparedChild,
} from './bulk-replay.contract.ts';
import {
  bulkProgressQuery,
  bulkReplayCreatedUpdate,
  cancelSignal,
  childInterruptedSignal,
  pauseSignal,
  REPLAY_WORKFLOW_TYPE,
  replayWorkflowId,
  resumeSignal,
} from './definitions.ts';
import type { replayExecution } from './replay-execution.ts';
import { describe, refusalOf } from './failures.ts';
import { stepRunner } from './publish-loop.ts';
import { replaySearchAttributes, searchAttributes } from './search-attributes.ts';
import { replayUserMetadata } from './user-metadata.ts';

/** Marks the runs that record a child that could not be started (before: it was dropped silently). */
const CHILD_NOT_STARTED_PATCH = 'bulk-child-not-started-recorded';
/** Marks the resumed runs whose cancel also stops the children an earlier run left running. */
const CANCEL_EARLIER_CHILDREN_PATCH = 'bulk-cancel-earlier-children';
/** Marks the runs that pause themselves once pause_after_failed_children children failed or were interrupted. */
const FAILED_CHILDREN_PAUSE_PATCH = 'bulk-pause-after-failed-children';
/**
 * Marks the runs that write an operator's pause and a resume to Postgres themselves, so a bare
 * signal (the Temporal UI's, the `temporal` CLI's) shows in the api's paused_reason too.
 */
const OPERATOR_PAUSE_RECORDED_PATCH = 'bulk-operator-pause-recorded';

/**
 * Replays many parents, each as an ordinary replay (its own record, workflow `replay-<id>` and
 * search attributes), as child workflows with at most `max_concurrent` running at once. Parents are
 * checked a window at a time, as the replay endpoint checks one: a bad parent fails its own child,
 * visibly, and the others go on. A run that has started `childrenPerRun` children lets them finish,
 * then continues as new: history stays bounded at 10,000 parents.
 */
export async function bulkReplay(input: BulkReplayWorkflowInput): Promise<BulkReplayOutcome> {
  const { bulk, settings } = input;
  const retry = { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s' } as const;
  const startActivities = proxyLocalActivities<ReplayActivities>({
    startToCloseTimeout: '30s',
    retry: { ...retry, maximumAttempts: 3 },
  });
  const statusActivities = proxyLocalActivities<ReplayActivities>({ startToCloseTimeout: '30s', retry });
  const cancelActivities = proxyLocalActivities<BulkCancelActivities>({ startToCloseTimeout: '30s', retry });
  const stepActivities = proxyActivities<ReplayActivities>({
    startToCloseTimeout: '120s',
    retry: { ...retry, maximumAttempts: settings.stepMaxAttempts },
  });
  const waitActivities = proxyActivities<ReplayActivities>({
    startToCloseTimeout: '3650d',
    heartbeatTimeout: '30s',
    retry,
  });

  let summary: BulkReplaySummary | undefined = input.carried?.summary;
  let rejection: ApplicationFailure | undefined;
  let nextPosition = input.carried?.nextPosition ?? 0;
  let exhausted = false;
  const queue: PreparedChild[] = [];
  /** Execution ids of the children running now. */
  const running = new Set<string>();
  let startedThisRun = 0;
  let status: BulkReplayProgress['status'] = summary ? 'running' : 'starting';
  let step = 'starting';
  let lastError: string | null = null;
  let resumeGeneration = 0;
  let paused = input.carried?.paused ?? false;
  let pausedReason: BulkPausedReason | null = input.carried?.pausedReason ?? (paused ? 'operator' : null);
  /** Children failed or interrupted since the start or the last resume (pause_after_failed_children). */
  let failedChildren = input.carried?.failedChildren ?? 0;
  /** The children this run counted, once each (interrupted, then failed: one). */
  const counted = new Set<string>();
  let closedChildren = 0;

  const mainScope = new CancellationScope();

  setHandler(bulkReplayCreatedUpdate, async () => {
    await condition(() => summary !== undefined || rejection !== undefined);
    if (rejection) throw rejection;
    return summary!;
  });
  setHandler(bulkProgressQuery, () => ({
    id: bulk.id,
    status,
    step,
    total: summary?.total ?? 0,
    next_position: nextPosition,
    running: running.size,
    last_error: lastError,
    paused,
    paused_reason: paused ? pausedReason : null,
    failed_children: failedChildren,
  }));
  /** The pause writes in signal order: a resume's null never lands before the pause it ends. */
  let pauseWrites: Promise<unknown> = Promise.resolve();
  const recordPause = (reason: BulkPausedReason | null) => {
    if (!patched(OPERATOR_PAUSE_RECORDED_PATCH)) return;
    const write = () =>
      statusActivities
        .setBulkReplayPaused({ bulkReplayId: bulk.id, reason, failedChildren: null })
        .catch(() => {});
    pauseWrites = pauseWrites.then(write);
  };
  const signalChildren = (signal: typeof resumeSignal | typeof pauseSignal) => {
    for (const id of running) {
      void getExternalWorkflowHandle(replayWorkflowId(id))
        .signal(signal)
        .catch(() => {});
    }
  };
  // resumes the bulk replay if it is interrupted or paused, and every running child that is
  setHandler(resumeSignal, () => {
    resumeGeneration += 1;
    signalChildren(resumeSignal);
    if (!paused) return;
    // the count starts again: another pause_after_failed_children failures pause it again
    if (pausedReason === 'failed_children') failedChildren = 0;
    paused = false;
    pausedReason = null;
    upsertSearchAttributes([
      { key: searchAttributes.ReplayStatus, value: status === 'starting' ? 'running' : status },
    ]);
    showDetails();
    recordPause(null);
  });
  // pauses every running child and starts no new one until a resume
  setHandler(pauseSignal, () => {
    if (paused) return;
    paused = true;
    pausedReason = 'operator';
    signalChildren(pauseSignal);
    upsertSearchAttributes([{ key: searchAttributes.ReplayStatus, value: 'paused' }]);
    showDetails();
    recordPause('operator');
  });

  /** The Temporal UI's "current details": the children so far, in Markdown. */
  function showDetails(): void {
    const total = summary?.total ?? 0;
    setCurrentDetails(
      [
        `**${paused && (status === 'running' || status === 'starting') ? `paused (${pausedReason === 'failed_children' ? `${failedChildren} children failed or interrupted` : 'operator'})` : status}**: ${total} parents; ${closedChildren} children finished, ${running.size} running (at most ${bulk.max_concurrent}), ${nextPosition} parents looked at`,
        `step: \`${step}\``,
        lastError ? `last error: ${lastError}` : '',
      ]
        .filter(Boolean)
        .join('\n\n'),
    );
  }
  setHandler(cancelSignal, () => mainScope.cancel());
  // a child that spent a step's attempts says so (a failed one is seen when it closes)
  setHandler(childInterruptedSignal, (executionId) => childFailed(executionId));

  /**
   * Counts a child that failed or was interrupted; at pause_after_failed_children the bulk replay
   * pauses itself as an operator's pause would (its running children too) and says why.
   */
  function childFailed(executionId: string): void {
    const threshold = bulk.pause_after_failed_children;
    if (!threshold || counted.has(executionId)) return;
    counted.add(executionId);
    failedChildren += 1;
    showDetails();
    if (failedChildren < threshold || paused || !patched(FAILED_CHILDREN_PAUSE_PATCH)) return;
    paused = true;
    pausedReason = 'failed_children';
    signalChildren(pauseSignal);
    upsertSearchAttributes([{ key: searchAttributes.ReplayStatus, value: 'paused' }]);
    showDetails();
    const count = failedChildren;
    void statusActivities
      .setBulkReplayPaused({ bulkReplayId: bulk.id, reason: 'failed_children', failedChildren: count })
      .catch(() => {});
  }

  async function setStatus(next: ExecutionStatus, error: string | null): Promise<void> {
    summary = await statusActivities.setBulkReplayStatus({ bulkReplayId: bulk.id, status: next, error });
    status = summary.status;
    lastError = error ?? lastError;
    upsertSearchAttributes([{ key: searchAttributes.ReplayStatus, value: summary.status }]);
    showDetails();
  }

  const runStep = stepRunner({
    enter: (name) => (step = name),
    interrupt: (reason) => setStatus('interrupted', reason),
    goOn: () => setStatus('running', null),
    resumes: () => resumeGeneration,
  });

  /** Starts one child and frees its slot when it closes, however it ends (its record says how). */
  function startChildReplay(child: PreparedChild): void {
    running.add(child.replay.id);
    startedThisRun += 1;
    void (async () => {
      try {
        let handle;
        try {
          handle = await startChild<typeof replayExecution>(REPLAY_WORKFLOW_TYPE, {
            workflowId: child.replay.workflow_id,
            args: [{ execution: child.replay, settings: settings.replay }],
            typedSearchAttributes: replaySearchAttributes(child.replay, bulk.id),
            memo: { bulk_replay_id: bulk.id, position: child.position },
            // what the UI shows of the child: the bulk replay's request, its parent, config and route
            ...(child.described
              ? replayUserMetadata(
                  child.replay,
                  { ...child.described, request: bulk.replay, bulk_replay_id: bulk.id },
                  settings.replay,
                )
              : {}),
            // each child is an ordinary replay: it outlives a bulk replay closed outside the service
            parentClosePolicy: ParentClosePolicy.ABANDON,
            cancellationType: ChildWorkflowCancellationType.WAIT_CANCELLATION_COMPLETED,
            workflowIdReusePolicy: 'REJECT_DUPLICATE',
          });
        } catch (error) {
          if (isCancellation(error)) throw error;
          // its workflow never started (its id taken, a namespace limit): say so, and fail its item
          log.warn('bulk replay child not started', {
            bulkReplayId: bulk.id,
            position: child.position,
            executionId: child.replay.id,
            error: describe(error),
          });
          if (patched(CHILD_NOT_STARTED_PATCH)) {
            await CancellationScope.nonCancellable(() =>
              statusActivities.refuseBulkChild({
                bulkReplayId: bulk.id,
                position: child.position,
                errorCode: 'REPLAY_NOT_STARTED',
                error: `the replay's workflow could not be started: ${describe(error)}`,
              }),
            );
          }
          childFailed(child.replay.id);
          return;
        }
        const outcome = await handle.result();
        if (outcome.status === 'rejected') {
          childFailed(child.replay.id);
          // its record was never created (its config went away): the parent fails here, visibly
          await CancellationScope.nonCancellable(() =>
            statusActivities.refuseBulkChild({
              bulkReplayId: bulk.id,
              position: child.position,
              errorCode: 'REPLAY_REJECTED',
              error: outcome.error ?? 'the replay was refused',
            }),
          );
        }
      } catch (error) {
        // a failed or cancelled child: its record says so, and the bulk replay goes on
        if (!isCancellation(error)) childFailed(child.replay.id);
      } finally {
        running.delete(child.replay.id);
        closedChildren += 1;
        showDetails();
      }
    })();
  }

  async function replayAll(): Promise<void> {
    if (!summary && input.resume) {
      step = 'loadBulkReplay';
      summary = await statusActivities.loadBulkReplay({ bulkReplayId: bulk.id });
      upsertSearchAttributes([{ key: searchAttributes.ReplayStatus, value: 'running' }]);
    }
    if (!summary) {
      step = 'createBulkReplay';
      try {
        summary = await startActivities.createBulkReplay(bulk);
      } catch (error) {
        rejection = refusalOf(error);
        throw rejection;
      }
    }
    status = 'running';

    showDetails();
    for (;;) {
      while (running.size < bulk.max_concurrent && startedThisRun < settings.childrenPerRun) {
        if (paused) {
          step = 'paused';
          await condition(() => !paused);
          step = 'startChildren';
        }
        const child = queue.shift();
        if (child) {
          startChildReplay(child);
          continue;
        }
        if (exhausted) break;
        // never more than this run may start: a run continues as new with nothing prepared
        const limit = Math.min(settings.windowSize, settings.childrenPerRun - startedThisRun);
        const prepared = await runStep('prepareBulkChildren', () =>
          stepActivities.prepareBulkChildren({ bulkReplayId: bulk.id, fromPosition: nextPosition, limit }),
        );
        queue.push(...prepared.children);
        nextPosition = prepared.nextPosition;
        exhausted = prepared.done;
      }
      step = 'awaitChildren';
      if (
        running.size === 0 &&
        ((exhausted && queue.length === 0) || startedThisRun >= settings.childrenPerRun)
      )
        break;
      const count = running.size;
      await condition(() => running.size < count);
    }

    if (!exhausted) {
      await condition(allHandlersFinished);
      await pauseWrites;
      // the list of parents lives in Postgres now: the next run's input does not carry it again
      await continueAsNew<typeof bulkReplay>({
        ...input,
        bulk: { ...bulk, execution_ids: null, filter: null },
        carried: { summary: summary!, nextPosition, paused, pausedReason, failedChildren },
      });
    }
    // children an earlier run started before its workflow was closed outside the service
    if (input.resume) {
      step = 'awaitStartedChildren';
      await waitActivities.awaitStartedChildren({ bulkReplayId: bulk.id });
    }
    step = 'completeBulkReplay';
    await setStatus('completed', null);
  }

  const handlersFinished = () => CancellationScope.nonCancellable(() => condition(allHandlersFinished));
  const outcome = (error: string | null): BulkReplayOutcome => ({
    status: summary?.status ?? 'completed',
    bulk_replay_id: bulk.id,
    error,
  });

  try {
    await mainScope.run(replayAll);
  } catch (error) {
    if (error instanceof ContinueAsNew) throw error;
    if (rejection) {
      status = 'rejected';
      await handlersFinished();
      return { status: 'rejected', bulk_replay_id: bulk.id, error: rejection.message };
    }
    if (isCancellation(error)) {
      // the children were asked to cancel with the scope: wait until they have
      await CancellationScope.nonCancellable(async () => {
        await condition(() => running.size === 0);
        // a resumed run did not start the children an earlier run left running: ask each of them
        if (input.resume && patched(CANCEL_EARLIER_CHILDREN_PATCH))
          await cancelActivities.cancelBulkChildren({
            bulkReplayId: bulk.id,
            reason: `bulk replay ${bulk.id} cancelled`,
          });
        await setStatus('cancelled', 'cancelled by operator');
      });
      await handlersFinished();
      return outcome(null);
    }
    const message = `${step}: ${describe(error)}`;
    await CancellationScope.nonCancellable(() => setStatus('failed', message));
    await handlersFinished();
    throw ApplicationFailure.nonRetryable(message, failureTypes.replayFailed);
  }
  await handlersFinished();
  return outcome(null);
}
