import type { Client } from '@temporalio/client';
import type { AppConfig } from '../adapters/config.ts';
import type pg from 'pg';
import type { Logger } from '../adapters/logger.ts';
import type { ObjectStore } from '../adapters/object-store.ts';
import type { RouteTransport } from '../adapters/route-transport.ts';
import type { ApiAuthOptions, AuthenticatedKey } from './auth.ts';
import type { ApiLimits } from './limits.ts';

/** Everything the api needs, injected by api/main.ts (or a test). */
export interface ApiDependencies {
  pool: pg.Pool;
  temporal: Client;
  objectStore: ObjectStore;
  /** Where POST /api/v1/executions sends a normal execution's init message (ROUTE_TRANSPORT). */
  routeTransport: RouteTransport;
  logger: Logger;
  /**
   * Bearer keys (api/auth.ts). api/main.ts always passes them (from API_KEYS, API_KEYS_FILE,
   * AUTH_REQUIRED). Left out, the app asks for no key: for apps built in-process by tests only.
   */
  auth?: ApiAuthOptions;
  /** Body size and rate limits (api/limits.ts); DEFAULT_LIMITS for what is left out. */
  limits?: Partial<ApiLimits>;
  settings: {
    taskQueue: string;
    pageSize: number;
    pagesPerRun: number;
    stepMaxAttempts: number;
    activityTimeoutSeconds: number;
    /** Bound on each call to Temporal, Postgres or S3 while serving a request. */
    dependencyTimeoutMs: number;
  };
}

export type AppEnv = {
  Variables: {
    correlationId: string;
    logger: Logger;
    /** The key of an authenticated request; undefined when authentication is off or not needed. */
    apiKey: AuthenticatedKey | undefined;
  };
};

/** The api's replay settings from the configuration (overrides for tests). */
export function apiSettingsFromConfig(
  config: AppConfig,
  overrides: Partial<ApiDependencies['settings']> = {},
): ApiDependencies['settings'] {
  return {
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    pageSize: config.REPLAY_PAGE_SIZE,
    pagesPerRun: config.REPLAY_PAGES_PER_RUN,
    stepMaxAttempts: config.REPLAY_STEP_MAX_ATTEMPTS,
    activityTimeoutSeconds: config.REPLAY_ACTIVITY_TIMEOUT_SECONDS,
    dependencyTimeoutMs: config.DEPENDENCY_TIMEOUT_MS,
    ...overrides,
  };
}
