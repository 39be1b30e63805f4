import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { BulkReplayProgress } from './bulk-replay.contract.ts';
import type { BulkReplaySummary, ExecutionSummary } from '../domain/replay.ts';
import type { ReplayProgress } from './replay-execution.contract.ts';

/** Update-with-start target: resolves with the new record once the workflow has created it (early return). */
export const executionCreatedUpdate = defineUpdate<ExecutionSummary>('executionCreated');

export const progressQuery = defineQuery<ReplayProgress>('progress');

/** Goes on after an interruption (a step's retry budget was spent). */
export const resumeSignal = defineSignal('resume');
/** Stops publishing until a `resume`; the record stays `running`, with `paused` set. */
export const pauseSignal = defineSignal('pause');
/** Sets (a number) or lifts (null) the replay's own rate limit; answers the limit now in force. */
export const setRateUpdate = defineUpdate<number | null, [maxMessagesPerSecond: number | null]>('setRate');
/** The same as a signal, for tools that only send signals (the Temporal UI's "Signal"). */
export const setRateSignal = defineSignal<[maxMessagesPerSecond: number | null]>('setRate');
/** From a bulk replay's child to its bulk replay: the child (its execution id) was interrupted. */
export const childInterruptedSignal = defineSignal<[executionId: string]>('childInterrupted');
/** Stops publishing; record and routes become `cancelled`. */
export const cancelSignal = defineSignal<[reason?: string]>('cancel');

export const REPLAY_WORKFLOW_TYPE = 'replayExecution';
export const PARTITION_WORKFLOW_TYPE = 'replayPartition';

/** The child workflow that publishes one partition of a large replay. */
export function partitionWorkflowId(replayWorkflowId: string, partition: number): string {
  return `${replayWorkflowId}-p${partition}`;
}

export function replayWorkflowId(executionId: string): string {
  return `replay-${executionId}`;
}

/** Update-with-start target of a bulk replay: resolves once its record and its list of parents exist. */
export const bulkReplayCreatedUpdate = defineUpdate<BulkReplaySummary>('bulkReplayCreated');
export const bulkProgressQuery = defineQuery<BulkReplayProgress>('progress');

export const BULK_REPLAY_WORKFLOW_TYPE = 'bulkReplay';

export function bulkReplayWorkflowId(bulkReplayId: string): string {
  return `bulk-replay-${bulkReplayId}`;
}

export const PREVIEW_WORKFLOW_TYPE = 'previewReplay';

export function previewWorkflowId(previewId: string): string {
  return `replay-preview-${previewId}`;
}
