/** The measurements of one benchmark size: store listing, a plain loop baseline, and the replay. */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import type pg from 'pg';
import { withTransaction } from '../adapters/database.ts';
import { getExecution } from '../adapters/executions.ts';
import { newExecutionId, replayMessageId } from '../adapters/ids.ts';
import type { ObjectStore } from '../adapters/object-store.ts';
import type { OutgoingMessage } from '../adapters/route-queue.ts';
import type { RouteTransport } from '../adapters/route-transport.ts';
import { replayWorkflowId } from '../workflows/definitions.ts';
import { profileHistories, type HistoryProfile } from './history-profile.ts';

export const ROUTE = 'embedding_generator';
export const STAGE = 'markdown_segmented';
/** The output stage of ROUTE: where `select: "missing_outputs"` looks for an input's outputs. */
export const OUTPUT_STAGE = 'embeddings';

/** Key of the index-th object: 1,000 per sub-folder, as stage outputs usually are (document/segment). */
export function objectKey(folder: string, index: number): string {
  return `${folder}part-${String(Math.floor(index / 1000)).padStart(5, '0')}/doc-${String(index % 1000).padStart(4, '0')}.json`;
}

const body = (index: number) => `{"segment":${index}}`;

/** Uploads objects [from, to) under `folder` through the S3 API, `concurrency` requests in flight; returns objects/s. */
export async function seedThroughS3(
  store: ObjectStore,
  folder: string,
  from: number,
  to: number,
  concurrency = 64,
): Promise<number> {
  const started = performance.now();
  let next = from;
  const uploader = async () => {
    while (next < to) {
      const index = next++;
      await store.putObject(objectKey(folder, index), body(index));
    }
  };
  await Promise.all(Array.from({ length: concurrency }, uploader));
  return (to - from) / ((performance.now() - started) / 1000);
}

/**
 * Writes objects [from, to) straight into the folder a POSIX-backed store (versitygw) serves the
 * bucket from: seconds for a million objects, where uploads would take most of an hour. The store
 * lists them like uploaded ones (with an empty ETag).
 */
export async function seedOnDisk(bucketDir: string, folder: string, from: number, to: number): Promise<void> {
  for (let index = from; index < to; index += 1000) {
    await mkdir(path.dirname(path.join(bucketDir, objectKey(folder, index))), { recursive: true });
  }
  let next = from;
  const writer = async () => {
    while (next < to) {
      const index = next++;
      await writeFile(path.join(bucketDir, objectKey(folder, index)), body(index));
    }
  };
  await Promise.all(Array.from({ length: 32 }, writer));
}

/** Lists every key under folder, 1,000 a page: the store's own rate, apart from the coordinator. */
export async function measureListing(
  store: ObjectStore,
  folder: string,
): Promise<{ keys: number; keysPerSecond: number }> {
  const started = performance.now();
  let keys = 0;
  let cursor: string | null = null;
  for (;;) {
    const page = await store.listPage(folder, cursor, 1000);
    keys += page.objects.length;
    cursor = page.lastKey;
    if (!page.isTruncated) break;
  }
  return { keys, keysPerSecond: keys / ((performance.now() - started) / 1000) };
}

/**
 * The baseline: what a script with no workflow would do. List a page, publish its messages (same
 * body, same deterministic ids, same queue or topic, same client) and, for pg-boss, in one
 * transaction; repeat.
 */
export async function runBaseline(options: {
  store: ObjectStore;
  pool: pg.Pool;
  routeTransport: RouteTransport;
  folder: string;
  parentId: string;
  configId: string;
}): Promise<{ messages: number; seconds: number }> {
  const executionId = newExecutionId();
  const started = performance.now();
  let cursor: string | null = null;
  let sequence = 0;
  for (;;) {
    const page = await options.store.listPage(options.folder, cursor, 1000);
    const messages: OutgoingMessage[] = page.objects.map((object) => {
      const id = replayMessageId(executionId, ROUTE, object.key);
      return {
        id,
        route: ROUTE,
        body: {
          message_id: id,
          execution_id: executionId,
          parent_execution_id: options.parentId,
          root_execution_id: options.parentId,
          config_id: options.configId,
          route: ROUTE,
          stage: STAGE,
          replay: true,
          replay_source: 'storage',
          object: { bucket: options.store.bucket, ...object },
          sequence: sequence++,
          metadata: {},
        },
      };
    });
    if (options.routeTransport.kind === 'pgboss')
      await withTransaction(options.pool, (client) => options.routeTransport.publish(messages, client));
    else await options.routeTransport.publish(messages, options.pool);
    cursor = page.lastKey;
    if (!page.isTruncated) break;
  }
  return { messages: sequence, seconds: (performance.now() - started) / 1000 };
}

async function residentMegabytes(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  const match = /VmRSS:\s+(\d+) kB/.exec(status);
  return match ? Number(match[1]) / 1024 : 0;
}

/** Starts a replay through the api over HTTP and follows it in Postgres until it completes. */
export async function runReplay(options: {
  apiUrl: string;
  apiKey: string;
  pool: pg.Pool;
  temporal: Client;
  parentId: string;
  workerPid: number;
  expected: number;
}): Promise<{
  seconds: number;
  firstMessageMs: number;
  peakRssMb: number;
  maxHistoryEvents: number;
  published: number;
  profile: HistoryProfile;
}> {
  let peakRssMb = await residentMegabytes(options.workerPid);
  const sampler = setInterval(() => {
    void residentMegabytes(options.workerPid).then((mb) => (peakRssMb = Math.max(peakRssMb, mb)));
  }, 100);
  const started = performance.now();
  try {
    const response = await fetch(`${options.apiUrl}/api/v1/executions/${options.parentId}/replay`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${options.apiKey}` },
      body: JSON.stringify({ replay_source: 'storage', from_stage: STAGE, to_route: ROUTE }),
    });
    const body = (await response.json()) as { id: string };
    if (response.status !== 200)
      throw new Error(`replay refused: ${response.status} ${JSON.stringify(body)}`);
    let firstMessageMs = Number.NaN;
    for (;;) {
      // the record as the api shows it: a partitioned replay's counts include its partitions'
      const row = (await getExecution(options.pool, body.id))!;
      if (Number.isNaN(firstMessageMs) && row.published_count > 0)
        firstMessageMs = performance.now() - started;
      if (row.status === 'completed') {
        const seconds = (performance.now() - started) / 1000;
        if (Number.isNaN(firstMessageMs)) firstMessageMs = seconds * 1000;
        let maxHistoryEvents = 0;
        const workflowId = replayWorkflowId(body.id);
        const histories = [];
        for await (const run of options.temporal.workflow.list({ query: `WorkflowId = '${workflowId}'` })) {
          // visibility's historyLength can lag; the history itself is exact
          const history = await options.temporal.workflow.getHandle(workflowId, run.runId).fetchHistory();
          maxHistoryEvents = Math.max(maxHistoryEvents, history.events?.length ?? 0);
          histories.push(history.events ?? []);
        }
        const profile = profileHistories(histories);
        return {
          seconds,
          firstMessageMs,
          peakRssMb,
          maxHistoryEvents,
          published: row.published_count,
          profile,
        };
      }
      if (row.status !== 'running') throw new Error(`replay ended ${row.status}: ${row.error}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  } finally {
    clearInterval(sampler);
  }
}
