import { ApplicationFailure, CancelledFailure, Context } from '@temporalio/activity';
import { withTransaction, type Queryable } from '../adapters/database.ts';
import {
  commitReplayPage,
  executionSummary,
  getExecution,
  replayControls,
  setSourceExecution,
  type ExecutionRecord,
} from '../adapters/executions.ts';
import { findRoute, getPipelineConfig } from '../adapters/pipeline-configs.ts';
import { executionBucket, reserveMessages, routeBucket } from '../adapters/rate-buckets.ts';
import { commitPartitionPage, getPartition } from '../adapters/replay-partitions.ts';
import { replayMessageId } from '../adapters/ids.ts';
import { messagesPublished, publishBatchDuration, replaysFinished } from '../adapters/metrics.ts';
import type { StoredObject } from '../adapters/object-store.ts';
import type { OutgoingMessage } from '../adapters/route-queue.ts';
import { replayListing, type ReplayListing } from '../adapters/storage-paths.ts';
import { resolveReplaySource } from '../services/replay-source.ts';
import { failureTypes } from '../domain/replay.ts';
import { type PublishPagesInput, type PublishPagesResult } from '../workflows/replay-execution.contract.ts';
import { activityLogger, type ReplayActivityDependencies } from './dependencies.ts';
import { compareKeys } from './key-order.ts';

/** Seconds of messages a paced page holds: a limit changed mid-replay takes effect within one page. */
const PACED_PAGE_SECONDS = 1;
/** How often a paced wait heartbeats and looks whether the replay was paused. */
const PACE_CHECK_MS = 1000;

/** The limits a replay publishes under, in messages per second; null: none. */
interface PaceLimits {
  replay: number | null;
  route: number | null;
}

/** The lower of the limits: the rate the replay's pages are sized for. */
function pacedRate(limits: PaceLimits): number | null {
  const rates = [limits.replay, limits.route].filter((rate): rate is number => rate !== null);
  return rates.length ? Math.min(...rates) : null;
}

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
  /** The record as the last commit left it (whole replays only). */
  record?: ReplayRecord;
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

  /** The route's own limit, from the replay's config (configs do not change once registered). */
  async function routeLimitOf(record: ReplayRecord): Promise<number | null> {
    const config = await getPipelineConfig(pool, record.config_id);
    return (config && findRoute(config, record.to_route)?.max_messages_per_second) ?? null;
  }

  /**
   * One page after a key: several S3 listings past 1,000 keys, keeping what from_path selects, up
   * to `endAt` (a partition's last key) when given.
   */
  async function listPage(
    listing: ReplayListing,
    startAfter: string | null,
    maxKeys: number,
    endAt: string | null,
  ): Promise<ListedPage> {
    const objects: StoredObject[] = [];
    let lastKey = startAfter;
    let isTruncated = true;
    let listed = 0;
    while (isTruncated && listed < maxKeys) {
      const page = await objectStore.listPage(listing.listPrefix, lastKey, Math.min(1000, maxKeys - listed));
      for (const object of page.objects) {
        if (endAt !== null && compareKeys(object.key, endAt) > 0) {
          // past the partition's range: the next partition's keys
          return { objects, listed, lastKey, isTruncated: false };
        }
        listed += 1;
        lastKey = object.key;
        if (listing.selects(object.key)) objects.push(object);
      }
      isTruncated = page.isTruncated;
    }
    return { objects, listed, lastKey, isTruncated };
  }

  function messagesOf(
    record: ReplayRecord,
    objects: StoredObject[],
    firstSequence: number,
  ): OutgoingMessage[] {
    const route = record.to_route;
    return objects.map((object, index) => {
      const id = replayMessageId(record.id, route, object.key);
      return {
        id,
        route,
        body: {
          message_id: id,
          execution_id: record.id,
          parent_execution_id: record.parent_execution_id,
          root_execution_id: record.root_execution_id,
          config_id: record.config_id,
          route,
          stage: record.from_stage,
          replay: true,
          replay_source: record.replay_source as 'storage' | 'lineage' | 'manual',
          object: { bucket: objectStore.bucket, ...object },
          sequence: firstSequence + index,
          metadata: record.metadata,
        },
      };
    });
  }

  /**
   * Waits until `count` messages may go out under the replay's own limit and its route's (token
   * buckets in Postgres, shared by every worker), heartbeating; false when the replay was paused
   * meanwhile (its reservation is not given back: pace errs slow).
   */
  async function waitForPace(record: ReplayRecord, limits: PaceLimits, count: number): Promise<boolean> {
    if (count === 0) return true;
    const waits = await Promise.all([
      limits.replay ? reserveMessages(pool, executionBucket(record.id), limits.replay, count) : 0,
      limits.route ? reserveMessages(pool, routeBucket(record.to_route), limits.route, count) : 0,
    ]);
    const context = Context.current();
    let remainingMs = Math.max(...waits) * 1000;
    while (remainingMs > 0) {
      const step = Math.min(remainingMs, PACE_CHECK_MS);
      await context.sleep(step);
      remainingMs -= step;
      context.heartbeat();
      if ((await replayControls(pool, record.id))?.paused) return false;
    }
    return true;
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
     * Postgres holds, so nothing is published twice or skipped. Heartbeats after every page: a step
     * held by a dead worker is retried within the heartbeat timeout, and a cancel reaches it.
     *
     * Paced: under a rate limit (the replay's own, changeable while it runs, and its route's) a
     * page holds about a second of messages and is listed only once the previous one is out, so a
     * new limit takes effect from the next page. Paused: a page's transaction refuses to commit once
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
      const list = (startAfter: string | null, maxKeys: number) =>
        listPage(listing, startAfter, maxKeys, scope.endAt);
      const routeLimit = await routeLimitOf(record);
      const sliceEnds = Date.now() + input.sliceSeconds * 1000;

      let limits: PaceLimits = { replay: record.max_messages_per_second, route: routeLimit };
      const pageSizeNow = () => {
        const size = scope.cursor === null && scope.published === 0 ? input.firstPageSize : input.pageSize;
        const rate = pacedRate(limits);
        return rate === null ? size : Math.max(1, Math.min(size, Math.floor(rate * PACED_PAGE_SECONDS)));
      };
      let next: Promise<ListedPage> | undefined = list(scope.cursor, pageSizeNow());

      while (next) {
        const page: ListedPage = await next;
        pages += 1;
        const last = !page.isTruncated;
        const more = !last && pages < input.maxPages && Date.now() < sliceEnds;
        // unpaced, page n+1 is listed while page n is published; paced, listing waits for the pace
        next = more && pacedRate(limits) === null ? list(page.lastKey, input.pageSize) : undefined;
        // an abandoned prefetch (a failed page) must not surface as an unhandled rejection
        next?.catch(() => {});
        if (!(await waitForPace(record, limits, page.objects.length))) return result(false, true);

        const started = performance.now();
        const committed = await withTransaction(pool, async (client) => {
          const commit = await scope.commit(client, {
            expectedCursor: scope.cursor,
            newCursor: page.lastKey ?? scope.cursor,
            listed: page.listed,
            published: page.objects.length,
            last,
          });
          if (commit.kind === 'paused') return false;
          if (commit.kind === 'cursor-moved') {
            // another attempt of this step (a worker thought dead) published first: start again
            // from where it left the cursor
            throw new Error(`replay cursor moved to ${commit.cursor ?? 'the start'} by another attempt`);
          }
          if (commit.kind === 'not-running') {
            throw ApplicationFailure.nonRetryable(
              `execution ${record.id}${input.partition === undefined ? '' : ` partition ${input.partition}`} is ${commit.status}`,
              failureTypes.notRunning,
            );
          }
          const sequence = scope.sequenceBase + commit.publishedBefore;
          // pg-boss: in this transaction (exactly once); a broker: acknowledged before it commits
          await routeTransport.publish(messagesOf(record, page.objects, sequence), client);
          return true;
        });
        if (!committed) return result(false, true);
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
        context.heartbeat({ cursor: scope.cursor, published: scope.published });

        if (last) {
          if (input.partition === undefined) {
            replaysFinished.inc({ status: 'completed' });
            log.info({ published: scope.published }, 'replay completed');
          } else log.info({ partition: input.partition, published: scope.published }, 'partition completed');
          return result(true);
        }
        if (more && context.cancellationSignal.aborted) throw new CancelledFailure('publishing cancelled');
        if (more && !next) {
          // paced: the limit as it stands now (an operator may have changed it) sizes the next page
          const controls = await replayControls(pool, record.id);
          if (controls?.paused) return result(false, true);
          limits = { replay: controls?.max_messages_per_second ?? null, route: routeLimit };
          next = list(scope.cursor, pageSizeNow());
        }
      }
      return result(false);
    },
  };
}
