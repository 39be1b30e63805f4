/**
 * CPU time of the stack's processes, read from /proc (Linux): taken before and after a measured step,
 * it says where the machine's cores went (the Temporal server, the worker, the api, Postgres, the
 * store, the broker), the profile a missed capacity target is explained with.
 */
import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

// the checkout the bench runs from: the stack's node processes run its files
const ROOT = fileURLToPath(new URL('..', import.meta.url));

// USER_HZ: the unit of utime and stime in /proc/<pid>/stat; 100 on every Linux the bench runs on
const TICKS_PER_SECOND = 100;

/**
 * Which part of the stack a command line belongs to; undefined: not the stack's. `postmasters`: the
 * pids of the stack's Postgres servers (their command line holds workDir); a `postgres:` process (a
 * backend, the checkpointer...) is the stack's only when one of them is its parent, so another
 * Postgres on a shared machine is not counted.
 */
function partOf(
  commandLine: string,
  workDir: string,
  parent: number,
  postmasters: Set<number>,
): string | undefined {
  // the route transport's broker (Kafka, ElasticMQ): a JVM whose settings are in the stack's folder
  if (commandLine.includes(workDir) && /\bkafka\.Kafka\b|org\.elasticmq\./.test(commandLine)) return 'broker';
  if (commandLine.includes('temporal') && commandLine.includes('start-dev')) {
    return commandLine.includes(workDir) ? 'temporal' : undefined;
  }
  // a service of the cluster (scripts/stack/temporal-cluster.ts): `server ... start --service <name>`
  const service = / start --service (\w+)/.exec(commandLine);
  if (service && commandLine.includes(workDir)) return `temporal_${service[1]}`;
  if (commandLine.includes('postgres') && commandLine.includes(workDir)) return 'postgres';
  if (commandLine.startsWith('postgres:')) {
    if (!postmasters.has(parent)) return undefined;
    // `postgres: <user> <database> <host> <state>`: the cluster's own databases apart from the service's
    return / temporal\w* /.test(commandLine) ? 'postgres_temporal' : 'postgres';
  }
  // the store keeps its data in workDir; the api and the workers run this checkout's files (another
  // checkout's tests on a shared machine run theirs)
  if (commandLine.includes('versitygw') || commandLine.includes('s3rver'))
    return commandLine.includes(workDir) ? 'store' : undefined;
  if (!commandLine.includes(ROOT)) return undefined;
  if (commandLine.includes('ceiling/worker.ts')) return 'ceiling_worker';
  if (commandLine.includes('worker.ts')) return 'worker';
  if (commandLine.includes('api/main.ts')) return 'api';
  return undefined;
}

/** CPU seconds so far of each part of the stack (and of the bench process itself, as `bench`). */
export async function stackCpuSeconds(workDir: string): Promise<Record<string, number>> {
  const processes: { pid: number; parent: number; commandLine: string; seconds: number }[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const commandLine = (await readFile(`/proc/${entry}/cmdline`, 'utf8')).replaceAll('\0', ' ');
      const stat = await readFile(`/proc/${entry}/stat`, 'utf8');
      // fields after the command name (which may hold spaces) start at state, field 3
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const ticks = Number(fields[11]) + Number(fields[12]);
      processes.push({
        pid: Number(entry),
        parent: Number(fields[1]),
        commandLine,
        seconds: ticks / TICKS_PER_SECOND,
      });
    } catch {
      // the process ended while it was read
    }
  }
  const postmasters = new Set(
    processes
      .filter((proc) => !proc.commandLine.startsWith('postgres:') && /postgres .*-D /.test(proc.commandLine))
      .filter((proc) => proc.commandLine.includes(workDir))
      .map((proc) => proc.pid),
  );
  const totals: Record<string, number> = {};
  for (const proc of processes) {
    const part =
      proc.pid === process.pid ? 'bench' : partOf(proc.commandLine, workDir, proc.parent, postmasters);
    if (part) totals[part] = (totals[part] ?? 0) + proc.seconds;
  }
  return totals;
}

/** Busy CPU seconds of the whole machine so far (every process, from /proc/stat): what others use. */
export async function machineBusySeconds(): Promise<number> {
  const line = (await readFile('/proc/stat', 'utf8')).split('\n')[0]!;
  // cpu user nice system idle iowait irq softirq steal ...: busy is all but idle and iowait
  const [, ...ticks] = line.trim().split(/\s+/).map(Number);
  const busy = ticks
    .slice(0, 8)
    .reduce((sum, value, index) => (index === 3 || index === 4 ? sum : sum + value), 0);
  return busy / TICKS_PER_SECOND;
}

/** The CPU seconds each part (and all of them) spent between two readings, divided by `per`, rounded. */
function spentPer(
  before: Record<string, number>,
  after: Record<string, number>,
  per: number,
  round: (value: number) => number,
): Record<string, number> {
  const shares: Record<string, number> = {};
  let total = 0;
  for (const [part, seconds] of Object.entries(after)) {
    const spent = seconds - (before[part] ?? 0);
    if (spent <= 0) continue;
    shares[part] = round(spent / per);
    total += spent;
  }
  shares.total = round(total / per);
  return shares;
}

/** CPU microseconds each part spent per message between two readings. */
export function cpuUsPerMessage(
  before: Record<string, number>,
  after: Record<string, number>,
  messages: number,
): Record<string, number> {
  return spentPer(before, after, Math.max(1, messages) / 1_000_000, (value) => Math.round(value * 10) / 10);
}

/** CPU milliseconds each part spent per request between two readings. */
export function cpuMsPerRequest(
  before: Record<string, number>,
  after: Record<string, number>,
  requests: number,
): Record<string, number> {
  return spentPer(before, after, Math.max(1, requests) / 1000, Math.round);
}

/** Cores each part kept busy between two readings `seconds` apart (1.0: one core all the time). */
export function coresUsed(
  before: Record<string, number>,
  after: Record<string, number>,
  seconds: number,
): Record<string, number> {
  return spentPer(before, after, seconds, (cores) => Math.round(cores * 100) / 100);
}
