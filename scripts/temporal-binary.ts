/**
 * Finds the `temporal` CLI (which carries the dev server) in the order of docs/design.md section 8:
 * TEMPORAL_CLI_PATH, `temporal` on PATH, a cached build of the pinned version, a build with the Go
 * toolchain from the Go module proxy, and last the archive the Temporal SDK itself downloads.
 * `npm run dev` and the test harness both call findTemporalCli().
 */
import { execFile } from 'node:child_process';
import { access, chmod, mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { constants } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/** v1.5.1 is the last release whose go.mod has no replace directive, so `go install` can build it. */
export const TEMPORAL_CLI_VERSION = '1.5.1';

export function temporalCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const cacheRoot = env.XDG_CACHE_HOME || path.join(homedir(), '.cache');
  return path.join(cacheRoot, 'execution-replay', `temporal-cli-${TEMPORAL_CLI_VERSION}`);
}

async function isExecutable(file: string): Promise<boolean> {
  try {
    await access(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

async function runsVersion(file: string): Promise<boolean> {
  try {
    await execFileAsync(file, ['--version'], { timeout: 15_000 });
    return true;
  } catch {
    return false;
  }
}

async function onPath(name: string): Promise<string | undefined> {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    if (await isExecutable(candidate)) return candidate;
  }
  return undefined;
}

async function buildWithGo(cacheDir: string, log: (line: string) => void): Promise<string | undefined> {
  const go = await onPath('go');
  if (!go) return undefined;
  log(`building temporal CLI v${TEMPORAL_CLI_VERSION} with ${go} (once; cached in ${cacheDir}) ...`);
  const staging = `${cacheDir}.building-${process.pid}`;
  await mkdir(staging, { recursive: true });
  try {
    await execFileAsync(go, ['install', `github.com/temporalio/cli/cmd/temporal@v${TEMPORAL_CLI_VERSION}`], {
      env: { ...process.env, GOBIN: staging, GOFLAGS: '-buildvcs=false' },
      timeout: 30 * 60_000,
      maxBuffer: 64 * 1024 * 1024,
    });
    await mkdir(cacheDir, { recursive: true });
    // rename is atomic: a concurrent caller sees either no binary or a whole one
    await rename(path.join(staging, 'temporal'), path.join(cacheDir, 'temporal'));
    return path.join(cacheDir, 'temporal');
  } catch (error) {
    log(`go install failed: ${(error as Error).message.split('\n').slice(0, 5).join(' | ')}`);
    return undefined;
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

async function downloadLikeTheSdk(
  cacheDir: string,
  log: (line: string) => void,
): Promise<string | undefined> {
  const arch = process.arch === 'arm64' ? 'arm64' : 'amd64';
  const platform = process.platform === 'darwin' ? 'darwin' : 'linux';
  const url = `https://temporal.download/cli/archive/v${TEMPORAL_CLI_VERSION}?platform=${platform}&arch=${arch}`;
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(60_000) });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    const archive = path.join(tmpdir(), `temporal-cli-${process.pid}.tar.gz`);
    await writeFile(archive, Buffer.from(await response.arrayBuffer()));
    await mkdir(cacheDir, { recursive: true });
    await execFileAsync('tar', ['-xzf', archive, '-C', cacheDir, 'temporal']);
    await rm(archive, { force: true });
    const binary = path.join(cacheDir, 'temporal');
    await chmod(binary, 0o755);
    return binary;
  } catch (error) {
    log(`download of ${url} failed: ${(error as Error).message}`);
    return undefined;
  }
}

export class TemporalCliNotFound extends Error {}

export async function findTemporalCli(log: (line: string) => void = () => {}): Promise<string> {
  const explicit = process.env.TEMPORAL_CLI_PATH;
  if (explicit) {
    if (await runsVersion(explicit)) return explicit;
    throw new TemporalCliNotFound(`TEMPORAL_CLI_PATH=${explicit} is not a working temporal binary`);
  }
  const fromPath = await onPath('temporal');
  if (fromPath && (await runsVersion(fromPath))) return fromPath;

  const cacheDir = temporalCacheDir();
  const cached = path.join(cacheDir, 'temporal');
  if (await runsVersion(cached)) return cached;

  const built = (await buildWithGo(cacheDir, log)) ?? (await downloadLikeTheSdk(cacheDir, log));
  if (built && (await runsVersion(built))) return built;

  throw new TemporalCliNotFound(
    'No Temporal CLI found. Install one of: the `temporal` CLI on PATH (or set TEMPORAL_CLI_PATH), ' +
      `or Go >= 1.23 so that \`go install github.com/temporalio/cli/cmd/temporal@v${TEMPORAL_CLI_VERSION}\` can build it.`,
  );
}

// `npm run temporal:binary` prints the path (building it if needed).
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  findTemporalCli((line) => process.stderr.write(`${line}\n`)).then(
    (binary) => process.stdout.write(`${binary}\n`),
    (error: Error) => {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    },
  );
}
