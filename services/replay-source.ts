/**
 * Which execution's storage a replay reads: the parent for `storage` and `manual`; for `lineage`
 * the nearest of the parent and its ancestors that stored outputs of the stage (the parent when
 * none did). The publishing activity and the preview both ask this, so they read the same folder.
 */
import { stageFolder } from '../adapters/storage-paths.ts';
import type { ReplaySource } from '../domain/replay.ts';

export interface ReplaySourceLookups {
  /** The store's key prefix (S3_PREFIX). */
  prefix: string;
  hasAnyObject(keyPrefix: string): Promise<boolean>;
  parentOf(executionId: string): Promise<string | null>;
}

export async function resolveReplaySource(
  lookups: ReplaySourceLookups,
  replaySource: ReplaySource,
  parentExecutionId: string,
  stage: string,
): Promise<string> {
  if (replaySource !== 'lineage') return parentExecutionId;
  let candidate: string | null = parentExecutionId;
  const visited = new Set<string>();
  while (candidate && !visited.has(candidate)) {
    visited.add(candidate);
    if (await lookups.hasAnyObject(stageFolder(lookups.prefix, candidate, stage))) return candidate;
    candidate = await lookups.parentOf(candidate);
  }
  return parentExecutionId;
}
