/**
 * versitygw, an S3 gateway over a POSIX folder: the default store of `npm run dev` and the store the
 * benchmarks run on. s3rver keeps each object as files and reads the whole stage folder on every
 * call, so it lists a 50,000-object folder at about 3,000 keys/s and a 1,000,000-object one far
 * slower; versitygw lists from the folder in key order at about 20,000 keys/s on the same machine.
 * Found like the Temporal CLI: VERSITYGW_PATH, `versitygw` on PATH, a cached build, or a build with
 * Go from the Go module proxy (about a minute and a half, once). Without Go it is undefined and the
 * caller falls back to s3rver.
 */
import { execFile } from 'node:child_process';
import { constants } from 'node:fs';
import { access, mkdir, rename, rm } from 'node:fs/promises';
import { homedir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { waitForPort } from './free-port.ts';
import { startManagedProcess, type ManagedProcess } from './managed-process.ts';

const execFileAsync = promisify(execFile);
export const VERSITYGW_VERSION = '1.8.0';

/** The local store's root credentials (it serves this machine's loopback only). */
export const VERSITYGW_CREDENTIALS = {
  accessKeyId: 'versitygw-local',
  secretAccessKey: 'versitygw-local-secret',
};

async function executable(file: string): Promise<boolean> {
  return access(file, constants.X_OK).then(
    () => true,
    () => false,
  );
}

function cacheDir(): string {
  return path.join(
    process.env.XDG_CACHE_HOME || path.join(homedir(), '.cache'),
    'execution-replay',
    `versitygw-${VERSITYGW_VERSION}`,
  );
}

/** The versitygw binary, built once with Go when none is found; undefined where it cannot be had. */
export async function findVersityGw(log: (line: string) => void): Promise<string | undefined> {
  if (process.env.VERSITYGW_PATH) return process.env.VERSITYGW_PATH;
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (dir && (await executable(path.join(dir, 'versitygw')))) return path.join(dir, 'versitygw');
  }
  const dir = cacheDir();
  const cached = path.join(dir, 'versitygw');
  if (await executable(cached)) return cached;
  log(`building versitygw v${VERSITYGW_VERSION} with Go (once; cached in ${dir}) ...`);
  // built into a folder of its own, then moved: a build cut short never leaves a broken binary
  const staging = `${dir}.building-${process.pid}`;
  try {
    await mkdir(staging, { recursive: true });
    await execFileAsync(
      'go',
      ['install', `github.com/versity/versitygw/cmd/versitygw@v${VERSITYGW_VERSION}`],
      {
        env: { ...process.env, GOBIN: staging, GOFLAGS: '-buildvcs=false' },
        timeout: 30 * 60_000,
        maxBuffer: 64 * 1024 * 1024,
      },
    );
    await mkdir(dir, { recursive: true });
    await rename(path.join(staging, 'versitygw'), cached);
    return cached;
  } catch (error) {
    log(`versitygw could not be built: ${(error as Error).message.split('\n')[0]}`);
    return undefined;
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

export interface VersityGwHandle {
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** The folder holding one folder per bucket (objects can be written there directly). */
  directory: string;
  process: ManagedProcess;
  stop(): Promise<void>;
}

/** Starts versitygw on 127.0.0.1:port over `directory` (a folder per bucket). */
export async function startVersityGw(options: {
  binary: string;
  port: number;
  directory: string;
  logFile: string;
}): Promise<VersityGwHandle> {
  await mkdir(options.directory, { recursive: true });
  const process = startManagedProcess(
    'versitygw',
    options.binary,
    [
      '--access',
      VERSITYGW_CREDENTIALS.accessKeyId,
      '--secret',
      VERSITYGW_CREDENTIALS.secretAccessKey,
      '--port',
      `127.0.0.1:${options.port}`,
      'posix',
      options.directory,
    ],
    { logFile: options.logFile },
  );
  await Promise.race([
    waitForPort('127.0.0.1', options.port, 30_000),
    process.exited.then((code) => {
      throw new Error(`versitygw exited with ${code} before listening; see ${options.logFile}`);
    }),
  ]).catch(async (error) => {
    await process.stop();
    throw error;
  });
  return {
    endpoint: `http://127.0.0.1:${options.port}`,
    ...VERSITYGW_CREDENTIALS,
    directory: options.directory,
    process,
    stop: () => process.stop(),
  };
}
