/**
 * The contract of `replayExecution`: its input, settings, carried state, progress and outcome, and
 * the inputs and results of the steps it runs. Plain data only (workflow and activities share it).
 */
import type { ExecutionStatus, ExecutionSummary, ReplaySource } from '../domain/replay.ts';
import type { ReplaySelection } from '../domain/replay-selection.ts';
import type { CanaryState, PausedReason, ReplayCanary } from '../domain/replay-canary.ts';

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
  /**
   * Which objects of the stage it publishes besides from_path (select, modified-time window); absent
   * (in replays started before it existed): all of them.
   */
  selection?: ReplaySelection;
  // (the two below are absent in replays started before they had a provenance)
  /** Why it was asked for, as the request said (1-500 characters); absent or null: not said. */
  reason?: string | null;
  /** The api key's name that asked for it (never the request body's); absent or null: no authentication. */
  requested_by?: string | null;
  /** Publish this many messages first and wait for their outputs; absent or null: no canary. */
  canary?: ReplayCanary | null;
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
  /** Why it is paused (absent before canaries existed: an operator). */
  pausedReason?: PausedReason | null;
  /** The canary has run (or will not): a new run does not run it again. */
  canaryDone?: boolean;
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
  /** Why it is paused; null while not paused. */
  paused_reason: PausedReason | null;
  /** The canary as counted; null: none. */
  canary: CanaryState | null;
}

export interface WatchCanaryInput {
  executionId: string;
  /** Messages the canary published: the first this many selected keys of the listing. */
  published: number;
  minOutputRatio: number;
  /** When the wait ends (epoch ms, the workflow's clock): a retried attempt waits only what is left. */
  deadlineMs: number;
}

export interface WatchCanaryResult {
  published: number;
  outputsFound: number;
  reached: boolean;
}
