import { ActivityFailure, ApplicationFailure } from '@temporalio/workflow';
import { failureTypes } from './contract.ts';

/** The ApplicationFailure an activity raised: wrapped in an ActivityFailure, or (local activities) not. */
function applicationFailureOf(error: unknown): ApplicationFailure | undefined {
  if (error instanceof ApplicationFailure) return error;
  if (error instanceof ActivityFailure && error.cause instanceof ApplicationFailure) return error.cause;
  return undefined;
}

/** A step failed for good: retrying or resuming it cannot help. */
export function isNonRetryable(error: unknown): boolean {
  return applicationFailureOf(error)?.nonRetryable === true;
}

/** The message an operator reads: the activity's own, not the wrapper's. */
export function describe(error: unknown): string {
  if (error instanceof ActivityFailure && error.cause) return error.cause.message;
  return error instanceof Error ? error.message : String(error);
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
