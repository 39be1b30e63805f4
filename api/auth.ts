/**
 * Bearer API keys. Only SHA-256 hashes of the keys are configured (API_KEYS, API_KEYS_FILE); a request's
 * key is hashed and compared with every configured hash in constant time. A `read` key may GET only.
 * Open without a key: /openapi.json and /docs (with its assets), and /healthz, /readyz, /metrics unless
 * PUBLIC_HEALTH_ENDPOINTS=false. Everything else (every /api route, and unknown paths) needs a key.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Context, MiddlewareHandler } from 'hono';
import {
  API_KEY_ENTRY_FORMAT,
  apiKeysFromList,
  ConfigError,
  parseApiKeyEntry,
  type ApiKeyEntry,
  type AppConfig,
} from '../adapters/config.ts';
import type { AppEnv, AuthenticatedKey } from './context.ts';
import { DOCS_ASSET_PATHS } from './routes/docs.ts';
import { errorResponseBody } from './errors.ts';

export const AUTH_REALM = 'execution-replay';
export const API_KEY_PREFIX = 'er_';
/** Paths served without a key whatever the settings: the API's own description. */
export const OPEN_PATHS: readonly string[] = ['/openapi.json', '/docs', ...DOCS_ASSET_PATHS];
/** Paths served without a key unless PUBLIC_HEALTH_ENDPOINTS=false. */
export const HEALTH_PATHS: readonly string[] = ['/healthz', '/readyz', '/metrics'];
const READ_METHODS = new Set(['GET', 'HEAD']);
/** RFC 6750 b64token, bounded: anything else is not a key we could have issued. */
const TOKEN = /^[A-Za-z0-9\-._~+/]{1,512}=*$/;

export interface ApiAuthOptions {
  /** false: no key is asked for (local development only). */
  required: boolean;
  keys: ApiKeyEntry[];
  /** /healthz, /readyz and /metrics without a key. */
  publicHealth: boolean;
}

/** A new random key: `er_` and 32 random bytes in base64url. */
export function generateApiKey(): string {
  return API_KEY_PREFIX + randomBytes(32).toString('base64url');
}

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/** The line to put into API_KEYS or API_KEYS_FILE for a key. */
export function apiKeyLine(name: string, key: string, scope: 'read' | 'write' = 'write'): string {
  return `${name}:${hashApiKey(key)}${scope === 'read' ? ':read' : ''}`;
}

/** API_KEYS_FILE: one entry a line; `#` starts a comment; blank lines are ignored. */
export function apiKeysFromFile(text: string): { line: number; entry: ApiKeyEntry | { error: string } }[] {
  return text
    .split(/\r?\n/)
    .map((raw, index) => ({ line: index + 1, text: raw.replace(/#.*$/, '').trim() }))
    .filter((item) => item.text !== '')
    .map((item) => ({ line: item.line, entry: parseApiKeyEntry(item.text) }));
}

/**
 * The api's authentication settings from its configuration, reading API_KEYS_FILE. Throws a
 * ConfigError naming the variable when a key is required and none is configured, or an entry is bad.
 */
export function loadApiAuth(
  config: Pick<AppConfig, 'API_KEYS' | 'API_KEYS_FILE' | 'AUTH_REQUIRED' | 'PUBLIC_HEALTH_ENDPOINTS'>,
  readFile: (file: string) => string = (file) => readFileSync(file, 'utf8'),
): ApiAuthOptions {
  const keys: ApiKeyEntry[] = [];
  for (const entry of apiKeysFromList(config.API_KEYS ?? '')) {
    // parseConfig has refused bad entries already
    if ('error' in entry) throw new ConfigError(`configuration error: API_KEYS entry ${entry.error}`);
    keys.push(entry);
  }
  if (config.API_KEYS_FILE) {
    let text: string;
    try {
      text = readFile(config.API_KEYS_FILE);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
      throw new ConfigError(`configuration error: API_KEYS_FILE cannot be read (${code})`);
    }
    for (const { line, entry } of apiKeysFromFile(text)) {
      if ('error' in entry)
        throw new ConfigError(`configuration error: API_KEYS_FILE line ${line} ${entry.error}`);
      keys.push(entry);
    }
  }
  const seen = new Set<string>();
  for (const key of keys) {
    if (seen.has(key.hash))
      throw new ConfigError(`configuration error: API_KEYS the key named '${key.name}' is configured twice`);
    seen.add(key.hash);
  }
  if (config.AUTH_REQUIRED && keys.length === 0) {
    throw new ConfigError(
      `configuration error: API_KEYS is required when AUTH_REQUIRED is true (${API_KEY_ENTRY_FORMAT}, or set API_KEYS_FILE; \`npm run api-key\` makes a key)`,
    );
  }
  return { required: config.AUTH_REQUIRED, keys, publicHealth: config.PUBLIC_HEALTH_ENDPOINTS };
}

type Credentials = { kind: 'missing' } | { kind: 'token'; token: string };

function credentialsOf(header: string | undefined): Credentials {
  if (!header) return { kind: 'missing' };
  const match = /^Bearer +(\S*) *$/i.exec(header);
  if (!match || match[1] === '') return { kind: 'missing' };
  return { kind: 'token', token: match[1]! };
}

function unauthorized(c: Context<AppEnv>, detail: string, invalidToken: boolean) {
  c.header(
    'WWW-Authenticate',
    invalidToken ? `Bearer realm="${AUTH_REALM}", error="invalid_token"` : `Bearer realm="${AUTH_REALM}"`,
  );
  return c.json(errorResponseBody(detail, 'UNAUTHORIZED', c.get('correlationId')), 401);
}

/** The authentication middleware: 401 without a known key, 403 for a read-only key on a write. */
export function authMiddleware(options: ApiAuthOptions): MiddlewareHandler<AppEnv> {
  const stored = options.keys.map((entry) => ({ entry, digest: Buffer.from(entry.hash, 'hex') }));
  const open = new Set([...OPEN_PATHS, ...(options.publicHealth ? HEALTH_PATHS : [])]);

  /** The configured key with this token's hash: every hash is compared, each in constant time. */
  function keyOf(token: string): ApiKeyEntry | undefined {
    const digest = createHash('sha256').update(token, 'utf8').digest();
    let found: ApiKeyEntry | undefined;
    for (const key of stored) {
      if (timingSafeEqual(digest, key.digest)) found ??= key.entry;
    }
    return found;
  }

  return async (c, next) => {
    if (!options.required || open.has(c.req.path)) return next();
    const logger = c.get('logger');
    const credentials = credentialsOf(c.req.header('authorization'));
    if (credentials.kind === 'missing') {
      logger.info({ reason: 'no bearer token' }, 'request unauthorized');
      return unauthorized(c, 'Not authenticated: send Authorization: Bearer <API key>', false);
    }
    const key = TOKEN.test(credentials.token) ? keyOf(credentials.token) : undefined;
    if (!key) {
      logger.info({ reason: 'unknown key' }, 'request unauthorized');
      return unauthorized(c, 'Invalid API key', true);
    }
    const authenticated: AuthenticatedKey = { name: key.name, scope: key.scope, hash: key.hash };
    c.set('apiKey', authenticated);
    c.set('logger', logger.child({ api_key: key.name }));
    if (key.scope === 'read' && !READ_METHODS.has(c.req.method)) {
      c.get('logger').info({ method: c.req.method }, 'request forbidden: read-only key');
      c.header('WWW-Authenticate', `Bearer realm="${AUTH_REALM}", error="insufficient_scope", scope="write"`);
      return c.json(
        errorResponseBody(
          `API key '${key.name}' is read-only: ${c.req.method} needs a key with the write scope`,
          'FORBIDDEN',
          c.get('correlationId'),
        ),
        403,
      );
    }
    return next();
  };
}
