import type { Client } from '@temporalio/client';
import type pg from 'pg';
import type { Logger } from '../adapters/logger.ts';
import type { ObjectStore } from '../adapters/object-store.ts';
import type { RouteQueue } from '../adapters/route-queue.ts';

/** Everything the api needs, injected by api/main.ts (or a test). */
export interface ApiDependencies {
  pool: pg.Pool;
  temporal: Client;
  objectStore: ObjectStore;
  routeQueue: RouteQueue;
  logger: Logger;
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
  };
};
