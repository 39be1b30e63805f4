/**
 * CPU time of the stack's processes, read from /proc (Linux): taken before and after a measured step,
 * it says where the machine's cores went (the Temporal server, the worker, the api, Postgres, the
 * store, the broker), the profile a missed capacity target is explained with.
 */
import { readdir, readFile } from 'node:fs/promises';

// USER_HZ: the unit of utime and stime in /proc/<pid>/stat; 100 on every Linux the bench runs on
const TICKS_PER_SECOND = 100;

/** Which part of the stack a command line belongs to; undefined: not the stack's. */
function partOf(commandLine: string, workDir: string): string | undefined {
  // the route transport's broker (Kafka, ElasticMQ): a JVM whose settings are in the stack's folder
  if (commandLine.includes(workDir) && /\bkafka\.Kafka\b|org\.elasticmq\./.test(commandLine)) return 'broker';
  if (commandLine.includes('temporal') && commandLine.includes('start-dev')) {
    return commandLine.includes(workDir) ? 'temporal' : undefined;
  }
  if (commandLine.includes('postgres') && commandLine.includes(workDir)) return 'postgres';
  if (commandLine.startsWith('postgres:')) return 'postgres';
  if (commandLine.includes('versitygw') || commandLine.includes('s3rver')) return 'store';
  if (commandLine.includes('ceiling/worker.ts')) return 'ceiling_worker';
  if (commandLine.includes('worker.ts')) return 'worker';
  if (commandLine.includes('api/main.ts')) return 'api';
  return undefined;
}

/**
 * CPU seconds so far of each part of the stack (and of the bench process itself, as `bench`): the
 * processes this bench process started, and theirs (Postgres's backends), whatever else runs on a
 * shared machine (another bench's worker, api or Postgres has the same command line).
 */
export async function stackCpuSeconds(workDir: string): Promise<Record<string, number>> {
  const processes = new Map<number, { parent: number; ticks: number }>();
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = await readFile(`/proc/${entry}/stat`, 'utf8');
      // fields after the command name (which may hold spaces) start at state, field 3
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      processes.set(Number(entry), {
        parent: Number(fields[1]),
        ticks: Number(fields[11]) + Number(fields[12]),
      });
    } catch {
      // the process ended while it was read
    }
  }
  const isOurs = (pid: number): boolean => {
    for (let seen = 0, at = pid; at > 1 && seen < 64; seen += 1) {
      if (at === process.pid) return true;
      at = processes.get(at)?.parent ?? 0;
    }
    return false;
  };
  const totals: Record<string, number> = {};
  for (const [pid, { ticks }] of processes) {
    if (!isOurs(pid)) continue;
    try {
      const commandLine = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).replaceAll('\0', ' ');
      const part = pid === process.pid ? 'bench' : partOf(commandLine, workDir);
      if (!part) continue;
      totals[part] = (totals[part] ?? 0) + ticks / TICKS_PER_SECOND;
    } catch {
      // the process ended while it was read
    }
  }
  return totals;
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
