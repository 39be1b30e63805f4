/**
 * `npm run bench`: the benchmark suites, each on a stack of its own, each writing its section of
 * bench/results.json (the other sections are kept) and the tables of bench/RESULTS.md.
 *
 * - throughput: seeds N stored objects, then in one run measures the store's listing rate, a plain
 *   loop baseline (list + insert the same messages into the same queue, no workflow) and the replay
 *   through the api, worker and Temporal; then `POST .../replay` latency at 1, 10 and 50 concurrent
 *   clients (a closed loop).
 * - capacity (bench/capacity.ts): open-loop start rates beside the bare ceiling, starts beside a
 *   large replay, recovery after a worker SIGKILL, a bulk replay, the per-replay cost.
 * - partitioned (bench/partitioned.ts, not in the default run): one large replay by partitions and
 *   worker processes, with a latency in front of the store, beside the store's and the queue's
 *   ceilings.
 * - cluster (bench/cluster.ts, not in the default run): in one run, on the dev server stack and then
 *   on the Temporal cluster's (four services, Postgres persistence, mTLS): the capacity suite's start
 *   rates with each process's CPU per start, and one replay of --cluster-objects (1,000,000) with its
 *   CPU per message; written to the `cluster` part of results.json.
 * - selection (bench/selection.ts, not in the default run): issue 21's `select: "missing_outputs"`
 *   on N inputs with outputs for half of them, against a plain replay of the same stage: inputs
 *   examined per second and the publish worker's peak RSS, each stage's bare listing rate and the
 *   merge of the two listings alone (1,000,000 inputs unless --objects).
 *
 *   npm run bench                                   # both suites, default sizes
 *   npm run bench -- --suite throughput --objects 20000 --out /tmp/one.json
 *   npm run bench -- --suite throughput --large     # adds 1,000,000
 *   npm run bench -- --suite capacity --start-rates 5,10,20,40 --step-seconds 15
 *   npm run bench -- --suite partitioned --objects 1000000 --partitions 1,4,8 --list-latency-ms 200 --workers 1,2,4
 *   npm run bench -- --suite selection --objects 1000000
 *   npm run bench -- --suite selection --objects 100000 --selection-list-latency-ms 20 --selection-partitions 1
 *                                                   # through a latency proxy, one partition: the
 *                                                   # `selection_reshaped` part of results.json
 *   npm run bench -- --suite cluster                # dev server, then cluster, in one run
 *   npm run bench -- --suite cluster --cluster-objects 100000 --cluster-start-rates 5,10,20
 *   npm run bench -- --suite capacity --temporal cluster
 *                                                   # any suite on the cluster (its section says so)
 *   npm run bench -- --store s3rver                 # the embedded dev store instead of versitygw
 *   npm run bench -- --worker-roles together        # one worker process polling both task queues
 *                                                   # (default: a process per role, as npm run dev)
 *   npm run bench -- --transport kafka              # the throughput suite into Kafka (or sqs:
 *                                                   # ElasticMQ) against a plain produce loop into
 *                                                   # it; 100,000 objects unless --objects; written
 *                                                   # to the `transports` part of results.json
 *   npm run bench -- --transport kafka-sasl         # the same into Kafka over its SASL_SSL listener
 *                                                   # (SCRAM-SHA-512, TLS): the replay against a
 *                                                   # plain produce loop over that listener, each
 *                                                   # first over the plaintext one in the same run
 *                                                   # (the cost of SASL_SSL); `transports.kafka_sasl_ssl`
 */
import { execFileSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Client } from '@temporalio/client';
import type pg from 'pg';
import { parseConfig, publishTaskQueueOf } from '../adapters/config.ts';
import { createPool } from '../adapters/database.ts';
import { ObjectStore, objectStoreOptionsFromConfig } from '../adapters/object-store.ts';
import { createLogger } from '../adapters/logger.ts';
import { createRouteTransport, type RouteTransport } from '../adapters/route-transport.ts';
import { stageFolder } from '../adapters/storage-paths.ts';
import { connectTemporalClient } from '../adapters/temporal-connection.ts';
import { sleep } from '../adapters/sleep.ts';
import { measureReplayLatency, profileFirstTasks, type LatencyRow } from './api-latency.ts';
import { startBenchStack, type BenchStack } from './bench-stack.ts';
import { runCapacity } from './capacity.ts';
import { runClusterSide } from './cluster.ts';
import { coresUsed, cpuUsPerMessage, stackCpuSeconds } from './process-cpu.ts';
import { runPartitioned } from './partitioned.ts';
import { runSelection } from './selection.ts';
import {
  measureListing,
  OUTPUT_STAGE,
  ROUTE,
  runBaseline,
  runReplay,
  seedOnDisk,
  seedThroughS3,
  STAGE,
} from './measure.ts';
import { findVersityGw } from '../scripts/stack/versitygw.ts';
import { writeResultsMarkdown } from './report.ts';

// the AWS SDK's notice that its 2027 releases need Node 22 is noise in the report
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const { values } = parseArgs({
  options: {
    objects: { type: 'string', multiple: true },
    large: { type: 'boolean', default: false },
    out: { type: 'string' },
    store: { type: 'string', default: 'versitygw' },
    'skip-latency': { type: 'boolean', default: false },
    'page-size': { type: 'string' },
    suite: { type: 'string', default: 'throughput,capacity' },
    'start-rates': { type: 'string', default: '5,10,15,20,25,30,40' },
    'idle-requests': { type: 'string', default: '100' },
    'step-seconds': { type: 'string', default: '15' },
    'big-objects': { type: 'string', default: '1000000' },
    'load-rates': { type: 'string', default: '5' },
    'recovery-objects': { type: 'string', default: '200000' },
    'bulk-parents': { type: 'string', default: '1000' },
    'bulk-max-concurrent': { type: 'string', default: '10' },
    'cost-sizes': { type: 'string', default: '10,1000,100000' },
    transport: { type: 'string', default: 'pgboss' },
    partitions: { type: 'string', default: '1,4,8' },
    workers: { type: 'string', default: '1,2,4' },
    'list-latency-ms': { type: 'string', default: '200' },
    // the selection suite: a latency before every S3 request (0: none) and the replays' partitions
    'selection-list-latency-ms': { type: 'string', default: '0' },
    'selection-partitions': { type: 'string' },
    // as `npm run dev` runs them: a worker process per role; `together`: one process with both
    'worker-roles': { type: 'string', default: 'split' },
    // one size again on the store npm run dev starts (0: skip); default: the largest size above
    'default-store-objects': { type: 'string' },
    // the Temporal the suites run on: dev (the dev server) or cluster (scripts/stack/temporal-cluster.ts)
    temporal: { type: 'string', default: 'dev' },
    // the cluster suite: its start rates and the size of its large replay (0: skip it)
    'cluster-start-rates': { type: 'string', default: '5,10,15,20,25,30' },
    'cluster-objects': { type: 'string', default: '1000000' },
  },
});
// kafka-sasl: the kafka transport, measured over the broker's SASL_SSL listener (and its plaintext one)
const transportArg = values.transport as 'pgboss' | 'kafka' | 'kafka-sasl' | 'sqs';
if (!['pgboss', 'kafka', 'kafka-sasl', 'sqs'].includes(transportArg))
  throw new Error('--transport is pgboss, kafka, kafka-sasl or sqs');
const transport = transportArg === 'kafka-sasl' ? 'kafka' : transportArg;
/** The target for a replay over SASL_SSL against a plain produce loop over the same listener. */
const KAFKA_SASL_SSL_TARGET = 0.8;
const temporalKind = values.temporal as 'dev' | 'cluster';
if (temporalKind !== 'dev' && temporalKind !== 'cluster')
  throw new Error(`--temporal is dev or cluster, not ${values.temporal}`);
const numbers = (list: string) => list.split(',').filter(Boolean).map(Number);
const suites = new Set(values.suite.split(','));
const workerRoles = values['worker-roles'];
if (workerRoles !== 'split' && workerRoles !== 'together')
  throw new Error(`--worker-roles is split or together, not ${workerRoles}`);

const defaultSizes = transport === 'pgboss' ? [10_000, 100_000] : [100_000];
const sizes = (values.objects?.flatMap((item) => item.split(',')).map(Number) ?? defaultSizes).concat(
  values.large ? [1_000_000] : [],
);
const out = values.out ?? path.join(import.meta.dirname, 'results.json');
const log = (line: string) => process.stderr.write(`[bench] ${line}\n`);

function commit(): string {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

interface Stacked {
  stack: BenchStack;
  pool: pg.Pool;
  routeTransport: RouteTransport;
  store: ObjectStore;
  temporal: Client;
  configId: string;
  post(route: string, body: unknown): Promise<{ id: string }>;
}

const PIPELINE = {
  name: 'bench',
  stages: ['markdown', STAGE, OUTPUT_STAGE],
  routes: [
    { name: 'markdown_segmenter', input_stage: 'markdown', output_stage: STAGE },
    // output_match: stem (the default), which the selection suite's missing_outputs reads
    { name: ROUTE, input_stage: STAGE, output_stage: OUTPUT_STAGE },
  ],
  entry_route: 'markdown_segmenter',
};

const versitygw = values.store === 'versitygw' ? await findVersityGw(log) : undefined;
if (values.store === 'versitygw' && !versitygw)
  log('versitygw unavailable: falling back to s3rver (slow past ~20,000 keys)');

/** A fresh stack for one suite: measurements of one suite never see another's data. */
async function withStack<T>(
  work: (stacked: Stacked) => Promise<T>,
  stackOptions: { defaultStore?: boolean; temporal?: 'dev' | 'cluster' } = {},
): Promise<T> {
  const stack = await startBenchStack({
    temporal: temporalKind,
    ...stackOptions,
    versitygw,
    log,
    pageSize: values['page-size'],
    transport,
    splitRoles: workerRoles === 'split',
  });
  log(`stack ready in ${stack.workDir} (store: ${stack.store}, Temporal: ${stack.temporal})`);
  // the stack's processes run in process groups of their own: an interrupted bench stops them
  const interrupted = (signal: NodeJS.Signals) => {
    log(`${signal}: stopping the stack`);
    void stack.close().finally(() => process.exit(130));
  };
  process.once('SIGINT', interrupted).once('SIGTERM', interrupted);
  const pool = createPool({
    url: stack.config.DATABASE_URL,
    schema: stack.config.DATABASE_SCHEMA,
    poolMax: 4,
    applicationName: 'bench',
  });
  const routeTransport = createRouteTransport(stack.config, pool, createLogger('warn', { process: 'bench' }));
  const store = new ObjectStore({ ...objectStoreOptionsFromConfig(stack.config), requestTimeoutMs: 120_000 });
  const connection = await connectTemporalClient(stack.config.temporal);
  const temporal = new Client({ connection, namespace: stack.config.TEMPORAL_NAMESPACE });
  const post = async (route: string, body: unknown) => {
    const response = await fetch(`${stack.apiUrl}${route}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${stack.apiKey}` },
      body: JSON.stringify(body),
    });
    if (response.status >= 300) throw new Error(`${route}: ${response.status} ${await response.text()}`);
    return (await response.json()) as { id: string };
  };
  try {
    await routeTransport.start();
    const configId = (await post('/api/v1/configs', PIPELINE)).id;
    return await work({ stack, pool, routeTransport, store, temporal, configId, post });
  } finally {
    await routeTransport.close().catch(() => {});
    await pool.end().catch(() => {});
    store.close();
    await connection.close().catch(() => {});
    await stack.close();
    process.off('SIGINT', interrupted).off('SIGTERM', interrupted);
  }
}

/**
 * One size of the throughput suite: the store's rates, the plain loop and the replay, in one run; the
 * replay's CPU per message of each process, and `counters` (the cluster suite's Postgres) per 1,000.
 */
async function measureSize(
  { stack, pool, routeTransport, store, temporal, configId, post }: Stacked,
  objects: number,
  counters?: () => Promise<Record<string, number>>,
) {
  const parent = await post('/api/v1/executions', { config_id: configId });
  const folder = stageFolder(stack.config.S3_PREFIX, parent.id, STAGE);
  log(`${objects}: seeding`);
  // the store's PUT rate from a sample; the rest on disk where the store allows it (versitygw)
  const sample = Math.min(objects, 2000);
  const seedRate = await seedThroughS3(store, folder, 0, sample);
  if (stack.bucketDir) await seedOnDisk(stack.bucketDir, folder, sample, objects);
  else await seedThroughS3(store, folder, sample, objects);
  log(`${objects}: S3 PUT rate ${seedRate.toFixed(0)} objects/s; listing`);
  const listing = await measureListing(store, folder);
  log(`${objects}: listing ${listing.keysPerSecond.toFixed(0)} keys/s; baseline`);
  await routeTransport.ensureRoute(ROUTE);
  // the cores each process kept busy in each step (the plain loop runs in the bench process)
  const cpuBeforeBaseline = await stackCpuSeconds(stack.workDir);
  const baselineStarted = performance.now();
  const baseline = await runBaseline({
    store,
    pool,
    routeTransport,
    folder,
    parentId: parent.id,
    configId,
  });
  const baselineCores = coresUsed(
    cpuBeforeBaseline,
    await stackCpuSeconds(stack.workDir),
    (performance.now() - baselineStarted) / 1000,
  );
  log(`${objects}: baseline ${(baseline.messages / baseline.seconds).toFixed(0)} msgs/s; replay`);
  const cpuBefore = await stackCpuSeconds(stack.workDir);
  const countersBefore = await counters?.();
  const replayStarted = performance.now();
  const replay = await runReplay({
    apiUrl: stack.apiUrl,
    apiKey: stack.apiKey,
    pool,
    temporal,
    parentId: parent.id,
    workerPid: stack.worker.child.pid!,
    expected: objects,
  });
  // read after runReplay's history fetch: its CPU (a few ms a run) is counted with the replay's
  const cpuAfter = await stackCpuSeconds(stack.workDir);
  const countersAfter = await counters?.();
  // over the wall time, the history fetch's mostly idle cores included
  const replayCores = coresUsed(cpuBefore, cpuAfter, (performance.now() - replayStarted) / 1000);
  if (replay.published !== objects || baseline.messages !== objects) {
    throw new Error(`published ${replay.published} (replay) / ${baseline.messages} (baseline) of ${objects}`);
  }
  const row = {
    objects,
    replay_seconds: round(replay.seconds, 2),
    replay_msgs_per_s: round(objects / replay.seconds, 0),
    baseline_seconds: round(baseline.seconds, 2),
    baseline_msgs_per_s: round(objects / baseline.seconds, 0),
    ratio: round(objects / replay.seconds / (objects / baseline.seconds), 3),
    store_list_keys_per_s: round(listing.keysPerSecond, 0),
    store_seed_objects_per_s: round(seedRate, 0),
    first_message_ms: round(replay.firstMessageMs, 0),
    worker_peak_rss_mb: round(replay.peakRssMb, 1),
    max_history_events: replay.maxHistoryEvents,
    page_size: Number(stack.config.REPLAY_PAGE_SIZE),
    ...replay.profile,
    baseline_cores: baselineCores,
    replay_cores: replayCores,
    replay_cpu_us_per_msg: cpuUsPerMessage(cpuBefore, cpuAfter, objects),
    replay_cores_used: coresUsed(cpuBefore, cpuAfter, replay.seconds),
    ...(countersBefore && countersAfter
      ? {
          postgres_per_1000_msgs: Object.fromEntries(
            Object.entries(countersAfter).map(([name, value]) => [
              name,
              round(((value - (countersBefore[name] ?? 0)) / objects) * 1000, 2),
            ]),
          ),
        }
      : {}),
  };
  log(JSON.stringify(row));
  return row;
}

async function throughputSuite(stacked: Stacked) {
  const { stack, store, temporal, post, configId } = stacked;
  const runs = [];
  const latency: LatencyRow[] = [];
  for (const objects of sizes) runs.push(await measureSize(stacked, objects));

  // the api's latency does not depend on the transport: measured with the default one
  if (!values['skip-latency'] && transport === 'pgboss') {
    const parent = await post('/api/v1/executions', { config_id: configId });
    await seedThroughS3(store, stageFolder(stack.config.S3_PREFIX, parent.id, STAGE), 0, 10);
    for (const [concurrency, requests] of [
      [1, 100],
      [10, 400],
      [50, 1000],
    ] as const) {
      log(`latency at ${concurrency} concurrent clients`);
      const since = new Date();
      const row = await measureReplayLatency(stack.apiUrl, stack.apiKey, parent.id, concurrency, requests);
      latency.push({ ...row, ...(await profileFirstTasks(temporal, since)) });
    }
  }
  return { store: stack.store, runs, api_latency: latency };
}

/** Waits until each of these worker processes polls its task queue (workflow tasks or publishing). */
async function workersPolling(temporal: Client, config: BenchStack['config'], pids: number[]): Promise<void> {
  const queues = [
    { name: config.TEMPORAL_TASK_QUEUE, taskQueueType: 1 }, // TASK_QUEUE_TYPE_WORKFLOW
    { name: publishTaskQueueOf(config), taskQueueType: 2 }, // TASK_QUEUE_TYPE_ACTIVITY
  ];
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    const identities: string[] = [];
    for (const { name, taskQueueType } of queues) {
      const { pollers } = await temporal.workflowService.describeTaskQueue({
        namespace: config.TEMPORAL_NAMESPACE,
        taskQueue: { name },
        taskQueueType,
      });
      identities.push(...(pollers ?? []).map((poller) => poller.identity ?? ''));
    }
    if (pids.every((pid) => identities.some((identity) => identity.startsWith(`${pid}@`)))) return;
    await sleep(200);
  }
  throw new Error(`worker processes ${pids.join(', ')} are not polling`);
}

/**
 * The Kafka transport over the broker's SASL_SSL listener (SCRAM-SHA-512, TLS): each size's replay
 * and plain produce loop first over the plaintext listener, then, with the api and the workers
 * started again with the SASL_SSL settings, over that listener, the loop through the same adapter
 * built from the same settings. Fresh processes for both, so that neither side is warmer.
 */
async function kafkaSaslSslSuite(stacked: Stacked) {
  const { stack, pool, temporal } = stacked;
  const saslEnv = stack.kafkaSaslSslEnv;
  if (!saslEnv) throw new Error('the Kafka broker has no SASL_SSL listener (see the bench log)');
  const restartApps = async (env: Record<string, string>) => {
    const workers = await stack.setAppEnv(env);
    await workersPolling(
      temporal,
      stack.config,
      workers.map((worker) => worker.child.pid!),
    );
  };
  log('kafka: the api and the workers on the plaintext listener');
  await restartApps({});
  const plaintextRuns = [];
  for (const objects of sizes) plaintextRuns.push(await measureSize(stacked, objects));
  log(`kafka: the api and the workers on the SASL_SSL listener (${saslEnv.KAFKA_BROKERS})`);
  await restartApps(saslEnv);
  const saslConfig = parseConfig({ ...stack.env, ...saslEnv });
  const saslTransport = createRouteTransport(saslConfig, pool, createLogger('warn', { process: 'bench' }));
  await saslTransport.start();
  const runs = [];
  try {
    for (const objects of sizes)
      runs.push(await measureSize({ ...stacked, routeTransport: saslTransport }, objects));
  } finally {
    await saslTransport.close().catch(() => {});
  }
  // the figure: the largest size
  const largest = runs.at(-1)!;
  return {
    store: stack.store,
    broker: `${stack.broker}, SASL_SSL listener: SCRAM-SHA-512, TLS with the broker's own CA`,
    replay_msgs_per_s: largest.replay_msgs_per_s,
    produce_loop_msgs_per_s: largest.baseline_msgs_per_s,
    ratio: largest.ratio,
    target: KAFKA_SASL_SSL_TARGET,
    target_met: largest.ratio >= KAFKA_SASL_SSL_TARGET,
    runs,
    api_latency: [],
    // the same sizes over the plaintext listener, in this run, on this stack
    plaintext_runs: plaintextRuns,
  };
}

// each suite replaces its own section of the results; the others (and other suites' runs) stay
const results: Record<string, unknown> = JSON.parse(await readFile(out, 'utf8').catch(() => '{}'));
// results of the first version kept one suite at the top level
if (results.runs) {
  const { date, commit: at, store, runs, api_latency } = results;
  results.throughput = { date, commit: at, store, runs, api_latency };
  for (const key of ['date', 'commit', 'store', 'runs', 'api_latency']) delete results[key];
}
results.machine = `${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ${os.cpus()[0]?.model ?? 'cpu'}, Node ${process.version}`;
const stamp = () => ({
  date: new Date().toISOString(),
  commit: commit(),
  worker_roles: workerRoles,
  // a suite run on the cluster says so (the cluster suite runs both, each part saying which)
  ...(temporalKind === 'cluster' ? { temporal: 'cluster' } : {}),
});
if (transportArg === 'kafka-sasl') {
  // its own row beside the plaintext Kafka one, which it leaves as it is
  const transports = (results.transports ?? {}) as Record<string, unknown>;
  transports.kafka_sasl_ssl = { ...stamp(), ...(await withStack(kafkaSaslSslSuite)) };
  results.transports = transports;
} else if (transport !== 'pgboss') {
  // a run of one broker transport: its rows, beside the others'
  const transports = (results.transports ?? {}) as Record<string, unknown>;
  transports[transport] = {
    ...stamp(),
    ...(await withStack(async (stacked) => ({
      ...(await throughputSuite(stacked)),
      broker: stacked.stack.broker,
    }))),
  };
  results.transports = transports;
} else if (suites.has('throughput')) {
  const measured = await withStack(throughputSuite);
  // what a new user meets: one size again, on a fresh stack with the store npm run dev starts
  const defaultStoreObjects = Number(values['default-store-objects'] ?? Math.max(...sizes));
  const defaultStore =
    defaultStoreObjects > 0
      ? await withStack(
          async (stacked) => ({
            store: stacked.stack.store,
            run: await measureSize(stacked, defaultStoreObjects),
            // the suite's run of that size in this run: the figure the default store is held to
            suite_run: measured.runs.find((run) => run.objects === defaultStoreObjects),
          }),
          { defaultStore: true },
        )
      : undefined;
  results.throughput = { ...stamp(), ...measured, default_store: defaultStore };
}
if (suites.has('partitioned') && transport === 'pgboss') {
  const measured = await withStack((stacked) =>
    runPartitioned(
      { ...stacked, log },
      {
        objects: values.objects ? numbers(values.objects.join(','))[0]! : 1_000_000,
        partitions: numbers(values.partitions),
        workers: numbers(values.workers),
        listLatencyMs: numbers(values['list-latency-ms']),
      },
    ),
  );
  // rows of other latencies or topologies, measured by earlier runs, stay
  const key = (row: Record<string, unknown>) =>
    [row.objects, row.partitions, row.workers, row.list_latency_ms].join('/');
  const fresh = new Set(measured.rows.map(key));
  const earlier = (
    (results.partitioned as { rows?: Record<string, unknown>[] } | undefined)?.rows ?? []
  ).filter((row) => !fresh.has(key(row)));
  results.partitioned = { ...stamp(), rows: [...earlier, ...measured.rows] };
}
if (suites.has('selection') && transport === 'pgboss') {
  const listLatencyMs = Number(values['selection-list-latency-ms']);
  const partitions = values['selection-partitions'] ? Number(values['selection-partitions']) : undefined;
  // a run through a latency or with other partitions is its own section: the plain one stays
  const section = listLatencyMs > 0 || partitions !== undefined ? 'selection_reshaped' : 'selection';
  results[section] = {
    ...stamp(),
    ...(await withStack((stacked) =>
      runSelection(
        { ...stacked, log },
        {
          objects: values.objects ? numbers(values.objects.join(','))[0]! : 1_000_000,
          listLatencyMs,
          partitions,
        },
      ),
    )),
  };
}
if (suites.has('cluster') && transport === 'pgboss') {
  const options = {
    idleRequests: Number(values['idle-requests']),
    rates: numbers(values['cluster-start-rates']),
    stepSeconds: Number(values['step-seconds']),
    objects: Number(values['cluster-objects']),
    idleSeconds: 15,
  };
  const sides: Record<string, unknown> = {};
  // the dev server first, then the cluster, each on a fresh stack, one after the other on this machine
  for (const kind of ['dev', 'cluster'] as const) {
    log(`cluster suite: on the ${kind === 'dev' ? 'dev server' : 'cluster'}`);
    sides[kind] = await withStack(
      (stacked) =>
        runClusterSide({ ...stacked, log }, options, (objects, counters) =>
          measureSize(stacked, objects, counters),
        ),
      { temporal: kind },
    );
  }
  const { temporal: _temporal, ...stamped } = stamp();
  results.cluster = {
    ...stamped,
    objects: options.objects,
    ...sides,
  };
}
if (suites.has('capacity') && transport === 'pgboss') {
  results.capacity = {
    ...stamp(),
    ...(await withStack((stacked) =>
      runCapacity(
        { ...stacked, log },
        {
          idleRequests: Number(values['idle-requests']),
          rates: numbers(values['start-rates']),
          stepSeconds: Number(values['step-seconds']),
          bigObjects: Number(values['big-objects']),
          loadRates: numbers(values['load-rates']),
          recoveryObjects: Number(values['recovery-objects']),
          bulkParents: Number(values['bulk-parents']),
          bulkMaxConcurrent: Number(values['bulk-max-concurrent']),
          costSizes: numbers(values['cost-sizes']),
        },
      ),
    )),
  };
}
await writeFile(out, `${JSON.stringify(results, null, 2)}\n`);
log(`wrote ${out}`);
if (!values.out) await writeResultsMarkdown(results, path.join(import.meta.dirname, 'RESULTS.md'));

function round(value: number, digits: number): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}
