/**
 * The publish loop every replay-shaped workflow shares (a replay, a partition, a preview job): one
 * set of activity options for the long steps, one way to interrupt a step that spent its attempts
 * and wait for a resume, one continue-as-new rule, and one page loop over `publishPages`. Each
 * workflow keeps only what is its own: where its status lives, how it pauses, what it carries.
 */
import {
  CancellationScope,
  condition,
  isCancellation,
  patched,
  workflowInfo,
  type ActivityOptions,
} from '@temporalio/workflow';
import type { PublishPagesResult, ReplaySettings } from './replay-execution.contract.ts';
import { describe, isNonRetryable } from './failures.ts';

/**
 * Marks the runs on the shared loop's new rules (docs/workflow-versioning.md): both writes of an
 * interruption are non-cancellable, and a paused partition waits for a resume without a timer.
 */
export const ONE_PUBLISH_LOOP_PATCH = 'one-publish-loop';

/** Retries of every step: quick at first, then every 30 s at most. */
export const STEP_RETRY = { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s' } as const;

/**
 * Bytes of history after which a run continues as new, whatever pagesPerRun says: far below
 * Temporal's limits (warning at 10 MB), and small enough that a worker or client fetches a whole
 * run's history in one gRPC message (4 MB by default).
 */
export const MAX_RUN_HISTORY_BYTES = 2 * 1024 * 1024;

/** The long steps (list and publish, plan, count): on the publish task queue, heartbeating, `stepMaxAttempts` attempts. */
export function activityOptions(settings: ReplaySettings, summary?: string): ActivityOptions {
  return {
    taskQueue: settings.publishTaskQueue,
    startToCloseTimeout: `${settings.activityTimeoutSeconds}s`,
    heartbeatTimeout: `${settings.heartbeatTimeoutSeconds}s`,
    retry: { ...STEP_RETRY, maximumAttempts: settings.stepMaxAttempts },
    ...(summary === undefined ? {} : { summary }),
  };
}

/** A run continues as new after `pagesPerRun` pages, past MAX_RUN_HISTORY_BYTES, or when Temporal suggests it. */
export function continueAsNewDue(pagesThisRun: number, pagesPerRun: number): boolean {
  const info = workflowInfo();
  return (
    pagesThisRun >= pagesPerRun || info.historySize > MAX_RUN_HISTORY_BYTES || info.continueAsNewSuggested
  );
}

/** Where a workflow records an interruption, and counts its resumes. */
export interface Interruptible {
  /** Records the interruption (the record, or the partition, `interrupted` with the reason). */
  interrupt(reason: string): Promise<void>;
  /** Records that it goes on (`running` again). */
  goOn(): Promise<void>;
  /** How many resumes have arrived so far. */
  resumes(): number;
}

/**
 * Records an interruption and waits for a resume that arrives after it (`generation`: the resumes
 * counted when the step failed; an earlier resume cannot help), then records that it goes on. Both
 * writes are non-cancellable: a cancel that arrives meanwhile waits for them, and then wins.
 */
export async function interruptAndWaitForResume(
  host: Interruptible,
  reason: string,
  generation: number,
): Promise<void> {
  // runs recorded before the shared loop wrote as each workflow did (some writes cancellable)
  const shielded = patched(ONE_PUBLISH_LOOP_PATCH);
  const write = (work: () => Promise<void>) => (shielded ? CancellationScope.nonCancellable(work) : work());
  await write(() => host.interrupt(reason));
  await condition(() => host.resumes() > generation);
  await write(() => host.goOn());
}

/**
 * Runs one step; when its retry budget is spent the step is interrupted and waits for a resume,
 * then runs again. Cancellation and non-retryable failures go through.
 */
export async function runInterruptible<T>(
  host: Interruptible,
  reasonOf: (error: unknown) => string,
  run: () => Promise<T>,
): Promise<T> {
  for (;;) {
    try {
      return await run();
    } catch (error) {
      if (isCancellation(error) || isNonRetryable(error)) throw error;
      await interruptAndWaitForResume(host, reasonOf(error), host.resumes());
    }
  }
}

/** What a workflow's named steps need: where it says which step runs, and its interruptions. */
export interface StepHost extends Interruptible {
  enter(step: string): void;
}

/** Runs named steps, each interrupted and resumed as one (the reason names the step). */
export function stepRunner(host: StepHost) {
  return function runStep<T>(name: string, run: () => Promise<T>): Promise<T> {
    return runInterruptible(
      host,
      (error) => `${name}: ${describe(error)}`,
      () => {
        host.enter(name);
        return run();
      },
    );
  };
}

/** What one workflow plugs into the page loop. */
export interface PageLoopHost extends Interruptible {
  settings: ReplaySettings;
  /** The step's name in an interruption's reason. */
  stepName: string;
  /** Before each step: waits while the workflow itself is paused, lets operators' writes land. */
  beforeStep(): Promise<void>;
  /** One publishing step (an activity), given the pages this run has published so far. */
  publish(pagesThisRun: number): Promise<PublishPagesResult>;
  /** The step's result: the workflow's counters and details. */
  record(result: PublishPagesResult): void;
  /** After a step that did not finish: `stop` leaves the loop (a replay split into partitions). */
  afterStep?(result: PublishPagesResult): Promise<'stop' | 'go-on'>;
  /**
   * The step found the replay paused in Postgres: wait (or not); `next-step` goes straight to the
   * next step, without counting the run's pages (a partition), `go-on` counts them first.
   */
  whilePaused(result: PublishPagesResult): Promise<'next-step' | 'go-on'>;
  /** Continues as new, carrying the workflow's state. */
  continueAsNew(): Promise<never>;
}

/**
 * The page loop: step after step until the last page is published (`finished`), each step
 * interrupted and resumed as one, continuing as new by the shared rule. Returns `finished` or
 * `stopped` (afterStep asked).
 */
export async function publishUntilFinished(host: PageLoopHost): Promise<'finished' | 'stopped'> {
  let pagesThisRun = 0;
  for (;;) {
    await host.beforeStep();
    const result = await runInterruptible(
      host,
      (error) => `${host.stepName}: ${describe(error)}`,
      () => host.publish(pagesThisRun),
    );
    host.record(result);
    if (result.finished) return 'finished';
    if (host.afterStep && (await host.afterStep(result)) === 'stop') return 'stopped';
    if (result.paused && (await host.whilePaused(result)) === 'next-step') continue;
    pagesThisRun += result.pages;
    if (continueAsNewDue(pagesThisRun, host.settings.pagesPerRun)) await host.continueAsNew();
  }
}
