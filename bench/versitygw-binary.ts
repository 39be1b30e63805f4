/**
 * versitygw, an S3 gateway over a POSIX folder, for the large benchmark runs (s3rver lists a
 * 100,000-key folder at a few hundred keys/s). Found like the Temporal CLI: VERSITYGW_PATH,
 * `versitygw` on PATH, a cached build, or a build with Go from the Go module proxy.
 */
import { execFile } from 'node:child_process';
import { access, mkdir } from 'node:fs/promises';
import { constants } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);
export const VERSITYGW_VERSION = '1.8.0';

async function executable(file: string): Promise<boolean> {
  return access(file, constants.X_OK).then(
    () => true,
    () => false,
  );
}

export async function findVersityGw(log: (line: string) => void): Promise<string | undefined> {
  if (process.env.VERSITYGW_PATH) return process.env.VERSITYGW_PATH;
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (dir && (await executable(path.join(dir, 'versitygw')))) return path.join(dir, 'versitygw');
  }
  const cacheDir = path.join(
    process.env.XDG_CACHE_HOME || path.join(homedir(), '.cache'),
    'execution-replay',
    `versitygw-${VERSITYGW_VERSION}`,
  );
  const cached = path.join(cacheDir, 'versitygw');
  if (await executable(cached)) return cached;
  log(`building versitygw v${VERSITYGW_VERSION} with Go (once; cached in ${cacheDir}) ...`);
  try {
    await mkdir(cacheDir, { recursive: true });
    await execFileAsync(
      'go',
      ['install', `github.com/versity/versitygw/cmd/versitygw@v${VERSITYGW_VERSION}`],
      {
        env: { ...process.env, GOBIN: cacheDir, GOFLAGS: '-buildvcs=false' },
        timeout: 30 * 60_000,
        maxBuffer: 64 * 1024 * 1024,
      },
    );
    return cached;
  } catch (error) {
    log(`versitygw could not be built: ${(error as Error).message.split('\n')[0]}`);
    return undefined;
  }
}
