import { ApplicationFailure, CancelledFailure, Context } from '@temporalio/activity';
import { withTransaction } from '../adapters/database.ts';
import {
  commitReplayPage,
  executionSummary,
  getExecution,
  setSourceExecution,
  type ExecutionRecord,
} from '../adapters/executions.ts';
import { replayMessageId } from '../adapters/ids.ts';
import { messagesPublished, publishBatchDuration, replaysFinished } from '../adapters/metrics.ts';
import type { StoredObject } from '../adapters/object-store.ts';
import type { OutgoingMessage } from '../adapters/route-queue.ts';
import { replayListing, type ReplayListing } from '../adapters/storage-paths.ts';
import { resolveReplaySource } from '../services/replay-source.ts';
import { failureTypes, type PublishPagesInput, type PublishPagesResult } from '../workflows/contract.ts';
import { activityLogger, type ReplayActivityDependencies } from './dependencies.ts';

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
  routeQueue,
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

  /** One page after a key: several S3 listings past 1,000 keys, keeping what from_path selects. */
  async function listPage(
    listing: ReplayListing,
    startAfter: string | null,
    maxKeys: number,
  ): Promise<ListedPage> {
    const objects: StoredObject[] = [];
    let lastKey = startAfter;
    let isTruncated = true;
    let listed = 0;
    while (isTruncated && listed < maxKeys) {
      const page = await objectStore.listPage(listing.listPrefix, lastKey, Math.min(1000, maxKeys - listed));
      listed += page.objects.length;
      for (const object of page.objects) {
        if (listing.selects(object.key)) objects.push(object);
      }
      lastKey = page.lastKey ?? lastKey;
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

  return {
    /**
     * Lists and publishes whole pages from the replay's cursor (kept in Postgres, the source of
     * truth) for up to `sliceSeconds` or `maxPages`, listing page n+1 while page n is published.
     * Each page is exactly-once: one transaction compare-and-sets the cursor and inserts the
     * page's messages (deterministic ids); the last page's transaction also marks the record
     * `completed`. A retried attempt (a dead worker, a lost result) starts again from the cursor
     * Postgres holds, so nothing is published twice or skipped. Heartbeats after every page: a step
     * held by a dead worker is retried within the heartbeat timeout, and a cancel reaches it.
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
      const finishedResult = (pages: number): PublishPagesResult => ({
        pages,
        cursor: record.replay_cursor,
        listed: record.listed_count,
        published: record.published_count,
        sourceExecutionId: record.source_execution_id ?? record.parent_execution_id!,
        finished: true,
        summary: executionSummary(record),
      });
      // an earlier attempt published the last page, and its result was lost
      if (record.status === 'completed') return finishedResult(0);
      if (record.status !== 'running') {
        throw ApplicationFailure.nonRetryable(
          `execution ${record.id} is ${record.status}`,
          failureTypes.notRunning,
        );
      }

      const sourceExecutionId = record.source_execution_id ?? (await resolveSource(record));
      const listing = replayListing(
        objectStore.prefix,
        sourceExecutionId,
        record.from_stage,
        record.from_path,
      );
      const list = (startAfter: string | null, maxKeys: number) => listPage(listing, startAfter, maxKeys);

      let cursor = record.replay_cursor;
      let listed = record.listed_count;
      let published = record.published_count;
      const firstPage = cursor === null && published === 0;
      const sliceEnds = Date.now() + input.sliceSeconds * 1000;
      let pages = 0;
      let next: Promise<ListedPage> | undefined = list(
        cursor,
        firstPage ? input.firstPageSize : input.pageSize,
      );

      while (next) {
        const page: ListedPage = await next;
        pages += 1;
        const last = !page.isTruncated;
        next =
          !last && pages < input.maxPages && Date.now() < sliceEnds
            ? list(page.lastKey, input.pageSize)
            : undefined;
        // an abandoned prefetch (a failed page) must not surface as an unhandled rejection
        next?.catch(() => {});

        const started = performance.now();
        const committed = await withTransaction(pool, async (client) => {
          const commit = await commitReplayPage(client, {
            id: record.id,
            expectedCursor: cursor,
            newCursor: page.lastKey ?? cursor,
            listed: page.listed,
            published: page.objects.length,
            last,
          });
          if (commit.kind === 'cursor-moved') {
            // another attempt of this step (a worker thought dead) published first: start again
            // from where it left the cursor
            throw new Error(`replay cursor moved to ${commit.cursor ?? 'the start'} by another attempt`);
          }
          if (commit.kind !== 'applied') {
            throw ApplicationFailure.nonRetryable(
              `execution ${record.id} is ${commit.kind === 'not-running' ? commit.status : 'gone'}`,
              commit.kind === 'not-running' ? failureTypes.notRunning : failureTypes.executionNotFound,
            );
          }
          await routeQueue.insert(messagesOf(record, page.objects, commit.publishedBefore), client);
          return commit.record as ReplayRecord;
        });
        publishBatchDuration.observe((performance.now() - started) / 1000);
        messagesPublished.inc(page.objects.length);
        record = committed;
        cursor = record.replay_cursor;
        listed = record.listed_count;
        published = record.published_count;
        log.debug({ cursor, published, ms: Math.round(performance.now() - started) }, 'page published');
        context.heartbeat({ cursor, published });

        if (last) {
          replaysFinished.inc({ status: 'completed' });
          log.info({ published }, 'replay completed');
          return finishedResult(pages);
        }
        if (next && context.cancellationSignal.aborted) throw new CancelledFailure('publishing cancelled');
      }
      return {
        pages,
        cursor,
        listed,
        published,
        sourceExecutionId,
        finished: false,
        summary: null,
      };
    },
  };
}
