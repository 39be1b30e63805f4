/**
 * The partitioned suite (`npm run bench -- --suite partitioned`): one large replay, split into 1, 4
 * or 8 partitions, run by 1, 2 or 4 worker processes, with a latency in front of every S3 request
 * (scripts/stack/latency-proxy.ts) so the store behaves like real S3 rather than a local disk. Beside each
 * replay's rate, the two ceilings it can be read against, measured in the same run: the store's
 * listing rate through the same latency (one lister) and the route queue's insert rate for the same
 * messages with no coordinator.
 */
import type { Client } from '@temporalio/client';
import type pg from 'pg';
import { withTransaction } from '../adapters/database.ts';
import { getExecution } from '../adapters/executions.ts';
import { newExecutionId, replayMessageId } from '../adapters/ids.ts';
import { ObjectStore, objectStoreOptionsFromConfig } from '../adapters/object-store.ts';
import type { OutgoingMessage } from '../adapters/route-queue.ts';
import type { RouteTransport } from '../adapters/route-transport.ts';
import { stageFolder } from '../adapters/storage-paths.ts';
import { replayWorkflowId } from '../workflows/definitions.ts';
import type { BenchStack } from './bench-stack.ts';
import { startLatencyProxy } from '../scripts/stack/latency-proxy.ts';
import { coresUsed, stackCpuSeconds } from './process-cpu.ts';
import { objectKey, ROUTE, seedOnDisk, seedThroughS3, STAGE } from './measure.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface PartitionedOptions {
  objects: number;
  partitions: number[];
  workers: number[];
  listLatencyMs: number[];
}

export interface PartitionedContext {
  stack: BenchStack;
  pool: pg.Pool;
  store: ObjectStore;
  temporal: Client;
  routeTransport: RouteTransport;
  configId: string;
  post(route: string, body: unknown): Promise<{ id: string }>;
  log(line: string): void;
}

/** Messages a second the route queue takes for these objects with no coordinator: 5,000 a transaction. */
async function queueInsertRate(
  context: PartitionedContext,
  folder: string,
  objects: number,
): Promise<number> {
  const executionId = newExecutionId();
  const started = performance.now();
  for (let from = 0; from < objects; from += 5000) {
    const messages: OutgoingMessage[] = [];
    for (let index = from; index < Math.min(objects, from + 5000); index += 1) {
      const key = objectKey(folder, index);
      const id = replayMessageId(executionId, ROUTE, key);
      messages.push({
        id,
        route: ROUTE,
        body: {
          message_id: id,
          execution_id: executionId,
          parent_execution_id: null,
          root_execution_id: executionId,
          config_id: context.configId,
          route: ROUTE,
          stage: STAGE,
          replay: true,
          replay_source: 'storage',
          object: {
            bucket: context.store.bucket,
            key,
            size: 16,
            etag: '',
            last_modified: new Date(0).toISOString(),
          },
          sequence: index,
          metadata: {},
        },
      });
    }
    await withTransaction(context.pool, (client) => context.routeTransport.publish(messages, client));
  }
  return objects / ((performance.now() - started) / 1000);
}

/** The store's listing rate through the latency proxy, one lister, 1,000 keys a call (a sample of it). */
async function listRate(store: ObjectStore, folder: string, maxKeys: number): Promise<number> {
  const started = performance.now();
  let keys = 0;
  let cursor: string | null = null;
  while (keys < maxKeys) {
    const page = await store.listPage(folder, cursor, 1000);
    keys += page.objects.length;
    cursor = page.lastKey;
    if (!page.isTruncated) break;
  }
  return keys / ((performance.now() - started) / 1000);
}

/**
 * The store's listing rate with `listers` listing at once, each its own stretch of the keys (as
 * partitions do): what the store itself gives many listers, apart from the coordinator.
 */
async function parallelListRate(
  store: ObjectStore,
  folder: string,
  objects: number,
  listers: number,
  keysEach: number,
): Promise<number> {
  const started = performance.now();
  const counts = await Promise.all(
    Array.from({ length: listers }, async (_, lister) => {
      let keys = 0;
      let cursor: string | null =
        lister === 0 ? null : objectKey(folder, Math.floor((lister * objects) / listers));
      while (keys < keysEach) {
        const page = await store.listPage(folder, cursor, 1000);
        keys += page.objects.length;
        cursor = page.lastKey;
        if (!page.isTruncated) break;
      }
      return keys;
    }),
  );
  return counts.reduce((sum, keys) => sum + keys, 0) / ((performance.now() - started) / 1000);
}

/** Which worker process ran how many of the replay's publishing activities (from every history). */
async function activitiesByWorker(temporal: Client, executionId: string): Promise<Record<string, number>> {
  const byWorker: Record<string, number> = {};
  const prefix = replayWorkflowId(executionId);
  for await (const run of temporal.workflow.list({ query: `WorkflowId STARTS_WITH '${prefix}'` })) {
    const history = await temporal.workflow.getHandle(run.workflowId, run.runId).fetchHistory();
    for (const event of history.events ?? []) {
      const identity = event.activityTaskStartedEventAttributes?.identity;
      if (identity) byWorker[identity] = (byWorker[identity] ?? 0) + 1;
    }
  }
  return byWorker;
}

/**
 * When the partitions ran, in seconds after the replay's POST: the first one's start (what the
 * first pages and the plan took) and the first and last ends (how even the ranges were).
 */
async function partitionTimeline(temporal: Client, executionId: string, postedAt: Date) {
  const starts = new Map<string, number>();
  const ends = new Map<string, number>();
  const prefix = `${replayWorkflowId(executionId)}-p`;
  for await (const run of temporal.workflow.list({ query: `WorkflowId STARTS_WITH '${prefix}'` })) {
    const started = (run.startTime.getTime() - postedAt.getTime()) / 1000;
    const ended = ((run.closeTime ?? run.startTime).getTime() - postedAt.getTime()) / 1000;
    starts.set(run.workflowId, Math.min(starts.get(run.workflowId) ?? Infinity, started));
    ends.set(run.workflowId, Math.max(ends.get(run.workflowId) ?? 0, ended));
  }
  if (starts.size === 0) return undefined;
  const round = (seconds: number) => Math.round(seconds * 10) / 10;
  return {
    first_partition_started_s: round(Math.min(...starts.values())),
    first_partition_ended_s: round(Math.min(...ends.values())),
    last_partition_ended_s: round(Math.max(...ends.values())),
  };
}

/** The longest history of all the runs of the replay and of its partitions. */
async function longestHistory(temporal: Client, executionId: string): Promise<number> {
  let longest = 0;
  const prefix = replayWorkflowId(executionId);
  for await (const run of temporal.workflow.list({ query: `WorkflowId STARTS_WITH '${prefix}'` })) {
    const history = await temporal.workflow.getHandle(run.workflowId, run.runId).fetchHistory();
    longest = Math.max(longest, history.events?.length ?? 0);
  }
  return longest;
}

export async function runPartitioned(context: PartitionedContext, options: PartitionedOptions) {
  const { stack, pool, log } = context;
  const parent = await context.post('/api/v1/executions', { config_id: context.configId });
  const folder = stageFolder(stack.config.S3_PREFIX, parent.id, STAGE);
  log(`partitioned: seeding ${options.objects}`);
  if (stack.bucketDir) await seedOnDisk(stack.bucketDir, folder, 0, options.objects);
  else await seedThroughS3(context.store, folder, 0, options.objects);
  log('partitioned: the route queue alone');
  // each ceiling with the cores it kept busy: on one machine the replay pays for both at once
  const measured = async <T>(work: () => Promise<T>) => {
    const before = await stackCpuSeconds(stack.workDir);
    const started = performance.now();
    const value = await work();
    const cores = coresUsed(
      before,
      await stackCpuSeconds(stack.workDir),
      (performance.now() - started) / 1000,
    );
    return { value, cores };
  };
  const { value: queueInsert, cores: queueInsertCores } = await measured(() =>
    queueInsertRate(context, folder, options.objects),
  );
  log(
    `partitioned: queue insert ${queueInsert.toFixed(0)} msgs/s, cores ${JSON.stringify(queueInsertCores)}`,
  );

  const rows = [];
  for (const latency of options.listLatencyMs) {
    const proxy = await startLatencyProxy(stack.config.S3_ENDPOINT!, latency);
    const throughProxy = new ObjectStore({
      ...objectStoreOptionsFromConfig(stack.config),
      endpoint: proxy.url,
      requestTimeoutMs: 120_000,
    });
    try {
      const { value: storeList, cores: storeListCores } = await measured(() =>
        listRate(throughProxy, folder, 50_000),
      );
      log(
        `partitioned: store lists ${storeList.toFixed(0)} keys/s with ${latency} ms, cores ${JSON.stringify(storeListCores)}`,
      );
      const listers = Math.max(...options.partitions);
      const storeListParallel = await parallelListRate(
        throughProxy,
        folder,
        options.objects,
        listers,
        25_000,
      );
      log(`partitioned: store lists ${storeListParallel.toFixed(0)} keys/s to ${listers} listers at once`);
      for (const workers of options.workers) {
        for (const partitions of options.partitions) {
          await stack.setTopology({
            workers,
            env: {
              S3_ENDPOINT: proxy.url,
              REPLAY_MAX_PARTITIONS: String(partitions),
              REPLAY_PARTITIONS_IN_FLIGHT: String(partitions),
            },
          });
          await sleep(3000); // the new workers poll
          const cpuBefore = await stackCpuSeconds(stack.workDir);
          const started = performance.now();
          const postedAt = new Date();
          const replay = await context.post(`/api/v1/executions/${parent.id}/replay`, {
            replay_source: 'storage',
            from_stage: STAGE,
            to_route: ROUTE,
          });
          for (;;) {
            const found = (await getExecution(pool, replay.id))!;
            if (found.status === 'completed') break;
            if (found.status !== 'running') throw new Error(`replay ended ${found.status}`);
            await sleep(100);
          }
          const seconds = (performance.now() - started) / 1000;
          // where the machine's cores went (the latency proxy runs in the bench process)
          const cores = coresUsed(cpuBefore, await stackCpuSeconds(stack.workDir), seconds);
          await context.temporal.workflow.getHandle(replayWorkflowId(replay.id)).result();
          const row = {
            objects: options.objects,
            partitions,
            workers,
            list_latency_ms: latency,
            replay_msgs_per_s: Math.round(options.objects / seconds),
            queue_insert_msgs_per_s: Math.round(queueInsert),
            queue_insert_cores_used: queueInsertCores,
            store_list_cores_used: storeListCores,
            store_list_keys_per_s: Math.round(storeList),
            // the same store to as many listers as the most partitions of this run
            store_list_keys_per_s_parallel: Math.round(storeListParallel),
            parallel_listers: listers,
            replay_seconds: Math.round(seconds * 10) / 10,
            partitions_used: Number(
              (
                await pool.query('SELECT count(*)::int AS n FROM replay_partitions WHERE execution_id = $1', [
                  replay.id,
                ])
              ).rows[0].n,
            ),
            activities_by_worker: await activitiesByWorker(context.temporal, replay.id),
            max_history_events: await longestHistory(context.temporal, replay.id),
            cores_used: cores,
            partition_timeline: await partitionTimeline(context.temporal, replay.id, postedAt),
          };
          log(JSON.stringify(row));
          rows.push(row);
        }
      }
    } finally {
      throughProxy.close();
      await proxy.close();
    }
  }
  return { rows };
}
