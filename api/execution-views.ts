import { executionSummary, selectionOf, type ExecutionRecord } from '../adapters/executions.ts';
import type { ReplaySelection } from '../domain/replay-selection.ts';
import type { ExecutionSummary } from '../domain/replay.ts';
import type { ExecutionDetail, ExecutionResponse, ReplayExecutionResponse } from './schemas.ts';

/** Exactly the contract's ExecutionResponse fields, nothing more. */
export function toExecutionResponse(record: ExecutionSummary): ExecutionResponse {
  return executionSummary(record);
}

/** A replay's answer: the contract's fields, and its selection when the request named one. */
export function toReplayResponse(
  record: ExecutionSummary & { selection?: ReplaySelection },
): ReplayExecutionResponse {
  return record.selection
    ? { ...executionSummary(record), selection: record.selection }
    : executionSummary(record);
}

export function toExecutionDetail(record: ExecutionRecord): ExecutionDetail {
  return {
    ...toExecutionResponse(record),
    root_execution_id: record.root_execution_id,
    from_stage: record.from_stage,
    to_route: record.to_route,
    from_path: record.from_path,
    metadata: record.metadata,
    progress: {
      listed: record.listed_count,
      published: record.published_count,
      cursor: record.replay_cursor,
      paused: record.paused,
      paused_reason: record.paused ? (record.paused_reason ?? 'operator') : null,
      canary: record.canary,
    },
    max_messages_per_second: record.max_messages_per_second,
    error: record.error,
    selection: selectionOf(record),
    reason: record.reason,
    requested_by: record.requested_by,
  };
}
