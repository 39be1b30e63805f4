/**
 * What the fast workflow tests share: one Temporal worker per test file on the shared dev server,
 * running today's workflow bundle with stub activities (plain functions with the real names), each
 * test's workflows routed to that test's own stubs by their workflow ids, so tests run side by
 * side; and in-memory fakes of what the real activities keep in Postgres, so a test reads the
 * statuses a workflow set and the activities it called, in order.
 */
import { randomUUID } from 'node:crypto';
import { ApplicationFailure, Context } from '@temporalio/activity';
import { Client, Connection, WithStartWorkflowOperation, type WorkflowHandle } from '@temporalio/client';
import { defaultPayloadConverter, type UpdateDefinition, type Workflow } from '@temporalio/common';
import type { History } from '@temporalio/common/lib/proto-utils.js';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { inject } from 'vitest';
export { sleep } from '../../adapters/sleep.ts';
import { sleep } from '../../adapters/sleep.ts';
import type { BulkCancelActivities, ReplayActivities } from '../../activities/index.ts';
import {
  failureTypes,
  isFinished,
  type BulkReplaySummary,
  type ExecutionStatus,
  type ExecutionSummary,
} from '../../domain/replay.ts';
import {
  type BulkReplaySettings,
  type BulkReplayWorkflowInput,
  type NewBulkReplay,
  type PreparedChild,
} from '../../workflows/bulk-replay.contract.ts';
import {
  type NewReplay,
  type PublishPagesInput,
  type PublishPagesResult,
  type ReplaySettings,
  type ReplayWorkflowInput,
  type StartedReplay,
} from '../../workflows/replay-execution.contract.ts';
import {
  BULK_REPLAY_WORKFLOW_TYPE,
  bulkReplayCreatedUpdate,
  executionCreatedUpdate,
  REPLAY_WORKFLOW_TYPE,
  replayWorkflowId,
} from '../../workflows/definitions.ts';
import type { bulkReplay } from '../../workflows/bulk-replay.ts';
import type { replayExecution } from '../../workflows/replay-execution.ts';

export type StubActivities = Partial<ReplayActivities & BulkCancelActivities>;

/** Keys one fake page holds. */
export const KEYS_PER_PAGE = 10;

export async function waitUntil(check: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await sleep(20);
  }
}

/** A promise a test settles by hand. */
export function deferred<T = void>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((ok, fail) => {
    resolve = ok;
    reject = fail;
  });
  return { promise, resolve, reject };
}

/** Heartbeats until `until` settles (its value) or the activity is cancelled (CancelledFailure). */
export async function heartbeatUntil<T>(until: Promise<T>): Promise<T> {
  const context = Context.current();
  let settled = false;
  const result = until.finally(() => {
    settled = true;
  });
  while (!settled) {
    context.heartbeat();
    await Promise.race([result, context.sleep(50)]);
  }
  return result;
}

/** Every activity name the workflows call; a test gives stubs for the ones its workflows reach. */
const ACTIVITY_NAMES = [
  'startReplay',
  'loadReplayState',
  'setExecutionStatus',
  'publishPages',
  'createBulkReplay',
  'prepareBulkChildren',
  'refuseBulkChild',
  'setBulkReplayStatus',
  'loadBulkReplay',
  'awaitStartedChildren',
  'planPartitions',
  'setPartitionStatus',
  'completePartitionedReplay',
  'setReplayPaused',
  'setReplayRate',
  'countReplayPreview',
  'failReplayPreview',
  'cancelReplayPreview',
  'cancelBulkChildren',
  'watchCanaryOutputs',
  'skipCanary',
  'setBulkReplayPaused',
] as const satisfies readonly (keyof (ReplayActivities & BulkCancelActivities))[];

/** What a test's body gets: where to start its workflows, and ids that route to its stubs. */
export interface StubScope {
  temporal: Client;
  taskQueue: string;
  /** A new replay whose workflow id routes its activities to this test's stubs. */
  newReplay(overrides?: Partial<NewReplay>): NewReplay;
  /** A workflow id that routes its activities to this test's stubs. */
  workflowId(name: string): string;
}

interface SharedWorker {
  temporal: Client;
  taskQueue: string;
  close(): Promise<void>;
}

let shared: Promise<SharedWorker> | undefined;
/** The stubs of each running test, by the prefix of its workflow ids. */
const stubsByScope = new Map<string, StubActivities>();

/**
 * One worker for the test file (creating a worker loads the workflow bundle, most of a second):
 * today's workflows, and activities that hand each call to the stubs of the test whose workflow
 * made it, found by the workflow id's prefix. Publish activities run on the same task queue (the
 * replay settings below point there).
 */
async function sharedWorker(): Promise<SharedWorker> {
  shared ??= (async () => {
    // each test file runs in its own process; deliberate failures are the tests' point, not news
    Runtime.install({ logger: new DefaultLogger('ERROR') });
    const address = inject('stack').temporalAddress;
    const connection = await NativeConnection.connect({ address });
    const clientConnection = await Connection.connect({ address });
    const taskQueue = `workflow-tests-${randomUUID()}`;
    const activities = Object.fromEntries(
      ACTIVITY_NAMES.map((name) => [
        name,
        (input: unknown) => {
          const workflowId = Context.current().info.workflowExecution?.workflowId ?? '';
          const stub = stubsByScope.get(workflowId.split(':')[0]!)?.[name] as
            ((input: unknown) => Promise<unknown>) | undefined;
          if (!stub) throw ApplicationFailure.nonRetryable(`no stub for ${name} in ${workflowId}`);
          return stub(input);
        },
      ]),
    );
    const worker = await Worker.create({
      connection,
      taskQueue,
      workflowBundle: { codePath: inject('stack').workflowBundlePath },
      activities,
      // a cancel reaches a heartbeating stub within 100 ms, not 80% of its heartbeat timeout
      maxHeartbeatThrottleInterval: '100ms',
    });
    const running = worker.run();
    return {
      temporal: new Client({ connection: clientConnection }),
      taskQueue,
      async close() {
        worker.shutdown();
        await running;
        await connection.close();
        await clientConnection.close();
      },
    };
  })();
  return shared;
}

export async function closeStubWorker(): Promise<void> {
  if (shared) await (await shared).close();
}

/** Runs `body` with these stubs answering the activities of the workflows it starts (their ids from the scope). */
export async function withStubs<T>(
  activities: StubActivities,
  body: (scope: StubScope) => Promise<T>,
): Promise<T> {
  const { temporal, taskQueue } = await sharedWorker();
  const prefix = `test-${randomUUID()}`;
  stubsByScope.set(prefix, activities);
  try {
    return await body({
      temporal,
      taskQueue,
      workflowId: (name) => `${prefix}:${name}`,
      newReplay: (overrides = {}) => {
        const replay = newReplay(overrides);
        return { ...replay, workflow_id: `${prefix}:${replay.workflow_id}`, ...overrides };
      },
    });
  } finally {
    stubsByScope.delete(prefix);
  }
}

export function replaySettings(taskQueue: string, overrides: Partial<ReplaySettings> = {}): ReplaySettings {
  return {
    pageSize: KEYS_PER_PAGE,
    pagesPerRun: 100,
    sliceSeconds: 30,
    stepMaxAttempts: 3,
    activityTimeoutSeconds: 60,
    heartbeatTimeoutSeconds: 2,
    publishTaskQueue: taskQueue,
    ...overrides,
  };
}

export function bulkSettings(
  taskQueue: string,
  overrides: Partial<BulkReplaySettings> = {},
): BulkReplaySettings {
  return {
    windowSize: 2,
    childrenPerRun: 100,
    stepMaxAttempts: 3,
    replay: replaySettings(taskQueue),
    ...overrides,
  };
}

export function newBulkReplay(scope: Pick<StubScope, 'workflowId'>, maxConcurrent: number): NewBulkReplay {
  const id = randomUUID();
  return {
    id,
    workflow_id: scope.workflowId(`bulk-replay-${id}`),
    replay: { replay_source: 'storage', from_stage: 'markdown_segmented', to_route: 'embedding_generator' },
    // the real first step stores the parents; the fake holds its children already checked
    execution_ids: ['parents as the fake holds them'],
    filter: null,
    max_concurrent: maxConcurrent,
  };
}

function newReplay(overrides: Partial<NewReplay> = {}): NewReplay {
  const id = randomUUID();
  return {
    id,
    config_id: 'config-1',
    parent_execution_id: 'parent-1',
    root_execution_id: 'parent-1',
    replay_source: 'storage',
    from_stage: 'markdown_segmented',
    to_route: 'embedding_generator',
    from_path: null,
    tag: null,
    metadata: {},
    workflow_id: replayWorkflowId(id),
    ...overrides,
  };
}

/**
 * Starts a workflow as the api does (update-with-start of the update its first step answers);
 * answers its handle and the update's result, or the update's error when the start was refused.
 */
async function startWithUpdate<W extends Workflow, Created>(
  temporal: Client,
  update: UpdateDefinition<Created, []>,
  options: { workflowType: string; workflowId: string; taskQueue: string; input: unknown },
): Promise<{ handle: WorkflowHandle<W>; created?: Created; refused?: unknown }> {
  const startWorkflowOperation = new WithStartWorkflowOperation(options.workflowType, {
    workflowId: options.workflowId,
    taskQueue: options.taskQueue,
    args: [options.input],
    workflowIdConflictPolicy: 'FAIL',
  });
  const handle = async () => (await startWorkflowOperation.workflowHandle()) as WorkflowHandle<W>;
  try {
    const created = await temporal.workflow.executeUpdateWithStart(update, { startWorkflowOperation });
    return { handle: await handle(), created };
  } catch (refused) {
    return { handle: await handle(), refused };
  }
}

export function startReplay(temporal: Client, taskQueue: string, input: ReplayWorkflowInput) {
  return startWithUpdate<typeof replayExecution, ExecutionSummary>(temporal, executionCreatedUpdate, {
    workflowType: REPLAY_WORKFLOW_TYPE,
    workflowId: input.execution.workflow_id,
    taskQueue,
    input,
  });
}

export function startBulkReplay(temporal: Client, taskQueue: string, input: BulkReplayWorkflowInput) {
  return startWithUpdate<typeof bulkReplay, BulkReplaySummary>(temporal, bulkReplayCreatedUpdate, {
    workflowType: BULK_REPLAY_WORKFLOW_TYPE,
    workflowId: input.bulk.workflow_id,
    taskQueue,
    input,
  });
}

/** The input each run of a workflow started with, first run first (continue-as-new chain). */
export async function runInputs<T>(temporal: Client, workflowId: string): Promise<T[]> {
  const inputs: T[] = [];
  let runId: string | undefined = (await temporal.workflow.getHandle(workflowId).describe()).runId;
  while (runId) {
    const history: History = await temporal.workflow.getHandle(workflowId, runId).fetchHistory();
    const started = history.events![0]!.workflowExecutionStartedEventAttributes!;
    inputs.unshift(defaultPayloadConverter.fromPayload<T>(started.input!.payloads![0]!));
    runId = started.continuedExecutionRunId || undefined;
  }
  return inputs;
}

interface FakeRecord {
  summary: ExecutionSummary;
  pages: number;
  cursor: string | null;
  published: number;
}

export interface ActivityCall {
  activity: string;
  executionId: string;
  attempt: number;
  input: unknown;
}

/**
 * The replays' records as the real activities keep them in Postgres, in memory, with the replay
 * activities over them: `pagesOf(id)` pages of KEYS_PER_PAGE keys each to publish. Records every
 * call and every status change. Tests replace single activities and call the defaults from them.
 */
export class FakeReplays {
  readonly records = new Map<string, FakeRecord>();
  readonly calls: ActivityCall[] = [];
  readonly statusChanges: { executionId: string; status: ExecutionStatus; error: string | null }[] = [];

  constructor(private readonly pagesOf: (executionId: string) => number = () => 1) {}

  callsOf(activity: string): ActivityCall[] {
    return this.calls.filter((call) => call.activity === activity);
  }

  statusesOf(executionId: string): ExecutionStatus[] {
    return this.statusChanges
      .filter((change) => change.executionId === executionId)
      .map((change) => change.status);
  }

  record(executionId: string): FakeRecord {
    const record = this.records.get(executionId);
    if (!record)
      throw ApplicationFailure.nonRetryable(`${executionId} not found`, failureTypes.executionNotFound);
    return record;
  }

  /** The state the first step answers, or a resumed run loads. */
  stateOf(executionId: string): StartedReplay {
    const record = this.record(executionId);
    return {
      summary: { ...record.summary },
      sourceExecutionId: record.summary.parent_execution_id,
      cursor: record.cursor,
      listed: record.published,
      published: record.published,
    };
  }

  readonly startReplay = async (replay: NewReplay): Promise<StartedReplay> => {
    if (!this.records.has(replay.id)) {
      this.records.set(replay.id, {
        summary: {
          id: replay.id,
          config_id: replay.config_id,
          status: 'running',
          started_at: new Date().toISOString(),
          completed_at: null,
          parent_execution_id: replay.parent_execution_id,
          replay_source: replay.replay_source,
          tag: replay.tag,
        },
        pages: this.pagesOf(replay.id),
        cursor: null,
        published: 0,
      });
    }
    return this.stateOf(replay.id);
  };

  readonly loadReplayState = async ({ executionId }: { executionId: string }): Promise<StartedReplay> => {
    this.record(executionId).summary.status = 'running';
    return this.stateOf(executionId);
  };

  readonly setExecutionStatus = async (input: {
    executionId: string;
    status: ExecutionStatus;
    error?: string | null;
  }): Promise<ExecutionSummary> => {
    const record = this.record(input.executionId);
    this.statusChanges.push({
      executionId: input.executionId,
      status: input.status,
      error: input.error ?? null,
    });
    // a finished record keeps its status, as the real status function does
    if (!isFinished(record.summary.status)) record.summary.status = input.status;
    return { ...record.summary };
  };

  /** Publishes up to maxPages pages from the record's cursor, as the real step does. */
  readonly publishPages = async (input: PublishPagesInput): Promise<PublishPagesResult> => {
    const record = this.record(input.executionId);
    const result = (pages: number, finished: boolean): PublishPagesResult => ({
      pages,
      cursor: record.cursor,
      listed: record.published,
      published: record.published,
      sourceExecutionId: record.summary.parent_execution_id!,
      finished,
      paused: false,
      summary: finished ? { ...record.summary } : null,
    });
    if (record.summary.status === 'completed') return result(0, true);
    if (record.summary.status !== 'running') {
      throw ApplicationFailure.nonRetryable(
        `execution ${input.executionId} is ${record.summary.status}`,
        failureTypes.notRunning,
      );
    }
    let pages = 0;
    while (pages < input.maxPages) {
      const done = record.published / KEYS_PER_PAGE;
      if (done >= record.pages) break;
      record.published += KEYS_PER_PAGE;
      record.cursor = `key-${done + 1}`;
      pages += 1;
      Context.current().heartbeat();
    }
    const finished = record.published / KEYS_PER_PAGE >= record.pages;
    if (finished) record.summary.status = 'completed';
    return result(pages, finished);
  };

  /** The activities (defaults, or these replacements), each call recorded first. */
  activities(replacements: StubActivities = {}): StubActivities {
    const defaults: StubActivities = {
      startReplay: this.startReplay,
      loadReplayState: this.loadReplayState,
      setExecutionStatus: this.setExecutionStatus,
      publishPages: this.publishPages,
    };
    return recorded(this.calls, { ...defaults, ...replacements });
  }
}

/** A bulk replay's record and parents in memory, with the bulk activities over them. */
export class FakeBulkReplay {
  status: ExecutionStatus = 'running';
  readonly statusChanges: { status: ExecutionStatus; error: string | null }[] = [];
  readonly refusedChildren: { position: number; errorCode: string; error: string }[] = [];
  readonly children: PreparedChild[];

  constructor(
    scope: Pick<StubScope, 'newReplay'>,
    readonly bulk: NewBulkReplay,
    /** Each parent's child replay, valid as far as the bulk replay can tell. */
    count: number,
    child: (position: number) => Partial<NewReplay> = () => ({}),
  ) {
    this.children = Array.from({ length: count }, (_, position) => ({
      position,
      replay: scope.newReplay(child(position)),
    }));
  }

  summary(): BulkReplaySummary {
    return {
      id: this.bulk.id,
      status: this.status,
      total: this.children.length,
      started: 0,
      completed: 0,
      failed: 0,
      cancelled: 0,
    };
  }

  activities(calls: ActivityCall[]): StubActivities {
    return recorded(calls, {
      createBulkReplay: async () => this.summary(),
      prepareBulkChildren: async ({ fromPosition, limit }) => {
        const children = this.children.slice(fromPosition, fromPosition + limit);
        const nextPosition = children.length > 0 ? children.at(-1)!.position + 1 : this.children.length;
        return { children, nextPosition, done: children.length < limit };
      },
      refuseBulkChild: async (input) => {
        this.refusedChildren.push({
          position: input.position,
          errorCode: input.errorCode,
          error: input.error,
        });
      },
      setBulkReplayStatus: async ({ status, error }) => {
        this.statusChanges.push({ status, error: error ?? null });
        if (!isFinished(this.status)) this.status = status;
        return this.summary();
      },
      loadBulkReplay: async () => {
        this.status = 'running';
        return this.summary();
      },
      awaitStartedChildren: async () => {},
    });
  }
}

function recorded(calls: ActivityCall[], activities: StubActivities): StubActivities {
  return Object.fromEntries(
    Object.entries(activities).map(([name, activity]) => [
      name,
      async (input: { id?: string; executionId?: string; bulkReplayId?: string }) => {
        calls.push({
          activity: name,
          executionId: input.executionId ?? input.id ?? input.bulkReplayId ?? '',
          attempt: Context.current().info.attempt,
          input,
        });
        return (activity as (arg: unknown) => Promise<unknown>)(input);
      },
    ]),
  );
}
