/**
 * Limits on what one request may cost: body size (413), JSON nesting (422) and a per-key rate of
 * requests (429, token buckets in memory, one per key and process).
 */
import type { Context, MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { AppConfig } from '../adapters/config.ts';
import type { AppEnv } from './context.ts';
import { errorResponseBody } from './errors.ts';

export interface ApiLimits {
  /** Largest request body in bytes (MAX_BODY_BYTES). */
  maxBodyBytes: number;
  /** Writes (every method but GET and HEAD) per key and minute on /api; 0: unlimited. */
  writesPerMinute: number;
  /** GET and HEAD requests per key and minute on /api; 0: unlimited. */
  readsPerMinute: number;
}

export const DEFAULT_LIMITS: ApiLimits = {
  maxBodyBytes: 1_048_576,
  writesPerMinute: 600,
  readsPerMinute: 6000,
};

/**
 * Deepest nesting of arrays and objects a JSON body may have. Deeper documents are refused before
 * they are validated: a validation error echoes its input, and serialising thousands of levels
 * overflows the stack. Metadata has its own, lower, bound (api/schemas.ts).
 */
export const MAX_JSON_DEPTH = 32;

export function limitsFromConfig(
  config: Pick<AppConfig, 'MAX_BODY_BYTES' | 'RATE_LIMIT_PER_MINUTE' | 'RATE_LIMIT_READ_PER_MINUTE'>,
): ApiLimits {
  return {
    maxBodyBytes: config.MAX_BODY_BYTES,
    writesPerMinute: config.RATE_LIMIT_PER_MINUTE,
    readsPerMinute: config.RATE_LIMIT_READ_PER_MINUTE,
  };
}

/** 413 PAYLOAD_TOO_LARGE past maxBytes, by Content-Length or, without one, while the body is read. */
export function bodySizeLimit(maxBytes: number): MiddlewareHandler<AppEnv> {
  return bodyLimit({
    maxSize: maxBytes,
    onError: (c: Context<AppEnv>) =>
      c.json(
        errorResponseBody(
          `Request body is larger than ${maxBytes} bytes`,
          'PAYLOAD_TOO_LARGE',
          c.get('correlationId'),
        ),
        413,
      ),
  });
}

/**
 * 404 for a path with a NUL character (raw or `%00`): no execution, tag or config can have one, and
 * Postgres refuses NUL in a text parameter (it would be a 500, not the 404 it is).
 */
export function nulPathGuard(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const raw = c.req.url.slice(c.req.url.indexOf('/', c.req.url.indexOf('//') + 2)).split('?')[0]!;
    if (!/%00|\0/i.test(raw)) return next();
    return c.json(errorResponseBody('Not Found', 'NOT_FOUND', c.get('correlationId')), 404);
  };
}

/** The deepest nesting of arrays and objects in a JSON text (strings skipped); not a validator. */
export function jsonDepth(text: string): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let index = 0; index < text.length; index += 1) {
    const char = text.charCodeAt(index);
    if (inString) {
      if (char === 0x5c)
        index += 1; // backslash: skip the escaped character
      else if (char === 0x22) inString = false;
    } else if (char === 0x22) inString = true;
    else if (char === 0x5b || char === 0x7b) {
      depth += 1;
      if (depth > deepest) deepest = depth;
    } else if (char === 0x5d || char === 0x7d) depth -= 1;
  }
  return deepest;
}

/** 422 (FastAPI shape, loc ["body"]) for a JSON body nested deeper than maxDepth. */
export function jsonDepthLimit(maxDepth: number = MAX_JSON_DEPTH): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const type = c.req.header('content-type');
    if (!c.req.raw.body || !type || !/json/i.test(type)) return next();
    const text = await c.req.text();
    if (jsonDepth(text) <= maxDepth) return next();
    return c.json(
      {
        detail: [
          {
            loc: ['body'],
            msg: `Value error, JSON nested deeper than ${maxDepth} levels`,
            type: 'value_error',
            ctx: { max_depth: maxDepth },
          },
        ],
      },
      422,
    );
  };
}

/**
 * Token buckets, one per id: each holds up to perMinute tokens and gains perMinute per minute. The
 * ids are configured keys (or 'anonymous' without authentication), so the map stays small.
 */
export class TokenBuckets {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private readonly perMs: number;

  constructor(
    readonly perMinute: number,
    private readonly now: () => number = () => Date.now(),
  ) {
    this.perMs = perMinute / 60_000;
  }

  /** Takes a token: 0 when one was there, else the whole seconds until one will be. */
  take(id: string): number {
    const now = this.now();
    const bucket = this.buckets.get(id) ?? { tokens: this.perMinute, at: now };
    bucket.tokens = Math.min(this.perMinute, bucket.tokens + (now - bucket.at) * this.perMs);
    bucket.at = now;
    this.buckets.set(id, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - bucket.tokens) / this.perMs / 1000));
  }
}

const READ_METHODS = new Set(['GET', 'HEAD']);

/** 429 RATE_LIMITED with Retry-After on /api routes, per key; reads and writes have their own buckets. */
export function rateLimit(
  limits: Pick<ApiLimits, 'writesPerMinute' | 'readsPerMinute'>,
): MiddlewareHandler<AppEnv> {
  const writes = limits.writesPerMinute > 0 ? new TokenBuckets(limits.writesPerMinute) : undefined;
  const reads = limits.readsPerMinute > 0 ? new TokenBuckets(limits.readsPerMinute) : undefined;
  return async (c, next) => {
    if (!c.req.path.startsWith('/api/')) return next();
    const buckets = READ_METHODS.has(c.req.method) ? reads : writes;
    if (!buckets) return next();
    const retryAfter = buckets.take(c.get('apiKey')?.hash ?? 'anonymous');
    if (retryAfter === 0) return next();
    c.get('logger').info({ retry_after: retryAfter }, 'request rate limited');
    c.header('Retry-After', String(retryAfter));
    return c.json(
      errorResponseBody(
        `Rate limit of ${buckets.perMinute} ${buckets === reads ? 'reads' : 'writes'} per minute exceeded; retry in ${retryAfter} s`,
        'RATE_LIMITED',
        c.get('correlationId'),
      ),
      429,
    );
  };
}
