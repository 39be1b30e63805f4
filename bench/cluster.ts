/**
 * The cluster suite (`npm run bench -- --suite cluster`): in one run, the same measurements on the
 * dev server stack and then on the cluster stack (scripts/stack/temporal-cluster.ts: four services,
 * Postgres persistence, mTLS), each a fresh stack: the capacity suite's open-loop start rates (p50,
 * p99, CPU per start of each process), then one large replay of the throughput suite. Beside the
 * CPU, what each start or message costs the stack's Postgres: its write transactions and WAL (exact),
 * and each database's transactions (pg_stat_database: the cluster's two apart from the service's).
 */
import type pg from 'pg';
import type { BenchStack } from './bench-stack.ts';
import { runCapacity, type CapacityContext } from './capacity.ts';
import { cpuMsPerRequest, machineBusySeconds, stackCpuSeconds } from './process-cpu.ts';

export interface ClusterOptions {
  idleRequests: number;
  rates: number[];
  stepSeconds: number;
  /** Objects of the large replay (0: skip). */
  objects: number;
  /** Seconds of an idle stack whose CPU and Postgres are read (what the stack costs doing nothing). */
  idleSeconds: number;
}

/**
 * The stack's Postgres, as counters read before and after a step. `write_xacts` and `wal_kb` are
 * exact at once (the server's next transaction id and its WAL position); the per-database transactions come from pg_stat_database, which a backend flushes up to
 * 10 s late (Postgres 15 and later), so a short step's share may move to the next one.
 */
export async function postgresCounters(pool: pg.Pool): Promise<Record<string, number>> {
  const client = await pool.connect();
  try {
    const { rows } = await client.query<{ datname: string; xacts: string }>(
      `SELECT datname, (xact_commit + xact_rollback)::text AS xacts FROM pg_stat_database
        WHERE datname IN (current_database(), 'temporal', 'temporal_visibility')`,
    );
    const position = await client.query<{ wal: string; xid: string }>(
      `SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::text AS wal, pg_snapshot_xmax(pg_current_snapshot())::text AS xid`,
    );
    const counters: Record<string, number> = {
      // the next transaction id: a transaction takes one when it first writes
      write_xacts: Number(position.rows[0]!.xid),
      wal_kb: Number(position.rows[0]!.wal) / 1024,
    };
    for (const row of rows) {
      const name = row.datname.startsWith('temporal') ? row.datname : 'service';
      counters[`${name}_xacts`] = Number(row.xacts);
    }
    return counters;
  } finally {
    client.release();
  }
}

/** One stack's figures: its start rates and capacity, then the large replay. */
export async function runClusterSide(
  context: CapacityContext,
  options: ClusterOptions,
  largeReplay: (objects: number, counters: () => Promise<Record<string, number>>) => Promise<unknown>,
) {
  const counters = () => postgresCounters(context.pool);
  // the machine is shared: the cores other processes kept busy meanwhile say how much
  const started = {
    at: performance.now(),
    machine: await machineBusySeconds(),
    stack: await stackTotal(context),
  };
  const capacity = await runCapacity(
    { ...context, counters },
    {
      idleRequests: options.idleRequests,
      rates: options.rates,
      stepSeconds: options.stepSeconds,
      // the capacity suite's other parts are the same code on either Temporal: not run twice here
      bigObjects: 0,
      loadRates: [],
      recoveryObjects: 0,
      bulkParents: 0,
      bulkMaxConcurrent: 1,
      costSizes: [],
    },
  );
  const idle = await idleBackground(context, counters, options.idleSeconds);
  context.log(JSON.stringify({ idle_background: idle }));
  const throughput = options.objects > 0 ? await largeReplay(options.objects, counters) : undefined;
  const seconds = (performance.now() - started.at) / 1000;
  const othersCores =
    (await machineBusySeconds()) - started.machine - ((await stackTotal(context)) - started.stack);
  return {
    seconds: Math.round(seconds),
    other_processes_cores: Math.round((othersCores / seconds) * 100) / 100,
    temporal: describeTemporal(context.stack),
    store: context.stack.store,
    idle: capacity.idle,
    idle_background: idle,
    start_rates: capacity.start_rates,
    capacity: capacity.capacity,
    throughput,
  };
}

/**
 * What the stack spends with nothing to do, per second: the part of a step's CPU and transactions
 * that is no start's (the cluster's services keep their membership, shards, task queues and
 * namespace caches fresh; the dev server does the same in one process, without a database server).
 */
async function idleBackground(
  context: CapacityContext,
  counters: () => Promise<Record<string, number>>,
  seconds: number,
) {
  const cpuBefore = await stackCpuSeconds(context.stack.workDir);
  const countersBefore = await counters();
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  const countersAfter = await counters();
  return {
    seconds,
    cpu_ms_per_s: cpuMsPerRequest(cpuBefore, await stackCpuSeconds(context.stack.workDir), seconds),
    postgres_per_s: Object.fromEntries(
      Object.entries(countersAfter).map(([name, value]) => [
        name,
        Math.round(((value - (countersBefore[name] ?? 0)) / seconds) * 10) / 10,
      ]),
    ),
  };
}

async function stackTotal(context: CapacityContext): Promise<number> {
  const parts = await stackCpuSeconds(context.stack.workDir);
  return Object.values(parts).reduce((sum, value) => sum + value, 0);
}

function describeTemporal(stack: BenchStack): string {
  return stack.temporal === 'cluster'
    ? "cluster: Temporal server v1.29.1, frontend, history, matching and worker as four processes, Postgres persistence (4 history shards) in the stack's Postgres, mTLS on the frontend"
    : 'dev server: `temporal server start-dev` (Temporal CLI v1.5.1), one process, SQLite file';
}
