import { ApplicationFailure } from '@temporalio/activity';
import { withTransaction } from '../adapters/database.ts';
import { executionSummary, getExecution, setExecutionStatus } from '../adapters/executions.ts';
import {
  insertPartitionsOnce,
  listPartitions,
  partitionTotals,
  setPartitionStatus,
  type PartitionRange,
} from '../adapters/replay-partitions.ts';
import { replayListing } from '../adapters/storage-paths.ts';
import { countStatusChange } from '../adapters/metrics.ts';
import { failureTypes, type ExecutionSummary } from '../domain/replay.ts';
import {
  type PlanPartitionsInput,
  type SetPartitionStatusInput,
} from '../workflows/replay-partition.contract.ts';
import { activityLogger, type ReplayActivityDependencies } from './dependencies.ts';
import { whileHeartbeating } from './heartbeat.ts';
import { compareKeys } from '../domain/key-order.ts';

/** Sorts after any character: `branch + this` lists past every key of the branch. */
const PAST_ANY_CHARACTER = '\u{10FFFF}';
/** Levels of lone folders a folder listing goes down (a stage holding one folder that holds the rest). */
const FOLDER_DEPTH = 3;
/** Branches a probe walk follows at once: enough to hide a store's latency, few enough not to swamp it. */
const BRANCHES_AT_ONCE = 8;
/** One-key listings a plan may make. */
const PROBE_BUDGET = 400;
/** Branches looked at under one stem. */
const MAX_BRANCHES = 128;

export function createPartitionActivities({ pool, objectStore, logger }: ReplayActivityDependencies) {
  /** The first key of the listing strictly after `after`, or null. */
  async function firstKeyAfter(listPrefix: string, after: string): Promise<string | null> {
    const page = await objectStore.listPage(listPrefix, after, 1);
    return page.objects[0]?.key ?? null;
  }

  /**
   * The first key of each branch directly under `stem` (keys that go on with a different next
   * character), one probe per branch: a probe skips the rest of the branch it found.
   */
  async function branchStarts(listPrefix: string, stem: string): Promise<string[]> {
    const starts: string[] = [];
    let after = stem;
    while (starts.length < MAX_BRANCHES) {
      const key = await firstKeyAfter(listPrefix, after);
      if (key === null || !key.startsWith(stem) || key.length === stem.length) break;
      starts.push(key);
      after = key.slice(0, stem.length + 1) + PAST_ANY_CHARACTER;
    }
    return starts;
  }

  /**
   * Folders after the cursor, when what is left is spread over at least `wanted` of them and one
   * delimiter listing names them all: stage outputs are usually nested (`part-00042/doc-0017.json`),
   * and one listing of their folders costs one request where a probe walk costs a few per level of
   * characters, each a round trip to the store (about 10 s of a replay at 200 ms a request).
   * Null when the keys are not spread over folders that way; a folder prefix is as good a boundary
   * as a key, since a range holds the keys after its start up to its end.
   */
  async function foldersAfter(listPrefix: string, cursor: string, wanted: number): Promise<string[] | null> {
    // a from_path naming a folder without its slash (`docs/2024`): that folder (a key of that very
    // name, or one beside it, falls into a range like any other)
    let prefix = listPrefix.endsWith('/') ? listPrefix : `${listPrefix}/`;
    for (let depth = 0; depth < FOLDER_DEPTH; depth += 1) {
      // from the start, not after the cursor: stores differ on whether the cursor's own folder
      // (or one holding it) comes back after it
      const listing = await objectStore.listFolders(prefix);
      const after = listing.folders.filter((folder) => compareKeys(folder, cursor) > 0);
      if (!listing.complete) return null;
      if (after.length >= wanted) return after;
      // one folder: look inside it (a few objects beside it fall into a range like any other key)
      if (listing.folders.length !== 1 || listing.objects > wanted) return null;
      prefix = listing.folders[0]!;
    }
    return null;
  }

  /**
   * Real keys that split what is left after the cursor, found without listing it: the key space is
   * walked as a tree of characters, a level at a time, from right after the listing prefix, one
   * probe (a one-key listing) per branch, until there are enough branch starts past the cursor to
   * choose evenly spaced boundaries from (or the probe budget is spent). Sequential keys
   * (`doc-000001` to `doc-999999`) split by their leading digits, nested ones (`part-00000/` to
   * `part-00999/`) by their folders. Boundaries are keys that exist, so the ranges between them
   * cover every key once, whatever the keys look like; only the balance depends on the shape.
   */
  async function splitKeys(listPrefix: string, cursor: string, maxBoundaries: number): Promise<string[]> {
    const found = new Set<string>();
    const beyondCursor = () => [...found].filter((key) => compareKeys(key, cursor) > 0).sort(compareKeys);
    let frontier = [listPrefix];
    let probes = 0;
    while (frontier.length > 0 && probes < PROBE_BUDGET && beyondCursor().length < maxBoundaries * 2) {
      const levels = await inBatches(frontier, BRANCHES_AT_ONCE, (stem) => branchStarts(listPrefix, stem));
      const next: string[] = [];
      levels.forEach((starts, index) => {
        const stem = frontier[index]!;
        probes += starts.length + 1;
        for (const key of starts) {
          found.add(key);
          const branch = key.slice(0, stem.length + 1);
          // a branch wholly before the cursor has nothing left to split
          if (compareKeys(branch, cursor.slice(0, branch.length)) >= 0) next.push(branch);
        }
      });
      frontier = next;
    }
    return evenly(beyondCursor(), maxBoundaries);
  }

  return {
    /**
     * Splits what a replay has left after its first pages into contiguous key ranges, stored as its
     * partitions, and returns how many there are; fewer than two means the keys could not be split
     * and the replay goes on as one. Heartbeats while it probes (a plan is tens of listings, each a
     * round trip to the store), and is made once: an attempt that finds a plan stored, or stores its
     * own after another attempt did, returns that first plan.
     */
    async planPartitions(input: PlanPartitionsInput): Promise<number> {
      return whileHeartbeating(async () => {
        const existing = await listPartitions(pool, input.executionId);
        if (existing.length > 0) return existing.length;
        const record = await getExecution(pool, input.executionId);
        if (!record?.from_stage || !record.source_execution_id || record.replay_cursor === null) {
          throw ApplicationFailure.nonRetryable(
            `replay ${input.executionId} has no source or cursor to partition from`,
            failureTypes.executionNotFound,
          );
        }
        const { listPrefix } = replayListing(
          objectStore.prefix,
          record.source_execution_id,
          record.from_stage,
          record.from_path,
        );
        const wanted = input.maxPartitions - 1;
        const folders = await foldersAfter(listPrefix, record.replay_cursor, wanted);
        const boundaries = folders
          ? evenly(folders, wanted)
          : await splitKeys(listPrefix, record.replay_cursor, wanted);
        const edges = [record.replay_cursor, ...boundaries];
        const ranges: PartitionRange[] =
          boundaries.length === 0
            ? []
            : edges.map((startAfter, index) => ({
                start_after: startAfter,
                end_at: edges[index + 1] ?? null,
              }));
        const stored = await withTransaction(pool, (client) =>
          insertPartitionsOnce(client, record.id, ranges),
        );
        if (stored === 0) return 1;
        activityLogger(logger, record.id).info(
          stored === ranges.length
            ? { partitions: stored, boundaries, by: folders ? 'folders' : 'probes' }
            : { partitions: stored, planned_by: 'an earlier attempt' },
          'replay partitioned',
        );
        return stored;
      });
    },

    /**
     * A partition interrupted (its step ran out of attempts, or its workflow was closed outside the
     * service) shows the whole replay `interrupted`, while its other partitions go on; once none is,
     * the replay is `running` again.
     */
    async setPartitionStatus(input: SetPartitionStatusInput): Promise<void> {
      const replay = await withTransaction(pool, async (client) => {
        await setPartitionStatus(client, input.executionId, input.partition, input.status, input.error);
        if (input.status === 'interrupted') {
          return setExecutionStatus(client, input.executionId, 'interrupted', input.error, {
            onlyFrom: ['running'],
          });
        } else if ((await partitionTotals(client, input.executionId)).interrupted === 0) {
          await setExecutionStatus(client, input.executionId, 'running', null, { onlyFrom: ['interrupted'] });
        }
      });
      countStatusChange(replay);
      activityLogger(logger, input.executionId).info(
        { partition: input.partition, status: input.status, error: input.error },
        'partition status changed',
      );
    },

    /** Completes a partitioned replay once every partition has; returns the record as it stands. */
    async completePartitionedReplay(input: {
      executionId: string;
    }): Promise<{ summary: ExecutionSummary; listed: number; published: number }> {
      const record = await withTransaction(pool, async (client) => {
        const totals = await partitionTotals(client, input.executionId);
        if (totals.completed < totals.partitions) {
          throw new Error(
            `${totals.partitions - totals.completed} partitions of ${input.executionId} are not completed`,
          );
        }
        return setExecutionStatus(client, input.executionId, 'completed', null, { onlyFrom: ['running'] });
      });
      if (!record) {
        throw ApplicationFailure.nonRetryable(
          `replay ${input.executionId} not found`,
          failureTypes.executionNotFound,
        );
      }
      countStatusChange(record);
      activityLogger(logger, record.id).info(
        { published: record.published_count },
        'partitioned replay completed',
      );
      return {
        summary: executionSummary(record),
        listed: record.listed_count,
        published: record.published_count,
      };
    },
  };
}

/** At most `count` of the sorted keys, spread evenly. */
function evenly(keys: string[], count: number): string[] {
  if (keys.length <= count) return keys;
  return Array.from(
    { length: count },
    (_, index) => keys[Math.floor(((index + 1) * keys.length) / (count + 1))]!,
  );
}

/** Maps items `size` at a time, keeping their order. */
async function inBatches<T, R>(items: T[], size: number, map: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = [];
  for (let index = 0; index < items.length; index += size) {
    results.push(...(await Promise.all(items.slice(index, index + size).map(map))));
  }
  return results;
}
