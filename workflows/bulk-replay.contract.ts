/** The contract of `bulkReplay`: its input, carried state, progress and outcome, and its steps' data. */
import type { BulkPausedReason, BulkReplaySummary, ExecutionStatus, ReplaySource } from '../domain/replay.ts';
import type { ReplayCanary } from '../domain/replay-canary.ts';
import type { ReplaySelect } from '../domain/replay-selection.ts';
import type { NewReplay, ReplaySettings } from './replay-execution.contract.ts';

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
  /** Each child's selection (absent in bulk replays started before it existed: all, no window). */
  select?: ReplaySelect | null;
  modified_since?: string | null;
  modified_before?: string | null;
  /** Why the bulk replay (and so each child) was asked for. */
  reason?: string | null;
  /** Each child's canary (the request's field): each child pauses itself on its own. */
  canary?: ReplayCanary | null;
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
  // (the two below are absent in bulk replays started before they existed)
  /** The api key's name that asked for it (each child's `requested_by`); null: no authentication. */
  requested_by?: string | null;
  /** A parent with a running, paused or interrupted replay into the same to_route is skipped. */
  skip_parents_with_open_replays?: boolean;
  /** Pause itself once this many children have failed or been interrupted (since its start or last resume). */
  pause_after_failed_children?: number | null;
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
  /** Why it is paused (absent before pause_after_failed_children existed: an operator). */
  pausedReason?: BulkPausedReason | null;
  /** Children failed or interrupted since the start or the last resume. */
  failedChildren?: number;
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
  paused: boolean;
  /** Why it is paused; null while not paused. */
  paused_reason: BulkPausedReason | null;
  /** Children failed or interrupted since the start or the last resume. */
  failed_children: number;
}

export interface BulkReplayOutcome {
  status: ExecutionStatus | 'rejected';
  bulk_replay_id: string;
  error: string | null;
}
