/**
 * The selection suite (`npm run bench -- --suite selection`, not in the default run): issue 21's
 * benchmark of `select: "missing_outputs"`. N inputs in a stage of a parent execution, outputs in the
 * route's `output_stage` for every second one (`output_match: stem`, the default: some with the
 * input's extension, some with another, some a folder of outputs per input, and a few outputs that
 * answer no input), then, in one run on one stack:
 *
 * - each stage's bare listing rate (one lister, 1,000 keys a call), and the merge of the two
 *   listings alone (services/missing-outputs.ts in the bench process, no workflow): two listings
 *   against one;
 * - a plain replay of the input stage (select all): msgs/s, the peak RSS of the publish worker;
 * - the `missing_outputs` replay of the same stage: inputs examined per second (N / duration), the
 *   messages it published (exactly the inputs without outputs: every key read back from the queue),
 *   the peak RSS of the publish worker.
 *
 * Each replay runs on a fresh publish worker process (the same workflows worker), so the two peaks
 * are each their own; RSS is sampled from /proc every 200 ms. With a listing latency or a number of
 * partitions (`--selection-list-latency-ms`, `--selection-partitions`), every S3 request of the
 * listings and the replays goes through a latency proxy (scripts/stack/latency-proxy.ts) and each
 * replay runs on a fresh single worker process polling both task queues (bench-stack's setTopology). The targets: examined/s at least 0.7 of
 * the plain replay's msgs/s, RSS within 10% of the plain replay's.
 */
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { publishTaskQueueOf } from '../adapters/config.ts';
import { getExecution } from '../adapters/executions.ts';
import { ObjectStore, objectStoreOptionsFromConfig } from '../adapters/object-store.ts';
import { stageFolder } from '../adapters/storage-paths.ts';
import { MissingOutputs } from '../services/missing-outputs.ts';
import { replayWorkflowId } from '../workflows/definitions.ts';
import { startLatencyProxy } from '../scripts/stack/latency-proxy.ts';
import {
  measureListing,
  objectKey,
  OUTPUT_STAGE,
  ROUTE,
  seedOnDisk,
  seedThroughS3,
  STAGE,
} from './measure.ts';
import { coresUsed, stackCpuSeconds } from './process-cpu.ts';
import type { CapacityContext } from './capacity.ts';
import { sleep } from '../adapters/sleep.ts';

/** The bench's context, the same the capacity suite gets. */
export type SelectionContext = CapacityContext;

/** Whether the index-th input has an output: every second one. */
const answered = (index: number) => index % 2 === 0;

/**
 * The outputs (relative to the output stage folder) the index-th input has. Even inputs are
 * answered, a third each by an output with the input's extension, one with another extension and a
 * folder of two outputs; odd inputs have none, but one in 25 of them has two outputs that answer
 * nothing (`doc-0001-b.json`, which lists before `doc-0001.json`, and `doc-0001.json.npy`).
 */
export function outputsOf(index: number): string[] {
  const stem = objectKey('', index).replace(/\.json$/, '');
  if (!answered(index)) return index % 50 === 1 ? [`${stem}-b.json`, `${stem}.json.npy`] : [];
  switch ((index / 2) % 3) {
    case 0:
      return [`${stem}.json`];
    case 1:
      return [`${stem}.npy`];
    default:
      return [`${stem}/chunk-0.json`, `${stem}/chunk-1.json`];
  }
}

/** Writes the outputs of inputs [0, objects) under `folder`: on disk for versitygw, else through S3. */
async function seedOutputs(context: SelectionContext, folder: string, objects: number): Promise<number> {
  const { bucketDir } = context.stack;
  let written = 0;
  let next = 0;
  const writer = async () => {
    while (next < objects) {
      const index = next++;
      for (const output of outputsOf(index)) {
        const key = folder + output;
        if (bucketDir) {
          const file = path.join(bucketDir, key);
          await mkdir(path.dirname(file), { recursive: true });
          await writeFile(file, `{"output":${index}}`);
        } else {
          await context.store.putObject(key, `{"output":${index}}`);
        }
        written += 1;
      }
    }
  };
  await Promise.all(Array.from({ length: bucketDir ? 32 : 64 }, writer));
  return written;
}

/** The merge of the two listings alone, as a replay's pages do it, in the bench process: inputs/s. */
async function mergeAlone(
  store: ObjectStore,
  inputFolder: string,
  outputFolder: string,
): Promise<{ inputs: number; missing: number; inputsPerSecond: number }> {
  const merge = new MissingOutputs(store, outputFolder, 'stem');
  const started = performance.now();
  let cursor: string | null = null;
  let inputs = 0;
  let missing = 0;
  for (;;) {
    const page = await store.listPage(inputFolder, cursor, 1000);
    const answered = await merge.answered(page.objects.map((object) => object.key.slice(inputFolder.length)));
    inputs += page.objects.length;
    missing += answered.filter((done) => !done).length;
    cursor = page.lastKey;
    if (!page.isTruncated) break;
  }
  return { inputs, missing, inputsPerSecond: inputs / ((performance.now() - started) / 1000) };
}

async function residentKb(pid: number, field: 'VmRSS' | 'VmHWM'): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  const match = new RegExp(`${field}:\\s+(\\d+) kB`).exec(status);
  return match ? Number(match[1]) : 0;
}

/** Waits until a worker process of this pid polls the publish task queue. */
async function publishWorkerPolling(context: SelectionContext, pid: number): Promise<void> {
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    const { pollers } = await context.temporal.workflowService.describeTaskQueue({
      namespace: context.stack.config.TEMPORAL_NAMESPACE,
      taskQueue: { name: publishTaskQueueOf(context.stack.config) },
      taskQueueType: 2, // TASK_QUEUE_TYPE_ACTIVITY
    });
    if (pollers?.some((poller) => poller.identity?.startsWith(`${pid}@`))) return;
    await sleep(200);
  }
  throw new Error(`publish worker ${pid} is not polling`);
}

const mb = (kb: number) => Math.round(kb / 102.4) / 10;

/**
 * One replay of the input stage on a fresh publish worker, followed until it completes. With
 * `topologyEnv`, a fresh single worker process (both roles) and api with these variables.
 */
async function replay(
  context: SelectionContext,
  parentId: string,
  select: 'all' | 'missing_outputs',
  topologyEnv?: Record<string, string>,
) {
  const { stack, pool } = context;
  // a fresh publish worker: its peak is this replay's alone
  let worker;
  if (topologyEnv) [worker] = await stack.setTopology({ workers: 1, env: topologyEnv });
  else {
    await stack.worker.stop();
    worker = stack.restartWorker();
  }
  const pid = worker!.child.pid!;
  await publishWorkerPolling(context, pid);
  await sleep(1000); // its first heap settles
  const startRssKb = await residentKb(pid, 'VmRSS');
  let peakRssKb = startRssKb;
  const workflowsPid = topologyEnv ? undefined : (await stackPids(stack.workDir)).workflows;
  let workflowsPeakKb = workflowsPid ? await residentKb(workflowsPid, 'VmRSS') : 0;
  const sampler = setInterval(() => {
    void residentKb(pid, 'VmRSS').then((kb) => (peakRssKb = Math.max(peakRssKb, kb)));
    if (workflowsPid)
      void residentKb(workflowsPid, 'VmRSS').then((kb) => (workflowsPeakKb = Math.max(workflowsPeakKb, kb)));
  }, 200);
  const cpuBefore = await stackCpuSeconds(stack.workDir);
  const started = performance.now();
  try {
    const created = await context.post(`/api/v1/executions/${parentId}/replay`, {
      replay_source: 'storage',
      from_stage: STAGE,
      to_route: ROUTE,
      ...(select === 'all' ? {} : { select }),
    });
    let record;
    for (;;) {
      record = (await getExecution(pool, created.id))!;
      if (record.status === 'completed') break;
      if (record.status !== 'running') throw new Error(`${select} replay ended ${record.status}`);
      await sleep(100);
    }
    const seconds = (performance.now() - started) / 1000;
    const cores = coresUsed(cpuBefore, await stackCpuSeconds(stack.workDir), seconds);
    clearInterval(sampler);
    // the kernel's own high-water mark: a peak between two samples
    const hwmKb = await residentKb(pid, 'VmHWM');
    await context.temporal.workflow.getHandle(replayWorkflowId(created.id)).result();
    const partitions = Number(
      (
        await pool.query('SELECT count(*)::int AS n FROM replay_partitions WHERE execution_id = $1', [
          created.id,
        ])
      ).rows[0].n,
    );
    return {
      id: created.id,
      seconds,
      listed: record.listed_count,
      published: record.published_count,
      partitions,
      worker_start_rss_mb: mb(startRssKb),
      worker_peak_rss_mb: mb(Math.max(peakRssKb, hwmKb)),
      worker_sampled_peak_rss_mb: mb(peakRssKb),
      workflows_worker_peak_rss_mb: mb(workflowsPeakKb),
      cores_used: cores,
    };
  } finally {
    clearInterval(sampler);
  }
}

/** The pid of the stack's workflows worker (worker.ts with WORKER_ROLES=workflows), from /proc. */
async function stackPids(workDir: string): Promise<{ workflows?: number }> {
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const environ = await readFile(`/proc/${entry}/environ`, 'utf8').catch(() => '');
    if (!environ.includes('WORKER_ROLES=workflows')) continue;
    const commandLine = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    if (commandLine.includes('worker.ts') && environ.includes(workDir)) return { workflows: Number(entry) };
  }
  return {};
}

/** Every key the replay published, read back from the route queue (pg-boss). */
async function publishedKeys(context: SelectionContext, executionId: string): Promise<string[]> {
  const schema = context.stack.config.PGBOSS_SCHEMA;
  const { rows } = await context.pool.query<{ key: string }>(
    `SELECT data->'object'->>'key' AS key FROM ${schema}.job WHERE name = $1 AND data->>'execution_id' = $2
     UNION ALL
     SELECT data->'object'->>'key' AS key FROM ${schema}.archive WHERE name = $1 AND data->>'execution_id' = $2`,
    [ROUTE, executionId],
  );
  return rows.map((row) => row.key);
}

/** Whether the published keys are exactly the inputs without outputs (every odd index below N). */
function checkPublished(keys: string[], inputFolder: string, objects: number): string[] {
  const problems: string[] = [];
  const seen = new Set<number>();
  for (const key of keys) {
    const match = /^part-(\d{5})\/doc-(\d{4})\.json$/.exec(key.slice(inputFolder.length));
    const index = match ? Number(match[1]) * 1000 + Number(match[2]) : Number.NaN;
    if (!key.startsWith(inputFolder) || !match || index >= objects) problems.push(`not an input: ${key}`);
    else if (answered(index)) problems.push(`has an output: ${key}`);
    else if (seen.has(index)) problems.push(`twice: ${key}`);
    seen.add(index);
    if (problems.length >= 10) break;
  }
  const expected = Math.floor(objects / 2);
  if (problems.length === 0 && seen.size !== expected)
    problems.push(`${seen.size} distinct inputs published, ${expected} expected`);
  return problems;
}

export interface SelectionOptions {
  objects: number;
  /** Added to every S3 request (listings and replays) by a proxy; 0: none. */
  listLatencyMs: number;
  /** REPLAY_MAX_PARTITIONS (and in flight) of both replays; undefined: the stack's default. */
  partitions?: number;
}

export async function runSelection(context: SelectionContext, options: SelectionOptions) {
  const { stack } = context;
  const reshaped = options.listLatencyMs > 0 || options.partitions !== undefined;
  const proxy =
    options.listLatencyMs > 0
      ? await startLatencyProxy(stack.config.S3_ENDPOINT!, options.listLatencyMs)
      : undefined;
  const store = proxy
    ? new ObjectStore({
        ...objectStoreOptionsFromConfig(stack.config),
        endpoint: proxy.url,
        requestTimeoutMs: 120_000,
      })
    : context.store;
  const topologyEnv = reshaped
    ? {
        ...(proxy ? { S3_ENDPOINT: proxy.url } : {}),
        ...(options.partitions === undefined
          ? {}
          : {
              REPLAY_MAX_PARTITIONS: String(options.partitions),
              REPLAY_PARTITIONS_IN_FLIGHT: String(options.partitions),
            }),
      }
    : undefined;
  try {
    return await measureSelection(context, options, store, topologyEnv);
  } finally {
    if (proxy) {
      store.close();
      await proxy.close();
    }
  }
}

async function measureSelection(
  context: SelectionContext,
  options: SelectionOptions,
  store: ObjectStore,
  topologyEnv: Record<string, string> | undefined,
) {
  const { stack, log } = context;
  const objects = options.objects;
  const parent = await context.post('/api/v1/executions', { config_id: context.configId });
  const inputFolder = stageFolder(stack.config.S3_PREFIX, parent.id, STAGE);
  const outputFolder = stageFolder(stack.config.S3_PREFIX, parent.id, OUTPUT_STAGE);
  log(`selection: seeding ${objects} inputs`);
  if (stack.bucketDir) await seedOnDisk(stack.bucketDir, inputFolder, 0, objects);
  else await seedThroughS3(context.store, inputFolder, 0, objects);
  log('selection: seeding the outputs of every second input');
  const outputKeys = await seedOutputs(context, outputFolder, objects);
  const expected = Math.floor(objects / 2);

  log(`selection: ${outputKeys} output keys; listing each stage`);
  const inputListing = await measureListing(store, inputFolder);
  const outputListing = await measureListing(store, outputFolder);
  if (inputListing.keys !== objects || outputListing.keys !== outputKeys)
    throw new Error(`listed ${inputListing.keys} inputs, ${outputListing.keys} outputs`);
  log(
    `selection: inputs list at ${inputListing.keysPerSecond.toFixed(0)} keys/s, outputs at ${outputListing.keysPerSecond.toFixed(0)} keys/s; the merge alone`,
  );
  const merge = await mergeAlone(store, inputFolder, outputFolder);
  if (merge.missing !== expected)
    throw new Error(`the merge alone found ${merge.missing} missing, ${expected} expected`);
  log(`selection: the merge alone examines ${merge.inputsPerSecond.toFixed(0)} inputs/s; the plain replay`);

  const plain = await replay(context, parent.id, 'all', topologyEnv);
  if (plain.published !== objects)
    throw new Error(`the plain replay published ${plain.published} of ${objects}`);
  log(`selection: plain ${JSON.stringify(plain)}; the missing_outputs replay`);
  const missing = await replay(context, parent.id, 'missing_outputs', topologyEnv);
  const keys = await publishedKeys(context, missing.id);
  const problems = checkPublished(keys, inputFolder, objects);
  if (missing.published !== expected || keys.length !== expected || problems.length > 0) {
    throw new Error(
      `missing_outputs published ${missing.published} (${keys.length} in the queue), ${expected} expected: ${problems.join('; ')}`,
    );
  }
  log(`selection: missing_outputs ${JSON.stringify(missing)}`);

  const round = (value: number, digits: number) => Math.round(value * 10 ** digits) / 10 ** digits;
  const plainRate = objects / plain.seconds;
  const examinedRate = objects / missing.seconds;
  const inputListSeconds = objects / inputListing.keysPerSecond;
  const outputListSeconds = outputKeys / outputListing.keysPerSecond;
  const { id: plainId, ...plainRow } = plain;
  const { id: missingId, ...missingRow } = missing;
  void plainId;
  void missingId;
  const row = {
    objects,
    store: stack.store,
    page_size: Number(stack.config.REPLAY_PAGE_SIZE),
    list_latency_ms: options.listLatencyMs,
    max_partitions: options.partitions ?? Number(stack.config.REPLAY_MAX_PARTITIONS),
    worker_processes: topologyEnv ? 'one, both task queues' : 'a process per role',
    output_match: 'stem',
    inputs_with_outputs: objects - expected,
    output_keys: outputKeys,
    input_list_keys_per_s: Math.round(inputListing.keysPerSecond),
    output_list_keys_per_s: Math.round(outputListing.keysPerSecond),
    // the two listings, each at its own rate, against the input listing alone
    listing_seconds_one: round(inputListSeconds, 2),
    listing_seconds_two: round(inputListSeconds + outputListSeconds, 2),
    merge_alone_inputs_per_s: Math.round(merge.inputsPerSecond),
    plain: { ...plainRow, seconds: round(plain.seconds, 2), msgs_per_s: Math.round(plainRate) },
    missing_outputs: {
      ...missingRow,
      seconds: round(missing.seconds, 2),
      inputs_examined_per_s: Math.round(examinedRate),
      msgs_per_s: Math.round(missing.published / missing.seconds),
      expected,
      published_keys_checked: keys.length,
    },
    examined_vs_plain: round(examinedRate / plainRate, 3),
    examined_vs_plain_target: 0.7,
    rss_vs_plain: round(missing.worker_peak_rss_mb / plain.worker_peak_rss_mb, 3),
    rss_vs_plain_target: 1.1,
  };
  log(JSON.stringify(row));
  return row;
}
