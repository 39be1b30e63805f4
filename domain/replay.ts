/**
 * The replay domain every layer may import (api, services, activities, adapters, workflows): the
 * statuses of an execution and a bulk replay, replay sources, the failure types the workflows raise
 * and the api maps, and the summaries the api answers. Plain data only: it imports nothing.
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

/** What the api answers about a bulk replay; the counts are of its children. */
export interface BulkReplaySummary {
  id: string;
  status: ExecutionStatus;
  total: number;
  started: number;
  completed: number;
  failed: number;
  cancelled: number;
  // (absent in summaries carried by bulk replay runs recorded before they existed)
  /** Parents skipped because they had an open replay into the same route. */
  skipped?: number;
  /** The bulk replay's reason and the api key's name that asked for it. */
  reason?: string | null;
  requested_by?: string | null;
  /** Why it is paused: an operator, or its failed children (pause_after_failed_children); null: not paused. */
  paused_reason?: BulkPausedReason | null;
  /** The failed or interrupted children it had counted when it paused itself; null otherwise. */
  failed_children?: number | null;
}

export const bulkPausedReasons = ['operator', 'failed_children'] as const;
export type BulkPausedReason = (typeof bulkPausedReasons)[number];
