/**
 * `npm run bench`: seeds N stored objects, then in one run measures the store's listing rate, a
 * plain loop baseline (list + insert the same messages into the same queue, no workflow) and the
 * replay through the api, worker and Temporal; then `POST .../replay` latency at 1, 10 and 50
 * concurrent clients. Writes bench/results.json and bench/RESULTS.md (or --out FILE).
 *
 *   npm run bench                        # 10,000 and 100,000 objects
 *   npm run bench -- --objects 20000 --out /tmp/one.json
 *   npm run bench -- --large             # adds 1,000,000
 *   npm run bench -- --store s3rver      # the embedded dev store instead of versitygw
 *   npm run bench -- --transport kafka   # replay into Kafka (or sqs: ElasticMQ) against a plain
 *                                        # produce loop into it; 100,000 objects unless --objects;
 *                                        # written to the `transports` part of results.json
 */
import { execFileSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { createPool } from '../adapters/database.ts';
import { ObjectStore, objectStoreOptionsFromConfig } from '../adapters/object-store.ts';
import { createLogger } from '../adapters/logger.ts';
import { createRouteTransport } from '../adapters/route-transport.ts';
import { stageFolder } from '../adapters/storage-paths.ts';
import { measureReplayLatency, profileFirstTasks, type LatencyRow } from './api-latency.ts';
import { startBenchStack } from './bench-stack.ts';
import {
  measureListing,
  ROUTE,
  runBaseline,
  runReplay,
  seedOnDisk,
  seedThroughS3,
  STAGE,
} from './measure.ts';
import { findVersityGw } from './versitygw-binary.ts';
import { writeResultsMarkdown, type TransportResults } from './report.ts';

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
    transport: { type: 'string', default: 'pgboss' },
  },
});

const transport = values.transport as 'pgboss' | 'kafka' | 'sqs';
if (!['pgboss', 'kafka', 'sqs'].includes(transport)) {
  process.stderr.write('--transport must be pgboss, kafka or sqs\n');
  process.exit(2);
}
const defaultSizes = transport === 'pgboss' ? [10_000, 100_000] : [100_000];
const sizes = (values.objects?.flatMap((item) => item.split(',')).map(Number) ?? defaultSizes).concat(
  values.large ? [1_000_000] : [],
);
// the api's latency does not depend on the transport: measured with the default one
if (transport !== 'pgboss') values['skip-latency'] = true;
const out = values.out ?? path.join(import.meta.dirname, 'results.json');
const log = (line: string) => process.stderr.write(`[bench] ${line}\n`);

function commit(): string {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

async function api(apiUrl: string, route: string, body: unknown) {
  const response = await fetch(`${apiUrl}${route}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${stack.apiKey}` },
    body: JSON.stringify(body),
  });
  if (response.status >= 300) throw new Error(`${route}: ${response.status} ${await response.text()}`);
  return (await response.json()) as { id: string };
}

const versitygw = values.store === 'versitygw' ? await findVersityGw(log) : undefined;
if (values.store === 'versitygw' && !versitygw)
  log('versitygw unavailable: falling back to s3rver (slow past ~20,000 keys)');
const stack = await startBenchStack({ versitygw, log, pageSize: values['page-size'], transport });
log(`stack ready in ${stack.workDir} (store: ${stack.store})`);
const pool = createPool({
  url: stack.config.DATABASE_URL,
  schema: stack.config.DATABASE_SCHEMA,
  poolMax: 4,
  applicationName: 'bench',
});
const routeTransport = createRouteTransport(stack.config, pool, createLogger('warn', { process: 'bench' }));
await routeTransport.start();
const store = new ObjectStore({ ...objectStoreOptionsFromConfig(stack.config), requestTimeoutMs: 120_000 });
const connection = await Connection.connect({ address: stack.config.TEMPORAL_ADDRESS });
const temporal = new Client({ connection });

const runs = [];
const latency: LatencyRow[] = [];
try {
  const config = await api(stack.apiUrl, '/api/v1/configs', {
    name: 'bench',
    stages: ['markdown', STAGE, 'embeddings'],
    routes: [
      { name: 'markdown_segmenter', input_stage: 'markdown', output_stage: STAGE },
      { name: 'embedding_generator', input_stage: STAGE, output_stage: 'embeddings' },
    ],
    entry_route: 'markdown_segmenter',
  });

  for (const objects of sizes) {
    const parent = await api(stack.apiUrl, '/api/v1/executions', { config_id: config.id });
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
    const baseline = await runBaseline({
      store,
      pool,
      routeTransport,
      folder,
      parentId: parent.id,
      configId: config.id,
    });
    log(`${objects}: baseline ${(baseline.messages / baseline.seconds).toFixed(0)} msgs/s; replay`);
    const replay = await runReplay({
      apiUrl: stack.apiUrl,
      apiKey: stack.apiKey,
      pool,
      temporal,
      parentId: parent.id,
      workerPid: stack.worker.child.pid!,
      expected: objects,
    });
    if (replay.published !== objects || baseline.messages !== objects) {
      throw new Error(
        `published ${replay.published} (replay) / ${baseline.messages} (baseline) of ${objects}`,
      );
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
    };
    log(JSON.stringify(row));
    runs.push(row);
  }

  if (!values['skip-latency']) {
    const parent = await api(stack.apiUrl, '/api/v1/executions', { config_id: config.id });
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
} finally {
  await routeTransport.close().catch(() => {});
  await pool.end().catch(() => {});
  store.close();
  await connection.close().catch(() => {});
  await stack.close();
}

const machine = `${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ${os.cpus()[0]?.model ?? 'cpu'}, Node ${process.version}`;
// a run of one transport keeps the other figures of the file; the default run keeps the transports'
const previous = JSON.parse(await readFile(out, 'utf8').catch(() => '{}')) as Record<string, unknown>;
const transports = (previous.transports ?? {}) as Record<string, TransportResults>;
let results;
if (transport === 'pgboss') {
  results = {
    machine,
    date: new Date().toISOString(),
    commit: commit(),
    store: stack.store,
    runs,
    api_latency: latency,
    ...(Object.keys(transports).length > 0 ? { transports } : {}),
  };
} else {
  transports[transport] = {
    machine,
    date: new Date().toISOString(),
    commit: commit(),
    store: stack.store,
    broker: stack.broker,
    runs,
  };
  results = { ...previous, transports };
}
await writeFile(out, `${JSON.stringify(results, null, 2)}\n`);
log(`wrote ${out}`);
if (!values.out)
  await writeResultsMarkdown(
    results as Parameters<typeof writeResultsMarkdown>[0],
    path.join(import.meta.dirname, 'RESULTS.md'),
  );

function round(value: number, digits: number): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}
