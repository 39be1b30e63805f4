import { ActivityFailure, ApplicationFailure, ChildWorkflowFailure } from '@temporalio/workflow';
import { failureTypes } from '../domain/replay.ts';

/** A wrapper that only says where a failure happened (an activity, a child workflow): its cause is the news. */
function isWrapper(error: unknown): error is ActivityFailure | ChildWorkflowFailure {
  return error instanceof ActivityFailure || error instanceof ChildWorkflowFailure;
}

/** The failure itself: through every activity and child workflow wrapper around it. */
function causeOf(error: unknown): unknown {
  let inner = error;
  while (isWrapper(inner) && inner.cause) inner = inner.cause;
  return inner;
}

/**
 * The ApplicationFailure an activity or a child workflow raised: wrapped in ActivityFailures and
 * ChildWorkflowFailures (a partition's failed step reaches its parent in both), or (local
 * activities) not.
 */
export function applicationFailureOf(error: unknown): ApplicationFailure | undefined {
  const inner = causeOf(error);
  return inner instanceof ApplicationFailure ? inner : undefined;
}

/** A step failed for good: retrying or resuming it cannot help. */
export function isNonRetryable(error: unknown): boolean {
  return applicationFailureOf(error)?.nonRetryable === true;
}

/** A child workflow failed for good (its own step did): resuming it cannot help. */
export function isNonRetryableChild(error: unknown): boolean {
  return error instanceof ChildWorkflowFailure && isNonRetryable(error);
}

/** The message an operator reads: the failure's own, not its wrappers' ("Child Workflow execution failed"). */
export function describe(error: unknown): string {
  const inner = causeOf(error);
  return inner instanceof Error ? inner.message : String(inner);
}

/**
 * Why a workflow's first step refused its start: the activity's own refusal (a non-retryable failure:
 * a taken tag, a missing config), or, when its attempts ran out on anything else (a database that
 * stays down: an ApplicationFailure of type `Error`), RecordNotCreated with the error's message.
 */
export function refusalOf(error: unknown): ApplicationFailure {
  const failure = applicationFailureOf(error);
  if (failure?.nonRetryable) return failure;
  return ApplicationFailure.nonRetryable(describe(error), failureTypes.recordNotCreated);
}
