import { ApplicationFailure, CancelledFailure, Context } from '@temporalio/activity';
import { withTransaction, type Queryable } from '../adapters/database.ts';
import {
  commitReplayPage,
  executionSummary,
  getExecution,
  replayControls,
  selectionOf,
  setSourceExecution,
  type ExecutionRecord,
} from '../adapters/executions.ts';
import { strictestRouteLimit } from '../adapters/pipeline-configs.ts';
import {
  destinationBucket,
  executionBucket,
  reserveMessages,
  returnMessages,
} from '../adapters/rate-buckets.ts';
import { commitPartitionPage, getPartition } from '../adapters/replay-partitions.ts';
import { replayMessageId } from '../adapters/ids.ts';
import { messagesPublished, publishBatchDuration, replaysFinished } from '../adapters/metrics.ts';
import type { StoredObject } from '../adapters/object-store.ts';
import type { OutgoingMessage } from '../adapters/route-queue.ts';
import { routeDestination } from '../adapters/route-transport.ts';
import { replayListing, type ReplayListing } from '../adapters/storage-paths.ts';
import { resolveReplaySource } from '../services/replay-source.ts';
import { objectSelection, type ObjectSelection } from '../services/replay-selection.ts';
import { listingAhead } from '../services/listing-ahead.ts';
import type { OutputStore } from '../services/missing-outputs.ts';
import { failureTypes } from '../domain/replay.ts';
import { buildReplayMessages } from '../domain/replay-message.ts';
import { type PublishPagesInput, type PublishPagesResult } from '../workflows/replay-execution.contract.ts';
import { activityLogger, type ReplayActivityDependencies } from './dependencies.ts';
import { whileHeartbeating } from './heartbeat.ts';
import { compareKeys } from '../domain/key-order.ts';

/** Seconds of messages a paced page holds: a limit changed mid-replay takes effect within one page. */
const PACED_PAGE_SECONDS = 1;
/** How often a paced wait heartbeats and looks whether the replay was paused. */
const PACE_CHECK_MS = 1000;

/**
 * The lowest pace a replay publishes at, in messages per second: one message every ten seconds. The
 * api refuses lower limits; a lower one sent to the workflow directly (a signal) is raised to it.
 * Above it, one paced wait always fits in a publishing activity's run.
 */
export const MIN_MESSAGES_PER_SECOND = 0.1;
/** Longest one paced wait may be: well within REPLAY_ACTIVITY_TIMEOUT_SECONDS (300 by default). */
const MAX_PACE_WAIT_SECONDS = 60;

/** The limits a replay publishes under, in messages per second; null: none. */
interface PaceLimits {
  replay: number | null;
  route: number | null;
}

/** The lower of the limits: the rate the replay's pages are sized for. */
function pacedRate(limits: PaceLimits): number | null {
  const rates = [limits.replay, limits.route].filter((rate): rate is number => rate !== null);
  return rates.length ? Math.max(MIN_MESSAGES_PER_SECOND, Math.min(...rates)) : null;
}

/** What a paced wait came to: publish the page, stop (paused), or hand the slice back and try later. */
type PaceOutcome = 'go' | 'paused' | 'later';

/** A partition's message sequences start at (partition + 1) times this: unique across partitions. */
const PARTITION_SEQUENCE_SPAN = 1_000_000_000_000;

type ScopeCommit =
  | { kind: 'applied'; publishedBefore: number }
  | { kind: 'paused' }
  | { kind: 'cursor-moved'; cursor: string | null }
  | { kind: 'not-running'; status: string };

/** Where a publishing activity keeps its place: the whole replay, or one of its partitions. */
interface PublishScope {
  cursor: string | null;
  /** The last key of the range (inclusive); null: to the end of the listing. */
  endAt: string | null;
  listed: number;
  published: number;
  completed: boolean;
  sequenceBase: number;
  /** The record as the last commit (or refresh) left it (whole replays only). */
  record?: ReplayRecord;
  /** Reads the cursor, counters and completion as Postgres holds them (another attempt moved them). */
  refresh(): Promise<void>;
  /** Compare-and-set of the cursor and counters, in the page's transaction. */
  commit(
    client: Queryable,
    page: {
      expectedCursor: string | null;
      newCursor: string | null;
      listed: number;
      published: number;
      last: boolean;
    },
  ): Promise<ScopeCommit>;
}

/** One page as listed: the objects from_path selects, and how far the listing got. */
interface ListedPage {
  objects: StoredObject[];
  /** Keys read from the store, selected or not. */
  listed: number;
  /** The last key read: the next page's StartAfter and the replay cursor after this page. */
  lastKey: string | null;
  isTruncated: boolean;
}

/** The record fields a replay needs to list and publish, checked once per activity. */
type ReplayRecord = ExecutionRecord & { from_stage: string; to_route: string; replay_source: string };

function isReplay(record: ExecutionRecord): record is ReplayRecord {
  return record.from_stage !== null && record.to_route !== null && record.replay_source !== null;
}

export function createPublishActivities({
  pool,
  objectStore,
  routeTransport,
  logger,
  draining,
  routeNameTemplate = '{route}',
}: ReplayActivityDependencies) {
  /**
   * `lineage`: the nearest of the parent and its ancestors that stored outputs of the stage (the
   * parent when none did). Remembered on the record, so it is walked once per replay.
   */
  async function resolveSource(record: ReplayRecord): Promise<string> {
    const source = await resolveReplaySource(
      {
        prefix: objectStore.prefix,
        hasAnyObject: (keyPrefix) => objectStore.hasAnyObject(keyPrefix),
        parentOf: async (id) => (await getExecution(pool, id))?.parent_execution_id ?? null,
      },
      'lineage',
      record.parent_execution_id!,
      record.from_stage,
    );
    await setSourceExecution(pool, record.id, source);
    activityLogger(logger, record.id).info({ source_execution_id: source }, 'replay source resolved');
    return source;
  }

  /**
   * The destination's limit: the strictest any config sets for a route of this name, since every
   * such route sends to the same queue or topic (ROUTE_NAME_TEMPLATE), whichever config a replay
   * names (a second config with the same route, a cross-pipeline config_id).
   */
  function destinationLimitOf(record: ReplayRecord): Promise<number | null> {
    return strictestRouteLimit(pool, record.to_route);
  }

  /**
   * One page after a key: several S3 listings past 1,000 keys, keeping what from_path and the
   * replay's selection select, up to `endAt` (a partition's last key) when given. The cursor (the
   * last key read) moves past the keys the selection skips as past the published ones, so a page
   * commits its whole range whatever it kept.
   */
  async function listPage(
    store: OutputStore,
    listing: ReplayListing,
    selection: ObjectSelection,
    startAfter: string | null,
    maxKeys: number,
    endAt: string | null,
  ): Promise<ListedPage> {
    const objects: StoredObject[] = [];
    let lastKey = startAfter;
    let isTruncated = true;
    let listed = 0;
    while (isTruncated && listed < maxKeys) {
      const page = await store.listPage(listing.listPrefix, lastKey, Math.min(1000, maxKeys - listed));
      for (const object of page.objects) {
        if (endAt !== null && compareKeys(object.key, endAt) > 0) {
          // past the partition's range: the next partition's keys
          isTruncated = false;
          break;
        }
        listed += 1;
        lastKey = object.key;
        if (listing.selects(object.key)) objects.push(object);
      }
      if (isTruncated) isTruncated = page.isTruncated;
    }
    return { objects: await selection.keep(objects, listing.folder), listed, lastKey, isTruncated };
  }

  function messagesOf(
    record: ReplayRecord,
    objects: StoredObject[],
    firstSequence: number,
  ): OutgoingMessage[] {
    const replay = { ...record, replay_source: record.replay_source as 'storage' | 'lineage' | 'manual' };
    return buildReplayMessages(replay, objectStore.bucket, objects, firstSequence, (key) =>
      replayMessageId(record.id, record.to_route, key),
    );
  }

  /** Sleeps up to `ms` a second at a time; true when the replay was paused meanwhile. */
  async function sleepUnlessPaused(record: ReplayRecord, ms: number): Promise<boolean> {
    const context = Context.current();
    for (let remainingMs = ms; remainingMs > 0;) {
      const step = Math.min(remainingMs, PACE_CHECK_MS);
      await context.sleep(step);
      remainingMs -= step;
      if ((await replayControls(pool, record.id))?.paused) return true;
    }
    return false;
  }

  /**
   * Waits until `count` messages may go out under the replay's own limit and its destination's
   * (token buckets in Postgres, shared by every worker). A wait is at most MAX_PACE_WAIT_SECONDS:
   * when the buckets owe more than that (many publishers share one destination), nothing is
   * reserved and the activity waits its turn a second at a time, or hands its slice back (`later`)
   * rather than outlast its own timeout. `paused` when the replay was paused meanwhile (a
   * reservation made is not given back: pace errs slow).
   */
  async function waitForPace(
    record: ReplayRecord,
    limits: PaceLimits,
    count: number,
    sliceEnds: number,
  ): Promise<PaceOutcome> {
    if (count === 0) return 'go';
    const buckets = [
      limits.replay === null ? undefined : { key: executionBucket(record.id), rate: limits.replay },
      limits.route === null
        ? undefined
        : {
            key: destinationBucket(routeDestination(routeNameTemplate, record.to_route)),
            rate: limits.route,
          },
    ].filter((bucket) => bucket !== undefined);
    for (;;) {
      let waitSeconds = 0;
      let retryAfterSeconds: number | undefined;
      const taken: string[] = [];
      for (const bucket of buckets) {
        const rate = Math.max(MIN_MESSAGES_PER_SECOND, bucket.rate);
        const reservation = await reserveMessages(pool, bucket.key, rate, count, MAX_PACE_WAIT_SECONDS);
        if (!reservation.reserved) {
          retryAfterSeconds = reservation.retryAfterSeconds;
          break;
        }
        taken.push(bucket.key);
        waitSeconds = Math.max(waitSeconds, reservation.waitSeconds);
      }
      if (retryAfterSeconds === undefined) {
        return (await sleepUnlessPaused(record, waitSeconds * 1000)) ? 'paused' : 'go';
      }
      // one bucket refused the page: the other's reservation goes back, and the page waits its turn
      for (const key of taken) await returnMessages(pool, key, count);
      const untilSliceEnds = sliceEnds - Date.now();
      if (untilSliceEnds <= 0) return 'later';
      if (await sleepUnlessPaused(record, Math.min(retryAfterSeconds * 1000, untilSliceEnds, PACE_CHECK_MS)))
        return 'paused';
    }
  }

  /** The whole replay: its cursor and counters are on its record; its last page completes it. */
  function replayScope(record: ReplayRecord): PublishScope {
    const scope: PublishScope = {
      cursor: record.replay_cursor,
      endAt: null,
      listed: record.listed_count,
      published: record.published_count,
      completed: record.status === 'completed',
      sequenceBase: 0,
      async refresh() {
        const stored = await getExecution(pool, record.id);
        if (!stored || !isReplay(stored)) return;
        scope.record = stored;
        scope.cursor = stored.replay_cursor;
        scope.listed = stored.listed_count;
        scope.published = stored.published_count;
        scope.completed = stored.status === 'completed';
      },
      async commit(client, page) {
        const commit = await commitReplayPage(client, { id: record.id, ...page });
        if (commit.kind !== 'applied')
          return commit.kind === 'not-found' ? { kind: 'not-running', status: 'gone' } : commit;
        scope.record = commit.record as ReplayRecord;
        scope.cursor = commit.record.replay_cursor;
        scope.listed = commit.record.listed_count;
        scope.published = commit.record.published_count;
        return { kind: 'applied', publishedBefore: commit.publishedBefore };
      },
    };
    return scope;
  }

  /** One partition: its own range, cursor and counters; its last page completes the partition only. */
  async function partitionScope(record: ReplayRecord, index: number): Promise<PublishScope> {
    const partition = await getPartition(pool, record.id, index);
    if (!partition) {
      throw ApplicationFailure.nonRetryable(
        `replay ${record.id} has no partition ${index}`,
        failureTypes.executionNotFound,
      );
    }
    const scope: PublishScope = {
      cursor: partition.cursor,
      endAt: partition.end_at,
      listed: partition.listed_count,
      published: partition.published_count,
      completed: partition.status === 'completed',
      // sequences of different partitions never meet
      sequenceBase: (index + 1) * PARTITION_SEQUENCE_SPAN,
      async refresh() {
        const stored = await getPartition(pool, record.id, index);
        if (!stored) return;
        scope.cursor = stored.cursor;
        scope.listed = stored.listed_count;
        scope.published = stored.published_count;
        scope.completed = stored.status === 'completed';
      },
      async commit(client, page) {
        const commit = await commitPartitionPage(client, {
          executionId: record.id,
          partition: index,
          ...page,
        });
        if (commit.kind !== 'applied') return commit;
        scope.cursor = commit.partition.cursor;
        scope.listed = commit.partition.listed_count;
        scope.published = commit.partition.published_count;
        return { kind: 'applied', publishedBefore: commit.publishedBefore };
      },
    };
    return scope;
  }

  return {
    /**
     * Lists and publishes whole pages from the replay's cursor (kept in Postgres, the source of
     * truth) for up to `sliceSeconds` or `maxPages`, listing page n+1 while page n is published.
     * Each page is exactly-once: one transaction compare-and-sets the cursor and inserts the
     * page's messages (deterministic ids); the last page's transaction also marks the record
     * `completed`. A retried attempt (a dead worker, a lost result) starts again from the cursor
     * Postgres holds, so nothing is published twice or skipped; an attempt that finds the cursor moved
     * by another goes on from it, or finishes with its result. Heartbeats on a timer while it runs
     * (a listing or a broker request may take longer than the heartbeat timeout): a step held by a
     * dead worker is retried within the heartbeat timeout, and a cancel reaches it.
     *
     * Paced: under a rate limit (the replay's own, changeable while it runs, and its route's) a
     * page holds about a second of messages and is listed only once the previous one is out, so a
     * new limit takes effect from the next page (as does a first limit set on an unpaced replay). Paused: a page's transaction refuses to commit once
     * the replay is paused, and the activity returns, publishing nothing more.
     */
    async publishPages(input: PublishPagesInput): Promise<PublishPagesResult> {
      const context = Context.current();
      const log = activityLogger(logger, input.executionId);
      const found = await getExecution(pool, input.executionId);
      if (!found || !isReplay(found)) {
        throw ApplicationFailure.nonRetryable(
          `replay ${input.executionId} not found`,
          failureTypes.executionNotFound,
        );
      }
      let record: ReplayRecord = found;
      const scope =
        input.partition === undefined ? replayScope(record) : await partitionScope(record, input.partition);
      let pages = 0;
      const result = (finished: boolean, paused = false): PublishPagesResult => ({
        pages,
        cursor: scope.cursor,
        listed: scope.listed,
        published: scope.published,
        sourceExecutionId: record.source_execution_id ?? record.parent_execution_id!,
        finished,
        paused,
        summary: finished && input.partition === undefined ? executionSummary(record) : null,
      });
      // an earlier attempt published the last page, and its result was lost
      if (scope.completed) return result(true);
      const replayGoesOn =
        record.status === 'running' || (input.partition !== undefined && record.status === 'interrupted');
      if (!replayGoesOn) {
        throw ApplicationFailure.nonRetryable(
          `execution ${record.id} is ${record.status}`,
          failureTypes.notRunning,
        );
      }
      if (record.paused) return result(false, true);

      const sourceExecutionId = record.source_execution_id ?? (await resolveSource(record));
      record = { ...record, source_execution_id: sourceExecutionId };
      const listing = replayListing(
        objectStore.prefix,
        sourceExecutionId,
        record.from_stage,
        record.from_path,
      );
      // one merge per activity: its pages come in key order (a page listed again starts it over there)
      const selection = objectSelection(
        objectStore,
        objectStore.prefix,
        record.parent_execution_id!,
        selectionOf(record),
      );
      // missing_outputs merges the output listing into each page: the input listing runs up to a
      // page ahead, so that the two listings run side by side rather than in turn
      const inputs =
        selectionOf(record)?.select === 'missing_outputs'
          ? listingAhead(objectStore, Math.ceil(input.pageSize / 1000))
          : objectStore;
      const list = (startAfter: string | null, maxKeys: number) =>
        listPage(inputs, listing, selection, startAfter, maxKeys, scope.endAt);
      let routeLimit = await destinationLimitOf(record);
      const sliceEnds = Date.now() + input.sliceSeconds * 1000;

      let limits: PaceLimits = { replay: record.max_messages_per_second, route: routeLimit };
      const pageSizeNow = () => {
        const size = scope.cursor === null && scope.published === 0 ? input.firstPageSize : input.pageSize;
        const rate = pacedRate(limits);
        return rate === null ? size : Math.max(1, Math.min(size, Math.floor(rate * PACED_PAGE_SECONDS)));
      };
      // a prefetched page that will not be published (the cursor moved, a limit arrived) is dropped
      // without an unhandled rejection
      const listFrom = (cursor: string | null): Promise<ListedPage> => {
        const listed = list(cursor, pageSizeNow());
        listed.catch(() => {});
        return listed;
      };

      const publishSlice = async (): Promise<PublishPagesResult> => {
        let next: Promise<ListedPage> | undefined = listFrom(scope.cursor);
        while (next) {
          const page: ListedPage = await next;
          pages += 1;
          const last = !page.isTruncated;
          // a draining worker ends the slice after this page: the workflow schedules the next one at
          // once, for another worker, instead of losing it with this process
          const more = !last && pages < input.maxPages && Date.now() < sliceEnds && !draining?.aborted;
          // unpaced, page n+1 is listed while page n is published; paced, listing waits for the pace
          next = more && pacedRate(limits) === null ? listFrom(page.lastKey) : undefined;
          const pace = await waitForPace(record, limits, page.objects.length, sliceEnds);
          if (pace === 'paused') return result(false, true);
          if (pace === 'later') {
            // its turn did not come within the slice: the workflow asks again
            pages -= 1;
            return result(false);
          }

          const started = performance.now();
          const commit = await withTransaction(pool, async (client) => {
            const outcome = await scope.commit(client, {
              expectedCursor: scope.cursor,
              newCursor: page.lastKey ?? scope.cursor,
              listed: page.listed,
              published: page.objects.length,
              last,
            });
            if (outcome.kind !== 'applied') return outcome;
            const sequence = scope.sequenceBase + outcome.publishedBefore;
            // pg-boss: in this transaction (exactly once); a broker: acknowledged before it commits
            await routeTransport.publish(messagesOf(record, page.objects, sequence), client);
            return outcome;
          });
          if (commit.kind === 'paused') return result(false, true);
          if (
            commit.kind === 'cursor-moved' ||
            (commit.kind === 'not-running' && commit.status === 'completed')
          ) {
            // another attempt of this step (one Temporal thought lost) published first: what it
            // published stands; finish with its result, or go on from where it left the cursor
            await scope.refresh();
            if (scope.record) record = scope.record;
            log.info(
              { partition: input.partition, cursor: scope.cursor, completed: scope.completed },
              'another attempt moved the cursor; going on from it',
            );
            if (scope.completed) return result(true);
            next = more ? listFrom(scope.cursor) : undefined;
            continue;
          }
          if (commit.kind === 'not-running') {
            throw ApplicationFailure.nonRetryable(
              `execution ${record.id}${input.partition === undefined ? '' : ` partition ${input.partition}`} is ${commit.status}`,
              failureTypes.notRunning,
            );
          }
          publishBatchDuration.observe((performance.now() - started) / 1000);
          messagesPublished.inc(page.objects.length);
          if (scope.record) record = scope.record;
          log.debug(
            {
              cursor: scope.cursor,
              published: scope.published,
              partition: input.partition,
              ms: Math.round(performance.now() - started),
            },
            'page published',
          );

          if (last) {
            if (input.partition === undefined) {
              replaysFinished.inc({ status: 'completed' });
              log.info({ published: scope.published }, 'replay completed');
            } else
              log.info({ partition: input.partition, published: scope.published }, 'partition completed');
            return result(true);
          }
          if (!more) break;
          if (context.cancellationSignal.aborted) throw new CancelledFailure('publishing cancelled');
          // a pause, and a limit set, changed or lifted meanwhile, take effect from the next page,
          // whether the replay was paced or not
          const controls = await replayControls(pool, record.id);
          if (controls?.paused) return result(false, true);
          const wasPaced = pacedRate(limits) !== null;
          routeLimit = await destinationLimitOf(record);
          limits = { replay: controls?.max_messages_per_second ?? null, route: routeLimit };
          // paced (now or until now): the next page is listed at the pace as it stands
          if (wasPaced || pacedRate(limits) !== null) next = listFrom(scope.cursor);
        }
        return result(false);
      };
      return whileHeartbeating(publishSlice, () => ({ cursor: scope.cursor, published: scope.published }));
    },
  };
}
