import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { ExecutionRecord, ExecutionStatus } from '../adapters/executions.ts';

/** Update-with-start target: resolves with the new record once the workflow has created it (early return). */
export const executionCreatedUpdate = defineUpdate<ExecutionRecord>('executionCreated');

export interface ReplayProgress {
  execution_id: string | undefined;
  status: ExecutionStatus | 'starting' | 'rejected';
  step: string;
  listed: number;
  published: number;
  cursor: string | null;
  last_error: string | null;
  source_execution_id: string | null;
}

export const progressQuery = defineQuery<ReplayProgress>('progress');

/** Goes on after an interruption (a step's retry budget was spent). */
export const resumeSignal = defineSignal('resume');
/** Stops publishing; record and routes become `cancelled`. */
export const cancelSignal = defineSignal<[reason?: string]>('cancel');

export const REPLAY_WORKFLOW_TYPE = 'replayExecution';

export function replayWorkflowId(executionId: string): string {
  return `replay-${executionId}`;
}
