import {
  WithStartWorkflowOperation,
  WorkflowExecutionAlreadyStartedError,
  WorkflowUpdateFailedError,
  WorkflowUpdateRPCTimeoutOrCancelledError,
  type Client,
} from '@temporalio/client';
import { ApplicationFailure, type SearchAttributePair, type UpdateDefinition } from '@temporalio/common';
import type { UserMetadata } from '../workflows/user-metadata.ts';
import { withTimeout } from './dependency-timeout.ts';
import { DependencyUnavailable, type ServiceError } from './errors.ts';

/** Unavailable, yet the workflow may still start: its Idempotency-Key claim must be kept. */
export class StartUncertain extends DependencyUnavailable {}

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

export interface UpdateWithStartOptions<Result> {
  /** What is started, for error messages: "replay", "bulk replay". */
  noun: string;
  workflowType: string;
  workflowId: string;
  taskQueue: string;
  args: unknown[];
  /** The update the workflow answers once its first step created the record (early return). */
  update: UpdateDefinition<Result, []>;
  searchAttributes: SearchAttributePair[];
  memo: Record<string, unknown>;
  /** The static summary and details the Temporal UI shows. */
  userMetadata: UserMetadata;
  timeoutMs: number;
  /** With an Idempotency-Key a slow start goes on (the retry finds it); without, it is cancelled. */
  idempotent: boolean;
  /** Answers for the first step's non-retryable refusals, by ApplicationFailure type. */
  refusals: Record<string, (message: string) => ServiceError>;
}

/**
 * Starts a workflow with update-with-start and returns what its first step created (early return),
 * bounded by timeoutMs. 'already-closed': a request that joined by workflow id after the workflow
 * closed (the caller reads the record from Postgres). On timeout without an Idempotency-Key the
 * workflow is cancelled, so a refused request leaves nothing running behind the client's back.
 */
export async function startWithUpdate<Result>(
  temporal: Client,
  options: UpdateWithStartOptions<Result>,
): Promise<Result | 'already-closed'> {
  const startWorkflowOperation = new WithStartWorkflowOperation(options.workflowType, {
    workflowId: options.workflowId,
    taskQueue: options.taskQueue,
    args: options.args,
    // a request that joins a running workflow gets its record; one that comes after it closed must
    // not start a second run
    workflowIdConflictPolicy: 'USE_EXISTING',
    workflowIdReusePolicy: 'REJECT_DUPLICATE',
    typedSearchAttributes: options.searchAttributes,
    memo: options.memo,
    ...options.userMetadata,
  });
  // Temporal unreachable: nothing can have started, which is worth knowing apart from a slow start
  try {
    await withTimeout('Temporal', options.timeoutMs, temporal.connection.ensureConnected());
  } catch (error) {
    throw new DependencyUnavailable('Temporal is unavailable', error);
  }
  try {
    return await temporal.connection.withDeadline(Date.now() + options.timeoutMs, () =>
      temporal.workflow.executeUpdateWithStart(options.update, { startWorkflowOperation }),
    );
  } catch (error) {
    if (error instanceof WorkflowExecutionAlreadyStartedError) return 'already-closed';
    if (error instanceof WorkflowUpdateFailedError) {
      const cause = error.cause;
      const refusal =
        cause instanceof ApplicationFailure && cause.type ? options.refusals[cause.type] : undefined;
      if (refusal) throw refusal(cause!.message);
      throw new DependencyUnavailable(`The ${options.noun} could not be created`, cause ?? error);
    }
    if (!isUnavailable(error)) throw error;
    const detail = `Temporal did not start the ${options.noun} in time`;
    // With an Idempotency-Key the client's retry finds this workflow, and other requests may have
    // joined it: let it go on. Without one, nothing may go on behind the client's back.
    if (options.idempotent) throw new StartUncertain(detail, error);
    await temporal.connection
      .withDeadline(Date.now() + 2000, () => temporal.workflow.getHandle(options.workflowId).cancel())
      .catch(() => {});
    throw new DependencyUnavailable(detail, error);
  }
}
