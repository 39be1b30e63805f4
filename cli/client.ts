/**
 * The operator CLI's typed client of the api: openapi-fetch over the types openapi-typescript
 * generates from docs/openapi.json (cli/api-types.ts), so a call that the api does not declare, or
 * declares otherwise, does not compile. Where it points comes from flags, the environment or the
 * dev stack's `.data/stack.json`.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import createClient from 'openapi-fetch';
import type { components, paths } from './api-types.ts';

export type Schemas = components['schemas'];
export type ApiClient = ReturnType<typeof createApiClient>;

export interface ApiTarget {
  url: string;
  key?: string;
  /** Where the url and key came from, for error messages. */
  from: string;
}

/** `.data/stack.json` of `npm run dev` (DEV_DATA_DIR moves it, as for dev). */
export function stackFile(env: NodeJS.ProcessEnv = process.env): string {
  const dataDir = env.DEV_DATA_DIR || fileURLToPath(new URL('../.data', import.meta.url));
  return path.join(path.resolve(dataDir), 'stack.json');
}

export class UsageError extends Error {}

/**
 * Flags first (`--api-url`, `--api-key`), then REPLAY_API_URL and REPLAY_API_KEY, then the dev
 * stack's stack.json (`api_url`, `api_key`).
 */
export async function resolveApiTarget(
  flags: { apiUrl?: string; apiKey?: string },
  env: NodeJS.ProcessEnv = process.env,
): Promise<ApiTarget> {
  let stack: { api_url?: string; api_key?: string } = {};
  const file = stackFile(env);
  try {
    stack = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT')
      throw new UsageError(`cannot read ${file}: ${(error as Error).message}`);
  }
  const url = flags.apiUrl ?? env.REPLAY_API_URL ?? stack.api_url;
  const key = flags.apiKey ?? env.REPLAY_API_KEY ?? stack.api_key;
  if (!url) {
    throw new UsageError(
      `no api to talk to: pass --api-url (or set REPLAY_API_URL), or start the dev stack (npm run dev writes ${file})`,
    );
  }
  const from = flags.apiUrl ? '--api-url' : env.REPLAY_API_URL ? 'REPLAY_API_URL' : file;
  return { url: url.replace(/\/+$/, ''), key, from };
}

export function createApiClient(target: ApiTarget) {
  return createClient<paths>({
    baseUrl: target.url,
    headers: target.key ? { authorization: `Bearer ${target.key}` } : {},
  });
}

/** An answer of the api that is not a success: its status and body (ErrorResponse or HTTPValidationError). */
export class ApiFailure extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
  ) {
    super(describeFailure(status, body));
  }
}

/** The api's own words: `detail` (a string, or FastAPI's list of field errors), and its error_code. */
export function describeFailure(status: number, body: unknown): string {
  const detail = (body as { detail?: unknown } | undefined)?.detail;
  const code = (body as { error_code?: unknown } | undefined)?.error_code;
  let text: string;
  if (typeof detail === 'string') text = detail;
  else if (Array.isArray(detail)) {
    text = detail
      .map((item: { loc?: unknown[]; msg?: string }) => `${(item.loc ?? []).join('.')}: ${item.msg ?? ''}`)
      .join('; ');
  } else text = typeof body === 'string' && body ? body : `HTTP ${status}`;
  return typeof code === 'string' ? `${text} (${code}, HTTP ${status})` : `${text} (HTTP ${status})`;
}

/** The data of a call, or an ApiFailure with the api's answer; a network failure names the api. */
export async function call<T>(
  target: ApiTarget,
  request: Promise<{ data?: T; error?: unknown; response: Response }>,
): Promise<{ data: T; status: number; headers: Headers }> {
  let result: { data?: T; error?: unknown; response: Response };
  try {
    result = await request;
  } catch (error) {
    const cause = (error as { cause?: { message?: string } }).cause?.message ?? (error as Error).message;
    throw new ApiFailure(0, {
      detail: `cannot reach the api at ${target.url} (from ${target.from}): ${cause}`,
    });
  }
  const { data, error, response } = result;
  if (!response.ok || data === undefined) throw new ApiFailure(response.status, error);
  return { data, status: response.status, headers: response.headers };
}
