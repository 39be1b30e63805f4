import {
  WithStartWorkflowOperation,
  WorkflowExecutionAlreadyStartedError,
  WorkflowUpdateFailedError,
  WorkflowUpdateRPCTimeoutOrCancelledError,
  type Client,
} from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { replaySearchAttributes } from '../workflows/search-attributes.ts';
import { executionCreatedUpdate, REPLAY_WORKFLOW_TYPE, replayWorkflowId } from '../workflows/definitions.ts';
import { failureTypes, type ExecutionSummary, type ReplayWorkflowInput } from '../workflows/contract.ts';
import type { replayExecution } from '../workflows/replay-execution.ts';
import { withTimeout } from './dependency-errors.ts';
import { ApiError } from './errors.ts';

/** A 503 after which the replay may still start: its Idempotency-Key claim must be kept. */
export class ReplayStartUncertain extends ApiError {
  constructor(detail: string) {
    super(503, 'SERVICE_UNAVAILABLE', detail);
  }
}

// gRPC CANCELLED, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED, UNAVAILABLE
const UNAVAILABLE_GRPC_CODES = new Set([1, 4, 8, 14]);

function isUnavailable(error: unknown): boolean {
  if (error instanceof WorkflowUpdateRPCTimeoutOrCancelledError) return true;
  const code =
    (error as { code?: unknown; cause?: { code?: unknown } }).code ??
    (error as { cause?: { code?: unknown } }).cause?.code;
  return typeof code === 'number'
    ? UNAVAILABLE_GRPC_CODES.has(code)
    : /deadline|unavailable|connect/i.test(String(error));
}

/**
 * Starts replayExecution with update-with-start and returns the record its first step created
 * (early return), bounded by timeoutMs. On timeout the workflow is cancelled, so a refused request
 * leaves no replay running behind the client's back.
 */
export async function startReplayWorkflow(
  temporal: Client,
  input: ReplayWorkflowInput,
  options: { taskQueue: string; timeoutMs: number; memo: Record<string, unknown>; idempotent: boolean },
): Promise<ExecutionSummary | 'already-closed'> {
  const execution = input.execution;
  const workflowId = replayWorkflowId(execution.id);
  const typedSearchAttributes = replaySearchAttributes(execution);
  const startWorkflowOperation = new WithStartWorkflowOperation<typeof replayExecution>(
    REPLAY_WORKFLOW_TYPE,
    {
      workflowId,
      taskQueue: options.taskQueue,
      args: [input],
      // a request that joins a running replay gets its record; one that comes after it closed must not
      // start a second run (the caller then reads the record from Postgres)
      workflowIdConflictPolicy: 'USE_EXISTING',
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
      typedSearchAttributes,
      memo: options.memo,
    },
  );
  // Temporal unreachable: nothing can have started, which is worth knowing apart from a slow start
  try {
    await withTimeout('Temporal', options.timeoutMs, temporal.connection.ensureConnected());
  } catch (error) {
    throw new ApiError(503, 'SERVICE_UNAVAILABLE', `Temporal is unavailable: ${(error as Error).message}`);
  }
  try {
    return await temporal.connection.withDeadline(Date.now() + options.timeoutMs, () =>
      temporal.workflow.executeUpdateWithStart(executionCreatedUpdate, { startWorkflowOperation }),
    );
  } catch (error) {
    if (error instanceof WorkflowExecutionAlreadyStartedError) return 'already-closed';
    if (error instanceof WorkflowUpdateFailedError) {
      const cause = error.cause;
      if (cause instanceof ApplicationFailure && cause.type === failureTypes.tagTaken) {
        throw new ApiError(409, 'TAG_CONFLICT', cause.message);
      }
      throw new ApiError(
        503,
        'SERVICE_UNAVAILABLE',
        `The replay could not be created: ${cause?.message ?? error.message}`,
      );
    }
    if (!isUnavailable(error)) throw error;
    const detail = `Temporal did not start the replay in time: ${(error as Error).message}`;
    // With an Idempotency-Key the client's retry finds this replay, and other requests may have
    // joined it: let it go on. Without one, nothing may go on behind the client's back.
    if (options.idempotent) throw new ReplayStartUncertain(detail);
    await temporal.connection
      .withDeadline(Date.now() + 2000, () => temporal.workflow.getHandle(workflowId).cancel())
      .catch(() => {});
    throw new ApiError(503, 'SERVICE_UNAVAILABLE', detail);
  }
}
