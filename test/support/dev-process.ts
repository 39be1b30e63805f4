/**
 * `npm run dev` as a test starts it: its own stack on free ports and a fresh data dir (not the
 * suite's shared services), stopped with SIGINT like an operator's Ctrl-C.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { sleep } from '../../adapters/sleep.ts';
import { freePort } from '../../scripts/stack/free-port.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));

export const DEV_PORT_VARIABLES = [
  'DEV_API_PORT',
  'DEV_TEMPORAL_PORT',
  'DEV_TEMPORAL_UI_PORT',
  'DEV_POSTGRES_PORT',
  'DEV_S3_PORT',
] as const;

export type DevPorts = Record<(typeof DEV_PORT_VARIABLES)[number], number>;

export interface DevProcess {
  child: ChildProcess;
  exited: Promise<number | null>;
  output(): string;
}

/** A fresh data dir and free ports for a dev stack. */
export async function devStackPlace(): Promise<{ dataDir: string; ports: DevPorts }> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'execution-replay-dev-'));
  // embedded Postgres runs as the `postgres` system user when we are root: it must reach <data>/pg
  await chmod(dataDir, 0o755);
  const ports = Object.fromEntries(
    await Promise.all(DEV_PORT_VARIABLES.map(async (name) => [name, await freePort()] as const)),
  ) as DevPorts;
  return { dataDir, ports };
}

/** Starts `npm run dev` (its script, as npm would) in its own process group. */
export function startDev(
  dataDir: string,
  ports: DevPorts,
  extraEnv: NodeJS.ProcessEnv = {},
  args: string[] = [],
): DevProcess {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extraEnv, DEV_DATA_DIR: dataDir };
  for (const variable of DEV_PORT_VARIABLES) env[variable] = String(ports[variable]);
  // the embedded Postgres and S3, whatever the environment running the tests points at
  delete env.DATABASE_URL;
  delete env.S3_ENDPOINT;
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/dev.ts', ...args], {
    cwd: root,
    env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, exited, output: () => output };
}

/** stack.json once dev has written it (the stack is up). */
export async function readStackJson(dev: DevProcess, dataDir: string, timeoutMs = 120_000): Promise<any> {
  const file = path.join(dataDir, 'stack.json');
  const deadline = Date.now() + timeoutMs;
  while (!existsSync(file)) {
    if (dev.child.exitCode !== null)
      throw new Error(`dev exited with ${dev.child.exitCode}:\n${dev.output()}`);
    if (Date.now() > deadline) throw new Error(`no stack.json after ${timeoutMs} ms:\n${dev.output()}`);
    await sleep(250);
  }
  return JSON.parse(await readFile(file, 'utf8'));
}

/** SIGINT, as Ctrl-C; resolves with dev's exit code. */
export async function stopDev(dev: DevProcess): Promise<number | null> {
  dev.child.kill('SIGINT');
  const code = await Promise.race([dev.exited, sleep(60_000).then(() => 'timeout' as const)]);
  if (code === 'timeout') throw new Error(`dev did not exit within 60 s of SIGINT:\n${dev.output()}`);
  return code;
}

/** For afterAll: a graceful stop, then SIGKILL of the group if needed, then the data dir. */
export async function disposeDev(dev: DevProcess | undefined, dataDir: string | undefined): Promise<void> {
  if (dev && dev.child.exitCode === null && dev.child.signalCode === null) {
    // the services run in process groups of their own, which a kill of dev's misses: SIGINT first
    dev.child.kill('SIGINT');
    await Promise.race([dev.exited, sleep(30_000)]);
    if (dev.child.exitCode === null && dev.child.signalCode === null)
      process.kill(-dev.child.pid!, 'SIGKILL');
  }
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
}
