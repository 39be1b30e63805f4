import { ActivityFailure, ApplicationFailure, condition, isCancellation } from '@temporalio/workflow';
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

/** What a workflow's step runner needs: where it says which step runs, its status, its resumes. */
export interface StepHost {
  enter(step: string): void;
  setStatus(status: 'interrupted' | 'running', error: string | null): Promise<void>;
  /** How many resumes have arrived so far. */
  resumes(): number;
}

/**
 * Runs one step; when its retry budget is spent the workflow's record is `interrupted` and the step
 * waits for a resume that arrives after that, then runs again. Cancellation and non-retryable
 * failures go through.
 */
export function stepRunner(host: StepHost) {
  return async function runStep<T>(name: string, run: () => Promise<T>): Promise<T> {
    for (;;) {
      try {
        host.enter(name);
        return await run();
      } catch (error) {
        if (isCancellation(error) || isNonRetryable(error)) throw error;
        const generation = host.resumes();
        await host.setStatus('interrupted', `${name}: ${describe(error)}`);
        await condition(() => host.resumes() > generation);
        await host.setStatus('running', null);
      }
    }
  };
}
