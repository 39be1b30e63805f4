/**
 * A replay's canary: publish its first `messages` messages, then wait up to `within_seconds` for the
 * new execution's outputs to answer at least `min_output_ratio` of them (domain/output-correspondence.ts
 * says which output answers which input); below that, the replay pauses itself. Plain data and
 * functions only: every layer may import it.
 */
import { outputAnswersInput, withoutExtension, type OutputMatchRule } from './output-correspondence.ts';

/** The request's `canary` field. */
export interface ReplayCanary {
  messages: number;
  within_seconds: number;
  min_output_ratio: number;
}

/** Messages one canary may hold back: one publishing page at most (REPLAY_PAGE_SIZE's upper bound). */
export const MAX_CANARY_MESSAGES = 10_000;
/** Longest a canary waits: an hour (the check is one heartbeating activity). */
export const MAX_CANARY_WITHIN_SECONDS = 3600;

/** Why a replay is paused, as `progress.paused_reason` tells it. */
export const pausedReasons = ['operator', 'canary'] as const;
export type PausedReason = (typeof pausedReasons)[number];

/**
 * Where a canary stands: `watching` (published, counting outputs), `passed` (the ratio was reached),
 * `failed` (the wait ended below it: the replay paused itself), `skipped` (the replay was done
 * within the canary's messages, or a resumed run went on without it).
 */
export const canaryOutcomes = ['publishing', 'watching', 'passed', 'failed', 'skipped'] as const;
export type CanaryOutcome = (typeof canaryOutcomes)[number];

/** A canary as the record keeps it: the request's fields and what was counted. */
export interface CanaryState extends ReplayCanary {
  outcome: CanaryOutcome;
  /** Messages the canary published (fewer than `messages` when the replay has fewer). */
  published: number;
  /** Published inputs answered by at least one output so far. */
  outputs_found: number;
}

/**
 * How many of `inputs` (paths relative to the input stage) at least one of `outputs` (relative to
 * the output stage) answers. Each output is looked up by the stems it could answer (its own, and
 * each folder above it), so the count costs outputs × depth, not outputs × inputs.
 */
export function countAnsweredInputs(
  rule: OutputMatchRule,
  inputs: readonly string[],
  outputs: readonly string[],
): number {
  const answered = new Set<string>();
  if (rule === 'exact') {
    const wanted = new Set(inputs);
    for (const output of outputs) if (wanted.has(output)) answered.add(output);
    return answered.size;
  }
  const byStem = new Map<string, string[]>();
  for (const input of inputs) {
    const stem = withoutExtension(input);
    byStem.set(stem, [...(byStem.get(stem) ?? []), input]);
  }
  const answer = (stem: string, output: string) => {
    for (const input of byStem.get(stem) ?? [])
      if (outputAnswersInput(rule, input, output)) answered.add(input);
  };
  for (const output of outputs) {
    answer(withoutExtension(output), output);
    for (let slash = output.indexOf('/'); slash > 0; slash = output.indexOf('/', slash + 1))
      answer(output.slice(0, slash), output);
  }
  return answered.size;
}

/** Whether `found` answers out of `published` reach the canary's ratio (nothing published: nothing to wait for). */
export function canaryRatioReached(found: number, published: number, minOutputRatio: number): boolean {
  return published === 0 || found / published >= minOutputRatio;
}
