/**
 * Which objects of `from_stage` a replay publishes, besides `from_path`: all of them, or only those
 * the parent has no output for (`missing_outputs`); and only those last modified within a half-open
 * window [modified_since, modified_before). Plain data and functions only: every layer may import it.
 */
import type { OutputMatchRule } from './output-correspondence.ts';

export const replaySelects = ['all', 'missing_outputs'] as const;
export type ReplaySelect = (typeof replaySelects)[number];

/** A replay's selection as stored on its record and shown by the api. */
export interface ReplaySelection {
  select: ReplaySelect;
  /** RFC 3339, inclusive; null: no lower bound. Kept as sent (nanoseconds included). */
  modified_since: string | null;
  /** RFC 3339, exclusive; null: no upper bound. */
  modified_before: string | null;
  /** `missing_outputs`: the target route's output stage, read in the parent, and its match rule. */
  output_stage: string | null;
  output_match: OutputMatchRule | null;
}

/** What a replay selects when its request names nothing (and what replays started before had). */
export const SELECT_EVERYTHING: ReplaySelection = {
  select: 'all',
  modified_since: null,
  modified_before: null,
  output_stage: null,
  output_match: null,
};

export function selectsEverything(selection: ReplaySelection): boolean {
  return (
    selection.select === 'all' && selection.modified_since === null && selection.modified_before === null
  );
}

const RFC3339 = /^(\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2})(?:\.(\d+))?([Zz]|[+-]\d{2}:\d{2})$/;

/**
 * Nanoseconds since the epoch of an RFC 3339 instant, exact to the nanosecond (a Date keeps only
 * milliseconds, so two instants in one millisecond would compare equal). Undefined when malformed.
 */
export function instantNanoseconds(text: string): bigint | undefined {
  const match = RFC3339.exec(text);
  if (!match) return undefined;
  const [, dateTime, fraction = '', zone] = match;
  // whole seconds (no fraction given), in milliseconds
  const milliseconds = Date.parse(`${dateTime!.replace(/[t ]/, 'T')}${zone!.toUpperCase()}`);
  if (Number.isNaN(milliseconds)) return undefined;
  const nanos = BigInt((fraction + '000000000').slice(0, 9));
  return BigInt(milliseconds) * 1_000_000n + nanos;
}

/** A window's bounds as instants; either may be absent. */
export interface ModifiedWindow {
  since: bigint | null;
  before: bigint | null;
}

export function modifiedWindow(
  selection: Pick<ReplaySelection, 'modified_since' | 'modified_before'>,
): ModifiedWindow {
  const bound = (text: string | null) => (text === null ? null : (instantNanoseconds(text) ?? null));
  return { since: bound(selection.modified_since), before: bound(selection.modified_before) };
}

/** Whether an object last modified at `lastModified` (RFC 3339) is in [since, before). */
export function inModifiedWindow(window: ModifiedWindow, lastModified: string): boolean {
  if (window.since === null && window.before === null) return true;
  const at = instantNanoseconds(lastModified);
  if (at === undefined) return false;
  return (window.since === null || at >= window.since) && (window.before === null || at < window.before);
}
