import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from './context.ts';

/**
 * A body sent without Content-Type is read as JSON, as FastAPI (the contract's framework) reads it,
 * rather than refused with 415. A body with another type keeps it (and its 415). An empty body is
 * left alone: it is validated as no body at all.
 */
export function jsonWithoutContentType(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    if (c.req.header('content-type') === undefined && c.req.raw.body !== null) {
      // read once, after the size limit; the validators read it again from Hono's cache
      if ((await c.req.text()) !== '') c.req.raw.headers.set('content-type', 'application/json');
    }
    return next();
  };
}
