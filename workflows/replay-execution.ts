import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  ContinueAsNew,
  allHandlersFinished,
  condition,
  continueAsNew,
  isCancellation,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { CarriedState, ListedPage, ReplayActivities } from '../activities/index.ts';
import type { ExecutionRecord, ExecutionStatus, NewExecution } from '../adapters/executions.ts';
import { searchAttributes } from '../adapters/search-attributes.ts';
import {
  cancelSignal,
  executionCreatedUpdate,
  progressQuery,
  resumeSignal,
  type ReplayProgress,
} from './definitions.ts';

export interface ReplayWorkflowInput {
  /** The record to create; its id is chosen by the api (UUID v7) before the workflow starts. */
  execution: NewExecution & {
    replay_source: NonNullable<NewExecution['replay_source']>;
    from_stage: string;
    to_route: string;
  };
  pageSize: number;
  /** Pages per run before continue-as-new: keeps every run's history bounded. */
  pagesPerRun: number;
  /** Attempts of one step (activity) before the execution becomes `interrupted`. */
  stepMaxAttempts: number;
  /** Start-to-close timeout of one list or publish step: how soon a step lost with a dead worker is retried. */
  activityTimeoutSeconds?: number;
  /** A new run for an existing record (its workflow closed outside our control): state comes from Postgres. */
  resume?: boolean;
  /** Carried across continue-as-new, or loaded from Postgres when a closed replay is resumed. */
  carried?: CarriedState;
}

export interface ReplayOutcome {
  status: ExecutionStatus | 'rejected';
  execution_id: string;
  published: number;
  error: string | null;
}

/**
 * Bytes of history after which a run continues as new, whatever pagesPerRun says: far below
 * Temporal's limits (warning at 10 MB), and small enough that a worker or client fetches a whole
 * run's history in one gRPC message (4 MB by default).
 */
const MAX_RUN_HISTORY_BYTES = 2 * 1024 * 1024;

/** Keys of a replay's first page (one S3 listing): time to the first message stays short. */
const FIRST_PAGE_SIZE = 1000;

function isNonRetryable(error: unknown): boolean {
  return (
    error instanceof ActivityFailure &&
    error.cause instanceof ApplicationFailure &&
    error.cause.nonRetryable === true
  );
}

function describe(error: unknown): string {
  if (error instanceof ActivityFailure && error.cause) return error.cause.message;
  return error instanceof Error ? error.message : String(error);
}

export async function replayExecution(input: ReplayWorkflowInput): Promise<ReplayOutcome> {
  const executionId = input.execution.id;
  const retry = { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s' } as const;
  // The api waits for this one (update-with-start): a local activity, run inside the first workflow
  // task with no round trip through the server, and a small budget so a dead database fails the request.
  const recordActivities = proxyLocalActivities<ReplayActivities>({
    startToCloseTimeout: '10s',
    retry: { ...retry, maximumAttempts: 3 },
  });
  const stepActivities = proxyActivities<ReplayActivities>({
    startToCloseTimeout: `${input.activityTimeoutSeconds ?? 60}s`,
    retry: { ...retry, maximumAttempts: input.stepMaxAttempts },
  });
  // Status changes must land eventually, whatever the outage: retried without limit.
  const statusActivities = proxyActivities<ReplayActivities>({ startToCloseTimeout: '30s', retry });

  const carried = input.carried;
  let record: ExecutionRecord | undefined = carried?.record;
  let rejection: ApplicationFailure | undefined;
  let source = carried?.source ?? null;
  let routesStarted = carried?.routesStarted ?? false;
  let cursor = carried?.cursor ?? null;
  let listed = carried?.listed ?? 0;
  let published = carried?.published ?? 0;
  let status: ReplayProgress['status'] = record ? 'running' : 'starting';
  let step = 'starting';
  let lastError: string | null = record?.error ?? null;
  let resumeGeneration = 0;

  const mainScope = new CancellationScope();

  setHandler(executionCreatedUpdate, async () => {
    await condition(() => record !== undefined || rejection !== undefined);
    if (rejection) throw rejection;
    return record!;
  });
  setHandler(progressQuery, () => ({
    execution_id: executionId,
    status,
    step,
    listed,
    published,
    cursor,
    last_error: lastError,
    source_execution_id: source?.sourceExecutionId ?? null,
  }));
  setHandler(resumeSignal, () => {
    resumeGeneration += 1;
  });
  setHandler(cancelSignal, () => mainScope.cancel());

  async function setStatus(next: ExecutionStatus, error: string | null): Promise<void> {
    record = await statusActivities.setExecutionStatus({ executionId, status: next, error });
    status = next;
    lastError = error ?? lastError;
    upsertSearchAttributes([{ key: searchAttributes.ReplayStatus, value: next }]);
  }

  /** Runs one step; when its retry budget is spent the execution is `interrupted` until resumed. */
  async function runStep<T>(name: string, run: () => Promise<T>): Promise<T> {
    for (;;) {
      try {
        step = name;
        return await run();
      } catch (error) {
        if (isCancellation(error) || isNonRetryable(error)) throw error;
        const generation = resumeGeneration;
        await setStatus('interrupted', `${name}: ${describe(error)}`);
        await condition(() => resumeGeneration > generation);
        await setStatus('running', null);
      }
    }
  }

  async function replay(): Promise<void> {
    if (input.resume && !record) {
      step = 'loadReplayState';
      const loaded = await statusActivities.loadReplayState({ executionId });
      ({ record, source, routesStarted, cursor, listed, published } = loaded);
      status = 'running';
      upsertSearchAttributes([{ key: searchAttributes.ReplayStatus, value: 'running' }]);
    }
    if (!record) {
      step = 'createExecutionRecord';
      try {
        record = await recordActivities.createExecutionRecord(input.execution);
        status = record.status;
      } catch (error) {
        rejection =
          error instanceof ActivityFailure && error.cause instanceof ApplicationFailure
            ? error.cause
            : ApplicationFailure.nonRetryable(describe(error), 'RecordNotCreated');
        throw rejection;
      }
    }
    if (record.status !== 'running' && record.status !== 'interrupted') {
      // a duplicate run for a replay that already finished: nothing to do
      return;
    }
    if (!source) {
      source = await runStep('resolveReplaySource', () =>
        stepActivities.resolveReplaySource({
          executionId,
          parentExecutionId: input.execution.parent_execution_id!,
          replaySource: input.execution.replay_source,
          fromStage: input.execution.from_stage,
          fromPath: input.execution.from_path ?? '',
        }),
      );
    }
    if (!routesStarted) {
      await runStep('startRoutes', () =>
        stepActivities.startRoutes({ executionId, configId: input.execution.config_id }),
      );
      routesStarted = true;
    }

    const location = source;
    // the replay's first page is small, so its first messages go out at once; full pages after
    const list = (startAfter: string | null) =>
      runStep('listStoragePage', () =>
        stepActivities.listStoragePage({
          executionId,
          source: location,
          startAfter,
          maxKeys: startAfter === null ? Math.min(FIRST_PAGE_SIZE, input.pageSize) : input.pageSize,
        }),
      );

    let pagesThisRun = 0;
    let page: ListedPage = await list(cursor);
    for (;;) {
      listed += page.count;
      // list page n+1 while page n is published
      const nextPage = page.isTruncated ? list(page.lastKey) : undefined;
      nextPage?.catch(() => {});
      if (page.lastKey !== null) {
        const newCursor = page.lastKey;
        const expectedCursor = cursor;
        await runStep('publishBatch', () =>
          stepActivities.publishBatch({ executionId, expectedCursor, newCursor }),
        );
        cursor = newCursor;
        published += page.count;
      }
      if (!nextPage) break;
      page = await nextPage;
      pagesThisRun += 1;
      const info = workflowInfo();
      if (
        pagesThisRun >= input.pagesPerRun ||
        info.historySize > MAX_RUN_HISTORY_BYTES ||
        info.continueAsNewSuggested
      ) {
        // the listed page is dropped; the next run lists it again from the cursor
        await condition(allHandlersFinished);
        await continueAsNew<typeof replayExecution>({
          ...input,
          carried: { record: record!, source, routesStarted, cursor, listed: listed, published },
        });
      }
    }
    step = 'completeExecution';
    await setStatus('completed', null);
  }

  // Finishing must not be cancellable: after a cancel request (UI, CLI, api) the workflow still
  // records its outcome and closes as Completed with status `cancelled` in its result.
  const handlersFinished = () => CancellationScope.nonCancellable(() => condition(allHandlersFinished));

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
      return { status: 'cancelled', execution_id: executionId, published, error: null };
    }
    const message = `${step}: ${describe(error)}`;
    await CancellationScope.nonCancellable(() => setStatus('failed', message));
    await handlersFinished();
    throw ApplicationFailure.nonRetryable(message, 'ReplayFailed');
  }
  await handlersFinished();
  const finalStatus = record?.status ?? 'completed';
  return { status: finalStatus, execution_id: executionId, published, error: null };
}
