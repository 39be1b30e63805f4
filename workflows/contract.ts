/**
 * The replay workflow's own contract: statuses, failure types and the small objects that cross the
 * workflow boundary (inputs, update results, carried state, outcomes). Plain data only: the
 * workflow, its activities, the api and the adapters all import these; nothing here imports them.
 */

export const executionStatuses = ['running', 'completed', 'failed', 'cancelled', 'interrupted'] as const;
export type ExecutionStatus = (typeof executionStatuses)[number];

/** Statuses a record never leaves: a late or duplicate run cannot change them. */
export const finishedStatuses: readonly ExecutionStatus[] = ['completed', 'failed', 'cancelled'];

export function isFinished(status: ExecutionStatus): boolean {
  return finishedStatuses.includes(status);
}

export const replaySources = ['storage', 'lineage', 'manual'] as const;
export type ReplaySource = (typeof replaySources)[number];

/** ApplicationFailure types the workflow raises or recognises, and the api maps to answers. */
export const failureTypes = {
  /** The requested tag belongs to another execution (409). */
  tagTaken: 'TagTaken',
  /** The target pipeline config is gone (404). */
  configNotFound: 'ConfigNotFound',
  /** A route's topic or queue does not exist and the service may not create it (503, naming it). */
  routeMissing: 'RouteMissing',
  executionNotFound: 'ExecutionNotFound',
  /** A step found its execution finished (cancelled, completed, failed): nothing more to publish. */
  notRunning: 'ExecutionNotRunning',
  /** The first step could not create the record: the request is refused, nothing was written. */
  recordNotCreated: 'RecordNotCreated',
  /** A replay ended `failed`. */
  replayFailed: 'ReplayFailed',
  /** A bulk replay's filter matches more executions than one bulk replay takes (400). */
  tooManyParents: 'TooManyParents',
} as const;

/** The replay to create, as the api resolved it; its id (UUID v7) is chosen before the workflow starts. */
export interface NewReplay {
  id: string;
  config_id: string;
  parent_execution_id: string;
  root_execution_id: string;
  replay_source: ReplaySource;
  from_stage: string;
  to_route: string;
  /** Relative to the stage folder, normalised; null for the whole stage. */
  from_path: string | null;
  tag: string | null;
  metadata: Record<string, unknown>;
  workflow_id: string;
  /** The replay's own rate limit (its route's, from the config, holds too); absent or null: none. */
  max_messages_per_second?: number | null;
}

/** What the api answers about an execution: exactly the contract's ExecutionResponse fields. */
export interface ExecutionSummary {
  id: string;
  config_id: string;
  status: ExecutionStatus;
  started_at: string;
  completed_at: string | null;
  parent_execution_id: string | null;
  replay_source: ReplaySource | null;
  tag: string | null;
}

/** How a replay runs; set by the api from its configuration, fixed for the replay's life. */
export interface ReplaySettings {
  /** Keys per page: one S3 listing (several past 1,000) and one exactly-once transaction. */
  pageSize: number;
  /** Pages per workflow run before continue-as-new: keeps every run's history bounded. */
  pagesPerRun: number;
  /** Seconds one publishing activity runs (whole pages) before it reports back to the workflow. */
  sliceSeconds: number;
  /** Attempts of one step (activity) before the execution becomes `interrupted`. */
  stepMaxAttempts: number;
  /** Start-to-close bound of one publishing activity. */
  activityTimeoutSeconds: number;
  /** A publishing activity that has not heartbeaten for this long is retried on another worker. */
  heartbeatTimeoutSeconds: number;
  /** Task queue of the long (list and publish) activities; the workflow's own queue stays free for starts. */
  publishTaskQueue: string;
  /**
   * Partitions a replay with more than one page may be split into, each published by a child
   * workflow; 1 (or absent, in replays started before partitions existed): never split.
   */
  maxPartitions?: number;
  /** Partitions published at once. */
  partitionsInFlight?: number;
  /** Pages published as one before the rest is split (a replay done by then is never split). */
  partitionAfterPages?: number;
}

export interface ReplayWorkflowInput {
  /** The record to create (or, with `resume`, the one to go on with). */
  execution: NewReplay;
  settings: ReplaySettings;
  /** A new run for an existing record (its workflow closed outside our control): state comes from Postgres. */
  resume?: boolean;
  /** Carried across continue-as-new. */
  carried?: CarriedState;
}

/** Where a replay stands: what a workflow run carries over to the next, or loads from Postgres. */
export interface ReplayState {
  summary: ExecutionSummary;
  /** The execution whose storage is read, once resolved (the parent, or a `lineage` ancestor). */
  sourceExecutionId: string | null;
  cursor: string | null;
  listed: number;
  published: number;
  // (the two below are absent in states carried by runs recorded before pausing and pacing existed)
  /** Paused by an operator: nothing is published until a resume. */
  paused?: boolean;
  /** The replay's own rate limit; null: none (its route's may still hold). */
  maxMessagesPerSecond?: number | null;
  /** Partitions the replay was split into (0: none yet; absent before partitions existed). */
  partitions?: number;
}

/** Carried across continue-as-new. */
export type CarriedState = ReplayState;
/** What the first step returns: the record as created (or found, for a retried start). */
export type StartedReplay = ReplayState;

export interface PublishPagesInput {
  executionId: string;
  /** A partition of the replay (its own key range and cursor); absent: the whole replay. */
  partition?: number;
  /** Keys of the replay's first page: small, so its first messages go out at once. */
  firstPageSize: number;
  pageSize: number;
  /** Whole pages this activity may publish before it returns (continue-as-new needs a page count). */
  maxPages: number;
  sliceSeconds: number;
}

/** Where a publishing activity left the replay; the same figures Postgres holds. */
export interface PublishPagesResult {
  pages: number;
  cursor: string | null;
  listed: number;
  published: number;
  sourceExecutionId: string;
  /** The last page was published and the record marked `completed` in the same transaction. */
  finished: boolean;
  /** The replay was paused: the activity stopped before its next page. */
  paused: boolean;
  /** The record as it stands when finished. */
  summary: ExecutionSummary | null;
}

export interface SetStatusInput {
  executionId: string;
  status: ExecutionStatus;
  error?: string | null;
}

export interface ReplayOutcome {
  status: ExecutionStatus | 'rejected';
  execution_id: string;
  published: number;
  error: string | null;
}

export interface ReplayProgress {
  execution_id: string | undefined;
  status: ExecutionStatus | 'starting' | 'rejected';
  step: string;
  /** Keys read from the store (from_path may select fewer). */
  listed: number;
  /** Messages published. */
  published: number;
  cursor: string | null;
  last_error: string | null;
  source_execution_id: string | null;
  paused: boolean;
  /** The replay's own rate limit; null: none. */
  max_messages_per_second: number | null;
}

/** The replay fields every child of a bulk replay shares (the contract's request, without a tag). */
export interface BulkReplayFields {
  replay_source: ReplaySource;
  from_stage: string;
  to_route: string;
  from_path?: string | null;
  metadata?: Record<string, unknown> | null;
  config_id?: string | null;
  /** Each child's own rate limit (the request's field, which every child replay takes). */
  max_messages_per_second?: number | null;
}

/** Which executions a bulk replay replays, when they are not listed one by one. */
export interface BulkReplayFilter {
  config_id?: string | null;
  tag_prefix?: string | null;
  status?: ExecutionStatus[] | null;
  started_after?: string | null;
  started_before?: string | null;
}

/** A bulk replay to create; its id (UUID v7) is chosen by the api. */
export interface NewBulkReplay {
  id: string;
  workflow_id: string;
  replay: BulkReplayFields;
  /** The parents as given (UUIDs or tags), replayed in this order... */
  execution_ids: string[] | null;
  /** ...or the executions a filter matches when the bulk replay is created (oldest first). */
  filter: BulkReplayFilter | null;
  max_concurrent: number;
}

/** What the api answers about a bulk replay; the counts are of its children. */
export interface BulkReplaySummary {
  id: string;
  status: ExecutionStatus;
  total: number;
  started: number;
  completed: number;
  failed: number;
  cancelled: number;
}

export interface BulkReplaySettings {
  /** Parents checked (and given execution ids) per activity. */
  windowSize: number;
  /** Children a workflow run starts before it continues as new (it drains its running ones first). */
  childrenPerRun: number;
  stepMaxAttempts: number;
  /** How each child replay runs. */
  replay: ReplaySettings;
}

export interface BulkReplayWorkflowInput {
  bulk: NewBulkReplay;
  settings: BulkReplaySettings;
  /** A new run for a bulk replay whose workflow closed outside our control: state comes from Postgres. */
  resume?: boolean;
  carried?: BulkCarriedState;
}

export interface BulkCarriedState {
  summary: BulkReplaySummary;
  /** The first position no earlier run has looked at. */
  nextPosition: number;
  /** Paused by an operator (absent in states carried before pausing existed). */
  paused?: boolean;
}

/** A child replay ready to start, at its position in the bulk replay. */
export interface PreparedChild {
  position: number;
  replay: NewReplay;
  /** What its static details in the Temporal UI tell (workflows/user-metadata.ts). */
  described?: ChildDescription;
}

/** The route a replay publishes to, as its target config defines it. */
export interface RouteDescription {
  name: string;
  input_stage: string;
  output_stage: string | null;
  max_messages_per_second?: number | null;
}

/** What a bulk replay's child tells in the UI beyond its NewReplay and the bulk replay's request. */
export interface ChildDescription {
  /** The parent as the bulk replay named it, or its tag. */
  parent_ref: string;
  config: { id: string; name: string };
  route: RouteDescription;
}

export interface PrepareChildrenInput {
  bulkReplayId: string;
  fromPosition: number;
  limit: number;
}

export interface PreparedChildren {
  /** Valid parents, each with its new execution id; bad ones were marked failed with their error. */
  children: PreparedChild[];
  nextPosition: number;
  /** No position at or after nextPosition is left. */
  done: boolean;
}

export interface BulkReplayProgress {
  id: string;
  status: ExecutionStatus | 'starting' | 'rejected';
  step: string;
  total: number;
  /** Positions looked at so far (their children started, or refused). */
  next_position: number;
  /** Children running now (at most max_concurrent). */
  running: number;
  last_error: string | null;
}

export interface BulkReplayOutcome {
  status: ExecutionStatus | 'rejected';
  bulk_replay_id: string;
  error: string | null;
}

export interface PlanPartitionsInput {
  executionId: string;
  maxPartitions: number;
}

export interface ReplayPartitionInput {
  executionId: string;
  partition: number;
  settings: ReplaySettings;
  /** Carried across continue-as-new: what this partition published so far. */
  published?: number;
}

export interface ReplayPartitionOutcome {
  partition: number;
  published: number;
}

export interface SetPartitionStatusInput {
  executionId: string;
  partition: number;
  status: 'running' | 'interrupted';
  error: string | null;
}

/** A replay preview that continues as a job (api/replay-preview-service.ts): its row holds the plan. */
export interface PreviewWorkflowInput {
  previewId: string;
  /** The replay settings: the preview counts on the publish task queue, in slices, with the same retries. */
  settings: ReplaySettings;
}

export interface CountPreviewInput {
  previewId: string;
  sliceSeconds: number;
}

export interface CountPreviewResult {
  /** The listing is finished and the preview `completed` (or the preview is no longer running). */
  done: boolean;
  count: number;
  listed: number;
}

export interface PreviewOutcome {
  preview_id: string;
  status: 'completed' | 'failed' | 'cancelled';
  error: string | null;
}
