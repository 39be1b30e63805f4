/**
 * Finds the Temporal server's `server` command and its SQL schema tool (`sql`), as
 * scripts/temporal-binary.ts finds the CLI: TEMPORAL_SERVER_DIR (a folder holding both), a cached
 * build of the version the pinned CLI embeds, else a build with Go
 * (`go install go.temporal.io/server/cmd/server@v1.29.1 go.temporal.io/server/cmd/tools/sql@v1.29.1`,
 * about 3.5 minutes once on two cores). `npm run temporal:server-binary` prints the folder.
 * The Temporal UI server (github.com/temporalio/ui-server/v2, the version the CLI embeds) is found
 * the same way: TEMPORAL_UI_SERVER_PATH, the cache, a build with Go (about 2 minutes).
 */
import { execFile } from 'node:child_process';
import { constants } from 'node:fs';
import { access, mkdir, rename, rm } from 'node:fs/promises';
import { homedir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/** The server version the pinned `temporal` CLI (v1.5.1) embeds. */
export const TEMPORAL_SERVER_VERSION = '1.29.1';

export interface TemporalServerBinaries {
  server: string;
  sql: string;
}

export function temporalServerCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const cacheRoot = env.XDG_CACHE_HOME || path.join(homedir(), '.cache');
  return path.join(cacheRoot, 'execution-replay', `temporal-server-${TEMPORAL_SERVER_VERSION}`);
}

const binariesIn = (dir: string): TemporalServerBinaries => ({
  server: path.join(dir, 'server'),
  sql: path.join(dir, 'sql'),
});

async function works(binaries: TemporalServerBinaries): Promise<boolean> {
  try {
    await execFileAsync(binaries.server, ['--version'], { timeout: 30_000 });
    await execFileAsync(binaries.sql, ['--version'], { timeout: 30_000 });
    return true;
  } catch {
    return false;
  }
}

async function buildWithGo(cacheDir: string, log: (line: string) => void): Promise<boolean> {
  const staging = `${cacheDir}.building-${process.pid}`;
  log(
    `building the Temporal server v${TEMPORAL_SERVER_VERSION} and its SQL tool with Go (once, about 3.5 min; cached in ${cacheDir}) ...`,
  );
  await mkdir(staging, { recursive: true });
  try {
    await execFileAsync(
      'go',
      [
        'install',
        '-p',
        '1',
        `go.temporal.io/server/cmd/server@v${TEMPORAL_SERVER_VERSION}`,
        `go.temporal.io/server/cmd/tools/sql@v${TEMPORAL_SERVER_VERSION}`,
      ],
      {
        env: { ...process.env, GOBIN: staging, GOFLAGS: '-buildvcs=false' },
        timeout: 30 * 60_000,
        maxBuffer: 64 * 1024 * 1024,
      },
    );
    await mkdir(cacheDir, { recursive: true });
    // rename is atomic: a concurrent caller sees either no binary or a whole one (sql last: it is checked too)
    await rename(path.join(staging, 'server'), path.join(cacheDir, 'server'));
    await rename(path.join(staging, 'sql'), path.join(cacheDir, 'sql'));
    return true;
  } catch (error) {
    log(`go install failed: ${(error as Error).message.split('\n').slice(0, 5).join(' | ')}`);
    return false;
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

/** The UI server the pinned CLI embeds (its go.mod): its assets are compiled into the binary. */
export const TEMPORAL_UI_VERSION = '2.42.1';

export function temporalUiCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const cacheRoot = env.XDG_CACHE_HOME || path.join(homedir(), '.cache');
  return path.join(cacheRoot, 'execution-replay', `temporal-ui-${TEMPORAL_UI_VERSION}`);
}

async function exists(file: string): Promise<boolean> {
  try {
    await access(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The Temporal UI server binary, or undefined (with the reason logged) when there is none and Go cannot build it. */
export async function findTemporalUiServer(
  log: (line: string) => void = () => {},
): Promise<string | undefined> {
  const explicit = process.env.TEMPORAL_UI_SERVER_PATH;
  if (explicit) return (await exists(explicit)) ? explicit : undefined;
  const cacheDir = temporalUiCacheDir();
  const cached = path.join(cacheDir, 'server');
  if (await exists(cached)) return cached;
  const staging = `${cacheDir}.building-${process.pid}`;
  log(
    `building the Temporal UI server v${TEMPORAL_UI_VERSION} with Go (once, about 2 min; cached in ${cacheDir}) ...`,
  );
  await mkdir(staging, { recursive: true });
  try {
    await execFileAsync(
      'go',
      ['install', '-p', '1', `github.com/temporalio/ui-server/v2/cmd/server@v${TEMPORAL_UI_VERSION}`],
      {
        env: { ...process.env, GOBIN: staging, GOFLAGS: '-buildvcs=false' },
        timeout: 30 * 60_000,
        maxBuffer: 64 * 1024 * 1024,
      },
    );
    await mkdir(cacheDir, { recursive: true });
    await rename(path.join(staging, 'server'), cached);
    return cached;
  } catch (error) {
    log(`no Temporal UI: go install failed: ${(error as Error).message.split('\n').slice(0, 3).join(' | ')}`);
    return undefined;
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

export class TemporalServerNotFound extends Error {}

export async function findTemporalServer(
  log: (line: string) => void = () => {},
): Promise<TemporalServerBinaries> {
  const explicit = process.env.TEMPORAL_SERVER_DIR;
  if (explicit) {
    if (await works(binariesIn(explicit))) return binariesIn(explicit);
    throw new TemporalServerNotFound(
      `TEMPORAL_SERVER_DIR=${explicit} does not hold working \`server\` and \`sql\` binaries`,
    );
  }
  const cacheDir = temporalServerCacheDir();
  if (await works(binariesIn(cacheDir))) return binariesIn(cacheDir);
  if ((await buildWithGo(cacheDir, log)) && (await works(binariesIn(cacheDir)))) return binariesIn(cacheDir);
  throw new TemporalServerNotFound(
    'No Temporal server found: set TEMPORAL_SERVER_DIR to a folder with `server` and `sql` ' +
      `(go.temporal.io/server v${TEMPORAL_SERVER_VERSION}'s cmd/server and cmd/tools/sql), or put Go >= 1.25 on PATH to build them.`,
  );
}

// `npm run temporal:server-binary` prints the folder (building the binaries if needed).
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  findTemporalServer((line) => process.stderr.write(`${line}\n`)).then(
    (binaries) => process.stdout.write(`${path.dirname(binaries.server)}\n`),
    (error: Error) => {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    },
  );
}
