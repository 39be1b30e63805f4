/**
 * The capacity suite (`npm run bench -- --suite capacity`): how many replays the service starts, how
 * fast it answers them, and how it recovers, measured in one run beside the bare ceiling of the same
 * Temporal server (bench/ceiling/):
 * - open-loop start rates: p50/p99 and errors of `POST .../replay` for 10-object replays, and of the
 *   ceiling's update-with-start, at each rate, each step drained before the next;
 * - the same start load while a large replay publishes, and that replay's rate with and without it;
 * - recovery: SIGKILL of the worker mid-replay to the next published message, with default settings;
 * - a bulk replay of many parents: wall time, every child completed, every message exactly once;
 * - the server-side cost of one replay (events, workflow tasks, activities) at several sizes.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { WithStartWorkflowOperation, type Client } from '@temporalio/client';
import type pg from 'pg';
import { getExecution } from '../adapters/executions.ts';
import type { ObjectStore } from '../adapters/object-store.ts';
import { stageFolder } from '../adapters/storage-paths.ts';
import { temporalEnvOf } from '../adapters/temporal-connection.ts';
import { startManagedProcess, type ManagedProcess } from '../scripts/stack/managed-process.ts';
import { replayWorkflowId } from '../workflows/definitions.ts';
import type { BenchStack } from './bench-stack.ts';
import { ceilingStartedUpdate } from './ceiling/workflows.ts';
import { replayCost, type ReplayCost } from './history-profile.ts';
import { seedOnDisk, seedThroughS3, ROUTE, STAGE } from './measure.ts';
import { openLoop, percentile, type Attempt, type OpenLoopRow } from './open-loop.ts';
import { cpuMsPerRequest, stackCpuSeconds } from './process-cpu.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CEILING_QUEUE = 'ceiling';
const REPLAY_BODY = JSON.stringify({ replay_source: 'storage', from_stage: STAGE, to_route: ROUTE });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface CapacityOptions {
  /** Requests of the one-client measurement, each sent when the previous one has answered. */
  idleRequests: number;
  rates: number[];
  stepSeconds: number;
  /** Objects of the large replay the start load runs beside (0: skip). */
  bigObjects: number;
  /** Start rates run beside the large replay, in turn, until it completes. */
  loadRates: number[];
  /** Objects of the replay whose worker is killed (0: skip). */
  recoveryObjects: number;
  /** Parents of the bulk replay (0: skip). */
  bulkParents: number;
  bulkMaxConcurrent: number;
  /** Sizes whose per-replay cost is read from their histories. */
  costSizes: number[];
}

export interface CapacityContext {
  stack: BenchStack;
  pool: pg.Pool;
  store: ObjectStore;
  temporal: Client;
  configId: string;
  /** POST to the api (authenticated); throws unless 2xx. */
  post(route: string, body: unknown): Promise<{ id: string }>;
  log(line: string): void;
  /** Counters (a database's transactions...) read before and after each start rate's step: given per start. */
  counters?(): Promise<Record<string, number>>;
}

/** One client: each request sent when the previous one has answered; their latencies' p50 and p99. */
async function oneClient(requests: number, send: () => Promise<Attempt>) {
  const latencies: number[] = [];
  let errors = 0;
  for (let index = 0; index < requests; index += 1) {
    const started = performance.now();
    const attempt = await send();
    if (attempt.ok) latencies.push(performance.now() - started);
    else errors += 1;
  }
  return { requests, errors, p50_ms: percentile(latencies, 50), p99_ms: percentile(latencies, 99) };
}

/** Highest rate whose p99 is under the bound with no error: the start capacity. */
function capacityOf(rows: OpenLoopRow[], p99BoundMs: number): number {
  return Math.max(
    0,
    ...rows.filter((row) => row.errors === 0 && row.p99_ms < p99BoundMs).map((row) => row.rate),
  );
}

export async function runCapacity(context: CapacityContext, options: CapacityOptions) {
  const { stack, pool, temporal, log } = context;
  const small = await parentWithObjects(context, 10);
  const ceilingWorker = startCeilingWorker(stack);
  try {
    await waitForLine(
      ceilingWorker,
      'ceiling worker started',
      path.join(stack.workDir, 'ceiling-worker.log'),
    );

    // 0. warm both paths up (connections, JIT, caches), then one client at a time on the idle stack
    const warmProbes: string[] = [];
    await openLoop(4, 5, () => startProbe(temporal, warmProbes));
    await drainProbes(temporal, warmProbes);
    const warmSince = await latestExecutionId(pool);
    await openLoop(4, 5, () => postReplay(stack, small));
    await drainReplays(pool, warmSince);
    log('one client at a time');
    const idleProbes: string[] = [];
    const idle = {
      ceiling: await oneClient(options.idleRequests, () => startProbe(temporal, idleProbes)),
      replay: await oneClient(options.idleRequests, () => postReplay(stack, small)),
    };
    await drainProbes(temporal, idleProbes);
    log(JSON.stringify({ idle }));

    // 1. open-loop start rates: the ceiling, then the replay, at each rate
    const startRates = [];
    for (const rate of options.rates) {
      log(`start rate ${rate}/s: ceiling`);
      const probes: string[] = [];
      let cpuBefore = await stackCpuSeconds(stack.workDir);
      let countersBefore = await context.counters?.();
      const ceiling = await openLoop(rate, options.stepSeconds, () => startProbe(temporal, probes));
      const ceilingDrain = await drainProbes(temporal, probes);
      const ceilingCpu = cpuMsPerRequest(cpuBefore, await stackCpuSeconds(stack.workDir), ceiling.ok);
      const ceilingCounters = await countersPerStart(context, countersBefore, ceiling.ok);
      log(`start rate ${rate}/s: replay`);
      const since = await latestExecutionId(pool);
      cpuBefore = await stackCpuSeconds(stack.workDir);
      countersBefore = await context.counters?.();
      const replay = await openLoop(rate, options.stepSeconds, () => postReplay(stack, small));
      const replayDrain = await drainReplays(pool, since);
      const replayCpu = cpuMsPerRequest(cpuBefore, await stackCpuSeconds(stack.workDir), replay.ok);
      const replayCounters = await countersPerStart(context, countersBefore, replay.ok);
      startRates.push({
        rate,
        ceiling: {
          ...ceiling,
          completed: ceilingDrain.completed,
          drain_seconds: ceilingDrain.seconds,
          cpu_ms_per_start: ceilingCpu,
          ...(ceilingCounters ? { counters_per_start: ceilingCounters } : {}),
        },
        replay: {
          ...replay,
          completed: replayDrain.completed,
          drain_seconds: replayDrain.seconds,
          cpu_ms_per_start: replayCpu,
          ...(replayCounters ? { counters_per_start: replayCounters } : {}),
        },
      });
      log(JSON.stringify(startRates.at(-1)));
    }
    const capacity = {
      replay_starts_per_s: capacityOf(
        startRates.map((row) => row.replay),
        250,
      ),
      ceiling_starts_per_s: capacityOf(
        startRates.map((row) => row.ceiling),
        250,
      ),
    };

    // 2. starts beside a large replay, and its rate with and without them
    let underLoad;
    if (options.bigObjects > 0) {
      const big = await parentWithObjects(context, options.bigObjects);
      log(`large replay of ${options.bigObjects} alone`);
      const alone = await timedReplay(context, big.id);
      log(`large replay alone: ${alone.msgsPerSecond.toFixed(0)} msgs/s; again with starts beside it`);
      const loaded = await startReplay(stack, big.id);
      let running = true;
      const finished = waitForCompletion(pool, loaded.id).then((result) => {
        running = false;
        return result;
      });
      const rows: OpenLoopRow[] = [];
      const since = await latestExecutionId(pool);
      for (let turn = 0; running; turn += 1) {
        const rate = options.loadRates[turn % options.loadRates.length]!;
        const stepEnds = Date.now() + options.stepSeconds * 1000;
        rows.push(
          await openLoop(
            rate,
            0,
            () => postReplay(stack, small),
            () => running && Date.now() < stepEnds,
          ),
        );
      }
      const loadedResult = await finished;
      await drainReplays(pool, since);
      const loadedRate = options.bigObjects / ((loadedResult.completedAt - loaded.startedAt) / 1000);
      underLoad = {
        objects: options.bigObjects,
        alone_msgs_per_s: Math.round(alone.msgsPerSecond),
        loaded_msgs_per_s: Math.round(loadedRate),
        slowdown: Math.round((1 - loadedRate / alone.msgsPerSecond) * 1000) / 1000,
        starts: mergeRows(rows),
      };
      log(JSON.stringify(underLoad));
    }

    // 3. recovery after a worker SIGKILL
    let recovery;
    if (options.recoveryObjects > 0) recovery = await measureRecovery(context, options.recoveryObjects);

    // 4. a bulk replay of many parents
    let bulk;
    if (options.bulkParents > 0)
      bulk = await measureBulk(context, options.bulkParents, options.bulkMaxConcurrent);

    // 5. what one replay costs the server
    const cost = [];
    for (const objects of options.costSizes) {
      const parent = objects === 10 ? small : await parentWithObjects(context, objects);
      const run = await timedReplay(context, parent.id);
      cost.push({ objects, ...(await costOf(temporal, run.id)) });
      log(JSON.stringify(cost.at(-1)));
    }

    return {
      idle,
      start_rates: startRates,
      capacity,
      under_load: underLoad,
      recovery,
      bulk,
      replay_cost: cost,
    };
  } finally {
    await ceilingWorker.stop();
  }
}

/** The context's counters since `before`, per start (one decimal); undefined without counters. */
async function countersPerStart(
  context: CapacityContext,
  before: Record<string, number> | undefined,
  starts: number,
): Promise<Record<string, number> | undefined> {
  if (!before || !context.counters) return undefined;
  const after = await context.counters();
  return Object.fromEntries(
    Object.entries(after).map(([name, value]) => [
      name,
      Math.round(((value - (before[name] ?? 0)) / Math.max(1, starts)) * 10) / 10,
    ]),
  );
}

function startCeilingWorker(stack: BenchStack): ManagedProcess {
  return startManagedProcess(
    'ceiling-worker',
    process.execPath,
    ['--import', 'tsx', path.join(ROOT, 'bench/ceiling/worker.ts')],
    {
      logFile: path.join(stack.workDir, 'ceiling-worker.log'),
      env: {
        ...process.env,
        ...temporalEnvOf(stack.config),
        CEILING_TASK_QUEUE: CEILING_QUEUE,
      },
      cwd: ROOT,
    },
  );
}

async function waitForLine(child: ManagedProcess, line: string, logFile: string): Promise<void> {
  const { readFile } = await import('node:fs/promises');
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    if ((await readFile(logFile, 'utf8').catch(() => '')).includes(line)) return;
    if (child.child.exitCode !== null) throw new Error(`${child.name} exited; see ${logFile}`);
    await sleep(200);
  }
  throw new Error(`${child.name} did not start; see ${logFile}`);
}

let probeCounter = 0;

/** One ceiling start: update-with-start answered after the probe's local activity, like a replay's. */
async function startProbe(temporal: Client, started: string[]): Promise<Attempt> {
  const workflowId = `ceiling-${process.pid}-${Date.now()}-${(probeCounter += 1)}`;
  try {
    await temporal.workflow.executeUpdateWithStart(ceilingStartedUpdate, {
      startWorkflowOperation: new WithStartWorkflowOperation('ceilingProbe', {
        workflowId,
        taskQueue: CEILING_QUEUE,
        args: [`${CEILING_QUEUE}-activities`],
        workflowIdConflictPolicy: 'FAIL',
      }),
    });
    started.push(workflowId);
    return { ok: true, status: 200 };
  } catch {
    return { ok: false, status: 503 };
  }
}

async function drainProbes(temporal: Client, ids: string[]): Promise<{ completed: number; seconds: number }> {
  const started = performance.now();
  let completed = 0;
  for (let index = 0; index < ids.length; index += 50) {
    const batch = ids.slice(index, index + 50);
    const results = await Promise.allSettled(batch.map((id) => temporal.workflow.getHandle(id).result()));
    completed += results.filter((result) => result.status === 'fulfilled').length;
  }
  return { completed, seconds: Math.round((performance.now() - started) / 100) / 10 };
}

async function postReplay(stack: BenchStack, parent: { id: string }): Promise<Attempt> {
  const response = await fetch(`${stack.apiUrl}/api/v1/executions/${parent.id}/replay`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${stack.apiKey}` },
    body: REPLAY_BODY,
  });
  await response.arrayBuffer();
  return { ok: response.status === 200, status: response.status };
}

async function latestExecutionId(pool: pg.Pool): Promise<string> {
  const { rows } = await pool.query<{ id: string }>(
    "SELECT COALESCE((SELECT id::text FROM executions ORDER BY id DESC LIMIT 1), '00000000-0000-0000-0000-000000000000') AS id",
  );
  return rows[0]?.id ?? '00000000-0000-0000-0000-000000000000';
}

/** Waits until every replay created after `since` has finished; how many completed, and how long it took. */
async function drainReplays(pool: pg.Pool, since: string): Promise<{ completed: number; seconds: number }> {
  const started = performance.now();
  const deadline = Date.now() + 300_000;
  for (;;) {
    const { rows } = await pool.query<{ running: number; completed: number }>(
      `SELECT count(*) FILTER (WHERE status IN ('running', 'interrupted'))::int AS running,
              count(*) FILTER (WHERE status = 'completed')::int AS completed
         FROM executions WHERE id > $1 AND parent_execution_id IS NOT NULL`,
      [since],
    );
    if (rows[0]!.running === 0 || Date.now() > deadline)
      return { completed: rows[0]!.completed, seconds: Math.round((performance.now() - started) / 100) / 10 };
    await sleep(100);
  }
}

async function parentWithObjects(context: CapacityContext, objects: number): Promise<{ id: string }> {
  const parent = await context.post('/api/v1/executions', { config_id: context.configId });
  const folder = stageFolder(context.stack.config.S3_PREFIX, parent.id, STAGE);
  if (context.stack.bucketDir && objects > 100) await seedOnDisk(context.stack.bucketDir, folder, 0, objects);
  else await seedThroughS3(context.store, folder, 0, objects);
  return parent;
}

async function startReplay(stack: BenchStack, parentId: string): Promise<{ id: string; startedAt: number }> {
  const startedAt = performance.now();
  const response = await fetch(`${stack.apiUrl}/api/v1/executions/${parentId}/replay`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${stack.apiKey}` },
    body: REPLAY_BODY,
  });
  const body = (await response.json()) as { id: string };
  if (response.status !== 200) throw new Error(`replay refused: ${response.status} ${JSON.stringify(body)}`);
  return { id: body.id, startedAt };
}

async function waitForCompletion(
  pool: pg.Pool,
  id: string,
): Promise<{ completedAt: number; published: number }> {
  for (;;) {
    // the record as the api shows it: a partitioned replay's counts include its partitions'
    const row = (await getExecution(pool, id))!;
    if (row.status === 'completed') return { completedAt: performance.now(), published: row.published_count };
    if (row.status !== 'running') throw new Error(`replay ${id} ended ${row.status}: ${row.error}`);
    await sleep(20);
  }
}

async function timedReplay(context: CapacityContext, parentId: string) {
  const started = await startReplay(context.stack, parentId);
  const done = await waitForCompletion(context.pool, started.id);
  const seconds = (done.completedAt - started.startedAt) / 1000;
  return { id: started.id, seconds, msgsPerSecond: done.published / seconds };
}

function mergeRows(rows: OpenLoopRow[]) {
  const requests = rows.reduce((sum, row) => sum + row.requests, 0);
  return {
    rates: rows.map((row) => row.rate),
    requests,
    errors: rows.reduce((sum, row) => sum + row.errors, 0),
    // per step: the steps' own percentiles (their latencies are not kept across steps)
    p50_ms: Math.max(...rows.map((row) => row.p50_ms)),
    p99_ms: Math.max(...rows.map((row) => row.p99_ms)),
    steps: rows,
  };
}

async function histories(temporal: Client, executionId: string) {
  const workflowId = replayWorkflowId(executionId);
  const all = [];
  // its partitions too (`replay-<id>-p<n>`): a replay's cost is all of its workflows'
  for await (const run of temporal.workflow.list({ query: `WorkflowId STARTS_WITH '${workflowId}'` })) {
    const history = await temporal.workflow.getHandle(run.workflowId, run.runId).fetchHistory();
    all.push(history.events ?? []);
  }
  return all;
}

async function costOf(temporal: Client, executionId: string): Promise<ReplayCost> {
  // the record is completed by the last page's transaction, a moment before the workflow closes
  await temporal.workflow.getHandle(replayWorkflowId(executionId)).result();
  return replayCost(await histories(temporal, executionId));
}

/** Published messages of one execution, and how many distinct ids they carry. */
async function messageCounts(
  pool: pg.Pool,
  schema: string,
  executionIds: string[],
): Promise<{ messages: number; distinct: number }> {
  const { rows } = await pool.query<{ messages: number; distinct: number }>(
    `SELECT count(*)::int AS messages, count(DISTINCT id)::int AS distinct FROM (
       SELECT id FROM ${schema}.job WHERE name = $2 AND data->>'execution_id' = ANY ($1)
       UNION ALL
       SELECT id FROM ${schema}.archive WHERE name = $2 AND data->>'execution_id' = ANY ($1)) AS published`,
    [executionIds, ROUTE],
  );
  return rows[0]!;
}

/**
 * Kills the only worker with SIGKILL while a replay publishes, starts a new one at once (as `npm run
 * dev` or an orchestrator would), and measures the time from the kill to the next published message.
 */
async function measureRecovery(context: CapacityContext, objects: number) {
  const { stack, pool, log } = context;
  const parent = await parentWithObjects(context, objects);
  log(`recovery: replay of ${objects}, worker killed at 30%`);
  const replay = await startReplay(stack, parent.id);
  // as the api counts it: a partitioned replay's progress includes its partitions'
  const published = async () => (await getExecution(pool, replay.id))!.published_count;
  while ((await published()) < objects * 0.3) await sleep(20);
  const killedAt = performance.now();
  process.kill(-stack.worker.child.pid!, 'SIGKILL');
  await stack.worker.exited;
  const atKill = await published();
  stack.restartWorker();
  let resumedAt = Number.NaN;
  while (Number.isNaN(resumedAt)) {
    if ((await published()) > atKill) resumedAt = performance.now();
    else await sleep(25);
  }
  const done = await waitForCompletion(pool, replay.id);
  const counts = await messageCounts(pool, stack.config.PGBOSS_SCHEMA, [replay.id]);
  const result = {
    objects,
    published_at_kill: atKill,
    seconds_to_next_message: Math.round((resumedAt - killedAt) / 100) / 10,
    replay_seconds: Math.round((done.completedAt - replay.startedAt) / 100) / 10,
    heartbeat_timeout_seconds: stack.config.REPLAY_HEARTBEAT_TIMEOUT_SECONDS,
    messages: counts.messages,
    distinct_messages: counts.distinct,
  };
  log(JSON.stringify(result));
  return result;
}

/** A bulk replay of `parents` parents of 10 objects each: wall time, children completed, messages once. */
async function measureBulk(context: CapacityContext, parents: number, maxConcurrent: number) {
  const { pool, stack, log } = context;
  log(`bulk: ${parents} parents of 10 objects`);
  const ids: string[] = [];
  for (let index = 0; index < parents; index += 1) {
    const parent = await context.post('/api/v1/executions', { config_id: context.configId });
    const folder = stageFolder(stack.config.S3_PREFIX, parent.id, STAGE);
    if (stack.bucketDir) await seedOnDisk(stack.bucketDir, folder, 0, 10);
    else await seedThroughS3(context.store, folder, 0, 10);
    ids.push(parent.id);
  }
  const started = performance.now();
  const bulk = await context.post('/api/v1/bulk-replays', {
    replay: { replay_source: 'storage', from_stage: STAGE, to_route: ROUTE },
    execution_ids: ids,
    max_concurrent: maxConcurrent,
  });
  let summary: Record<string, number | string> = {};
  for (;;) {
    const response = await fetch(`${stack.apiUrl}/api/v1/bulk-replays/${bulk.id}`, {
      headers: { authorization: `Bearer ${stack.apiKey}` },
    });
    summary = (await response.json()) as Record<string, number | string>;
    if (summary.status !== 'running') break;
    await sleep(200);
  }
  const seconds = (performance.now() - started) / 1000;
  const children = (
    await pool.query<{ id: string }>(
      `SELECT execution_id::text AS id FROM bulk_replay_items WHERE bulk_replay_id = $1 AND execution_id IS NOT NULL`,
      [bulk.id],
    )
  ).rows.map((row) => row.id);
  const counts = await messageCounts(pool, stack.config.PGBOSS_SCHEMA, children);
  // per child: the time from its workflow's start to its close, from the server's records
  const durations: number[] = [];
  for await (const workflow of context.temporal.workflow.list({
    query: `BulkReplayId = '${bulk.id}' AND WorkflowType = 'replayExecution'`,
  })) {
    if (workflow.closeTime) durations.push(workflow.closeTime.getTime() - workflow.startTime.getTime());
  }
  const result = {
    parents,
    max_concurrent: maxConcurrent,
    status: summary.status,
    completed: summary.completed,
    failed: summary.failed,
    seconds: Math.round(seconds * 10) / 10,
    replays_per_s: Math.round((parents / seconds) * 10) / 10,
    child_p50_ms: percentile(durations, 50),
    child_p99_ms: percentile(durations, 99),
    messages: counts.messages,
    distinct_messages: counts.distinct,
    expected_messages: parents * 10,
  };
  log(JSON.stringify(result));
  return result;
}
