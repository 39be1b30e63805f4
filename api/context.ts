import type { Logger } from '../adapters/logger.ts';

/** The key a request was authenticated with (its name for the logs; never the key). */
export interface AuthenticatedKey {
  name: string;
  scope: 'read' | 'write';
  /** SHA-256 of the key: the rate limiter's bucket. */
  hash: string;
}

/** What the middlewares put on each request's context; every route module and middleware types with it. */
export type AppEnv = {
  Variables: {
    correlationId: string;
    logger: Logger;
    /** The key of an authenticated request; undefined when authentication is off or not needed. */
    apiKey: AuthenticatedKey | undefined;
  };
};

/**
 * Who asks, as a replay records it (`requested_by`): the name of the request's API key, or null
 * when the api runs without authentication (AUTH_REQUIRED=false): no key names the caller then.
 */
export function requesterOf(c: { get(key: 'apiKey'): AuthenticatedKey | undefined }): string | null {
  return c.get('apiKey')?.name ?? null;
}
